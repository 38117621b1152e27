//! The connections' [`EventRouter`] on the [`EventBus`]: ordinary events are offered without waiting (a full sink
//! drops and counts them), billing events go through the bus's critical path on a task of their own, and the
//! connection gets a receiver that resolves once every sink holds the event — only then is the charger's billing
//! acknowledgement (YKC 0x40) released.

use std::sync::Arc;

use bytes::Bytes;
use chargegate_codec::event::{Event, EventBody, EventView};
use chargegate_codec::plugin::FrameError;
use tokio::sync::{mpsc, oneshot};

use crate::mqtt::emqx::OcppTap;
use crate::mqtt::DeadLetter;
use crate::pipeline::route::{Delivery, EventRouter};
use crate::route::{is_critical, is_critical_body, EventBus};

/// Routes connection events onto the bus.
pub struct BusRouter {
    bus: Arc<EventBus>,
    /// Every sink renders on the publishing thread: ordinary events are published by reference.
    inline: bool,
    dead_letters: Option<mpsc::Sender<DeadLetter>>,
    ocpp_messages: Option<OcppTap>,
    instance: String,
}

impl BusRouter {
    /// A router publishing to `bus`.
    pub fn new(bus: Arc<EventBus>) -> Self {
        BusRouter {
            inline: bus.all_inline(),
            bus,
            dead_letters: None,
            ocpp_messages: None,
            instance: String::new(),
        }
    }

    /// Also hands rejected frames of `instance` to `tx` (the MQTT dead-letter topic).
    pub fn with_dead_letters(mut self, tx: mpsc::Sender<DeadLetter>, instance: &str) -> Self {
        self.dead_letters = Some(tx);
        self.instance = instance.to_owned();
        self
    }

    /// Also hands OCPP chargers' messages to `tx` (the MQTT sink's EMQX OCPP layout).
    pub fn with_ocpp_messages(mut self, tx: Option<OcppTap>) -> Self {
        self.ocpp_messages = tx;
        self
    }
}

/// What the connection learns of an ordinary event's fan-out: dropped only if no sink took it.
fn delivery(d: crate::route::Delivery) -> Delivery {
    if d.dropped > 0 && d.queued == 0 {
        Delivery::Dropped("sink_full")
    } else {
        Delivery::Queued
    }
}

impl EventRouter for BusRouter {
    fn route(&self, event: Event) -> Delivery {
        let critical = is_critical(&event);
        if !critical && self.inline {
            return delivery(self.bus.publish_view(&event.view()));
        }
        let event = Arc::new(event);
        if !critical {
            return delivery(self.bus.publish(event));
        }
        let (stored, rx) = oneshot::channel();
        let bus = Arc::clone(&self.bus);
        tokio::spawn(async move {
            let ok = bus.publish_critical(event).await.is_ok();
            // The connection may have gone; then nobody waits for the answer.
            let _ = stored.send(ok);
        });
        Delivery::Upstream(rx)
    }

    fn takes_view(&self, body: &EventBody) -> bool {
        self.inline && !is_critical_body(body)
    }

    fn route_view(&self, view: &EventView<'_>) -> Delivery {
        delivery(self.bus.publish_view(view))
    }

    fn dead_letter(&self, charger: &str, raw: &Bytes, error: &FrameError) {
        let hex = hex::encode(raw);
        tracing::warn!(charger, kind = error.kind(), code = crate::mqtt::codes::DEAD_LETTER, %error, len = raw.len(), raw = %hex, "frame rejected");
        if let Some(tx) = &self.dead_letters {
            let letter = DeadLetter {
                charger: charger.to_owned(),
                instance: self.instance.clone(),
                ts: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                error: error.kind().to_owned(),
                code: crate::mqtt::codes::DEAD_LETTER,
                detail: error.to_string(),
                hex,
            };
            if tx.try_send(letter).is_err() {
                tracing::warn!(charger, "dead-letter queue full; the frame is only logged");
            }
        }
    }

    fn protocol_message(&self, charger: &str, text: &[u8]) {
        if let Some(tap) = &self.ocpp_messages {
            tap.offer(charger, text);
        }
    }
}

/// A [`BusRouter`] whose bus is attached after construction: the OCPP-J route is built before
/// [`crate::server::Gateway::start`] creates the bus, and the handler builder attaches it (before any listener
/// accepts). Until then events are dropped and counted as `bus_not_ready`.
#[derive(Default)]
pub struct LateBusRouter {
    inner: std::sync::OnceLock<BusRouter>,
}

impl LateBusRouter {
    /// Attaches the router (built on the bus); later calls are ignored (there is one bus per gateway).
    pub fn attach(&self, router: BusRouter) {
        let _ = self.inner.set(router);
    }
}

impl EventRouter for LateBusRouter {
    fn route(&self, event: Event) -> Delivery {
        match self.inner.get() {
            Some(router) => router.route(event),
            None => Delivery::Dropped("bus_not_ready"),
        }
    }

    fn takes_view(&self, body: &EventBody) -> bool {
        self.inner.get().is_some_and(|r| r.takes_view(body))
    }

    fn route_view(&self, view: &EventView<'_>) -> Delivery {
        match self.inner.get() {
            Some(router) => router.route_view(view),
            None => Delivery::Dropped("bus_not_ready"),
        }
    }

    fn dead_letter(&self, charger: &str, raw: &Bytes, error: &FrameError) {
        match self.inner.get() {
            Some(router) => router.dead_letter(charger, raw, error),
            None => tracing::warn!(charger, kind = error.kind(), %error, "frame rejected"),
        }
    }

    fn protocol_message(&self, charger: &str, text: &[u8]) {
        if let Some(router) = self.inner.get() {
            router.protocol_message(charger, text);
        }
    }
}
