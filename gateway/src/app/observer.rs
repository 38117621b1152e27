//! Connection metrics: the pipeline's [`ConnectionObserver`] over one worker's pre-resolved [`ProtocolMetrics`]
//! handles for one codec.

use std::sync::Mutex;

use chargegate_codec::plugin::FrameError;

use crate::metrics::{Metrics, ProtocolMetrics};
use crate::pipeline::connection::{ConnectionObserver, Outbound};
use crate::pipeline::CloseReason;

/// Auth-failure label of a connection that never logged in within the deadline.
pub const LOGIN_DEADLINE: &str = "login_deadline";

/// Metrics of one codec on one worker. The lock is uncontended: only that worker's connections take it.
pub struct MetricsObserver {
    handles: Mutex<ProtocolMetrics>,
}

impl MetricsObserver {
    /// Handles labelled with `protocol` (the codec's registry name, e.g. `ykc`).
    pub fn new(metrics: &Metrics, protocol: &str) -> Self {
        MetricsObserver {
            handles: Mutex::new(metrics.protocol(protocol)),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ProtocolMetrics) -> R) -> R {
        let mut guard = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

impl ConnectionObserver for MetricsObserver {
    fn frames_in(&self, message_type: &'static str, n: u64) {
        self.with(|m| m.frames_in(message_type, n));
    }

    fn frame_out(&self, what: Outbound) {
        self.with(|m| m.frame_out(what.label()));
    }

    fn decode_error(&self, error: &FrameError) {
        self.with(|m| m.decode_error(error.kind()));
    }

    fn auth_failure(&self, reason: &'static str) {
        self.with(|m| m.auth_failure(reason));
    }

    fn closed(&self, reason: CloseReason) {
        self.with(|m| m.closed(reason.as_str()));
        match reason {
            CloseReason::LivenessTimeout => self.with(|m| m.liveness_timeouts.inc()),
            CloseReason::AuthTimeout => self.with(|m| m.auth_failure(LOGIN_DEADLINE)),
            _ => {}
        }
    }

    fn water_mark(&self, unwritable: bool) {
        self.with(|m| {
            if unwritable {
                m.became_unwritable.inc();
            } else {
                m.became_writable.inc();
            }
        });
    }
}
