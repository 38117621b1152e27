//! End-to-end latency: telemetry frames are registered when sent (charger id + the energy value they carry, which
//! counts up per frame) and matched when their `meter` event arrives on MQTT (`mqtt://HOST:PORT/PREFIX`,
//! subscribing `PREFIX/+/up/meter`) or on the gateway's WebSocket hub (`ws://HOST:PORT/ws?token=…`). The latency is
//! frame written → event received, both clocks being this process's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
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
}

/// Sent telemetry frames awaiting their event.
#[derive(Debug, Default)]
pub struct Observed {
    sent: Mutex<HashMap<(String, u64), Instant>>,
}

impl Observed {
    /// Registers a telemetry frame of `charger` carrying energy value `key` (raw units of its protocol).
    pub fn sent(&self, charger: &str, key: u64) {
        if let Ok(mut m) = self.sent.lock() {
            if m.len() < MAX_OUTSTANDING {
                m.insert((charger.to_owned(), key), Instant::now());
            }
        }
    }

    /// An event arrived: records the latency if it matches a registered frame.
    pub fn event(&self, counters: &Counters, event: &Value) {
        let (Some(charger), Some(kwh)) = (
            event.get("charger").and_then(Value::as_str),
            event
                .get("data")
                .and_then(|d| d.get("energy_kwh"))
                .and_then(Value::as_f64),
        ) else {
            return;
        };
        let Ok(mut m) = self.sent.lock() else {
            return;
        };
        for scale in [YKC_ENERGY_PER_KWH, OCPP_WH_PER_KWH] {
            let key = (kwh * scale).round() as u64;
            if let Some(t) = m.remove(&(charger.to_owned(), key)) {
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

/// Starts the observer named by `url`; it runs until `stop`.
pub async fn start(
    url: &str,
    counters: Arc<Counters>,
    stop: CancellationToken,
) -> Result<Arc<Observed>, ObserveError> {
    let observed = Arc::new(Observed::default());
    if let Some(rest) = url.strip_prefix("mqtt://") {
        let (hostport, prefix) = rest.split_once('/').unwrap_or((rest, "chargegate"));
        let (host, port) = hostport
            .rsplit_once(':')
            .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_owned(), p)))
            .ok_or_else(|| ObserveError::BadUrl(url.to_owned()))?;
        let topic = format!("{}/+/up/meter", prefix.trim_end_matches('/'));
        tokio::spawn(mqtt(
            host,
            port,
            topic,
            Arc::clone(&observed),
            counters,
            stop,
        ));
    } else if url.starts_with("ws://") {
        tokio::spawn(ws(url.to_owned(), Arc::clone(&observed), counters, stop));
    } else {
        return Err(ObserveError::BadUrl(url.to_owned()));
    }
    Ok(observed)
}

fn on_payload(observed: &Observed, counters: &Counters, payload: &[u8]) {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Array(events)) => events.iter().for_each(|e| observed.event(counters, e)),
        Ok(e) => observed.event(counters, &e),
        Err(_) => {}
    }
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
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        };
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

fn tracing_warn(msg: &str) {
    eprintln!("device-sim: {msg}");
}
