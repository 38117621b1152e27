//! What a connection reports as it goes, for metrics: frames in and out, decode errors, refused logins, how it
//! ended, water-mark crossings. The pipeline knows nothing of Prometheus; the app implements this trait over its
//! metric handles, tests use [`NoopObserver`].

use chargegate_codec::plugin::FrameError;

use crate::pipeline::CloseReason;

/// Why a frame went out, the `type` label of outbound frames (the plug-in seam does not name outbound types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbound {
    /// An immediate auto-reply (heartbeat, billing model, …).
    Reply,
    /// The answer to a login.
    LoginReply,
    /// A billing acknowledgement released after upstream.
    BillingAck,
    /// A command request.
    Command,
    /// An error reply to a frame sent before login.
    Refusal,
}

impl Outbound {
    /// Stable metric label.
    pub fn label(self) -> &'static str {
        match self {
            Outbound::Reply => "reply",
            Outbound::LoginReply => "login_reply",
            Outbound::BillingAck => "billing_ack",
            Outbound::Command => "command",
            Outbound::Refusal => "refusal",
        }
    }
}

/// Hooks a connection calls; every method has an empty default.
pub trait ConnectionObserver: Send + Sync {
    /// `n` frames of `message_type` were decoded. A connection reports the frames of one read together (a
    /// [`Tally`]), so an observer that takes a lock or bumps a shared counter does it once per read, not per frame.
    fn frames_in(&self, _message_type: &'static str, _n: u64) {}
    /// A frame was queued for the charger.
    fn frame_out(&self, _what: Outbound) {}
    /// A frame was rejected by the codec.
    fn decode_error(&self, _error: &FrameError) {}
    /// A login was refused (`reason` is the authenticator's label, or `login_deadline`).
    fn auth_failure(&self, _reason: &'static str) {}
    /// The connection ended.
    fn closed(&self, _reason: CloseReason) {}
    /// The outbound queue crossed a water mark (`true`: became unwritable).
    fn water_mark(&self, _unwritable: bool) {}
}

/// Decoded frames counted while a connection handles one read: a run of frames of one type is reported to the
/// observer as one call ([`ConnectionObserver::frames_in`]) when the type changes and when the read is done.
#[derive(Debug, Default)]
pub(super) struct Tally {
    run: Option<(&'static str, u64)>,
}

impl Tally {
    /// Counts one frame of `message_type`.
    pub(super) fn count(&mut self, message_type: &'static str, observer: &dyn ConnectionObserver) {
        match &mut self.run {
            // Type names are static literals: the same address is the same name (another address with the same
            // text only ends the run early).
            Some((ty, n)) if std::ptr::eq(*ty, message_type) => *n += 1,
            run => {
                if let Some((ty, n)) = run.replace((message_type, 1)) {
                    observer.frames_in(ty, n);
                }
            }
        }
    }

    /// Reports what is counted and not yet reported.
    pub(super) fn report(&mut self, observer: &dyn ConnectionObserver) {
        if let Some((ty, n)) = self.run.take() {
            observer.frames_in(ty, n);
        }
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl ConnectionObserver for NoopObserver {}

#[cfg(test)]
mod tests {
    use super::{ConnectionObserver, Tally};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<(&'static str, u64)>>);

    impl ConnectionObserver for Recorded {
        fn frames_in(&self, message_type: &'static str, n: u64) {
            self.0.lock().unwrap().push((message_type, n));
        }
    }

    #[test]
    fn a_tally_reports_each_run_of_one_type_once_and_loses_no_frame() {
        let seen = Recorded::default();
        let mut tally = Tally::default();
        for ty in ["0x13", "0x13", "0x13", "0x03", "0x13"] {
            tally.count(ty, &seen);
        }
        assert_eq!(*seen.0.lock().unwrap(), [("0x13", 3), ("0x03", 1)]);
        tally.report(&seen);
        tally.report(&seen);
        assert_eq!(
            *seen.0.lock().unwrap(),
            [("0x13", 3), ("0x03", 1), ("0x13", 1)]
        );
    }
}
