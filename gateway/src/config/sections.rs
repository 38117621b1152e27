//! The non-listener sections of the configuration: limits, liveness, MQTT, sinks, HTTP, shutdown and logging.
//!
//! Every field has a named default constant so the documentation, the example file and the code agree.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default deadline for a charger's login / BootNotification after connecting, seconds.
pub const DEFAULT_AUTH_DEADLINE_SECS: u64 = 10;
/// Default outbound high water mark per connection, bytes (128 KiB, the field's value).
pub const DEFAULT_HIGH_WATER_MARK: usize = 128 * 1024;
/// Default outbound low water mark per connection, bytes (8 KiB).
pub const DEFAULT_LOW_WATER_MARK: usize = 8 * 1024;
/// Default per-connection read buffer, bytes: small, because an idle charger should cost little.
pub const DEFAULT_READ_BUFFER_BYTES: usize = 512;
/// Default largest frame accepted from a charger, bytes.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;
/// Default inbound frame rate per connection, frames per second.
pub const DEFAULT_RATE_FRAMES_PER_SEC: u32 = 50;
/// Default inbound byte rate per connection, bytes per second.
pub const DEFAULT_RATE_BYTES_PER_SEC: u32 = 64 * 1024;
/// Default token-bucket burst, as a multiple of one second's rate.
pub const DEFAULT_RATE_BURST_SECS: u32 = 2;
/// Default seconds of continuous rate-limit excess after which a connection is closed.
pub const DEFAULT_RATE_ABUSE_CLOSE_SECS: u32 = 30;
/// Default timing-wheel tick, milliseconds.
pub const DEFAULT_WHEEL_TICK_MS: u64 = 1000;
/// Default timing-wheel slot count (one revolution = slots × tick).
pub const DEFAULT_WHEEL_SLOTS: usize = 512;
/// YKC heartbeat period, seconds (protocol default).
pub const DEFAULT_YKC_HEARTBEAT_SECS: u64 = 10;
/// Missed YKC heartbeats before the link counts as down.
pub const DEFAULT_YKC_MISSED_HEARTBEATS: u32 = 3;
/// Heartbeat interval the gateway grants OCPP chargers in BootNotification, seconds.
pub const DEFAULT_OCPP_HEARTBEAT_INTERVAL_SECS: u64 = 60;
/// Grace added to the OCPP interval before a charger is declared offline, seconds.
pub const DEFAULT_OCPP_GRACE_SECS: u64 = 30;
/// Default embedded MQTT broker address.
pub const DEFAULT_MQTT_EMBEDDED_BIND: &str = "127.0.0.1:1883";
/// Default MQTT topic prefix.
pub const DEFAULT_MQTT_TOPIC_PREFIX: &str = "chargegate";
/// Default per-sink queue length on the event bus.
pub const DEFAULT_SINK_QUEUE: usize = 16_384;
/// Default seconds a billing event may wait for room in a full sink queue before the publisher is told it failed.
pub const DEFAULT_CRITICAL_WAIT_SECS: u64 = 5;
/// Default timeout of `POST /api/v1/chargers/{id}/commands`, seconds.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u64 = 30;
/// Default page size of `GET /api/v1/chargers`.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest page size a client may ask for.
pub const DEFAULT_MAX_PAGE_SIZE: usize = 1000;
/// Default drain deadline at shutdown, seconds.
pub const DEFAULT_DRAIN_SECS: u64 = 10;

/// `[limits]`: per-connection bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds a new connection has to log in (YKC 0x01 / OCPP BootNotification).
    pub auth_deadline_secs: u64,
    /// Outbound bytes queued above which non-critical writes are refused.
    pub high_water_mark: usize,
    /// Outbound bytes queued below which a connection takes writes again.
    pub low_water_mark: usize,
    /// Initial read buffer per connection, bytes.
    pub read_buffer_bytes: usize,
    /// Largest inbound frame, bytes.
    pub max_frame_bytes: usize,
    /// Inbound frames per second per connection (token bucket rate).
    pub rate_frames_per_sec: u32,
    /// Inbound bytes per second per connection.
    pub rate_bytes_per_sec: u32,
    /// Bucket size as seconds of rate.
    pub rate_burst_secs: u32,
    /// Seconds of sustained excess after which the connection is closed.
    pub rate_abuse_close_secs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            auth_deadline_secs: DEFAULT_AUTH_DEADLINE_SECS,
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            low_water_mark: DEFAULT_LOW_WATER_MARK,
            read_buffer_bytes: DEFAULT_READ_BUFFER_BYTES,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            rate_frames_per_sec: DEFAULT_RATE_FRAMES_PER_SEC,
            rate_bytes_per_sec: DEFAULT_RATE_BYTES_PER_SEC,
            rate_burst_secs: DEFAULT_RATE_BURST_SECS,
            rate_abuse_close_secs: DEFAULT_RATE_ABUSE_CLOSE_SECS,
        }
    }
}

/// `[liveness]`: the timing wheel and the heartbeat deadlines per protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Liveness {
    /// Wheel tick, milliseconds; a silent charger is detected within one tick of its deadline.
    pub tick_ms: u64,
    /// Wheel slots per revolution.
    pub wheel_slots: usize,
    /// YKC heartbeat period, seconds.
    pub ykc_heartbeat_secs: u64,
    /// Missed YKC heartbeats before offline.
    pub ykc_missed_heartbeats: u32,
    /// Heartbeat interval granted to OCPP chargers, seconds.
    pub ocpp_heartbeat_interval_secs: u64,
    /// Grace on top of the OCPP interval, seconds.
    pub ocpp_grace_secs: u64,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            tick_ms: DEFAULT_WHEEL_TICK_MS,
            wheel_slots: DEFAULT_WHEEL_SLOTS,
            ykc_heartbeat_secs: DEFAULT_YKC_HEARTBEAT_SECS,
            ykc_missed_heartbeats: DEFAULT_YKC_MISSED_HEARTBEATS,
            ocpp_heartbeat_interval_secs: DEFAULT_OCPP_HEARTBEAT_INTERVAL_SECS,
            ocpp_grace_secs: DEFAULT_OCPP_GRACE_SECS,
        }
    }
}

/// Which MQTT broker events go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttMode {
    /// Run a broker inside the gateway on `embedded_bind`.
    #[default]
    Embedded,
    /// Connect to `url` (Mosquitto, EMQX).
    External,
    /// No MQTT at all.
    Off,
}

/// Topic layout on the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicLayout {
    /// `{prefix}/{charger}/up/{kind}` and friends.
    #[default]
    Chargegate,
    /// EMQX's OCPP gateway layout (`ocpp/cp/{id}`, `ocpp/cs/{id}`).
    EmqxOcpp,
}

/// `[mqtt]`: the broker connection (keys only in this release; the MQTT sink comes with the fan-out work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mqtt {
    /// Embedded, external or off.
    pub mode: MqttMode,
    /// Address of the embedded broker.
    pub embedded_bind: SocketAddr,
    /// External broker URL, `mqtt://host:port`; setting it (or `--mqtt`) selects `external`.
    pub url: Option<String>,
    /// Topic prefix.
    pub topic_prefix: String,
    /// Topic layout.
    pub layout: TopicLayout,
}

impl Default for Mqtt {
    fn default() -> Self {
        Mqtt {
            mode: MqttMode::Embedded,
            embedded_bind: SocketAddr::from(([127, 0, 0, 1], 1883)),
            url: None,
            topic_prefix: DEFAULT_MQTT_TOPIC_PREFIX.to_owned(),
            layout: TopicLayout::Chargegate,
        }
    }
}

/// `[sinks.jsonl]`: normalized events as JSON lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonlSink {
    /// Whether the sink runs.
    pub enabled: bool,
    /// `-` for stdout, otherwise a file appended to.
    pub path: PathBuf,
}

impl Default for JsonlSink {
    fn default() -> Self {
        JsonlSink {
            enabled: false,
            path: PathBuf::from("-"),
        }
    }
}

/// `[sinks]`: where normalized events go besides MQTT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sinks {
    /// Events each sink may have queued; beyond it telemetry is dropped and counted.
    pub queue: usize,
    /// Seconds a billing event waits for queue room before the publisher is told (the charger is then not acked).
    pub critical_wait_secs: u64,
    /// The JSON-lines sink.
    pub jsonl: JsonlSink,
}

impl Default for Sinks {
    fn default() -> Self {
        Sinks {
            queue: DEFAULT_SINK_QUEUE,
            critical_wait_secs: DEFAULT_CRITICAL_WAIT_SECS,
            jsonl: JsonlSink::default(),
        }
    }
}

/// `[http]`: the REST API's behaviour (the socket is `[listeners.http]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Bearer token for `/api/v1/…`; without one the API answers loopback clients only.
    pub admin_token: Option<String>,
    /// Seconds `POST …/commands` waits for the charger's answer.
    pub command_timeout_secs: u64,
    /// Default page size of the charger list.
    pub page_size: usize,
    /// Largest page size a client may ask for.
    pub max_page_size: usize,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            admin_token: None,
            command_timeout_secs: DEFAULT_COMMAND_TIMEOUT_SECS,
            page_size: DEFAULT_PAGE_SIZE,
            max_page_size: DEFAULT_MAX_PAGE_SIZE,
        }
    }
}

/// `[shutdown]`: graceful stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Shutdown {
    /// Seconds connections get to finish after SIGTERM/SIGINT before they are dropped.
    pub drain_secs: u64,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            drain_secs: DEFAULT_DRAIN_SECS,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`: tracing output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// Text or JSON.
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `chargegate=debug`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}
