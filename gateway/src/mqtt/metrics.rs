//! The MQTT sink's Prometheus series, registered on the gateway's registry.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Publish latency buckets, seconds (loopback broker: sub-millisecond; remote cluster: tens of ms).
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// Handles of the MQTT series.
#[derive(Clone)]
pub struct MqttMetrics {
    /// `chargegate_mqtt_publishes_total{qos,result}`: `sent` (QoS 0 written), `acked` (PUBACK), `spooled`,
    /// `dropped` (telemetry refused by a full spool), `refused` (billing refused by the spool: not acked).
    pub publishes: IntCounterVec,
    /// `publishes{qos="0",result="sent"}`, resolved once: it is counted per event on the hot path.
    pub sent_qos0: IntCounter,
    /// `publishes{qos="1",result="acked"}`, resolved once (per PUBACK).
    pub acked_qos1: IntCounter,
    /// `chargegate_mqtt_inflight`: publishes handed to the client and not yet acknowledged.
    pub inflight: IntGauge,
    /// `chargegate_mqtt_spool_records`: records waiting in the spool.
    pub spool_records: IntGauge,
    /// `chargegate_mqtt_spool_bytes`: bytes waiting in the spool.
    pub spool_bytes: IntGauge,
    /// `chargegate_mqtt_publish_latency_seconds`: from handing a QoS 1 publish to the client to its PUBACK.
    pub latency: Histogram,
    /// `chargegate_mqtt_connected`: 1 while the broker session is up.
    pub connected: IntGauge,
    /// `chargegate_mqtt_connection_errors_total`.
    pub connection_errors: IntCounter,
    /// `chargegate_mqtt_commands_total{result}`: `dispatched`, `not_ours`, `bad_command`.
    pub commands: IntCounterVec,
    /// `chargegate_mqtt_dead_letters_total`.
    pub dead_letters: IntCounter,
    /// `chargegate_mqtt_takeovers_total`: our sessions closed because another instance holds a newer one.
    pub takeovers: IntCounter,
    /// OCPP messages handed to the EMQX layout by `result` (`queued`, `dropped` when the front's queue is full).
    pub ocpp_messages: IntCounterVec,
}

impl MqttMetrics {
    /// Creates and registers the series.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let publishes = IntCounterVec::new(
            Opts::new(
                "chargegate_mqtt_publishes_total",
                "MQTT publishes by QoS and outcome",
            ),
            &["qos", "result"],
        )?;
        let m = MqttMetrics {
            sent_qos0: publishes.with_label_values(&["0", "sent"]),
            acked_qos1: publishes.with_label_values(&["1", "acked"]),
            publishes,
            inflight: IntGauge::new("chargegate_mqtt_inflight", "MQTT publishes awaiting PUBACK")?,
            spool_records: IntGauge::new(
                "chargegate_mqtt_spool_records",
                "Records in the MQTT spool",
            )?,
            spool_bytes: IntGauge::new("chargegate_mqtt_spool_bytes", "Bytes in the MQTT spool")?,
            latency: Histogram::with_opts(
                HistogramOpts::new(
                    "chargegate_mqtt_publish_latency_seconds",
                    "QoS 1 publish to PUBACK",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
            )?,
            connected: IntGauge::new(
                "chargegate_mqtt_connected",
                "1 while connected to the broker",
            )?,
            connection_errors: IntCounter::new(
                "chargegate_mqtt_connection_errors_total",
                "MQTT connection failures and drops",
            )?,
            commands: IntCounterVec::new(
                Opts::new(
                    "chargegate_mqtt_commands_total",
                    "Commands received on MQTT by outcome",
                ),
                &["result"],
            )?,
            dead_letters: IntCounter::new(
                "chargegate_mqtt_dead_letters_total",
                "Rejected frames published to the dead-letter topic",
            )?,
            takeovers: IntCounter::new(
                "chargegate_mqtt_takeovers_total",
                "Sessions closed because another instance announced a newer one",
            )?,
            ocpp_messages: IntCounterVec::new(
                Opts::new(
                    "chargegate_mqtt_ocpp_messages_total",
                    "OCPP messages of chargers offered to the EMQX OCPP layout, by result",
                ),
                &["result"],
            )?,
        };
        registry.register(Box::new(m.publishes.clone()))?;
        registry.register(Box::new(m.inflight.clone()))?;
        registry.register(Box::new(m.spool_records.clone()))?;
        registry.register(Box::new(m.spool_bytes.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        registry.register(Box::new(m.connected.clone()))?;
        registry.register(Box::new(m.connection_errors.clone()))?;
        registry.register(Box::new(m.commands.clone()))?;
        registry.register(Box::new(m.dead_letters.clone()))?;
        registry.register(Box::new(m.takeovers.clone()))?;
        registry.register(Box::new(m.ocpp_messages.clone()))?;
        Ok(m)
    }
}
