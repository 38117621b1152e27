//! The embedded broker: rumqttd inside the gateway process, listening on `mqtt.embedded_bind`, so that
//! `chargegate serve` alone gives platforms a working MQTT bus.
//!
//! rumqttd's `Broker::start` blocks (it joins its listener and router threads), so it runs on an OS thread of its
//! own, off our runtimes. The gateway then publishes to it as an ordinary rumqttc client over loopback: rumqttd's
//! in-process link only offers QoS 0 without retain, and going through the socket makes QoS 1, PUBACK and retained
//! presence behave exactly as with Mosquitto (docs/decisions/0009-mqtt-embedded-broker.md).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use thiserror::Error;

use super::codes;

/// Connections the embedded broker accepts (platform clients plus the gateway itself).
pub const EMBEDDED_MAX_CONNECTIONS: usize = 10_010;
/// Packets the router queues per outgoing connection.
pub const EMBEDDED_MAX_OUTGOING: u64 = 200;
/// Commit-log segment size of the router, bytes.
pub const EMBEDDED_SEGMENT_BYTES: usize = 100 * 1024 * 1024;
/// Commit-log segments kept per filter.
pub const EMBEDDED_SEGMENT_COUNT: usize = 10;
/// Milliseconds a new connection has to send CONNECT.
pub const EMBEDDED_CONNECT_TIMEOUT_MS: u16 = 60_000;
/// QoS 1 messages in flight per connection.
pub const EMBEDDED_MAX_INFLIGHT: usize = 100;

/// Why the embedded broker could not start.
#[derive(Debug, Error)]
pub enum BrokerError {
    /// The broker thread could not be spawned.
    #[error("embedded broker thread: {0}")]
    Thread(std::io::Error),
}

/// rumqttd's configuration for a single v4 listener on `bind` accepting payloads of `max_payload` bytes.
pub fn embedded_config(bind: SocketAddr, max_payload: usize) -> Config {
    let listener = ServerSettings {
        name: "chargegate-v4".to_owned(),
        listen: bind,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: EMBEDDED_CONNECT_TIMEOUT_MS,
            max_payload_size: max_payload,
            max_inflight_count: EMBEDDED_MAX_INFLIGHT,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: EMBEDDED_MAX_CONNECTIONS,
            max_outgoing_packet_count: EMBEDDED_MAX_OUTGOING,
            max_segment_size: EMBEDDED_SEGMENT_BYTES,
            max_segment_count: EMBEDDED_SEGMENT_COUNT,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), listener)])),
        ..Config::default()
    }
}

/// Starts the embedded broker on its own thread. The thread lives as long as the process (rumqttd has no stop).
/// rumqttd binds inside its own threads and only logs a failure, so the address is tried here first: if it is
/// taken, the error is logged loudly (code `B0704`), no broker is started, and the sink publishes to whatever
/// listens there (`Ok(None)`) — the gateway keeps serving chargers either way.
pub fn start_embedded(
    bind: SocketAddr,
    max_payload: usize,
) -> Result<Option<JoinHandle<()>>, BrokerError> {
    if let Err(error) = std::net::TcpListener::bind(bind) {
        tracing::error!(%bind, %error, code = codes::EMBEDDED_STOPPED, "embedded MQTT broker cannot bind; set mqtt.embedded_bind or mqtt.mode = \"external\"");
        return Ok(None);
    }
    let config = embedded_config(bind, max_payload);
    std::thread::Builder::new()
        .name("mqtt-broker".to_owned())
        .spawn(move || {
            let mut broker = Broker::new(config);
            tracing::info!(%bind, "embedded MQTT broker starting");
            if let Err(error) = broker.start() {
                tracing::error!(%bind, %error, code = codes::EMBEDDED_STOPPED, "embedded MQTT broker stopped");
            }
        })
        .map(Some)
        .map_err(BrokerError::Thread)
}
