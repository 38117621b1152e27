//! The kinds of normalized event and the data each carries.

use serde::{Deserialize, Serialize};

use super::{MeterData, SessionStartedData, SessionStoppedData, StatusData, TransactionData};

/// The kind of an event and its data, serialized as `"kind": "…", "data": {…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventBody {
    /// The charger logged in (YKC 0x01, OCPP BootNotification).
    Online(OnlineData),
    /// The charger's connection ended.
    Offline(OfflineData),
    /// A liveness beat.
    Heartbeat(HeartbeatData),
    /// A connector's (or the charger's) state.
    Status(StatusData),
    /// Electrical and session readings.
    Meter(MeterData),
    /// Typed GB/T 27930 battery-management data relayed by a DC charger.
    Bms(Box<crate::gbt27930::Message>),
    /// A charging session began.
    SessionStarted(SessionStartedData),
    /// A charging session ended.
    SessionStopped(SessionStoppedData),
    /// The bill of a finished session; billing-relevant, acknowledged only once safely upstream.
    Transaction(Box<TransactionData>),
    /// A fault or warning.
    Alarm(AlarmData),
    /// The charger asks whether a card, account or vehicle may charge.
    Authorize(AuthorizeData),
    /// A notice without its own kind: firmware or diagnostics status, time-sync echo, billing-model check, a data
    /// transfer.
    Notice(StatusNoticeData),
    /// The outcome of a command sent to the charger.
    CommandResult(CommandResultData),
    /// A frame the codec understood only as far as its envelope.
    Raw(RawData),
}

impl EventBody {
    /// The kind's wire name.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Online(_) => "online",
            EventBody::Offline(_) => "offline",
            EventBody::Heartbeat(_) => "heartbeat",
            EventBody::Status(_) => "status",
            EventBody::Meter(_) => "meter",
            EventBody::Bms(_) => "bms",
            EventBody::SessionStarted(_) => "session_started",
            EventBody::SessionStopped(_) => "session_stopped",
            EventBody::Transaction(_) => "transaction",
            EventBody::Alarm(_) => "alarm",
            EventBody::Authorize(_) => "authorize",
            EventBody::Notice(_) => "notice",
            EventBody::CommandResult(_) => "command_result",
            EventBody::Raw(_) => "raw",
        }
    }

    /// Whether losing this event would lose money: such events are published at QoS 1 and the charger is
    /// acknowledged only after the broker or the spool has them.
    pub fn is_billing(&self) -> bool {
        matches!(
            self,
            EventBody::Transaction(_) | EventBody::SessionStopped(_)
        )
    }
}

/// Data of an `online` event: what the charger said about itself at login.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnlineData {
    /// Protocol version the charger announced (`"1.6"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// Vendor name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Model name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Firmware or program version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// `"dc"` or `"ac"` when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_type: Option<String>,
    /// Number of connectors (guns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectors: Option<u16>,
    /// Link type: `sim`, `lan`, `wan`, `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// SIM ICCID as hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// Mobile operator, raw code as sent (sources disagree on its meaning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_code: Option<u8>,
}

/// Data of an `offline` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfflineData {
    /// Why: `closed`, `liveness_timeout`, `takeover`, `shutdown`, `auth_timeout`, `protocol_error`, `rate_limit`.
    pub reason: String,
}

/// Data of a `heartbeat` event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatData {
    /// The connector reported a fault in its heartbeat (YKC gun status 0x01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<bool>,
}

/// Data of an `alarm` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmData {
    /// Stable machine-readable code, such as `ykc.hw.emergency_stop` or an OCPP `ChargePointErrorCode`.
    pub code: String,
    /// `critical`, `major`, `minor` or `info`.
    pub severity: String,
    /// Human text.
    pub text: String,
    /// `true` when the condition was raised, `false` when it cleared.
    pub active: bool,
}

/// Data of an `authorize` event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeData {
    /// How the user identified: `card`, `account`, `vin`, `id_tag`.
    pub method: String,
    /// The identifier (card number as hex, id tag, VIN).
    pub id: String,
    /// A password or PIN was supplied (never its value).
    #[serde(default)]
    pub password_supplied: bool,
}

/// Data of a `notice` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusNoticeData {
    /// What the notice is about: `firmware_status`, `diagnostics_status`, `billing_model`, `time_sync`,
    /// `data_transfer`, `card_sync`, `parking_lock`, `balance_update`, `work_parameters`.
    pub topic: String,
    /// Its content, shape by topic (documented in `docs/events.md`).
    pub detail: serde_json::Value,
}

/// Outcome class of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// The charger accepted and did it.
    Accepted,
    /// The charger refused.
    Rejected,
    /// The charger does not support it.
    NotSupported,
    /// The charger answered with an error.
    Failed,
    /// No answer within the deadline.
    Timeout,
    /// The connection's outbound queue was above its high water mark.
    Busy,
    /// The charger is not connected and the command could not be queued.
    Offline,
}

/// Data of a `command_result` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResultData {
    /// The command id the caller gave; empty when the charger answered a command the gateway did not send.
    pub command_id: String,
    /// Normalized command name (`start`, `stop`, `reset`, …).
    pub command: String,
    /// Outcome.
    pub status: CommandStatus,
    /// Protocol-specific detail (failure reason code, OCPP error code, payload).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// Data of a `raw` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawData {
    /// The message type as the protocol names it (`"0x61"`, an OCPP action).
    pub message_type: String,
    /// The whole frame, hex.
    pub hex: String,
}
