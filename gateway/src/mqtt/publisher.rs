//! The publisher: one task that owns the rumqttc client, tracks every publish until the broker acknowledges it,
//! and falls back to the spool ([`Ledger`]) while the broker is unreachable or stalled.
//!
//! ```text
//!  Outbound ─► direct mode (connected, spool empty): try_publish ─► awaiting pkid ─► in flight ─► PUBACK ✓
//!          └─► spool mode (disconnected, stalled, or spool not yet drained): append (+ sync for billing) ✓
//!              after ConnAck: replay from the spool in order, ack_through on PUBACK, back to direct when empty
//! ```
//!
//! PUBACK correlation: rumqttc's `publish` returns no token, but it assigns packet ids in request order and reports
//! each as `Outgoing::Publish(pkid)`; the task keeps a FIFO of requests awaiting their pkid and a map pkid → entry.
//! Each (re)connection gets a fresh client and event loop (a *generation*), so requests of a dead connection can
//! never be confused with new ones; on a drop every unacknowledged publish not yet in the spool is appended to it.
//! A billing event's `stored` signal fires on its PUBACK or after the spool synced it (`false` if the spool
//! refused it: the charger is then not acknowledged and retries).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::codes;
use super::ledger::{LedgerError, LedgerThread};
use super::metrics::MqttMetrics;
use super::qos::qos_label;
use super::record::Record;
use super::settings::REQUEST_CHANNEL;

/// Outbound messages taken per loop turn.
const BATCH: usize = 256;
/// Event-loop notices (sent, PUBACK, incoming) handled per loop turn: at high rates one wake-up handles many.
const NOTICE_BATCH: usize = 256;
/// How often the stall check runs.
const TICK: Duration = Duration::from_millis(200);

/// One message for the broker.
#[derive(Debug)]
pub struct Outbound {
    /// What to publish.
    pub record: Record,
    /// Whether the spool keeps room for it (billing, command results, presence).
    pub critical: bool,
    /// Fired with `true` once the broker or the spool holds it (billing events).
    pub stored: Option<oneshot::Sender<bool>>,
}

/// How the publisher connects and behaves.
#[derive(Debug, Clone)]
pub struct PublisherSettings {
    /// rumqttc options.
    pub options: MqttOptions,
    /// Pause between reconnect attempts.
    pub reconnect: Duration,
    /// Oldest-unacknowledged age after which the broker counts as stalled.
    pub puback_timeout: Duration,
    /// Publishes outstanding at once.
    pub window: usize,
    /// Filters subscribed on every ConnAck (QoS 1).
    pub subscriptions: Vec<String>,
    /// TCP_NODELAY on the broker connection.
    pub tcp_nodelay: bool,
}

/// What the event loop task reports, tagged with its generation.
#[derive(Debug)]
enum Notice {
    ConnAck,
    Sent(u16),
    PubAck(u16),
    Incoming(Publish),
    Error(String),
}

#[derive(Debug)]
struct Entry {
    record: Record,
    seq: Option<u64>,
    stored: Option<oneshot::Sender<bool>>,
    critical: bool,
    at: Instant,
    order: u64,
}

impl Entry {
    fn confirm(&mut self, ok: bool) {
        if let Some(s) = self.stored.take() {
            // The publisher may have given up waiting.
            let _ = s.send(ok);
        }
    }
}

/// What the spool holds, mirrored after each call.
#[derive(Debug, Clone, Copy, Default)]
struct SpoolState {
    first: Option<u64>,
    len: usize,
    bytes: u64,
}

/// The publisher task's state.
pub struct Publisher {
    settings: PublisherSettings,
    metrics: MqttMetrics,
    ledger: LedgerThread,
    incoming: mpsc::Sender<Publish>,
    notices_tx: mpsc::Sender<(u64, Notice)>,
    notices: mpsc::Receiver<(u64, Notice)>,
    client: Option<AsyncClient>,
    generation: u64,
    connected: bool,
    reconnect_at: Option<Instant>,
    awaiting: VecDeque<Entry>,
    inflight: HashMap<u16, Entry>,
    order: u64,
    spool: SpoolState,
    replay_from: Option<u64>,
    replay_exhausted: bool,
    replayed: VecDeque<u64>,
    acked: HashSet<u64>,
    delivered_through: Option<u64>,
}

impl Publisher {
    /// A publisher that spools into `ledger` and forwards incoming publishes (commands, presence) to `incoming`.
    pub async fn new(
        settings: PublisherSettings,
        metrics: MqttMetrics,
        ledger: LedgerThread,
        incoming: mpsc::Sender<Publish>,
    ) -> Self {
        let (notices_tx, notices) = mpsc::channel(REQUEST_CHANNEL);
        let spool = ledger.call(snapshot).await.unwrap_or_default();
        Publisher {
            settings,
            metrics,
            ledger,
            incoming,
            notices_tx,
            notices,
            client: None,
            generation: 0,
            connected: false,
            reconnect_at: Some(Instant::now()),
            awaiting: VecDeque::new(),
            inflight: HashMap::new(),
            order: 0,
            replay_from: spool.first,
            replay_exhausted: spool.len == 0,
            spool,
            replayed: VecDeque::new(),
            acked: HashSet::new(),
            delivered_through: None,
        }
    }

    /// Runs until `rx` closes (every sender gone), then spools whatever is still unacknowledged.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Outbound>) {
        let mut tick = tokio::time::interval(TICK);
        let mut batch = Vec::new();
        let mut notices = Vec::with_capacity(NOTICE_BATCH);
        loop {
            let direct = self.direct();
            let take = if direct {
                self.room().min(BATCH)
            } else {
                BATCH
            };
            let reconnect_at = self.reconnect_at;
            tokio::select! {
                n = self.notices.recv_many(&mut notices, NOTICE_BATCH) => {
                    // Never 0: the publisher holds a sender itself.
                    debug_assert!(n > 0);
                    for (generation, notice) in notices.drain(..) {
                        if generation == self.generation {
                            self.on_notice(notice).await;
                        }
                    }
                }
                n = rx.recv_many(&mut batch, take.max(1)), if take > 0 => {
                    if n == 0 {
                        break;
                    }
                    self.accept(std::mem::take(&mut batch)).await;
                }
                _ = sleep_until(reconnect_at), if reconnect_at.is_some() => self.connect(),
                _ = tick.tick() => {
                    self.check_stall().await;
                    self.flush_acks().await;
                }
            }
            if self.replayed.is_empty() {
                self.flush_acks().await;
            }
            self.pump().await;
            self.gauges();
        }
        self.flush_acks().await;
        self.spool_unacked().await;
        self.gauges();
        tracing::info!(spooled = self.spool.len, "MQTT publisher stopped");
    }

    fn direct(&self) -> bool {
        self.connected && self.spool.len == 0
    }

    fn room(&self) -> usize {
        self.settings
            .window
            .saturating_sub(self.awaiting.len() + self.inflight.len())
    }

    fn connect(&mut self) {
        self.reconnect_at = None;
        self.generation += 1;
        let (client, mut eventloop) =
            AsyncClient::new(self.settings.options.clone(), REQUEST_CHANNEL);
        // rumqttc leaves Nagle on: a publish written while our previous small segment (a PUBACK, a QoS 0 publish)
        // is unacknowledged then waits for the broker's delayed ACK — 40 ms on Linux — on every command reply
        // and every lull in telemetry. `mqtt.tcp_nodelay` (default on) turns Nagle off.
        let mut network = eventloop.network_options();
        network.set_tcp_nodelay(self.settings.tcp_nodelay);
        eventloop.set_network_options(network);
        self.client = Some(client);
        tokio::spawn(forward(self.generation, eventloop, self.notices_tx.clone()));
    }

    async fn on_notice(&mut self, notice: Notice) {
        match notice {
            Notice::ConnAck => {
                tracing::info!(generation = self.generation, "MQTT connected");
                self.connected = true;
                self.metrics.connected.set(1);
                if let Some(c) = &self.client {
                    for f in &self.settings.subscriptions {
                        if let Err(e) = c.try_subscribe(f.clone(), QoS::AtLeastOnce) {
                            tracing::error!(filter = %f, error = %e, "MQTT subscribe failed");
                        }
                    }
                }
                self.replay_from = self.spool.first;
                self.replay_exhausted = self.spool.len == 0;
            }
            Notice::Sent(pkid) => {
                let Some(mut e) = self.awaiting.pop_front() else {
                    return;
                };
                if e.record.qos == QoS::AtMostOnce {
                    self.metrics.sent_qos0.inc();
                    e.confirm(true);
                    if let Some(seq) = e.seq {
                        self.ack_seq(seq).await;
                    }
                } else {
                    self.inflight.insert(pkid, e);
                }
            }
            Notice::PubAck(pkid) => {
                let Some(mut e) = self.inflight.remove(&pkid) else {
                    return;
                };
                self.metrics.latency.observe(e.at.elapsed().as_secs_f64());
                if e.record.qos == QoS::AtLeastOnce {
                    self.metrics.acked_qos1.inc();
                } else {
                    self.metrics
                        .publishes
                        .with_label_values(&[qos_label(e.record.qos), "acked"])
                        .inc();
                }
                e.confirm(true);
                if let Some(seq) = e.seq {
                    self.ack_seq(seq).await;
                }
            }
            Notice::Incoming(p) => {
                // The sink front may be gone at shutdown; then nobody needs it.
                let _ = self.incoming.send(p).await;
            }
            Notice::Error(error) => {
                if self.connected {
                    tracing::warn!(%error, code = codes::BROKER_UNREACHABLE, "MQTT connection lost; spooling");
                } else {
                    tracing::debug!(%error, code = codes::BROKER_UNREACHABLE, "MQTT connect failed");
                }
                self.metrics.connection_errors.inc();
                self.metrics.connected.set(0);
                self.connected = false;
                self.flush_acks().await;
                self.client = None;
                self.spool_unacked().await;
                self.awaiting.clear();
                self.inflight.clear();
                self.replayed.clear();
                self.acked.clear();
                self.replay_from = self.spool.first;
                self.replay_exhausted = self.spool.len == 0;
                self.reconnect_at = Some(Instant::now() + self.settings.reconnect);
            }
        }
    }

    /// Takes a batch of new messages: straight to the client in direct mode, otherwise into the spool.
    async fn accept(&mut self, batch: Vec<Outbound>) {
        if self.direct() {
            let mut rest = batch.into_iter();
            for out in rest.by_ref() {
                if let Err(out) = self.publish_direct(out) {
                    let mut left = vec![out];
                    left.extend(rest);
                    self.spool_new(left).await;
                    return;
                }
            }
        } else {
            self.spool_new(batch).await;
        }
    }

    fn publish_direct(&mut self, out: Outbound) -> Result<(), Outbound> {
        let Some(client) = &self.client else {
            return Err(out);
        };
        let r = &out.record;
        if client
            .try_publish(r.topic.clone(), r.qos, r.retain, r.payload.clone())
            .is_err()
        {
            return Err(out);
        }
        self.order += 1;
        self.awaiting.push_back(Entry {
            record: out.record,
            seq: None,
            stored: out.stored,
            critical: out.critical,
            at: Instant::now(),
            order: self.order,
        });
        Ok(())
    }

    /// Appends new messages to the spool, syncs if a billing event is among them, and answers their signals.
    async fn spool_new(&mut self, batch: Vec<Outbound>) {
        let items: Vec<(Vec<u8>, bool, bool)> = batch
            .iter()
            .map(|o| (o.record.encode(), o.critical, o.stored.is_some()))
            .collect();
        let Some((results, synced, state)) = self.ledger.call(move |l| append_all(l, items)).await
        else {
            for mut o in batch {
                if let Some(s) = o.stored.take() {
                    let _ = s.send(false);
                }
            }
            return;
        };
        self.spool = state;
        for (o, result) in batch.into_iter().zip(results) {
            let qos = qos_label(o.record.qos);
            match result {
                Ok(seq) => {
                    self.metrics
                        .publishes
                        .with_label_values(&[qos, "spooled"])
                        .inc();
                    self.replay_exhausted = false;
                    if self.replay_from.is_none() {
                        self.replay_from = Some(seq);
                    }
                    if let Some(s) = o.stored {
                        let _ = s.send(synced);
                    }
                }
                Err(e) => self.refused(o, qos, &e),
            }
        }
    }

    fn refused(&self, o: Outbound, qos: &'static str, e: &LedgerError) {
        if let Some(s) = o.stored {
            self.metrics
                .publishes
                .with_label_values(&[qos, "refused"])
                .inc();
            tracing::error!(topic = %o.record.topic, error = %e, code = codes::SPOOL_REFUSED, "billing event refused by the spool: the charger is not acknowledged");
            let _ = s.send(false);
        } else {
            self.metrics
                .publishes
                .with_label_values(&[qos, "dropped"])
                .inc();
            tracing::debug!(topic = %o.record.topic, error = %e, code = codes::SPOOL_REFUSED, "event dropped: spool full");
        }
    }

    /// Every unacknowledged publish that is not in the spool yet goes there, oldest first; billing signals fire
    /// after the sync. The entries stay tracked: a late PUBACK acknowledges their spool record.
    async fn spool_unacked(&mut self) {
        let mut fresh: Vec<&mut Entry> = self
            .awaiting
            .iter_mut()
            .chain(self.inflight.values_mut())
            .filter(|e| e.seq.is_none())
            .collect();
        if fresh.is_empty() {
            return;
        }
        fresh.sort_by_key(|e| e.order);
        let items: Vec<(Vec<u8>, bool, bool)> = fresh
            .iter()
            .map(|e| (e.record.encode(), e.critical, e.stored.is_some()))
            .collect();
        let Some((results, synced, state)) = self.ledger.call(move |l| append_all(l, items)).await
        else {
            return;
        };
        for (e, result) in fresh.into_iter().zip(results) {
            match result {
                Ok(seq) => {
                    e.seq = Some(seq);
                    self.replayed.push_back(seq);
                    e.confirm(synced);
                }
                Err(err) if e.critical => {
                    tracing::error!(topic = %e.record.topic, error = %err, code = codes::SPOOL_REFUSED, "unacknowledged billing event refused by the spool");
                    e.confirm(false);
                }
                Err(_) => {}
            }
        }
        self.spool = state;
        if let Some(last) = self.replayed.back() {
            self.replay_from = Some(last + 1);
        }
    }

    /// The broker stopped acknowledging: spool what is outstanding so billing is not held up.
    async fn check_stall(&mut self) {
        let oldest = self
            .awaiting
            .iter()
            .chain(self.inflight.values())
            .filter(|e| e.seq.is_none())
            .map(|e| e.at)
            .min();
        if oldest.is_some_and(|t| t.elapsed() > self.settings.puback_timeout) {
            tracing::warn!(
                outstanding = self.awaiting.len() + self.inflight.len(),
                code = codes::BROKER_UNREACHABLE,
                "no PUBACK within the timeout; spooling"
            );
            self.spool_unacked().await;
        }
    }

    /// Replays spooled records in order while connected and the window has room.
    async fn pump(&mut self) {
        if !self.connected || self.spool.len == 0 || self.replay_exhausted {
            return;
        }
        let room = self.room();
        let Some(from) = self.replay_from else {
            return;
        };
        if room == 0 {
            return;
        }
        let Some(read) = self.ledger.call(move |l| l.read_from(from, room)).await else {
            return;
        };
        let records = match read {
            Ok(records) => records,
            Err(error) => {
                // Skip the unreadable record so one bad sector cannot stop the replay for good.
                tracing::error!(seq = from, %error, code = codes::CORRUPT_RECORD, "spool record unreadable; skipped");
                self.replayed.push_back(from);
                self.ack_seq(from).await;
                self.replay_from = Some(from + 1);
                return;
            }
        };
        if records.len() < room {
            self.replay_exhausted = true;
        }
        for (seq, bytes) in records {
            match Record::decode(&bytes) {
                Ok(record) => {
                    let Some(client) = &self.client else { return };
                    if client
                        .try_publish(
                            record.topic.clone(),
                            record.qos,
                            record.retain,
                            record.payload.clone(),
                        )
                        .is_err()
                    {
                        self.replay_exhausted = false;
                        return;
                    }
                    self.order += 1;
                    self.awaiting.push_back(Entry {
                        record,
                        seq: Some(seq),
                        stored: None,
                        critical: false,
                        at: Instant::now(),
                        order: self.order,
                    });
                    self.replayed.push_back(seq);
                }
                Err(error) => {
                    tracing::error!(seq, %error, code = codes::CORRUPT_RECORD, "spool record unreadable; skipped");
                    self.replayed.push_back(seq);
                    self.ack_seq(seq).await;
                }
            }
            self.replay_from = Some(seq + 1);
        }
    }

    /// Marks a spool record delivered; the delivered prefix is forgotten by [`Publisher::flush_acks`].
    async fn ack_seq(&mut self, seq: u64) {
        self.acked.insert(seq);
        while let Some(front) = self.replayed.front() {
            if !self.acked.remove(front) {
                break;
            }
            self.delivered_through = self.replayed.pop_front();
        }
    }

    /// Tells the spool which prefix reached the broker — batched (each call rewrites the spool's checkpoint): on
    /// every tick, when everything replayed is delivered, and before the connection state changes.
    async fn flush_acks(&mut self) {
        let Some(through) = self.delivered_through.take() else {
            return;
        };
        let Some((result, state)) = self
            .ledger
            .call(move |l| (l.ack_through(through), snapshot(l)))
            .await
        else {
            return;
        };
        if let Err(error) = result {
            tracing::error!(through, %error, code = codes::SPOOL_REFUSED, "spool could not record delivery; records may be replayed twice");
        }
        self.spool = state;
        if state.len == 0 {
            tracing::info!("MQTT spool drained; publishing directly");
        }
    }

    fn gauges(&self) {
        let inflight = self.awaiting.len() + self.inflight.len();
        self.metrics
            .inflight
            .set(i64::try_from(inflight).unwrap_or(i64::MAX));
        self.metrics
            .spool_records
            .set(i64::try_from(self.spool.len).unwrap_or(i64::MAX));
        self.metrics
            .spool_bytes
            .set(i64::try_from(self.spool.bytes).unwrap_or(i64::MAX));
    }
}

fn snapshot(l: &mut dyn super::ledger::Ledger) -> SpoolState {
    SpoolState {
        first: l.first_unacked(),
        len: l.len(),
        bytes: l.bytes(),
    }
}

type Appended = (Vec<Result<u64, LedgerError>>, bool, SpoolState);

/// Appends `(bytes, critical, needs_sync)` items; syncs once if any needs it. Runs on the ledger thread.
fn append_all(l: &mut dyn super::ledger::Ledger, items: Vec<(Vec<u8>, bool, bool)>) -> Appended {
    let mut need_sync = false;
    let results: Vec<_> = items
        .iter()
        .map(|(bytes, critical, sync)| {
            let r = l.append(bytes, *critical);
            need_sync |= *sync && r.is_ok();
            r
        })
        .collect();
    let synced = !need_sync || l.sync().is_ok();
    (results, synced, snapshot(l))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Polls one generation's event loop and reports what the publisher needs; ends at the first error.
async fn forward(generation: u64, mut eventloop: EventLoop, tx: mpsc::Sender<(u64, Notice)>) {
    loop {
        let notice = match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => Notice::ConnAck,
            Ok(Event::Incoming(Packet::PubAck(a))) => Notice::PubAck(a.pkid),
            Ok(Event::Incoming(Packet::Publish(p))) => Notice::Incoming(p),
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Notice::Sent(pkid),
            Ok(_) => continue,
            Err(e) => {
                let _ = tx.send((generation, Notice::Error(e.to_string()))).await;
                return;
            }
        };
        if tx.send((generation, notice)).await.is_err() {
            return;
        }
    }
}
