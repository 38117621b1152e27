//! QoS by event class: heartbeats at most once, everything else at least once (configurable per class).

use chargegate_codec::event::{Event, EventBody};
use rumqttc::QoS;

use crate::config::MqttQos;

/// The class an event belongs to for QoS and spool purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventClass {
    /// Heartbeats.
    Heartbeat,
    /// Telemetry, status, alarms and the rest.
    Telemetry,
    /// Money: `transaction`, `session_stopped`.
    Billing,
    /// Command results.
    CommandResult,
}

impl EventClass {
    /// The class of `event`.
    pub fn of(event: &Event) -> Self {
        match &event.body {
            EventBody::Heartbeat(_) => EventClass::Heartbeat,
            EventBody::CommandResult(_) => EventClass::CommandResult,
            b if b.is_billing() => EventClass::Billing,
            _ => EventClass::Telemetry,
        }
    }

    /// Whether the spool keeps room for it (billing and command results are never dropped for telemetry).
    pub fn is_critical(self) -> bool {
        matches!(self, EventClass::Billing | EventClass::CommandResult)
    }
}

/// Resolved QoS levels per class.
#[derive(Debug, Clone, Copy)]
pub struct QosMap {
    heartbeat: QoS,
    telemetry: QoS,
    billing: QoS,
    command_result: QoS,
}

impl QosMap {
    /// From `[mqtt.qos]`; a level above 1 is clamped to 1 (QoS 2 buys nothing over event-id dedup here).
    pub fn new(c: &MqttQos) -> Self {
        QosMap {
            heartbeat: level(c.heartbeat),
            telemetry: level(c.telemetry),
            billing: level(c.billing),
            command_result: level(c.command_result),
        }
    }

    /// The QoS for `class`.
    pub fn for_class(&self, class: EventClass) -> QoS {
        match class {
            EventClass::Heartbeat => self.heartbeat,
            EventClass::Telemetry => self.telemetry,
            EventClass::Billing => self.billing,
            EventClass::CommandResult => self.command_result,
        }
    }
}

fn level(n: u8) -> QoS {
    if n == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    }
}

/// The label of a QoS for metrics.
pub fn qos_label(q: QoS) -> &'static str {
    match q {
        QoS::AtMostOnce => "0",
        QoS::AtLeastOnce => "1",
        QoS::ExactlyOnce => "2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_brief() {
        let m = QosMap::new(&MqttQos::default());
        assert_eq!(m.for_class(EventClass::Heartbeat), QoS::AtMostOnce);
        assert_eq!(m.for_class(EventClass::Telemetry), QoS::AtLeastOnce);
        assert_eq!(m.for_class(EventClass::Billing), QoS::AtLeastOnce);
        assert_eq!(m.for_class(EventClass::CommandResult), QoS::AtLeastOnce);
    }
}
