//! Pre-resolved metric handles for the hot path: label values are looked up once per worker (or per protocol on a
//! worker), after which an increment is one atomic add.

use prometheus::{Histogram, IntCounter, IntGauge};

use super::Metrics;

/// Connection gauge and accept counter of one listener on one worker.
#[derive(Clone)]
pub struct ConnectionMetrics {
    /// `chargegate_connections{listener, worker}`.
    pub open: IntGauge,
    /// `chargegate_connections_accepted_total{listener, worker}`.
    pub accepted: IntCounter,
}

impl ConnectionMetrics {
    pub(super) fn new(m: &Metrics, listener: &str, worker: usize) -> Self {
        let w = worker.to_string();
        ConnectionMetrics {
            open: m.connections.with_label_values(&[listener, &w]),
            accepted: m.accepted.with_label_values(&[listener, &w]),
        }
    }

    /// A connection started on this worker.
    pub fn opened(&self) {
        self.accepted.inc();
        self.open.inc();
    }

    /// A connection ended.
    pub fn closed(&self) {
        self.open.dec();
    }
}

/// Counter handles by a static label, in first-use order. A protocol has a handful of frame types, all `&'static
/// str`s: a scan comparing addresses first beats hashing the label for every frame (SipHash was ~1 % of a worker
/// at 150k frames/s).
#[derive(Default)]
struct Handles(Vec<(&'static str, IntCounter)>);

impl Handles {
    fn get(&mut self, label: &'static str, make: impl FnOnce() -> IntCounter) -> &IntCounter {
        let at = self
            .0
            .iter()
            .position(|(l, _)| std::ptr::eq(*l, label))
            .or_else(|| self.0.iter().position(|(l, _)| *l == label));
        let at = at.unwrap_or_else(|| {
            self.0.push((label, make()));
            self.0.len() - 1
        });
        // `at` is an index into the list (found, or the entry just pushed).
        &self.0[at].1
    }
}

/// Per-protocol counters for one worker; frame-type handles are cached on first use (no lock: one owner).
pub struct ProtocolMetrics {
    metrics: Metrics,
    protocol: String,
    frames_in: Handles,
    frames_out: Handles,
    decode_errors: Handles,
    /// `chargegate_liveness_timeouts_total{protocol}`.
    pub liveness_timeouts: IntCounter,
    /// `chargegate_water_mark_transitions_total{protocol, direction="unwritable"}`.
    pub became_unwritable: IntCounter,
    /// `chargegate_water_mark_transitions_total{protocol, direction="writable"}`.
    pub became_writable: IntCounter,
}

impl ProtocolMetrics {
    pub(super) fn new(m: &Metrics, protocol: &str) -> Self {
        ProtocolMetrics {
            metrics: m.clone(),
            protocol: protocol.to_owned(),
            frames_in: Handles::default(),
            frames_out: Handles::default(),
            decode_errors: Handles::default(),
            liveness_timeouts: m.liveness_timeouts.with_label_values(&[protocol]),
            became_unwritable: m
                .water_mark_transitions
                .with_label_values(&[protocol, "unwritable"]),
            became_writable: m
                .water_mark_transitions
                .with_label_values(&[protocol, "writable"]),
        }
    }

    /// Counts `n` inbound frames of `frame_type` (a static name such as `"0x03"` or `"Heartbeat"`).
    pub fn frames_in(&mut self, frame_type: &'static str, n: u64) {
        let (vec, proto) = (&self.metrics.frames_in, &self.protocol);
        self.frames_in
            .get(frame_type, || vec.with_label_values(&[proto, frame_type]))
            .inc_by(n);
    }

    /// Counts one outbound frame.
    pub fn frame_out(&mut self, frame_type: &'static str) {
        let (vec, proto) = (&self.metrics.frames_out, &self.protocol);
        self.frames_out
            .get(frame_type, || vec.with_label_values(&[proto, frame_type]))
            .inc();
    }

    /// Counts one decode error by its stable `kind()` string.
    pub fn decode_error(&mut self, kind: &'static str) {
        let (vec, proto) = (&self.metrics.decode_errors, &self.protocol);
        self.decode_errors
            .get(kind, || vec.with_label_values(&[proto, kind]))
            .inc();
    }

    /// Counts a connection closed for `reason`.
    pub fn closed(&self, reason: &str) {
        self.metrics
            .connections_closed
            .with_label_values(&[&self.protocol, reason])
            .inc();
    }

    /// Counts a refused login.
    pub fn auth_failure(&self, reason: &str) {
        self.metrics
            .auth_failures
            .with_label_values(&[&self.protocol, reason])
            .inc();
    }

    /// The latency histogram of one command name on this protocol.
    pub fn command_latency(&self, command: &str) -> Histogram {
        self.metrics
            .command_latency
            .with_label_values(&[&self.protocol, command])
    }
}
