//! End-to-end latency: telemetry frames are registered when sent (charger id + the energy value they carry, which
//! counts up per frame) and matched when their `meter` event arrives on MQTT (`mqtt://HOST:PORT/PREFIX`,
//! subscribing `PREFIX/+/up/meter`) or on the gateway's WebSocket hub (`ws://HOST:PORT/ws?token=…&stations=s1,s2`
//! or `&chargers=…`: the observer subscribes to those after connecting; the gateway ignores the extra query keys).
//! The latency is frame about to be written → event received, both taken from this process's monotonic clock
//! (`tokio::time::Instant`), so the two ends cannot disagree about the time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::report::{Counters, Latency};

/// Frames awaiting their event at most; beyond it new frames are not registered (the map stays bounded).
const MAX_OUTSTANDING: usize = 200_000;
/// Entries older than this are dropped as lost.
const STALE: Duration = Duration::from_secs(30);
/// YKC energy: 0.0001 kWh per unit.
const YKC_ENERGY_PER_KWH: f64 = 10_000.0;
/// OCPP energy register: Wh.
const OCPP_WH_PER_KWH: f64 = 1_000.0;

/// Why `--observe` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The URL is neither `mqtt://HOST:PORT/PREFIX` nor `ws://…`.
    #[error("--observe: {0:?} is not mqtt://HOST:PORT/PREFIX or ws://HOST:PORT/PATH")]
    BadUrl(String),
    /// The observer's thread or runtime could not start.
    #[error("--observe: cannot start the observer thread: {0}")]
    Thread(std::io::Error),
}

/// Sent telemetry frames awaiting their event: (hash of the charger id, energy key) → when it was written.
#[derive(Debug, Default)]
pub struct Observed {
    sent: Mutex<HashMap<Key, Instant, BuildHasherDefault<KeyHasher>>>,
}

/// A registered frame: the charger id's hash (so neither side allocates a string per frame) and its energy value.
type Key = (u64, u64);

/// FNV-1a of a charger id: 64 bits, so two ids of one run colliding is not a practical concern.
fn charger_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A multiply-rotate hasher for [`Key`]s (already well-mixed integers); SipHash cost a visible share of the
/// observer's time at 50k events/s.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.write_u64(u64::from(*b)));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Observed {
    /// Registers a telemetry frame of `charger` carrying energy value `key` (raw units of its protocol).
    pub fn sent(&self, charger: &str, key: u64) {
        self.sent_burst(charger, std::iter::once(key));
    }

    /// Registers the frames of one write, all stamped now: call it just before the write.
    pub fn sent_burst(&self, charger: &str, keys: impl IntoIterator<Item = u64>) {
        let (h, now) = (charger_hash(charger), Instant::now());
        if let Ok(mut m) = self.sent.lock() {
            for key in keys {
                if m.len() >= MAX_OUTSTANDING {
                    break;
                }
                m.insert((h, key), now);
            }
        }
    }

    /// A `meter` event of `charger` carrying `kwh` arrived: records the latency if it matches a registered frame.
    pub fn event(&self, counters: &Counters, charger: &str, kwh: f64) {
        let h = charger_hash(charger);
        let Ok(mut m) = self.sent.lock() else {
            return;
        };
        for scale in [YKC_ENERGY_PER_KWH, OCPP_WH_PER_KWH] {
            let key = (kwh * scale).round() as u64;
            if let Some(t) = m.remove(&(h, key)) {
                drop(m);
                counters.latency(Latency::E2e, t.elapsed());
                return;
            }
        }
    }

    fn purge(&self) {
        if let Ok(mut m) = self.sent.lock() {
            m.retain(|_, t| t.elapsed() < STALE);
        }
    }
}

/// Starts the observer named by `url` on its own thread; it runs until `stop`.
///
/// Its own thread and runtime, not a task among the chargers': the observer is the clock's second reading, and
/// on a task queue shared with thousands of charger tasks its wake-up waited behind their writes, which the
/// figure then counted as gateway latency.
pub async fn start(
    url: &str,
    counters: Arc<Counters>,
    stop: CancellationToken,
) -> Result<Arc<Observed>, ObserveError> {
    let observed = Arc::new(Observed::default());
    let task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        if let Some(rest) = url.strip_prefix("mqtt://") {
            let (hostport, prefix) = rest.split_once('/').unwrap_or((rest, "chargegate"));
            let (host, port) = hostport
                .rsplit_once(':')
                .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_owned(), p)))
                .ok_or_else(|| ObserveError::BadUrl(url.to_owned()))?;
            let topic = format!("{}/+/up/meter", prefix.trim_end_matches('/'));
            Box::pin(mqtt(
                host,
                port,
                topic,
                Arc::clone(&observed),
                counters,
                stop,
            ))
        } else if url.starts_with("ws://") {
            Box::pin(ws(url.to_owned(), Arc::clone(&observed), counters, stop))
        } else {
            return Err(ObserveError::BadUrl(url.to_owned()));
        };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ObserveError::Thread)?;
    std::thread::Builder::new()
        .name("observer".into())
        .spawn(move || runtime.block_on(task))
        .map_err(ObserveError::Thread)?;
    Ok(observed)
}

/// What the observer reads of an event or a hub message: borrowed, every other field skipped without allocating
/// (at 50k frames/s the observer shares device-sim's cores with the load it measures).
#[derive(Debug, Deserialize)]
struct Incoming<'a> {
    /// An event's charger.
    #[serde(borrow, default)]
    charger: Option<Cow<'a, str>>,
    /// An event's data (`energy_kwh` of a meter).
    #[serde(default)]
    data: Option<MeterData>,
    /// A hub `event` message's event.
    #[serde(borrow, default)]
    event: Option<Box<Incoming<'a>>>,
    /// A hub `batch` message's events.
    #[serde(borrow, default)]
    events: Vec<Incoming<'a>>,
}

#[derive(Debug, Deserialize)]
struct MeterData {
    #[serde(default)]
    energy_kwh: Option<f64>,
}

impl Incoming<'_> {
    fn visit(&self, observed: &Observed, counters: &Counters) {
        if let (Some(charger), Some(kwh)) = (
            self.charger.as_deref(),
            self.data.as_ref().and_then(|d| d.energy_kwh),
        ) {
            observed.event(counters, charger, kwh);
        }
        if let Some(e) = &self.event {
            e.visit(observed, counters);
        }
        for e in &self.events {
            e.visit(observed, counters);
        }
    }
}

/// One MQTT payload (an event, or an array of them) or one hub message (`{"type":"event","event":…}`,
/// `{"type":"batch","events":[…]}`; acks and replies carry no meter and are skipped).
fn on_payload(observed: &Observed, counters: &Counters, payload: &[u8]) {
    if !contains(payload, b"\"energy_kwh\"") {
        // Status, session and ack messages: nothing to match, not worth parsing.
        return;
    }
    if payload.first() == Some(&b'[') {
        if let Ok(list) = serde_json::from_slice::<Vec<Incoming<'_>>>(payload) {
            list.iter().for_each(|e| e.visit(observed, counters));
        }
    } else if let Ok(one) = serde_json::from_slice::<Incoming<'_>>(payload) {
        one.visit(observed, counters);
    }
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

async fn mqtt(
    host: String,
    port: u16,
    topic: String,
    observed: Arc<Observed>,
    counters: Arc<Counters>,
    stop: CancellationToken,
) {
    let mut options =
        rumqttc::MqttOptions::new(format!("device-sim-{}", std::process::id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = rumqttc::AsyncClient::new(options, 1024);
    // No Nagle: nothing of ours may wait for the broker's delayed ACK while we measure.
    let mut network = events.network_options();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    if let Err(e) = client.subscribe(&topic, rumqttc::QoS::AtMostOnce).await {
        tracing_warn(&format!("observe: subscribe {topic}: {e}"));
        return;
    }
    let mut purge = tokio::time::interval(STALE);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = purge.tick() => observed.purge(),
            ev = events.poll() => match ev {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    on_payload(&observed, &counters, &p.payload);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            },
        }
    }
}

async fn ws(
    url: String,
    observed: Arc<Observed>,
    counters: Arc<Counters>,
    stop: CancellationToken,
) {
    let mut purge = tokio::time::interval(STALE);
    while !stop.is_cancelled() {
        let Ok((mut socket, _)) =
            tokio_tungstenite::connect_async_with_config(url.as_str(), None, true).await
        else {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        };
        if let Some(subscribe) = ws_subscribe(&url) {
            let text = subscribe.to_string();
            if socket
                .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
                .await
                .is_err()
            {
                continue;
            }
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = purge.tick() => observed.purge(),
                m = socket.next() => match m {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                        on_payload(&observed, &counters, t.as_bytes());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
    }
}

/// The hub's `subscribe` message for the `stations=a,b` and `chargers=x,y` query keys of `url`, if it names any.
fn ws_subscribe(url: &str) -> Option<Value> {
    let query = url.split_once('?')?.1;
    let list = |key: &str| -> Vec<String> {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == key)
            .flat_map(|(_, v)| v.split(',').filter(|s| !s.is_empty()).map(str::to_owned))
            .collect()
    };
    let (stations, chargers) = (list("stations"), list("chargers"));
    if stations.is_empty() && chargers.is_empty() {
        return None;
    }
    Some(serde_json::json!({"op": "subscribe", "stations": stations, "chargers": chargers}))
}

fn tracing_warn(msg: &str) {
    eprintln!("device-sim: {msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ws_url_names_what_to_subscribe() {
        let m = ws_subscribe("ws://127.0.0.1:1/ws?token=t.x&stations=s1,s2&chargers=P1").unwrap();
        assert_eq!(m["op"], "subscribe");
        assert_eq!(m["stations"], serde_json::json!(["s1", "s2"]));
        assert_eq!(m["chargers"], serde_json::json!(["P1"]));
        assert!(ws_subscribe("ws://127.0.0.1:1/ws?token=t.x").is_none());
        assert!(ws_subscribe("ws://127.0.0.1:1/ws").is_none());
    }

    #[test]
    fn every_frame_of_a_burst_is_matched_by_its_energy_and_charger() {
        let observed = Observed::default();
        let counters = Counters::default();
        observed.sent_burst("P1", [7, 6, 5]);
        observed.sent_burst("P2", [7]);
        for (charger, key) in [("P1", 5.0), ("P1", 7.0), ("P2", 7.0), ("P1", 6.0)] {
            let meter =
                serde_json::json!({"charger": charger, "data": {"energy_kwh": key / 10_000.0}});
            on_payload(&observed, &counters, meter.to_string().as_bytes());
        }
        assert!(observed.sent.lock().unwrap().is_empty(), "all four matched");
        let status = serde_json::json!({"type": "event", "event": {"charger": "P1", "data": {"status": "idle"}}});
        on_payload(&observed, &counters, status.to_string().as_bytes());
    }

    #[test]
    fn meters_are_matched_in_mqtt_payloads_and_in_hub_batches_and_events() {
        let observed = Observed::default();
        let counters = Counters::default();
        for key in [1, 2, 3] {
            observed.sent("P1", key);
        }
        let meter =
            |k: f64| serde_json::json!({"charger": "P1", "data": {"energy_kwh": k / 10_000.0}});
        on_payload(&observed, &counters, meter(1.0).to_string().as_bytes());
        let batch = serde_json::json!({"type": "batch", "events": [meter(2.0)]});
        on_payload(&observed, &counters, batch.to_string().as_bytes());
        let event = serde_json::json!({"type": "event", "event": meter(3.0)});
        on_payload(&observed, &counters, event.to_string().as_bytes());
        assert!(
            observed.sent.lock().unwrap().is_empty(),
            "all three matched"
        );
    }
}
