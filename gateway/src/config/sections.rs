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
/// Default MQTT keep-alive, seconds.
pub const DEFAULT_MQTT_KEEP_ALIVE_SECS: u64 = 30;
/// Default QoS 1 publishes awaiting PUBACK at once (rumqttc's in-flight window).
pub const DEFAULT_MQTT_INFLIGHT: u16 = 100;
/// Default publishes the MQTT client writes before one flush (patched rumqttc; 1 = one write per publish).
pub const DEFAULT_MQTT_REQUEST_BATCH: usize = 128;
/// Default seconds the oldest publish may wait for its PUBACK before the sink treats the broker as stalled and
/// spools.
pub const DEFAULT_MQTT_PUBACK_TIMEOUT_SECS: u64 = 3;
/// Default pause between reconnect attempts, milliseconds.
pub const DEFAULT_MQTT_RECONNECT_MS: u64 = 500;
/// Default largest MQTT packet in either direction, bytes.
pub const DEFAULT_MQTT_MAX_PACKET_BYTES: usize = 256 * 1024;
/// Default bytes the MQTT spool may hold (1 GiB).
pub const DEFAULT_MQTT_SPOOL_MAX_BYTES: u64 = 1 << 30;
/// Default spool segment file size (64 MiB).
pub const DEFAULT_MQTT_SPOOL_SEGMENT_BYTES: u64 = 64 << 20;
/// Default spool bytes kept for billing events only (64 MiB): telemetry is refused above `max - reserve`.
pub const DEFAULT_MQTT_SPOOL_CRITICAL_RESERVE_BYTES: u64 = 64 << 20;
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
    /// Liveness resolution, milliseconds: a silent charger is detected within one tick of its deadline (the wheel
    /// itself turns at half this tick, see [`crate::pipeline::liveness::worker_wheel`]).
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

/// QoS per event class (`[mqtt.qos]`): 0 at most once, 1 at least once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttQos {
    /// Heartbeats (a lost one is harmless: the next comes within seconds).
    pub heartbeat: u8,
    /// Telemetry, status, alarms, presence changes and everything else not named here.
    pub telemetry: u8,
    /// Billing events (`transaction`, `session_stopped`).
    pub billing: u8,
    /// Command results on `{p}/{charger}/reply` and `up/command_result`.
    pub command_result: u8,
}

impl Default for MqttQos {
    fn default() -> Self {
        MqttQos {
            heartbeat: 0,
            telemetry: 1,
            billing: 1,
            command_result: 1,
        }
    }
}

/// How often the spool forces its segment to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFsync {
    /// After every append (slowest, nothing lost on power loss).
    Always,
    /// Once per batch and always before a billing event is confirmed.
    #[default]
    Batch,
    /// Never explicitly (the OS decides); billing confirmation still waits for a sync.
    Never,
}

/// `[mqtt.spool]`: where events wait while the broker is unreachable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttSpool {
    /// Directory of the segment files; unset keeps the spool in memory (lost on restart; trials only).
    pub dir: Option<PathBuf>,
    /// Largest spool size, bytes.
    pub max_bytes: u64,
    /// Segment file size, bytes.
    pub segment_bytes: u64,
    /// Bytes kept for billing events: telemetry is dropped (and counted) above `max_bytes - critical_reserve_bytes`.
    pub critical_reserve_bytes: u64,
    /// fsync policy.
    pub fsync: SpoolFsync,
}

impl Default for MqttSpool {
    fn default() -> Self {
        MqttSpool {
            dir: None,
            max_bytes: DEFAULT_MQTT_SPOOL_MAX_BYTES,
            segment_bytes: DEFAULT_MQTT_SPOOL_SEGMENT_BYTES,
            critical_reserve_bytes: DEFAULT_MQTT_SPOOL_CRITICAL_RESERVE_BYTES,
            fsync: SpoolFsync::Batch,
        }
    }
}

/// `[mqtt]`: the broker the events go to, how the gateway connects to it, and the spool for outages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mqtt {
    /// Embedded, external or off.
    pub mode: MqttMode,
    /// Address of the embedded broker.
    pub embedded_bind: SocketAddr,
    /// External broker URL, `mqtt://host:port` or `mqtts://host:port`; setting it (or `--mqtt`) selects `external`.
    pub url: Option<String>,
    /// Topic prefix.
    pub topic_prefix: String,
    /// Topic layout.
    pub layout: TopicLayout,
    /// Broker user name.
    pub username: Option<String>,
    /// Broker password (prefer `CHARGEGATE_MQTT__PASSWORD`-style overrides to a file).
    pub password: Option<String>,
    /// MQTT client id; unset means `chargegate-{instance}` (must differ between instances).
    pub client_id: Option<String>,
    /// Keep-alive, seconds.
    pub keep_alive_secs: u64,
    /// PEM file of CA certificates for `mqtts://`; unset uses the system roots.
    pub ca_file: Option<PathBuf>,
    /// QoS 1 publishes awaiting PUBACK at once.
    pub inflight: u16,
    /// TCP_NODELAY on the broker connection (off lets Nagle hold small publishes for the broker's delayed ACK).
    pub tcp_nodelay: bool,
    /// Already-queued publishes written before one flush (one `write` for many at high rates; 1 = one per publish).
    pub request_batch: usize,
    /// Seconds the oldest publish may wait for PUBACK before the sink spools instead.
    pub puback_timeout_secs: u64,
    /// Pause between reconnect attempts, milliseconds.
    pub reconnect_ms: u64,
    /// Largest MQTT packet, bytes.
    pub max_packet_bytes: usize,
    /// Subscribe to `{p}/+/down` and run commands from MQTT.
    pub commands: bool,
    /// QoS per event class.
    pub qos: MqttQos,
    /// The outage spool.
    pub spool: MqttSpool,
}

impl Default for Mqtt {
    fn default() -> Self {
        Mqtt {
            mode: MqttMode::Embedded,
            embedded_bind: SocketAddr::from(([127, 0, 0, 1], 1883)),
            url: None,
            topic_prefix: DEFAULT_MQTT_TOPIC_PREFIX.to_owned(),
            layout: TopicLayout::Chargegate,
            username: None,
            password: None,
            client_id: None,
            keep_alive_secs: DEFAULT_MQTT_KEEP_ALIVE_SECS,
            ca_file: None,
            inflight: DEFAULT_MQTT_INFLIGHT,
            tcp_nodelay: true,
            request_batch: DEFAULT_MQTT_REQUEST_BATCH,
            puback_timeout_secs: DEFAULT_MQTT_PUBACK_TIMEOUT_SECS,
            reconnect_ms: DEFAULT_MQTT_RECONNECT_MS,
            max_packet_bytes: DEFAULT_MQTT_MAX_PACKET_BYTES,
            commands: true,
            qos: MqttQos::default(),
            spool: MqttSpool::default(),
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
