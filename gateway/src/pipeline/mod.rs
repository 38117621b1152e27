//! The per-connection pipeline: the handler layers every frame passes, in one fixed order written here.
//!
//! ```text
//! inbound:  socket → decode (codec plug-in) → auth → liveness → rate limit → normalize → route
//! outbound: command / reply → encode (codec plug-in) → water marks → socket
//! ```
//!
//! Each layer is one file with its own tests and implements the small [`Layer`] trait (the outbound water mark
//! implements [`water_mark::OutboundLayer`]). Layers are fields of [`Pipeline`], called in order by
//! [`Pipeline::inbound`] — static dispatch, no boxing, and the order cannot drift because it is written once.
//! This follows Netty's `ChannelPipeline` vocabulary (inbound head → tail, outbound tail → head) with pingora's
//! habit of explicit phases instead of a generic onion. The worker's [`timing_wheel`] backs the liveness layer.

pub mod auth;
pub mod auth_hook;
pub mod auth_hook_http;
pub mod charger_registry;
pub mod connection;
pub mod liveness;
pub mod normalize;
pub mod rate_limit;
pub mod route;
pub mod timing_wheel;
mod verdict;
pub mod water_mark;

use chargegate_codec::event::Observation;
use chargegate_codec::plugin::DecodedFrame;

pub use verdict::{CloseReason, Verdict};

/// One inbound handler layer: looks at a decoded frame and lets it pass, drops it, refuses it or closes.
pub trait Layer {
    /// Layer name for logs and metric labels.
    const NAME: &'static str;

    /// Decides about `frame`, received at `now_ms` on the worker's clock.
    fn on_frame(&mut self, frame: &DecodedFrame, now_ms: u64) -> Verdict;
}

/// What the pipeline decided for one frame.
#[derive(Debug)]
pub enum Step {
    /// The frame passed every layer; these are its observations, ready to stamp and route.
    Continue(Vec<Observation>),
    /// Dropped by the named layer for the given reason; the connection goes on.
    Dropped {
        /// Layer that dropped it.
        layer: &'static str,
        /// Why (metric label).
        reason: &'static str,
    },
    /// The charger has not logged in: ask the codec how to refuse.
    Refuse,
    /// Close the connection.
    Close(CloseReason),
}

/// The layers of one connection, in order.
pub struct Pipeline {
    /// Login first, within the deadline.
    pub auth: auth::AuthGate,
    /// Liveness deadline in the worker's wheel.
    pub liveness: liveness::Liveness,
    /// Frames/s and bytes/s.
    pub rate: rate_limit::RateLimiter,
    /// Observation → event stamping.
    pub normalize: normalize::Normalizer,
}

impl Pipeline {
    /// Runs `frame` through auth → liveness → rate limit. The observations of a frame that passes are moved out
    /// of it; stamping them ([`normalize::Normalizer::stamp_one`]) and routing each event is the caller's, one at
    /// a time (it may await upstream for billing events, and the identity of a login is known only after it).
    pub fn inbound(&mut self, frame: &mut DecodedFrame, now_ms: u64) -> Step {
        if let Some(step) = gate::<auth::AuthGate>(self.auth.on_frame(frame, now_ms)) {
            return step;
        }
        if let Some(step) = gate::<liveness::Liveness>(self.liveness.on_frame(frame, now_ms)) {
            return step;
        }
        if let Some(step) = gate::<rate_limit::RateLimiter>(self.rate.on_frame(frame, now_ms)) {
            return step;
        }
        Step::Continue(std::mem::take(&mut frame.observations))
    }
}

fn gate<L: Layer>(verdict: Verdict) -> Option<Step> {
    match verdict {
        Verdict::Pass => None,
        Verdict::Drop(reason) => Some(Step::Dropped {
            layer: L::NAME,
            reason,
        }),
        Verdict::Refuse => Some(Step::Refuse),
        Verdict::Close(reason) => Some(Step::Close(reason)),
    }
}

#[cfg(test)]
mod tests;
