//! The hub: connected subscribers, their indexes and queues, and the fan-out from the event bus.
//!
//! The bus task calls [`Hub::deliver`] for every event: it looks the recipients up in the indexes and pushes into
//! each one's [`SubscriberQueue`] — never waiting on a socket, so a subscriber that stops reading slows nobody.
//! A push refused at the hard limit cuts that subscriber off at once (removed from every index, closed with
//! 1008 by its writer).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use chargegate_codec::event::Event;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::index::{SubscriberId, SubscriptionIndex};
use super::metrics::WsMetrics;
use super::protocol::{Selection, ServerMessage};
use super::queue::{lane, Lane, Pushed, SubscriberQueue, WaterMarks};
use super::stations::StationLookup;
use super::token::{Claims, TokenSecret};
use crate::http::CommandDispatcher;

/// Events taken from the bus per wake-up.
const BUS_BATCH: usize = 256;

/// The hub's settings (from `[websocket]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Telemetry batching window; zero sends telemetry as soon as the writer wakes (no window).
    pub batch_window: Duration,
    /// Time between pings.
    pub ping_interval: Duration,
    /// Pongs a subscriber may miss before it is closed.
    pub missed_pongs: u32,
    /// Largest client message and frame, bytes.
    pub max_message_bytes: usize,
    /// Queue low water mark, entries.
    pub low_water: usize,
    /// Queue high water mark, entries.
    pub high_water: usize,
    /// Queue hard limit, entries.
    pub hard_limit: usize,
    /// Largest number of connected subscribers.
    pub max_subscribers: usize,
    /// Largest number of subscriptions per subscriber.
    pub max_subscriptions: usize,
    /// How long a subscriber's command waits for the charger's answer.
    pub command_timeout: Duration,
}

/// Why, and with which WebSocket close code, a subscriber is being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseCause {
    /// WebSocket close code (1000, 1001, 1008, 1009, …).
    pub code: u16,
    /// Metric label and close reason text.
    pub reason: &'static str,
}

impl CloseCause {
    /// The client closed or went away.
    pub const CLIENT: CloseCause = CloseCause {
        code: 1000,
        reason: "client_closed",
    };
    /// The token's `exp` passed.
    pub const TOKEN_EXPIRED: CloseCause = CloseCause {
        code: 1008,
        reason: "token_expired",
    };
    /// The queue reached its hard limit.
    pub const HARD_LIMIT: CloseCause = CloseCause {
        code: 1008,
        reason: "hard_limit",
    };
    /// Too many pings went unanswered.
    pub const PONG_TIMEOUT: CloseCause = CloseCause {
        code: 1008,
        reason: "pong_timeout",
    };
    /// A message above the size limit.
    pub const OVERSIZE: CloseCause = CloseCause {
        code: 1009,
        reason: "oversize",
    };
    /// The socket failed.
    pub const READ_ERROR: CloseCause = CloseCause {
        code: 1002,
        reason: "read_error",
    };
    /// The gateway is stopping.
    pub const SHUTDOWN: CloseCause = CloseCause {
        code: 1001,
        reason: "shutdown",
    };

    /// Error code in the house scheme for the log line.
    pub fn error_code(&self) -> &'static str {
        match self.reason {
            "token_expired" => "D0705",
            "hard_limit" => "D0720",
            "pong_timeout" => "D0721",
            "oversize" => "D0722",
            "read_error" => "D0723",
            _ => "-",
        }
    }
}

/// One connected subscriber, shared by the hub and its connection task.
pub struct Subscriber {
    /// Hub-unique id.
    pub id: SubscriberId,
    /// What its token allows.
    pub claims: Claims,
    queue: Mutex<SubscriberQueue>,
    /// Woken when immediate entries are queued.
    pub wake: Notify,
    /// Cancelled when the subscriber must close; [`Subscriber::cause`] says why.
    pub closed: CancellationToken,
    cause: Mutex<Option<CloseCause>>,
}

impl Subscriber {
    /// Its queue (a poisoned lock is taken over: the queue holds plain data).
    pub fn queue(&self) -> MutexGuard<'_, SubscriberQueue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the connection to close with `cause`; the first cause wins.
    pub fn close(&self, cause: CloseCause) {
        let mut c = self.cause.lock().unwrap_or_else(|e| e.into_inner());
        if c.is_none() {
            *c = Some(cause);
        }
        drop(c);
        self.closed.cancel();
    }

    /// Why it is closing, if it is.
    pub fn cause(&self) -> Option<CloseCause> {
        *self.cause.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a subscribe was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeRefusal {
    /// The token does not cover this station or charger.
    #[error("{0} is not covered by this token")]
    NotCovered(String),
    /// More than `max_subscriptions`.
    #[error("more than {0} subscriptions")]
    TooMany(usize),
}

impl SubscribeRefusal {
    /// Stable short name (metric label, error code of the reply).
    pub fn kind(&self) -> &'static str {
        match self {
            SubscribeRefusal::NotCovered(_) => "not_covered",
            SubscribeRefusal::TooMany(_) => "too_many_subscriptions",
        }
    }
}

/// The hub.
pub struct Hub {
    /// Settings.
    pub config: HubConfig,
    /// Token key.
    pub secret: TokenSecret,
    /// Charger → station.
    pub stations: Arc<dyn StationLookup>,
    /// Where subscriber commands go.
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// Series.
    pub metrics: WsMetrics,
    /// Cancelled at gateway shutdown.
    pub shutdown: CancellationToken,
    next_id: AtomicU64,
    index: RwLock<SubscriptionIndex>,
    subscribers: RwLock<HashMap<SubscriberId, Arc<Subscriber>>>,
}

impl Hub {
    /// An empty hub.
    pub fn new(
        config: HubConfig,
        secret: TokenSecret,
        stations: Arc<dyn StationLookup>,
        dispatcher: Arc<dyn CommandDispatcher>,
        metrics: WsMetrics,
        shutdown: CancellationToken,
    ) -> Self {
        Hub {
            config,
            secret,
            stations,
            dispatcher,
            metrics,
            shutdown,
            next_id: AtomicU64::new(1),
            index: RwLock::new(SubscriptionIndex::default()),
            subscribers: RwLock::new(HashMap::new()),
        }
    }

    fn index_read(&self) -> std::sync::RwLockReadGuard<'_, SubscriptionIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_write(&self) -> std::sync::RwLockWriteGuard<'_, SubscriptionIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    fn subs_read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<SubscriberId, Arc<Subscriber>>> {
        self.subscribers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn subs_write(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<SubscriberId, Arc<Subscriber>>> {
        self.subscribers.write().unwrap_or_else(|e| e.into_inner())
    }

    fn publish_index_sizes(&self, index: &SubscriptionIndex) {
        let sizes = index.sizes();
        let set = |label: &str, n: usize| {
            self.metrics
                .index_entries
                .with_label_values(&[label])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        };
        set("station", sizes.stations);
        set("charger", sizes.chargers);
    }

    /// Connected subscribers.
    pub fn subscriber_count(&self) -> usize {
        self.subs_read().len()
    }

    /// Adds a subscriber with `claims`; `None` when `max_subscribers` are connected.
    pub fn register(&self, claims: Claims) -> Option<Arc<Subscriber>> {
        let mut subs = self.subs_write();
        if subs.len() >= self.config.max_subscribers {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let marks = WaterMarks {
            low: self.config.low_water,
            high: self.config.high_water,
            hard: self.config.hard_limit,
        };
        let sub = Arc::new(Subscriber {
            id,
            claims,
            queue: Mutex::new(SubscriberQueue::new(marks)),
            wake: Notify::new(),
            closed: self.shutdown.child_token(),
            cause: Mutex::new(None),
        });
        subs.insert(id, Arc::clone(&sub));
        self.metrics
            .subscribers
            .set(i64::try_from(subs.len()).unwrap_or(i64::MAX));
        Some(sub)
    }

    /// Removes subscriber `id` from the hub and from every index (idempotent).
    pub fn deregister(&self, id: SubscriberId) {
        {
            let mut index = self.index_write();
            index.remove_subscriber(id);
            self.publish_index_sizes(&index);
        }
        let mut subs = self.subs_write();
        subs.remove(&id);
        self.metrics
            .subscribers
            .set(i64::try_from(subs.len()).unwrap_or(i64::MAX));
    }

    /// Subscribes `sub` to `sel` if its token covers every name in it; otherwise nothing changes.
    pub fn subscribe(&self, sub: &Subscriber, sel: &Selection) -> Result<(), SubscribeRefusal> {
        if let Some(s) = sel.stations.iter().find(|s| !sub.claims.covers_station(s)) {
            return Err(SubscribeRefusal::NotCovered(format!("station {s}")));
        }
        if let Some(c) = sel.chargers.iter().find(|c| {
            !sub.claims
                .covers_charger(c, self.stations.station_of(c).as_deref())
        }) {
            return Err(SubscribeRefusal::NotCovered(format!("charger {c}")));
        }
        let mut index = self.index_write();
        let after = index.count_after(sub.id, sel);
        if after > self.config.max_subscriptions {
            return Err(SubscribeRefusal::TooMany(self.config.max_subscriptions));
        }
        if sub.closed.is_cancelled() {
            // Cut off meanwhile: it must not reappear in the index.
            return Ok(());
        }
        index.subscribe(sub.id, sel);
        self.publish_index_sizes(&index);
        Ok(())
    }

    /// Unsubscribes `sub` from `sel`.
    pub fn unsubscribe(&self, sub: &Subscriber, sel: &Selection) {
        let mut index = self.index_write();
        index.unsubscribe(sub.id, sel);
        self.publish_index_sizes(&index);
    }

    /// Entries in the station and charger indexes.
    pub fn index_sizes(&self) -> super::index::IndexSizes {
        self.index_read().sizes()
    }

    /// Queues a reply for `sub`.
    pub fn reply(&self, sub: &Subscriber, msg: &ServerMessage) {
        let pushed = sub.queue().push_reply(msg.to_text());
        self.after_push(sub, pushed, Lane::Immediate, false);
    }

    /// Fans `event` out to the subscribers of its charger and of the charger's station.
    pub fn deliver(&self, event: &Arc<Event>, recipients: &mut Vec<SubscriberId>) {
        let station = self.stations.station_of(&event.charger);
        self.index_read()
            .recipients(&event.charger, station.as_deref(), recipients);
        if recipients.is_empty() {
            return;
        }
        let event_lane = lane(event);
        let subs = self.subs_read();
        for id in recipients.iter() {
            let Some(sub) = subs.get(id) else { continue };
            let (pushed, was, now) = {
                let mut q = sub.queue();
                let was = q.coalescing();
                let pushed = q.push_event(Arc::clone(event));
                (pushed, was, q.coalescing())
            };
            if was != now {
                self.metrics
                    .water_marks
                    .with_label_values(&[if now { "coalescing" } else { "normal" }])
                    .inc();
                tracing::warn!(subscriber = sub.id, sub = %sub.claims.sub, coalescing = now, "ws subscriber queue crossed its high water mark");
            }
            self.after_push(sub, pushed, event_lane, true);
        }
    }

    fn after_push(&self, sub: &Subscriber, pushed: Pushed, lane: Lane, from_bus: bool) {
        match pushed {
            Pushed::Queued if lane == Lane::Immediate || self.config.batch_window.is_zero() => {
                sub.wake.notify_one()
            }
            Pushed::Queued => {}
            Pushed::Coalesced => self.metrics.coalesced.inc(),
            Pushed::OverLimit => self.cut_off(sub, from_bus),
        }
    }

    /// Closes `sub` with 1008 because its queue is full, and removes it from every index at once.
    fn cut_off(&self, sub: &Subscriber, from_bus: bool) {
        if sub.closed.is_cancelled() {
            return;
        }
        tracing::warn!(
            subscriber = sub.id,
            sub = %sub.claims.sub,
            code = CloseCause::HARD_LIMIT.error_code(),
            hard_limit = self.config.hard_limit,
            "ws subscriber queue over its hard limit: closing with 1008"
        );
        sub.close(CloseCause::HARD_LIMIT);
        if from_bus {
            // The bus task holds the subscriber map's read lock; the index lock is free.
            let mut index = self.index_write();
            index.remove_subscriber(sub.id);
            self.publish_index_sizes(&index);
        } else {
            self.deregister(sub.id);
        }
    }

    /// Runs the bus sink until the bus is dropped.
    pub async fn run_bus(self: Arc<Self>, mut rx: mpsc::Receiver<Arc<Event>>) {
        let mut batch = Vec::with_capacity(BUS_BATCH);
        let mut recipients = Vec::new();
        while rx.recv_many(&mut batch, BUS_BATCH).await > 0 {
            for event in batch.drain(..) {
                self.deliver(&event, &mut recipients);
            }
        }
    }
}
