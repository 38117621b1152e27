//! Prometheus metrics: one [`Metrics`] value owns a `prometheus::Registry` with every series the gateway exports,
//! and hands out pre-resolved handles ([`ConnectionMetrics`], [`ProtocolMetrics`]) so the hot path increments a
//! counter without a label lookup.
//!
//! Names follow Prometheus conventions: `chargegate_` prefix, `_total` for counters, base units (seconds). The
//! `/metrics` route ([`crate::http`]) renders [`Metrics::render`]. `docs/operations.md` explains each series.

mod handles;

pub use handles::{ConnectionMetrics, ProtocolMetrics};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use thiserror::Error;

/// Metric name prefix.
pub const NAMESPACE: &str = "chargegate";

/// Command latency buckets, seconds: 1 ms … 30 s (the brief's p99 target is 10 ms; chargers may take seconds).
pub const COMMAND_LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Why the metrics could not be built or rendered.
#[derive(Debug, Error)]
pub enum MetricsError {
    /// The prometheus crate refused a definition or failed to encode.
    #[error("prometheus: {0}")]
    Prometheus(#[from] prometheus::Error),
}

impl MetricsError {
    /// Stable short name of the error kind.
    pub fn kind(&self) -> &'static str {
        "prometheus"
    }
}

/// Every series the gateway exports; cheap to clone (the vectors are reference-counted).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Open connections by listener and worker.
    pub connections: IntGaugeVec,
    /// Connections accepted and handed to a worker, by listener and worker.
    pub accepted: IntCounterVec,
    /// Connections closed at accept, by listener and reason (`max_connections`, `max_connections_per_ip`,
    /// `denied`, `proxy_header`).
    pub refused: IntCounterVec,
    /// `accept()` failures by listener and kind (`fd_exhausted`, `other`).
    pub accept_errors: IntCounterVec,
    /// Frames received, by protocol and frame type.
    pub frames_in: IntCounterVec,
    /// Frames sent, by protocol and frame type.
    pub frames_out: IntCounterVec,
    /// Decode errors by protocol and error kind.
    pub decode_errors: IntCounterVec,
    /// Refused logins by protocol and reason.
    pub auth_failures: IntCounterVec,
    /// Chargers declared offline by the liveness wheel, by protocol.
    pub liveness_timeouts: IntCounterVec,
    /// Connections closed, by protocol and close reason (`rate_limit`, `auth_timeout`, `protocol_error`, …).
    pub connections_closed: IntCounterVec,
    /// Depth of named queues (per-sink bus queues, pending commands, worker hand-off).
    pub queue_depth: IntGaugeVec,
    /// Water-mark crossings by protocol and direction (`unwritable`, `writable`).
    pub water_mark_transitions: IntCounterVec,
    /// Time from command dispatch to the charger's answer, by protocol and command.
    pub command_latency: HistogramVec,
    /// Events accepted by a sink's queue, by sink and kind.
    pub events_published: IntCounterVec,
    /// Events dropped because a sink's queue was full, by sink and kind.
    pub events_dropped: IntCounterVec,
    /// Listeners currently bound.
    pub listeners_bound: IntGauge,
    /// Configuration reloads (SIGHUP) by result (`ok`, `error`).
    pub config_reloads: IntCounterVec,
}

fn counter(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, MetricsError> {
    let c = IntCounterVec::new(Opts::new(name, help).namespace(NAMESPACE), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntGaugeVec, MetricsError> {
    let g = IntGaugeVec::new(Opts::new(name, help).namespace(NAMESPACE), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    /// A fresh registry with every series defined (each test can have its own).
    pub fn new() -> Result<Metrics, MetricsError> {
        let r = Registry::new();
        let command_latency = HistogramVec::new(
            HistogramOpts::new(
                "command_latency_seconds",
                "Command round trip to the charger",
            )
            .namespace(NAMESPACE)
            .buckets(COMMAND_LATENCY_BUCKETS.to_vec()),
            &["protocol", "command"],
        )?;
        r.register(Box::new(command_latency.clone()))?;
        let listeners_bound = IntGauge::with_opts(
            Opts::new("listeners_bound", "Listeners bound").namespace(NAMESPACE),
        )?;
        r.register(Box::new(listeners_bound.clone()))?;
        Ok(Metrics {
            config_reloads: counter(
                &r,
                "config_reloads_total",
                "Configuration reloads (SIGHUP)",
                &["result"],
            )?,
            connections: gauge(
                &r,
                "connections",
                "Open connections",
                &["listener", "worker"],
            )?,
            accepted: counter(
                &r,
                "connections_accepted_total",
                "Connections accepted",
                &["listener", "worker"],
            )?,
            refused: counter(
                &r,
                "connections_refused_total",
                "Connections refused at accept",
                &["listener", "reason"],
            )?,
            accept_errors: counter(
                &r,
                "accept_errors_total",
                "accept() failures",
                &["listener", "kind"],
            )?,
            frames_in: counter(
                &r,
                "frames_in_total",
                "Frames received",
                &["protocol", "type"],
            )?,
            frames_out: counter(&r, "frames_out_total", "Frames sent", &["protocol", "type"])?,
            decode_errors: counter(
                &r,
                "decode_errors_total",
                "Decode errors",
                &["protocol", "kind"],
            )?,
            auth_failures: counter(
                &r,
                "auth_failures_total",
                "Refused logins",
                &["protocol", "reason"],
            )?,
            liveness_timeouts: counter(
                &r,
                "liveness_timeouts_total",
                "Heartbeat timeouts",
                &["protocol"],
            )?,
            connections_closed: counter(
                &r,
                "connections_closed_total",
                "Connections closed, by reason",
                &["protocol", "reason"],
            )?,
            queue_depth: gauge(&r, "queue_depth", "Items waiting in a queue", &["queue"])?,
            water_mark_transitions: counter(
                &r,
                "water_mark_transitions_total",
                "Outbound water-mark crossings",
                &["protocol", "direction"],
            )?,
            command_latency,
            events_published: counter(
                &r,
                "events_published_total",
                "Events queued to a sink",
                &["sink", "kind"],
            )?,
            events_dropped: counter(
                &r,
                "events_dropped_total",
                "Events dropped at a full sink",
                &["sink", "kind"],
            )?,
            listeners_bound,
            registry: r,
        })
    }

    /// The underlying registry, for code that registers its own series.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Handles for one listener on one worker.
    pub fn connection(&self, listener: &str, worker: usize) -> ConnectionMetrics {
        ConnectionMetrics::new(self, listener, worker)
    }

    /// Handles for one protocol, for a worker's codec path.
    pub fn protocol(&self, protocol: &str) -> ProtocolMetrics {
        ProtocolMetrics::new(self, protocol)
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_series_with_their_labels() {
        let m = Metrics::new().unwrap();
        m.connection("ykc", 1).opened();
        m.refused.with_label_values(&["ykc", "denied"]).inc();
        let mut p = m.protocol("ykc");
        p.frames_in("0x03", 1);
        p.frames_in("0x03", 2);
        let text = m.render().unwrap();
        assert!(
            text.contains("chargegate_connections{listener=\"ykc\",worker=\"1\"} 1"),
            "{text}"
        );
        assert!(text.contains(
            "chargegate_connections_refused_total{listener=\"ykc\",reason=\"denied\"} 1"
        ));
        assert!(text.contains("chargegate_frames_in_total{protocol=\"ykc\",type=\"0x03\"} 3"));
    }

    #[test]
    fn a_closed_connection_leaves_the_gauge() {
        let m = Metrics::new().unwrap();
        let c = m.connection("ocpp_tcp", 0);
        c.opened();
        c.closed();
        assert_eq!(m.connections.with_label_values(&["ocpp_tcp", "0"]).get(), 0);
        assert_eq!(m.accepted.with_label_values(&["ocpp_tcp", "0"]).get(), 1);
    }
}
