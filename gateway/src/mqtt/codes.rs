//! Error codes of the MQTT path (party letter, scene `07` = MQTT fan-out, case), as log fields and in docs/mqtt.md.

/// C: the broker is unreachable or dropped the connection.
pub const BROKER_UNREACHABLE: &str = "C0701";
/// B: the spool refused an event (full or failing disk).
pub const SPOOL_REFUSED: &str = "B0702";
/// D: a command on a down topic is not valid JSON of the command shape.
pub const BAD_COMMAND: &str = "D0703";
/// B: the embedded broker stopped.
pub const EMBEDDED_STOPPED: &str = "B0704";
/// A: a charger frame was rejected and went to the dead-letter topic.
pub const DEAD_LETTER: &str = "A0705";
/// B: a spool record could not be decoded on replay (skipped).
pub const CORRUPT_RECORD: &str = "B0706";
/// B: the EMQX OCPP layout's queue was full; a charger's OCPP message was not published on `ocpp/cp/{id}`.
pub const OCPP_QUEUE_FULL: &str = "B0707";
