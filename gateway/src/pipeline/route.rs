//! The route layer's seam: where normalized events leave the connection.
//!
//! The gateway's event bus implements [`EventRouter`]; billing events come back with a [`Delivery::Upstream`]
//! receiver that resolves once the broker or the spool holds the event, and only then does the connection release
//! the codec's billing acknowledgement. [`ChannelRouter`] is a plain channel for tests and examples.

use bytes::Bytes;
use chargegate_codec::event::{Event, EventBody, EventView};
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

    /// Whether [`route_view`](Self::route_view) takes an event with this body: a router whose sinks all render
    /// events where they are (the JSON-lines sink) has no use for an owned event, and stamping one per observation
    /// is a tenth of a connection worker's time at 150k frames/s. The default: no, always [`route`](Self::route).
    fn takes_view(&self, _body: &EventBody) -> bool {
        false
    }

    /// Hands on an event as a view of its parts; called only when [`takes_view`](Self::takes_view) said yes.
    fn route_view(&self, view: &EventView<'_>) -> Delivery {
        self.route(view.to_event())
    }

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
