//! The route layer's seam: where normalized events leave the connection.
//!
//! The gateway's event bus implements [`EventRouter`]; billing events come back with a [`Delivery::Upstream`]
//! receiver that resolves once the broker or the spool holds the event, and only then does the connection release
//! the codec's billing acknowledgement. [`ChannelRouter`] is a plain channel for tests and examples.

use bytes::Bytes;
use chargegate_codec::event::Event;
use chargegate_codec::plugin::FrameError;
use tokio::sync::{mpsc, oneshot};

/// What became of a routed event.
#[derive(Debug)]
pub enum Delivery {
    /// Queued for publication (fire and forget).
    Queued,
    /// Resolves to `true` once upstream holds the event (billing events), `false` if it could not be stored.
    Upstream(oneshot::Receiver<bool>),
    /// Refused (bus full); counted under the label.
    Dropped(&'static str),
}

/// Where a connection sends its events.
pub trait EventRouter: Send + Sync {
    /// Hands one event on.
    fn route(&self, event: Event) -> Delivery;

    /// A frame the codec rejected, for the `{p}/_dead/{charger}` topic. The default only logs it.
    fn dead_letter(&self, charger: &str, raw: &Bytes, error: &FrameError) {
        tracing::warn!(charger, kind = error.kind(), %error, len = raw.len(), "frame rejected");
    }

    /// The protocol's own text of a frame an authenticated charger sent (see
    /// `CodecConnection::message_text`), for sinks that mirror OCPP traffic. The default ignores it.
    fn protocol_message(&self, _charger: &str, _text: &[u8]) {}
}

/// A router onto a bounded channel; billing events count as upstream once queued.
#[derive(Debug, Clone)]
pub struct ChannelRouter {
    tx: mpsc::Sender<Event>,
}

impl ChannelRouter {
    /// A router and the receiving end, holding at most `capacity` events.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (ChannelRouter { tx }, rx)
    }
}

impl EventRouter for ChannelRouter {
    fn route(&self, event: Event) -> Delivery {
        let billing = event.body.is_billing();
        match self.tx.try_send(event) {
            Ok(()) if billing => {
                let (done, rx) = oneshot::channel();
                // The receiver is alive: we hold it.
                let _ = done.send(true);
                Delivery::Upstream(rx)
            }
            Ok(()) => Delivery::Queued,
            Err(_) => Delivery::Dropped("bus_full"),
        }
    }
}
