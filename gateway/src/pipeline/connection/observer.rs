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
    /// A frame of `message_type` was decoded.
    fn frame_in(&self, _message_type: &'static str) {}
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

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl ConnectionObserver for NoopObserver {}
