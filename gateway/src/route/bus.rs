//! The event bus: a fan-out to per-sink bounded queues with drop counting for telemetry and bounded waiting for
//! billing events.

use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::event::{Event, EventBody, EventView};
use prometheus::{IntCounter, IntGauge};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

use super::lines::LineBuffers;
use crate::metrics::Metrics;

/// Every event kind, so per-sink counters can be resolved once.
pub const EVENT_KINDS: &[&str] = &[
    "online",
    "offline",
    "heartbeat",
    "status",
    "meter",
    "bms",
    "session_started",
    "session_stopped",
    "transaction",
    "alarm",
    "authorize",
    "notice",
    "command_result",
    "raw",
];

/// Why a billing event could not be handed to every sink.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BusError {
    /// A sink's queue stayed full for the whole wait.
    #[error("sink `{sink}` stayed full for {waited:?}")]
    SinkFull {
        /// The sink.
        sink: String,
        /// How long the publisher waited.
        waited: Duration,
    },
    /// A sink has stopped.
    #[error("sink `{sink}` has stopped")]
    SinkClosed {
        /// The sink.
        sink: String,
    },
    /// An upstream sink took the event but could not confirm it stored (no PUBACK, no spool sync) in time.
    #[error("sink `{sink}` did not confirm the event stored upstream within {waited:?}")]
    NotStored {
        /// The sink.
        sink: String,
        /// How long the publisher waited.
        waited: Duration,
    },
}

impl BusError {
    /// Stable short name, a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            BusError::SinkFull { .. } => "sink_full",
            BusError::SinkClosed { .. } => "sink_closed",
            BusError::NotStored { .. } => "not_stored",
        }
    }
}

/// Billing-relevant events: never dropped silently.
pub fn is_critical(event: &Event) -> bool {
    is_critical_body(&event.body)
}

/// [`is_critical`] of an event with this body.
pub fn is_critical_body(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::Transaction(_) | EventBody::SessionStopped(_) | EventBody::CommandResult(_)
    )
}

/// Outcome of a non-critical publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Sinks that queued the event.
    pub queued: usize,
    /// Sinks that dropped it (full or stopped).
    pub dropped: usize,
}

/// An event on an upstream sink's queue (MQTT). A billing event carries `stored`: the sink sends `true` once the
/// event is safe upstream (broker PUBACK or spool sync) or `false` when it could not be kept; only then does the
/// connection acknowledge the charger.
#[derive(Debug)]
pub struct Upstream {
    /// The event.
    pub event: Arc<Event>,
    /// Set for billing events: the publisher waits on it.
    pub stored: Option<oneshot::Sender<bool>>,
}

/// The bus's hold on a [`LineBuffers`] sink: dropping the bus closes it, so its writer finishes.
struct LinesTx(Arc<LineBuffers>);

impl Drop for LinesTx {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// How long a billing event waits between tries for room in a full line buffer.
const LINES_RETRY: Duration = Duration::from_millis(1);

/// The sending end of one sink's queue.
enum SinkTx {
    /// A sink that holds events once queued (tests, the WebSocket hub).
    Plain(mpsc::Sender<Arc<Event>>),
    /// A sink that confirms billing events once stored upstream.
    Upstream(mpsc::Sender<Upstream>),
    /// A sink that renders each event as a JSON line on the publishing thread (the JSON-lines sink).
    Lines(LinesTx),
}

impl SinkTx {
    /// Room left in the queue, for the depth gauge; `None` for line buffers, which count bytes, not events.
    fn capacity(&self) -> Option<usize> {
        match self {
            SinkTx::Plain(tx) => Some(tx.capacity()),
            SinkTx::Upstream(tx) => Some(tx.capacity()),
            SinkTx::Lines(_) => None,
        }
    }

    fn try_send(&self, event: Arc<Event>) -> bool {
        match self {
            SinkTx::Lines(lines) => lines.0.offer(&event.view()),
            SinkTx::Plain(tx) => tx.try_send(event).is_ok(),
            SinkTx::Upstream(tx) => tx
                .try_send(Upstream {
                    event,
                    stored: None,
                })
                .is_ok(),
        }
    }

    /// Waits for room and queues `event`; for an upstream sink returns the receiver of its stored signal.
    async fn send_critical(
        &self,
        event: Arc<Event>,
    ) -> Result<Option<oneshot::Receiver<bool>>, ()> {
        match self {
            SinkTx::Lines(lines) => {
                // Waits for the writer to make room; the caller bounds the wait. A stopped writer is a closed sink.
                while !lines.0.offer(&event.view()) {
                    if lines.0.is_stopped() {
                        return Err(());
                    }
                    tokio::time::sleep(LINES_RETRY).await;
                }
                Ok(None)
            }
            SinkTx::Plain(tx) => {
                let permit = tx.reserve().await.map_err(|_| ())?;
                permit.send(event);
                Ok(None)
            }
            SinkTx::Upstream(tx) => {
                let permit = tx.reserve().await.map_err(|_| ())?;
                let (stored, rx) = oneshot::channel();
                permit.send(Upstream {
                    event,
                    stored: Some(stored),
                });
                Ok(Some(rx))
            }
        }
    }
}

struct SinkQueue {
    name: String,
    tx: SinkTx,
    capacity: usize,
    depth: IntGauge,
    published: Vec<(&'static str, IntCounter)>,
    dropped: Vec<(&'static str, IntCounter)>,
}

/// The position of `body`'s kind in [`EVENT_KINDS`], so the per-sink counters are found without comparing strings
/// (this runs for every event and sink).
fn kind_index(body: &EventBody) -> usize {
    match body {
        EventBody::Online(_) => 0,
        EventBody::Offline(_) => 1,
        EventBody::Heartbeat(_) => 2,
        EventBody::Status(_) => 3,
        EventBody::Meter(_) => 4,
        EventBody::Bms(_) => 5,
        EventBody::SessionStarted(_) => 6,
        EventBody::SessionStopped(_) => 7,
        EventBody::Transaction(_) => 8,
        EventBody::Alarm(_) => 9,
        EventBody::Authorize(_) => 10,
        EventBody::Notice(_) => 11,
        EventBody::CommandResult(_) => 12,
        EventBody::Raw(_) => 13,
    }
}

impl SinkQueue {
    fn count(&self, kind: usize, queued: bool) {
        let list = if queued {
            &self.published
        } else {
            &self.dropped
        };
        if let Some((_, c)) = list.get(kind) {
            c.inc();
        }
        if let Some(room) = self.tx.capacity() {
            self.depth
                .set(i64::try_from(self.capacity.saturating_sub(room)).unwrap_or(i64::MAX));
        }
    }
}

/// The bus. Build it, [`subscribe`](EventBus::subscribe) each sink, then share it as `Arc<EventBus>`.
pub struct EventBus {
    sinks: Vec<SinkQueue>,
    metrics: Metrics,
    critical_wait: Duration,
}

impl EventBus {
    /// An empty bus; billing events wait up to `critical_wait` for room in a full sink.
    pub fn new(metrics: Metrics, critical_wait: Duration) -> Self {
        EventBus {
            sinks: Vec::new(),
            metrics,
            critical_wait,
        }
    }

    /// Adds a sink with a queue of `capacity` events and returns its receiving end.
    pub fn subscribe(&mut self, name: &str, capacity: usize) -> mpsc::Receiver<Arc<Event>> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        self.add_sink(name, capacity, SinkTx::Plain(tx));
        rx
    }

    /// Adds a sink that takes each event as a JSON line into per-thread buffers of at most `limit_bytes` each
    /// (see [`LineBuffers`]); run its writer with [`LineBuffers::write_until_closed`]. Dropping the bus closes it.
    pub fn subscribe_lines(&mut self, name: &str, limit_bytes: usize) -> Arc<LineBuffers> {
        let lines = LineBuffers::new(limit_bytes);
        self.add_sink(name, 1, SinkTx::Lines(LinesTx(Arc::clone(&lines))));
        lines
    }

    /// Adds an upstream sink (MQTT): billing events reach it with a `stored` signal, and
    /// [`publish_critical`](EventBus::publish_critical) succeeds only once the sink confirms them stored.
    pub fn subscribe_upstream(&mut self, name: &str, capacity: usize) -> mpsc::Receiver<Upstream> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        self.add_sink(name, capacity, SinkTx::Upstream(tx));
        rx
    }

    fn add_sink(&mut self, name: &str, capacity: usize, tx: SinkTx) {
        let capacity = capacity.max(1);
        let resolve = |vec: &prometheus::IntCounterVec| {
            EVENT_KINDS
                .iter()
                .map(|k| (*k, vec.with_label_values(&[name, k])))
                .collect()
        };
        self.sinks.push(SinkQueue {
            name: name.to_owned(),
            tx,
            capacity,
            depth: self
                .metrics
                .queue_depth
                .with_label_values(&[&format!("sink:{name}")]),
            published: resolve(&self.metrics.events_published),
            dropped: resolve(&self.metrics.events_dropped),
        });
    }

    /// Number of sinks.
    pub fn sink_count(&self) -> usize {
        self.sinks.len()
    }

    /// Whether every sink renders events on the publishing thread ([`subscribe_lines`](EventBus::subscribe_lines)):
    /// then no sink keeps the event, and [`publish_ref`](EventBus::publish_ref) spares the shared allocation.
    pub fn all_inline(&self) -> bool {
        self.sinks.iter().all(|s| matches!(s.tx, SinkTx::Lines(_)))
    }

    /// [`publish`](EventBus::publish) for a bus whose sinks are all inline ([`all_inline`](EventBus::all_inline)):
    /// the event is rendered where it is from a view of its parts, without an owned event (see
    /// [`EventView`]) or an `Arc` (an allocation, a copy of the event and, before line buffers, a free on another
    /// thread, per event). Queued sinks, if any, get an owned copy.
    pub fn publish_view(&self, event: &EventView<'_>) -> Delivery {
        let kind = kind_index(event.body);
        let mut d = Delivery::default();
        let mut shared: Option<Arc<Event>> = None;
        for s in &self.sinks {
            let ok = match &s.tx {
                SinkTx::Lines(lines) => lines.0.offer(event),
                tx => tx.try_send(Arc::clone(
                    shared.get_or_insert_with(|| Arc::new(event.to_event())),
                )),
            };
            s.count(kind, ok);
            if ok {
                d.queued += 1;
            } else {
                d.dropped += 1;
            }
        }
        d
    }

    /// Offers an ordinary event to every sink without waiting; full sinks drop it and count the drop.
    pub fn publish(&self, event: Arc<Event>) -> Delivery {
        let kind = kind_index(&event.body);
        let mut d = Delivery::default();
        for s in &self.sinks {
            let ok = s.tx.try_send(Arc::clone(&event));
            s.count(kind, ok);
            if ok {
                d.queued += 1;
            } else {
                d.dropped += 1;
            }
        }
        d
    }

    /// Hands a billing event to every sink, waiting up to the critical wait for room, then waits (again up to the
    /// critical wait) until every upstream sink confirms it stored. An error means at least one sink did not take
    /// or keep it: the caller must not acknowledge the charger.
    pub async fn publish_critical(&self, event: Arc<Event>) -> Result<(), BusError> {
        let kind = event.kind();
        let index = kind_index(&event.body);
        let mut confirmations = Vec::new();
        for s in &self.sinks {
            match tokio::time::timeout(self.critical_wait, s.tx.send_critical(Arc::clone(&event)))
                .await
            {
                Ok(Ok(stored)) => {
                    s.count(index, true);
                    if let Some(rx) = stored {
                        confirmations.push((s.name.as_str(), rx));
                    }
                }
                Ok(Err(())) => {
                    s.count(index, false);
                    tracing::error!(sink = %s.name, kind, charger = %event.charger, "billing event not delivered: sink stopped");
                    return Err(BusError::SinkClosed {
                        sink: s.name.clone(),
                    });
                }
                Err(_) => {
                    s.count(index, false);
                    tracing::error!(sink = %s.name, kind, charger = %event.charger, "billing event not delivered: sink full");
                    return Err(BusError::SinkFull {
                        sink: s.name.clone(),
                        waited: self.critical_wait,
                    });
                }
            }
        }
        for (sink, rx) in confirmations {
            if !matches!(
                tokio::time::timeout(self.critical_wait, rx).await,
                Ok(Ok(true))
            ) {
                tracing::error!(sink, kind, charger = %event.charger, "billing event not confirmed stored upstream");
                return Err(BusError::NotStored {
                    sink: sink.to_owned(),
                    waited: self.critical_wait,
                });
            }
        }
        Ok(())
    }

    /// [`publish`](EventBus::publish) or [`publish_critical`](EventBus::publish_critical) by the event's kind.
    pub async fn route(&self, event: Arc<Event>) -> Result<Delivery, BusError> {
        if is_critical(&event) {
            let n = self.sinks.len();
            self.publish_critical(event).await.map(|()| Delivery {
                queued: n,
                dropped: 0,
            })
        } else {
            Ok(self.publish(event))
        }
    }
}

#[cfg(test)]
mod kind_index_tests {
    use chargegate_codec::event::*;

    use super::{kind_index, EVENT_KINDS};

    #[test]
    fn kind_index_points_at_the_kinds_name() {
        let bodies = [
            EventBody::Online(OnlineData::default()),
            EventBody::Offline(OfflineData {
                reason: "closed".into(),
            }),
            EventBody::Heartbeat(HeartbeatData::default()),
            EventBody::Status(StatusData {
                status: ConnectorStatus::Available,
                vendor_status: "0x02".into(),
                plugged: None,
                gun_returned: None,
                errors: Vec::new(),
                info: None,
            }),
            EventBody::Meter(MeterData::default()),
            EventBody::SessionStarted(SessionStartedData::default()),
            EventBody::SessionStopped(SessionStoppedData::default()),
            EventBody::Transaction(Box::default()),
            EventBody::Alarm(AlarmData {
                code: "c".into(),
                severity: "major".into(),
                text: "t".into(),
                active: true,
            }),
            EventBody::Authorize(AuthorizeData::default()),
            EventBody::Notice(StatusNoticeData {
                topic: "t".into(),
                detail: serde_json::Value::Null,
            }),
            EventBody::CommandResult(CommandResultData {
                command_id: String::new(),
                command: "start".into(),
                status: CommandStatus::Accepted,
                detail: serde_json::Value::Null,
            }),
            EventBody::Raw(RawData {
                message_type: "0x61".into(),
                hex: String::new(),
            }),
        ];
        for body in &bodies {
            assert_eq!(EVENT_KINDS[kind_index(body)], body.kind());
        }
        // `bms` has no cheap constructor here; its slot is the one left.
        assert_eq!(EVENT_KINDS[5], "bms");
        assert_eq!(EVENT_KINDS.len(), bodies.len() + 1);
    }
}
