//! Normalized commands → OCPP CALLs, and the charger's CALLRESULT / CALLERROR → `command_result` data.
//!
//! Every outgoing payload is checked against the same vendored schema the charger will use, so a bad argument
//! is refused here (as `failed`) instead of provoking a CALLERROR. Commands OCPP cannot express (`set_time`,
//! `set_price`, `poll_realtime`) are refused as `not_supported` before anything is sent.

use serde_json::{json, Value};

use super::rpc::{CallError, CallResult};
use super::schema::{PayloadError, PayloadKind};
use super::{v16, v201, ErrorCode};
use crate::command::CommandKind;
use crate::event::{CommandResultData, CommandStatus};

/// A CALL ready to be given an id and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingCall {
    /// The action name.
    pub action: &'static str,
    /// The payload object.
    pub payload: Value,
}

impl OutgoingCall {
    /// Encodes the CALL frame under message id `id`.
    pub fn encode(&self, id: &str) -> serde_json::Result<String> {
        super::rpc::encode_call(id, self.action, &self.payload)
    }
}

/// Why a command was not turned into a CALL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// OCPP (this version) has no message for the command.
    #[error("command `{0}` has no OCPP equivalent")]
    NotSupported(&'static str),
    /// An argument is missing (such as the transaction id of `stop`) or out of range.
    #[error("command argument `{0}` missing or invalid")]
    BadArgument(&'static str),
    /// The built payload fails the action's schema.
    #[error("payload invalid: {0}")]
    Invalid(PayloadError),
}

impl CommandError {
    /// The `command_result` this refusal is reported as.
    pub fn to_result(&self, command_id: &str, command: &CommandKind) -> CommandResultData {
        let status = match self {
            CommandError::NotSupported(_) => CommandStatus::NotSupported,
            _ => CommandStatus::Failed,
        };
        CommandResultData {
            command_id: command_id.to_owned(),
            command: command.name().to_owned(),
            status,
            detail: json!({"error": self.to_string()}),
        }
    }
}

fn trigger_v16(message: &str) -> Option<&'static str> {
    Some(match message {
        "boot" => "BootNotification",
        "heartbeat" => "Heartbeat",
        "status" => "StatusNotification",
        "meter" => "MeterValues",
        "firmware_status" => "FirmwareStatusNotification",
        "diagnostics_status" => "DiagnosticsStatusNotification",
        _ => return None,
    })
}

/// Maps a command to an OCPP 1.6 CALL and validates the payload.
pub fn to_v16_call(kind: &CommandKind) -> Result<OutgoingCall, CommandError> {
    let (action, payload) = match kind {
        CommandKind::Start(a) => {
            let id_tag = a
                .id_tag
                .clone()
                .ok_or(CommandError::BadArgument("id_tag"))?;
            (
                v16::Action::RemoteStartTransaction,
                json!({"connectorId": a.connector, "idTag": id_tag}),
            )
        }
        CommandKind::Stop(a) => {
            let tx: i64 = a
                .transaction_id
                .as_deref()
                .and_then(|t| t.parse().ok())
                .ok_or(CommandError::BadArgument("transaction_id"))?;
            (
                v16::Action::RemoteStopTransaction,
                json!({"transactionId": tx}),
            )
        }
        CommandKind::Reset(a) => (
            v16::Action::Reset,
            json!({"type": if a.hard { "Hard" } else { "Soft" }}),
        ),
        CommandKind::Unlock(a) => (
            v16::Action::UnlockConnector,
            json!({"connectorId": a.connector}),
        ),
        CommandKind::ChangeAvailability(a) => (
            v16::Action::ChangeAvailability,
            json!({"connectorId": a.connector, "type": if a.operative { "Operative" } else { "Inoperative" }}),
        ),
        CommandKind::GetConfiguration(a) if a.keys.is_empty() => {
            (v16::Action::GetConfiguration, json!({}))
        }
        CommandKind::GetConfiguration(a) => (v16::Action::GetConfiguration, json!({"key": a.keys})),
        CommandKind::ChangeConfiguration(a) => (
            v16::Action::ChangeConfiguration,
            json!({"key": a.key, "value": a.value}),
        ),
        CommandKind::TriggerMessage(a) => {
            let requested = trigger_v16(&a.message).ok_or(CommandError::BadArgument("message"))?;
            let mut p = json!({"requestedMessage": requested});
            if let (Some(c), Some(obj)) = (a.connector, p.as_object_mut()) {
                obj.insert("connectorId".into(), json!(c));
            }
            (v16::Action::TriggerMessage, p)
        }
        CommandKind::SetChargingProfile(a) => (v16::Action::SetChargingProfile, a.payload.clone()),
        CommandKind::ClearChargingProfile(a) => {
            (v16::Action::ClearChargingProfile, a.payload.clone())
        }
        CommandKind::DataTransfer(a) => {
            let mut p = json!({"vendorId": a.vendor_id});
            if let Some(obj) = p.as_object_mut() {
                if let Some(m) = &a.message_id {
                    obj.insert("messageId".into(), json!(m));
                }
                if let Some(d) = &a.data {
                    obj.insert("data".into(), json!(d));
                }
            }
            (v16::Action::DataTransfer, p)
        }
        CommandKind::OcppCall(a) => (
            v16::Action::from_name(&a.action).ok_or(CommandError::BadArgument("action"))?,
            a.payload.clone(),
        ),
        CommandKind::SetTime(_) | CommandKind::SetPrice(_) | CommandKind::PollRealtime(_) => {
            return Err(CommandError::NotSupported(kind.name()))
        }
    };
    v16::validate(action, PayloadKind::Request, &payload).map_err(CommandError::Invalid)?;
    Ok(OutgoingCall {
        action: action.as_str(),
        payload,
    })
}

fn trigger_v201(message: &str) -> Option<&'static str> {
    Some(match message {
        "boot" => "BootNotification",
        "heartbeat" => "Heartbeat",
        "status" => "StatusNotification",
        "meter" => "MeterValues",
        "firmware_status" => "FirmwareStatusNotification",
        "diagnostics_status" => "LogStatusNotification",
        _ => return None,
    })
}

/// A 2.0.1 device-model address from a configuration key written `Component.Variable`.
fn component_variable(key: &str) -> Result<Value, CommandError> {
    let (component, variable) = key
        .split_once('.')
        .filter(|(c, v)| !c.is_empty() && !v.is_empty())
        .ok_or(CommandError::BadArgument("key"))?;
    Ok(json!({"component": {"name": component}, "variable": {"name": variable}}))
}

/// Maps a command to an OCPP 2.0.1 CALL. The connector number is used as the EVSE id (connector 1 within it);
/// configuration keys are written `Component.Variable` and map to GetVariables / SetVariables (reading *all* keys
/// needs GetBaseReport, which is not mapped). `remote_start_id` is the caller-chosen id RequestStartTransaction
/// requires.
pub fn to_v201_call(
    kind: &CommandKind,
    remote_start_id: i64,
) -> Result<OutgoingCall, CommandError> {
    use v201::Action as A;
    let (action, payload) = match kind {
        CommandKind::Start(a) => {
            let id_tag = a
                .id_tag
                .clone()
                .ok_or(CommandError::BadArgument("id_tag"))?;
            (
                A::RequestStartTransaction,
                json!({"evseId": a.connector, "remoteStartId": remote_start_id,
                       "idToken": {"idToken": id_tag, "type": "Central"}}),
            )
        }
        CommandKind::Stop(a) => {
            let tx = a
                .transaction_id
                .clone()
                .ok_or(CommandError::BadArgument("transaction_id"))?;
            (A::RequestStopTransaction, json!({"transactionId": tx}))
        }
        CommandKind::Reset(a) => (
            A::Reset,
            json!({"type": if a.hard { "Immediate" } else { "OnIdle" }}),
        ),
        CommandKind::Unlock(a) => (
            A::UnlockConnector,
            json!({"evseId": a.connector, "connectorId": 1}),
        ),
        CommandKind::ChangeAvailability(a) => {
            let status = if a.operative {
                "Operative"
            } else {
                "Inoperative"
            };
            let mut p = json!({"operationalStatus": status});
            if let (true, Some(obj)) = (a.connector > 0, p.as_object_mut()) {
                obj.insert("evse".into(), json!({"id": a.connector}));
            }
            (A::ChangeAvailability, p)
        }
        CommandKind::GetConfiguration(a) if a.keys.is_empty() => {
            return Err(CommandError::NotSupported(kind.name()))
        }
        CommandKind::GetConfiguration(a) => {
            let data = a
                .keys
                .iter()
                .map(|k| component_variable(k))
                .collect::<Result<Vec<_>, _>>()?;
            (A::GetVariables, json!({"getVariableData": data}))
        }
        CommandKind::ChangeConfiguration(a) => {
            let mut data = component_variable(&a.key)?;
            if let Some(obj) = data.as_object_mut() {
                obj.insert("attributeValue".into(), json!(a.value));
            }
            (A::SetVariables, json!({"setVariableData": [data]}))
        }
        CommandKind::TriggerMessage(a) => {
            let requested = trigger_v201(&a.message).ok_or(CommandError::BadArgument("message"))?;
            let mut p = json!({"requestedMessage": requested});
            if let (Some(c), Some(obj)) = (a.connector, p.as_object_mut()) {
                obj.insert("evse".into(), json!({"id": c}));
            }
            (A::TriggerMessage, p)
        }
        CommandKind::SetChargingProfile(a) => (A::SetChargingProfile, a.payload.clone()),
        CommandKind::ClearChargingProfile(a) => (A::ClearChargingProfile, a.payload.clone()),
        CommandKind::DataTransfer(a) => {
            let mut p = json!({"vendorId": a.vendor_id});
            if let Some(obj) = p.as_object_mut() {
                if let Some(m) = &a.message_id {
                    obj.insert("messageId".into(), json!(m));
                }
                if let Some(d) = &a.data {
                    obj.insert("data".into(), json!(d));
                }
            }
            (A::DataTransfer, p)
        }
        CommandKind::OcppCall(a) => (
            A::from_name(&a.action).ok_or(CommandError::BadArgument("action"))?,
            a.payload.clone(),
        ),
        CommandKind::SetTime(_) | CommandKind::SetPrice(_) | CommandKind::PollRealtime(_) => {
            return Err(CommandError::NotSupported(kind.name()))
        }
    };
    v201::validate(action, PayloadKind::Request, &payload).map_err(CommandError::Invalid)?;
    Ok(OutgoingCall {
        action: action.as_str(),
        payload,
    })
}

/// Classifies a response `status` value: `Accepted`, `Unlocked`, `Scheduled`, `RebootRequired` → accepted;
/// `NotSupported`, `NotImplemented`, `UnknownMessageId`, `UnknownVendorId` → not_supported; `UnlockFailed`,
/// `Failed` → failed; anything else (`Rejected`, …) → rejected.
fn status_of(status: &str) -> CommandStatus {
    match status {
        "Accepted" | "Unlocked" | "Scheduled" | "RebootRequired" => CommandStatus::Accepted,
        "NotSupported" | "NotImplemented" | "UnknownMessageId" | "UnknownVendorId" => {
            CommandStatus::NotSupported
        }
        "UnlockFailed" | "Failed" => CommandStatus::Failed,
        _ => CommandStatus::Rejected,
    }
}

/// Turns a CALLRESULT into a `command_result`, validating it against the 1.6 schema of `action` (the action
/// remembered for the CALL's id). The payload is kept as `detail`.
pub fn v16_result(
    command_id: &str,
    command: &CommandKind,
    action: v16::Action,
    result: &CallResult<'_>,
) -> CommandResultData {
    let payload: Value = serde_json::from_str(result.payload.get()).unwrap_or(Value::Null);
    let checked = v16::validate(action, PayloadKind::Response, &payload);
    finish(command_id, command, payload, checked)
}

/// As [`v16_result`] for a 2.0.1 action.
pub fn v201_result(
    command_id: &str,
    command: &CommandKind,
    action: v201::Action,
    result: &CallResult<'_>,
) -> CommandResultData {
    let payload: Value = serde_json::from_str(result.payload.get()).unwrap_or(Value::Null);
    let checked = v201::validate(action, PayloadKind::Response, &payload);
    finish(command_id, command, payload, checked)
}

fn finish(
    command_id: &str,
    command: &CommandKind,
    payload: Value,
    checked: Result<(), PayloadError>,
) -> CommandResultData {
    let (status, detail) = match checked {
        Err(e) => (
            CommandStatus::Failed,
            json!({"error": "invalid_response", "code": e.kind(), "details": e.details(), "payload": payload}),
        ),
        Ok(()) => {
            let status = payload
                .get("status")
                .and_then(Value::as_str)
                .map_or(CommandStatus::Accepted, status_of);
            (status, payload)
        }
    };
    CommandResultData {
        command_id: command_id.to_owned(),
        command: command.name().to_owned(),
        status,
        detail,
    }
}

/// Turns the CALLRESULT of a passed-through `ocpp_call` into a `command_result` without judging it (the backend
/// that wrote the CALL reads the answer): `detail` is `{"payload": …}`, the status is what its `status` field
/// implies (accepted when it has none).
pub fn passthrough_result(
    command_id: &str,
    command: &CommandKind,
    result: &CallResult<'_>,
) -> CommandResultData {
    let payload: Value = serde_json::from_str(result.payload.get()).unwrap_or(Value::Null);
    let status = payload
        .get("status")
        .and_then(Value::as_str)
        .map_or(CommandStatus::Accepted, status_of);
    CommandResultData {
        command_id: command_id.to_owned(),
        command: command.name().to_owned(),
        status,
        detail: json!({ "payload": payload }),
    }
}

/// Turns a CALLERROR into a `command_result`: `NotImplemented` / `NotSupported` → not_supported, any other code
/// → failed. Code, description and details are all kept in `detail`.
pub fn error_result(
    command_id: &str,
    command: &CommandKind,
    error: &CallError<'_>,
) -> CommandResultData {
    let status = match error.code() {
        Some(ErrorCode::NotImplemented | ErrorCode::NotSupported) => CommandStatus::NotSupported,
        _ => CommandStatus::Failed,
    };
    let details: Value = serde_json::from_str(error.details.get()).unwrap_or(Value::Null);
    CommandResultData {
        command_id: command_id.to_owned(),
        command: command.name().to_owned(),
        status,
        detail: json!({"code": error.error_code, "description": error.description, "details": details}),
    }
}
