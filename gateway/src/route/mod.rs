//! Routing: the in-process event bus that sinks subscribe to, and the JSON-lines sink.
//!
//! Policy (see `docs/operations.md`): every sink has its own bounded queue (the JSON-lines sink: bounded buffers of
//! rendered lines, [`LineBuffers`]), so a slow sink never blocks
//! connections or other sinks. Ordinary events (telemetry, heartbeats, status) are offered with `try_send`: a full
//! queue drops the event for that sink and counts it in `chargegate_events_dropped_total{sink,kind}`. Billing
//! events (`transaction`, `session_stopped`, `command_result`) are never dropped silently: the publisher waits up
//! to `sinks.critical_wait_secs` for room, and if it still fails it gets an error, logs it and must not acknowledge
//! the charger, which then retransmits the bill. An upstream sink (MQTT, [`EventBus::subscribe_upstream`]) also
//! confirms each billing event once the broker acknowledged it or the spool synced it; the charger's ack waits
//! for that too.

mod bus;
mod jsonl;
mod lines;
pub mod spool;

pub use bus::{is_critical, is_critical_body, BusError, Delivery, EventBus, Upstream, EVENT_KINDS};
pub use jsonl::{spawn_jsonl_sink, JsonlTarget, JSONL_BYTES_PER_EVENT};
pub use lines::LineBuffers;

#[cfg(test)]
mod tests;
