//! MQTT fan-out: normalized events to a broker, commands back from it, nothing lost in between.
//!
//! ```text
//!  EventBus ─(upstream sink, billing with `stored` signal)─► Front ─► Publisher ─► rumqttc ─► broker
//!  BusRouter::dead_letter ─► Front ──────────────────────────┘   │  └─► Ledger (spool) while unreachable
//!  broker ─► {p}/+/down, {p}/+/presence ─► Front ─► dispatcher (REST's) / takeover ─► reply ─► Publisher
//! ```
//!
//! - [`settings`]: broker URL, credentials, client id, keep-alive, TLS → rumqttc options.
//! - [`topics`], [`qos`]: names and QoS by class. [`presence`], [`dead_letter`], [`commands`]: the documents.
//! - [`publisher`]: PUBACK tracking, the spool fallback and in-order replay. [`ledger`], [`record`]: the spool seam.
//! - [`emqx`]: the EMQX OCPP-gateway layout (`ocpp/cp/{id}`, `ocpp/cp/{id}/Reply`, `ocpp/cs/{id}`).
//! - [`broker`]: the embedded rumqttd. [`sink`]: the front task. See `docs/mqtt.md`.

pub mod broker;
pub mod codes;
pub mod commands;
pub mod dead_letter;
pub mod emqx;
pub mod ledger;
pub mod metrics;
pub mod presence;
pub mod publisher;
pub mod qos;
pub mod record;
pub mod settings;
pub mod sink;
pub mod topics;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::mpsc;

pub use dead_letter::DeadLetter;

use crate::config::{Config, MqttMode, MqttSpool, SpoolFsync, TopicLayout};
use crate::http::CommandDispatcher;
use crate::metrics::Metrics;
use crate::route::spool::{
    FsyncPolicy, Spool, SpoolConfig, SpoolError, DEFAULT_SPOOL_FSYNC_INTERVAL_MS,
};
use crate::server::BusSubscriber;
use crate::session::SessionRegistry;
use ledger::{Ledger, LedgerThread, MemoryLedger};
use metrics::MqttMetrics;
use presence::PresenceBook;
use publisher::{Publisher, PublisherSettings};
use qos::QosMap;
use topics::Topics;

/// Bus sink name of the MQTT sink.
pub const SINK_NAME: &str = "mqtt";
/// Messages between the front and the publisher.
const OUTBOUND_QUEUE: usize = 1024;
/// Dead letters waiting for the front; beyond it they are only logged.
pub const DEAD_LETTER_QUEUE: usize = 256;
/// Incoming publishes (commands, presence) waiting for the front.
const INCOMING_QUEUE: usize = 1024;
/// OCPP messages of chargers waiting for the front (EMQX layout); beyond it they are dropped and counted.
pub const OCPP_MESSAGE_QUEUE: usize = 4096;

/// Why the MQTT sink could not start.
#[derive(Debug, Error)]
pub enum MqttError {
    /// Bad settings.
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    /// The embedded broker did not start.
    #[error(transparent)]
    Broker(#[from] broker::BrokerError),
    /// Metrics could not be registered.
    #[error("MQTT metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The spool thread could not start.
    #[error("MQTT spool thread: {0}")]
    SpoolThread(std::io::Error),
    /// The disk spool could not be opened.
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

impl MqttError {
    /// Stable short name.
    pub fn kind(&self) -> &'static str {
        match self {
            MqttError::Settings(e) => e.kind(),
            MqttError::Broker(_) => "embedded_broker",
            MqttError::Metrics(_) => "metrics",
            MqttError::SpoolThread(_) => "spool_thread",
            MqttError::Spool(e) => e.kind(),
        }
    }
}

/// What the MQTT sink needs from the rest of the gateway.
pub struct MqttParts {
    /// Connected chargers.
    pub sessions: Arc<SessionRegistry>,
    /// The command dispatcher REST uses.
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// The metrics registry.
    pub metrics: Metrics,
}

/// A prepared MQTT sink: add `subscriber` to the bus; give `dead_letters` to the router.
pub struct MqttSink {
    /// Subscribes the sink to the bus and starts its tasks.
    pub subscriber: BusSubscriber,
    /// Where rejected frames go.
    pub dead_letters: mpsc::Sender<DeadLetter>,
    /// Where OCPP chargers' messages go (`mqtt.layout = "emqx_ocpp"` only).
    pub ocpp_messages: Option<emqx::OcppTap>,
}

/// Prepares the sink (and starts the embedded broker in embedded mode); `None` when `mqtt.mode = "off"`.
pub fn prepare(config: &Config, parts: MqttParts) -> Result<Option<MqttSink>, MqttError> {
    let c = &config.mqtt;
    if c.mode == MqttMode::Off {
        return Ok(None);
    }
    let options = settings::mqtt_options(c, &config.instance)?;
    let metrics = MqttMetrics::register(parts.metrics.registry())?;
    if c.mode == MqttMode::Embedded {
        broker::start_embedded(c.embedded_bind, c.max_packet_bytes)?;
    }
    let ledger = LedgerThread::spawn(open_ledger(&c.spool)?).map_err(MqttError::SpoolThread)?;
    let topics = Topics::new(&c.topic_prefix, c.layout);
    let mut subscriptions = vec![topics.presence_filter()];
    if c.commands {
        subscriptions.push(topics.down_filter());
        subscriptions.extend(topics.emqx_down_filter());
    }
    let (ocpp_tx, ocpp_rx) = mpsc::channel(OCPP_MESSAGE_QUEUE);
    let ocpp_messages = (c.layout == TopicLayout::EmqxOcpp)
        .then(|| emqx::OcppTap::new(ocpp_tx, metrics.ocpp_messages.clone()));
    let publisher_settings = PublisherSettings {
        options,
        reconnect: Duration::from_millis(c.reconnect_ms.max(1)),
        puback_timeout: Duration::from_secs(c.puback_timeout_secs.max(1)),
        window: usize::from(c.inflight.max(1)),
        tcp_nodelay: c.tcp_nodelay,
        subscriptions,
    };
    let (dead_tx, dead_rx) = mpsc::channel(DEAD_LETTER_QUEUE);
    let queue = config.sinks.queue;
    let qos = QosMap::new(&c.qos);
    let instance = config.instance.clone();
    let subscriber: BusSubscriber = Box::new(move |bus| {
        let bus_rx = bus.subscribe_upstream(SINK_NAME, queue);
        let (out_tx, out_rx) = mpsc::channel(OUTBOUND_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(INCOMING_QUEUE);
        let front = sink::Front {
            topics,
            qos,
            book: PresenceBook::new(&instance),
            instance,
            sessions: parts.sessions,
            dispatcher: parts.dispatcher,
            out: out_tx,
            metrics: metrics.clone(),
        };
        tokio::spawn(front.run(bus_rx, dead_rx, in_rx, ocpp_rx));
        tokio::spawn(async move {
            Publisher::new(publisher_settings, metrics, ledger, in_tx)
                .await
                .run(out_rx)
                .await;
        });
    });
    Ok(Some(MqttSink {
        subscriber,
        dead_letters: dead_tx,
        ocpp_messages,
    }))
}

/// The disk spool in `spool.dir`, or the bounded memory ledger when no directory is configured.
fn open_ledger(c: &MqttSpool) -> Result<Box<dyn Ledger>, MqttError> {
    let Some(dir) = &c.dir else {
        tracing::warn!(
            max_bytes = c.max_bytes,
            "MQTT spool in memory (no mqtt.spool.dir): rides out broker outages, not restarts"
        );
        return Ok(Box::new(MemoryLedger::new(
            c.max_bytes,
            c.critical_reserve_bytes,
        )));
    };
    let fsync = match c.fsync {
        SpoolFsync::Always => FsyncPolicy::Always,
        SpoolFsync::Batch => {
            FsyncPolicy::Interval(Duration::from_millis(DEFAULT_SPOOL_FSYNC_INTERVAL_MS))
        }
        SpoolFsync::Never => FsyncPolicy::Never,
    };
    let spool = Spool::open(SpoolConfig {
        dir: dir.clone(),
        max_bytes: c.max_bytes,
        segment_bytes: c.segment_bytes,
        critical_reserve_bytes: c.critical_reserve_bytes,
        fsync,
    })?;
    tracing::info!(dir = %dir.display(), records = spool.len(), bytes = spool.bytes(), "MQTT disk spool open");
    Ok(Box::new(spool))
}
