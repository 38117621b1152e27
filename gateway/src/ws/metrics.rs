//! The hub's Prometheus series, registered in the gateway's registry (`chargegate_ws_*`).

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// Every series the hub exports; cheap to clone.
#[derive(Clone)]
pub struct WsMetrics {
    /// Connected subscribers.
    pub subscribers: IntGauge,
    /// Index entries by index (`station`, `charger`); 0 when nobody subscribes.
    pub index_entries: IntGaugeVec,
    /// Handshakes refused before the upgrade, by reason (`missing_token`, `bad_signature`, `expired`, …,
    /// `capacity`).
    pub refused: IntCounterVec,
    /// Subscribers closed, by reason (`client_closed`, `token_expired`, `hard_limit`, `pong_timeout`,
    /// `oversize`, `read_error`, `shutdown`).
    pub disconnects: IntCounterVec,
    /// Client messages refused, by reason (protocol error kinds, `not_covered`, `not_allowed`,
    /// `too_many_subscriptions`, `oversize`).
    pub rejected: IntCounterVec,
    /// Frames sent, by type (`event`, `batch`, `reply`).
    pub frames_sent: IntCounterVec,
    /// Telemetry values replaced by a newer one of the same charger while a queue was above its high mark.
    pub coalesced: IntCounter,
    /// Queue water-mark crossings, by direction (`coalescing`, `normal`).
    pub water_marks: IntCounterVec,
    /// Commands sent by subscribers, by result status.
    pub commands: IntCounterVec,
}

impl WsMetrics {
    /// Defines the series in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauge = |name: &str, help: &str| -> Result<IntGauge, prometheus::Error> {
            let g = IntGauge::with_opts(Opts::new(name, help).namespace("chargegate"))?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let gauge_vec = |name: &str, help: &str, label: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help).namespace("chargegate"), &[label])?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help).namespace("chargegate"), &[label])?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let coalesced = IntCounter::with_opts(
            Opts::new(
                "ws_coalesced_total",
                "Telemetry values replaced by a newer one while a subscriber queue was above its high mark",
            )
            .namespace("chargegate"),
        )?;
        registry.register(Box::new(coalesced.clone()))?;
        let m = WsMetrics {
            subscribers: gauge("ws_subscribers", "Connected WebSocket subscribers")?,
            index_entries: gauge_vec(
                "ws_index_entries",
                "Entries in the hub's subscription indexes",
                "index",
            )?,
            refused: counter_vec(
                "ws_refused_total",
                "WebSocket handshakes refused before the upgrade",
                "reason",
            )?,
            disconnects: counter_vec(
                "ws_disconnects_total",
                "WebSocket subscribers closed",
                "reason",
            )?,
            rejected: counter_vec(
                "ws_messages_rejected_total",
                "Subscriber messages refused",
                "reason",
            )?,
            frames_sent: counter_vec("ws_frames_sent_total", "Frames sent to subscribers", "type")?,
            coalesced,
            water_marks: counter_vec(
                "ws_water_mark_transitions_total",
                "Subscriber queue water-mark crossings",
                "direction",
            )?,
            commands: counter_vec(
                "ws_commands_total",
                "Commands sent by subscribers, by result",
                "status",
            )?,
        };
        // Show the index gauges at 0 from the start.
        m.index_entries.with_label_values(&["station"]).set(0);
        m.index_entries.with_label_values(&["charger"]).set(0);
        Ok(m)
    }
}
