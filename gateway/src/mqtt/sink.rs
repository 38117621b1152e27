//! The sink front: turns bus events into publishes (events on `up/{kind}`, retained presence), dead letters into
//! `_dead` publishes, and incoming messages into commands and takeovers. It owns the [`PresenceBook`], so no
//! lock is needed; the [`Publisher`](super::publisher::Publisher) behind it owns the broker connection.

use std::sync::Arc;

use rumqttc::{Publish, QoS};
use tokio::sync::mpsc;

use super::commands;
use super::dead_letter::DeadLetter;
use super::emqx::{self, ChargerMessage};
use super::metrics::MqttMetrics;
use super::presence::{Presence, PresenceBook};
use super::publisher::Outbound;
use super::qos::{EventClass, QosMap};
use super::record::Record;
use super::topics::Topics;
use crate::http::CommandDispatcher;
use crate::pipeline::CloseReason;
use crate::route::Upstream;
use crate::session::SessionRegistry;

/// What the front needs from the gateway.
pub struct Front {
    /// Topic names.
    pub topics: Topics,
    /// QoS per class.
    pub qos: QosMap,
    /// This instance's id.
    pub instance: String,
    /// Presence of chargers, ours and others'.
    pub book: PresenceBook,
    /// Connected chargers (takeovers, command ownership).
    pub sessions: Arc<SessionRegistry>,
    /// The dispatcher REST uses.
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// Into the publisher.
    pub out: mpsc::Sender<Outbound>,
    /// Series.
    pub metrics: MqttMetrics,
}

impl Front {
    /// Runs until the bus closes (shutdown).
    pub async fn run(
        mut self,
        mut bus: mpsc::Receiver<Upstream>,
        mut dead: mpsc::Receiver<DeadLetter>,
        mut incoming: mpsc::Receiver<Publish>,
        mut ocpp: mpsc::Receiver<ChargerMessage>,
    ) {
        loop {
            tokio::select! {
                u = bus.recv() => match u {
                    Some(u) => self.event(u).await,
                    None => break,
                },
                Some(d) = dead.recv() => self.dead(d).await,
                Some(m) = ocpp.recv() => self.ocpp_uplink(m).await,
                Some(p) = incoming.recv() => self.incoming(p).await,
            }
        }
    }

    async fn send(&self, out: Outbound) {
        if let Err(mpsc::error::SendError(mut o)) = self.out.send(out).await {
            if let Some(s) = o.stored.take() {
                let _ = s.send(false);
            }
        }
    }

    async fn event(&mut self, u: Upstream) {
        let event = u.event;
        let class = EventClass::of(&event);
        // The hand-written renderer (byte-identical to serde_json, decision 0016): a third of serde's cost.
        let mut payload = Vec::with_capacity(384);
        if let Err(e) = event.write_json(&mut payload) {
            tracing::error!(charger = %event.charger, error = %e, "event not serializable");
            if let Some(s) = u.stored {
                let _ = s.send(false);
            }
            return;
        }
        let record = Record {
            topic: self.topics.up(&event.charger, event.kind()),
            qos: self.qos.for_class(class),
            retain: false,
            payload,
        };
        self.send(Outbound {
            record,
            critical: class.is_critical(),
            stored: u.stored,
        })
        .await;
        if let Some(p) = self.book.local(&event) {
            self.presence(&event.charger, &p).await;
        }
    }

    async fn presence(&self, charger: &str, p: &Presence) {
        let Ok(payload) = serde_json::to_vec(p) else {
            return;
        };
        let record = Record {
            topic: self.topics.presence(charger),
            qos: QoS::AtLeastOnce,
            retain: true,
            payload,
        };
        self.send(Outbound {
            record,
            critical: true,
            stored: None,
        })
        .await;
    }

    async fn dead(&self, d: DeadLetter) {
        self.metrics.dead_letters.inc();
        let Ok(payload) = serde_json::to_vec(&d) else {
            return;
        };
        let record = Record {
            topic: self.topics.dead(d.charger_segment()),
            qos: self.qos.for_class(EventClass::Telemetry),
            retain: false,
            payload,
        };
        self.send(Outbound {
            record,
            critical: false,
            stored: None,
        })
        .await;
    }

    async fn incoming(&mut self, p: Publish) {
        let topic = p.topic.clone();
        if let Some(charger) = self.topics.presence_charger(&topic) {
            let charger = charger.to_owned();
            self.remote_presence(&charger, &p.payload);
        } else if let Some(charger) = self.topics.down_charger(&topic) {
            let charger = charger.to_owned();
            self.command(&charger, &p.payload).await;
        } else if let Some(charger) = self.topics.emqx_down_charger(&topic) {
            let charger = charger.to_owned();
            self.emqx_command(&charger, &p.payload).await;
        }
    }

    /// A CALL an OCPP charger sent, on `ocpp/cp/{id}` (EMQX layout); answers and the unreadable are skipped.
    async fn ocpp_uplink(&self, m: ChargerMessage) {
        let Some(call) = emqx::uplink_call(&m.text) else {
            return;
        };
        let class = match call.action.as_str() {
            "Heartbeat" => EventClass::Heartbeat,
            "StopTransaction" | "TransactionEvent" => EventClass::Billing,
            _ => EventClass::Telemetry,
        };
        let Ok(payload) = serde_json::to_vec(&call.document) else {
            return;
        };
        let record = Record {
            topic: self.topics.emqx_up(&m.charger),
            qos: self.qos.for_class(class),
            retain: false,
            payload,
        };
        self.send(Outbound {
            record,
            critical: class.is_critical(),
            stored: None,
        })
        .await;
    }

    /// Whether this instance acts for `charger`: it holds it, or it last held it (owns its pending queue).
    fn ours(&self, charger: &str) -> bool {
        let ours = self.sessions.get(charger).is_some() || self.book.owns(charger);
        if !ours {
            self.metrics.commands.with_label_values(&["not_ours"]).inc();
            tracing::debug!(
                charger,
                "MQTT command for a charger another instance holds; ignored"
            );
        }
        ours
    }

    /// A CALL on `ocpp/cs/{id}` (EMQX layout): sent to the charger as an `ocpp_call`, answered on
    /// `ocpp/cp/{id}/Reply`.
    async fn emqx_command(&mut self, charger: &str, payload: &[u8]) {
        if !self.ours(charger) {
            return;
        }
        let topic = self.topics.emqx_reply(charger);
        let qos = self.qos.for_class(EventClass::CommandResult);
        match emqx::downlink(payload) {
            Ok(command) => {
                self.metrics
                    .commands
                    .with_label_values(&["dispatched"])
                    .inc();
                emqx::spawn_dispatch(
                    Arc::clone(&self.dispatcher),
                    self.out.clone(),
                    topic,
                    qos,
                    charger.to_owned(),
                    command,
                );
            }
            Err(error) => {
                self.metrics
                    .commands
                    .with_label_values(&[error.kind()])
                    .inc();
                tracing::warn!(charger, kind = error.kind(), code = super::codes::BAD_COMMAND, %error, "EMQX OCPP downlink not sent");
            }
        }
    }

    fn remote_presence(&mut self, charger: &str, payload: &[u8]) {
        let Ok(presence) = serde_json::from_slice::<Presence>(payload) else {
            // An empty retained message clears presence; anything else unreadable is not ours to judge.
            return;
        };
        if self.book.remote(charger, &presence) {
            if let Some(handle) = self.sessions.get(charger) {
                tracing::info!(charger, other = %presence.instance, session = %presence.session, "newer session on another instance; closing ours");
                self.metrics.takeovers.inc();
                handle.close(CloseReason::Takeover);
            }
        }
    }

    async fn command(&mut self, charger: &str, payload: &[u8]) {
        if !self.ours(charger) {
            return;
        }
        let topic = self.topics.reply(charger);
        let qos = self.qos.for_class(EventClass::CommandResult);
        match commands::parse(payload) {
            Ok(command) => {
                self.metrics
                    .commands
                    .with_label_values(&["dispatched"])
                    .inc();
                commands::spawn_dispatch(
                    Arc::clone(&self.dispatcher),
                    self.out.clone(),
                    topic,
                    qos,
                    charger.to_owned(),
                    self.instance.clone(),
                    command,
                );
            }
            Err(error) => {
                self.metrics
                    .commands
                    .with_label_values(&["bad_command"])
                    .inc();
                commands::reject(
                    &self.out,
                    topic,
                    qos,
                    charger,
                    &self.instance,
                    payload,
                    error,
                )
                .await;
            }
        }
    }
}
