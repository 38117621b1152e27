//! The normalized command model: what a backend asks of a charger, independent of its protocol.
//!
//! Each protocol maps a [`Command`] to its own request frame (YKC 0x34, OCPP RemoteStartTransaction, …) and the
//! charger's answer back to a [`crate::event::CommandResultData`]. A command a protocol cannot express is refused
//! with [`crate::event::CommandStatus::NotSupported`] before anything is sent.

use serde::{Deserialize, Serialize};

/// A command with the caller's id, as it arrives on `{p}/{charger}/down`, REST or WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Caller-chosen id, echoed in the result; commands are deduplicated by it.
    pub id: String,
    /// What to do.
    #[serde(flatten)]
    pub kind: CommandKind,
}

/// What to do, serialized as `"command": "…", "args": {…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum CommandKind {
    /// Start charging on a connector.
    Start(StartArgs),
    /// Stop charging on a connector or a transaction.
    Stop(StopArgs),
    /// Reboot the charger.
    Reset(ResetArgs),
    /// Unlock a connector's cable.
    Unlock(ConnectorArgs),
    /// Take a connector (0 = whole charger) in or out of service.
    ChangeAvailability(AvailabilityArgs),
    /// Read configuration keys.
    GetConfiguration(GetConfigurationArgs),
    /// Change one configuration key.
    ChangeConfiguration(ChangeConfigurationArgs),
    /// Ask the charger to send a message now (status, meter values, heartbeat, boot).
    TriggerMessage(TriggerArgs),
    /// Install a charging profile (OCPP smart charging), passed through as JSON.
    SetChargingProfile(ProfileArgs),
    /// Remove charging profiles, passed through as JSON.
    ClearChargingProfile(ProfileArgs),
    /// Vendor-specific data transfer.
    DataTransfer(DataTransferArgs),
    /// Set the charger's clock (YKC 0x56). The time is the charger's local wall-clock time.
    SetTime(SetTimeArgs),
    /// Install a tariff (YKC 0x58).
    SetPrice(SetPriceArgs),
    /// Ask for real-time data now (YKC 0x12).
    PollRealtime(ConnectorArgs),
    /// An OCPP CALL passed through as the backend wrote it (EMQX OCPP-gateway layout on MQTT): the action and its
    /// payload are sent unchanged, under the command id as OCPP message id, and the charger's answer comes back
    /// whole. Non-OCPP chargers refuse it as not supported.
    OcppCall(OcppCallArgs),
}

impl CommandKind {
    /// The command's wire name, as used in `command_result` events.
    pub fn name(&self) -> &'static str {
        match self {
            CommandKind::Start(_) => "start",
            CommandKind::Stop(_) => "stop",
            CommandKind::Reset(_) => "reset",
            CommandKind::Unlock(_) => "unlock",
            CommandKind::ChangeAvailability(_) => "change_availability",
            CommandKind::GetConfiguration(_) => "get_configuration",
            CommandKind::ChangeConfiguration(_) => "change_configuration",
            CommandKind::TriggerMessage(_) => "trigger_message",
            CommandKind::SetChargingProfile(_) => "set_charging_profile",
            CommandKind::ClearChargingProfile(_) => "clear_charging_profile",
            CommandKind::DataTransfer(_) => "data_transfer",
            CommandKind::SetTime(_) => "set_time",
            CommandKind::SetPrice(_) => "set_price",
            CommandKind::PollRealtime(_) => "poll_realtime",
            CommandKind::OcppCall(_) => "ocpp_call",
        }
    }
}

/// Arguments of `start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartArgs {
    /// Connector, 1-based.
    pub connector: u16,
    /// Transaction id to use (YKC: 32 digits, made by the platform); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Who is charging (OCPP idTag; YKC logical card number, up to 16 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<String>,
    /// Physical card number as 16 hex digits (YKC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// Account balance shown on the charger, currency units (YKC, 0.01 resolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
}

/// Arguments of `stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StopArgs {
    /// Connector, 1-based (YKC needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
    /// Transaction id (OCPP needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

/// Arguments of `reset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResetArgs {
    /// Hard reset now (true) or soft reset when idle (false).
    #[serde(default)]
    pub hard: bool,
}

/// Arguments naming one connector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectorArgs {
    /// Connector, 1-based.
    pub connector: u16,
}

/// Arguments of `change_availability`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityArgs {
    /// Connector, 0 = the whole charger.
    pub connector: u16,
    /// In service (true) or out of service (false).
    pub operative: bool,
}

/// Arguments of `get_configuration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetConfigurationArgs {
    /// Keys to read; empty = all.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// Arguments of `change_configuration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeConfigurationArgs {
    /// Key.
    pub key: String,
    /// New value.
    pub value: String,
}

/// Arguments of `trigger_message`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerArgs {
    /// What to send: `boot`, `heartbeat`, `status`, `meter`, `firmware_status`, `diagnostics_status`.
    pub message: String,
    /// Connector, if the message is per connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
}

/// Arguments carrying a protocol-level JSON object through unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileArgs {
    /// The request payload, as the protocol defines it.
    pub payload: serde_json::Value,
}

/// Arguments of `data_transfer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataTransferArgs {
    /// Vendor id.
    pub vendor_id: String,
    /// Message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// Arguments of `ocpp_call`: one CALL in the protocol's own terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OcppCallArgs {
    /// The OCPP action, such as `Reset` or `RemoteStartTransaction`.
    pub action: String,
    /// The CALL payload object.
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// Arguments of `set_time`: a local wall-clock time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetTimeArgs {
    /// `YYYY-MM-DDTHH:MM:SS[.mmm]`, the charger's local time.
    pub time: String,
}

/// Arguments of `set_price`: the YKC four-tier tariff.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetPriceArgs {
    /// Billing model number, 4 digits.
    pub model: String,
    /// Electricity and service price per kWh for sharp, peak, flat, valley (8 values, currency per kWh).
    pub prices: Vec<f64>,
    /// 48 half-hour slots, each 0 sharp, 1 peak, 2 flat, 3 valley.
    pub slots: Vec<u8>,
    /// Loss ratio, percent.
    #[serde(default)]
    pub loss_ratio: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_json_shape_is_id_command_args() {
        let c: Command =
            serde_json::from_str(r#"{"id":"c1","command":"start","args":{"connector":1}}"#)
                .unwrap();
        assert_eq!(c.id, "c1");
        assert_eq!(
            c.kind,
            CommandKind::Start(StartArgs {
                connector: 1,
                ..Default::default()
            })
        );
        assert_eq!(c.kind.name(), "start");
    }
}
