//! The EMQX OCPP-gateway layout (`mqtt.layout = "emqx_ocpp"`): OCPP traffic in the topics and JSON shape of EMQX's
//! OCPP gateway, so that a backend written for EMQX works unchanged.
//!
//! - Uplink: every CALL an OCPP charger `{id}` sends is published on `ocpp/cp/{id}` as
//!   `{"MessageTypeId":2,"Id":…,"Action":…,"Payload":{…}}`. The gateway still answers the charger itself (local
//!   answers), so the backend must not answer these CALLs; answers it sends on `ocpp/cs/{id}` are ignored.
//! - Downlink: a CALL on `ocpp/cs/{id}` in the same shape becomes an `ocpp_call` command through the dispatcher
//!   REST uses (one outstanding CALL per charger, pending queue, timeouts), sent under the backend's `Id`.
//! - Its answer is published on `ocpp/cp/{id}/Reply`: `{"MessageTypeId":3,"Id","Payload"}` for a CALLRESULT,
//!   `{"MessageTypeId":4,"Id","ErrorCode","ErrorDescription","ErrorDetails"}` for the charger's CALLERROR or
//!   when the gateway could not deliver the CALL (offline, busy, timeout, bad action or payload).

use std::sync::Arc;

use bytes::Bytes;
use chargegate_codec::command::{Command, CommandKind, OcppCallArgs};
use chargegate_codec::event::{CommandResultData, CommandStatus};
use prometheus::IntCounterVec;
use serde_json::{json, Value};
use thiserror::Error;
use tokio::sync::mpsc;

use super::commands::send_reply;
use super::publisher::Outbound;
use crate::http::CommandDispatcher;

/// OCPP-J message type of a CALL.
const CALL: u64 = 2;
/// OCPP-J message type of a CALLRESULT.
const CALLRESULT: u64 = 3;
/// OCPP-J message type of a CALLERROR.
const CALLERROR: u64 = 4;
/// The CALLERROR code for a CALL the gateway could not deliver or the charger did not answer.
const GATEWAY_ERROR: &str = "GenericError";

/// One OCPP-J message a charger sent, handed from its connection to the MQTT sink.
#[derive(Debug, Clone)]
pub struct ChargerMessage {
    /// Charger id.
    pub charger: String,
    /// The OCPP-J text as received.
    pub text: Bytes,
}

/// The connections' handle into the EMQX layout: offers each OCPP message without waiting; a full queue drops it
/// (counted, logged) rather than slow the charger's connection.
#[derive(Clone)]
pub struct OcppTap {
    tx: mpsc::Sender<ChargerMessage>,
    counter: IntCounterVec,
}

impl OcppTap {
    /// A tap into `tx`, counting in `counter` (`chargegate_mqtt_ocpp_messages_total`).
    pub fn new(tx: mpsc::Sender<ChargerMessage>, counter: IntCounterVec) -> Self {
        OcppTap { tx, counter }
    }

    /// Offers the OCPP-J `text` charger `charger` sent.
    pub fn offer(&self, charger: &str, text: &[u8]) {
        let message = ChargerMessage {
            charger: charger.to_owned(),
            text: Bytes::copy_from_slice(text),
        };
        if self.tx.try_send(message).is_ok() {
            self.counter.with_label_values(&["queued"]).inc();
        } else {
            self.counter.with_label_values(&["dropped"]).inc();
            tracing::warn!(
                charger,
                code = super::codes::OCPP_QUEUE_FULL,
                "EMQX OCPP queue full; message not published on ocpp/cp"
            );
        }
    }
}

/// A CALL taken from the charger's OCPP-J text.
#[derive(Debug, Clone, PartialEq)]
pub struct UplinkCall {
    /// The action, for QoS and spool class.
    pub action: String,
    /// The EMQX document `{"MessageTypeId":2,"Id","Action","Payload"}`.
    pub document: Value,
}

/// The EMQX document of `text` when it is a CALL; `None` for answers and anything unreadable (the session has
/// already answered or dead-lettered those).
pub fn uplink_call(text: &[u8]) -> Option<UplinkCall> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(text) else {
        return None;
    };
    match items.as_slice() {
        [Value::Number(t), Value::String(id), Value::String(action), payload]
            if t.as_u64() == Some(CALL) =>
        {
            Some(UplinkCall {
                action: action.clone(),
                document: json!({"MessageTypeId": CALL, "Id": id, "Action": action, "Payload": payload}),
            })
        }
        _ => None,
    }
}

/// Why a message on `ocpp/cs/{id}` is not a CALL we can send.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DownlinkError {
    /// Not JSON of the EMQX shape.
    #[error("not an EMQX OCPP message: {0}")]
    Unreadable(String),
    /// A CALLRESULT or CALLERROR: an answer to a charger CALL, which the gateway answered itself.
    #[error("MessageTypeId {0} is an answer; the gateway answers charger CALLs itself")]
    Answer(u64),
    /// A message type OCPP-J does not have.
    #[error("MessageTypeId {0} is not an OCPP-J message type")]
    BadType(u64),
}

impl DownlinkError {
    /// Stable short name (metric label, log field).
    pub fn kind(&self) -> &'static str {
        match self {
            DownlinkError::Unreadable(_) => "bad_command",
            DownlinkError::Answer(_) => "ignored_answer",
            DownlinkError::BadType(_) => "bad_command",
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Downlink {
    message_type_id: u64,
    #[serde(default)]
    id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    payload: Value,
}

/// The `ocpp_call` command a downlink CALL asks for.
pub fn downlink(payload: &[u8]) -> Result<Command, DownlinkError> {
    let d: Downlink =
        serde_json::from_slice(payload).map_err(|e| DownlinkError::Unreadable(e.to_string()))?;
    match d.message_type_id {
        CALL if d.id.is_empty() || d.action.is_empty() => Err(DownlinkError::Unreadable(
            "Id and Action are required".into(),
        )),
        CALL => Ok(Command {
            id: d.id,
            kind: CommandKind::OcppCall(OcppCallArgs {
                action: d.action,
                payload: if d.payload.is_null() {
                    json!({})
                } else {
                    d.payload
                },
            }),
        }),
        CALLRESULT | CALLERROR => Err(DownlinkError::Answer(d.message_type_id)),
        other => Err(DownlinkError::BadType(other)),
    }
}

/// The EMQX reply document for the result of an `ocpp_call`.
pub fn reply(result: &CommandResultData) -> Value {
    let id = &result.command_id;
    let d = &result.detail;
    if let Some(payload) = d.get("payload") {
        // The charger's CALLRESULT (`ocpp::command::passthrough_result`).
        return json!({"MessageTypeId": CALLRESULT, "Id": id, "Payload": payload});
    }
    if let (Some(code), Some(description)) = (
        d.get("code").and_then(Value::as_str),
        d.get("description").and_then(Value::as_str),
    ) {
        // The charger's own CALLERROR (`ocpp::command::error_result`).
        let details = d.get("details").cloned().unwrap_or_else(|| json!({}));
        return json!({"MessageTypeId": CALLERROR, "Id": id, "ErrorCode": code,
                      "ErrorDescription": description, "ErrorDetails": details});
    }
    let status = serde_json::to_value(result.status).unwrap_or(Value::Null);
    let code = match result.status {
        CommandStatus::NotSupported => "NotSupported",
        _ => GATEWAY_ERROR,
    };
    json!({"MessageTypeId": CALLERROR, "Id": id, "ErrorCode": code,
           "ErrorDescription": format!("gateway: {}", status.as_str().unwrap_or("failed")),
           "ErrorDetails": {"status": status, "detail": d}})
}

/// Runs the downlink `command` for `charger` on a task of its own and publishes the EMQX reply on `topic`.
pub fn spawn_dispatch(
    dispatcher: Arc<dyn CommandDispatcher>,
    out: mpsc::Sender<Outbound>,
    topic: String,
    qos: rumqttc::QoS,
    charger: String,
    command: Command,
) {
    tokio::spawn(async move {
        let result = dispatcher.dispatch(charger.clone(), command).await;
        tracing::info!(charger = %charger, id = %result.command_id, status = ?result.status, "EMQX OCPP CALL answered");
        send_reply(&out, topic, qos, &charger, &reply(&result)).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_charger_call_becomes_the_emqx_document_and_answers_are_skipped() {
        let call = uplink_call(br#"[2,"m1","Heartbeat",{}]"#).unwrap();
        assert_eq!(call.action, "Heartbeat");
        assert_eq!(
            call.document,
            json!({"MessageTypeId":2,"Id":"m1","Action":"Heartbeat","Payload":{}})
        );
        assert_eq!(uplink_call(br#"[3,"m1",{}]"#), None);
        assert_eq!(uplink_call(b"not json"), None);
        assert_eq!(uplink_call(br#"[2,"m1"]"#), None);
    }

    #[test]
    fn a_downlink_call_becomes_an_ocpp_call_command_under_the_backend_id() {
        let c = downlink(
            br#"{"MessageTypeId":2,"Id":"b-1","Action":"Reset","Payload":{"type":"Soft"}}"#,
        )
        .unwrap();
        assert_eq!(c.id, "b-1");
        assert_eq!(
            c.kind,
            CommandKind::OcppCall(OcppCallArgs {
                action: "Reset".into(),
                payload: json!({"type":"Soft"})
            })
        );
        assert_eq!(
            downlink(br#"{"MessageTypeId":3,"Id":"x","Payload":{}}"#),
            Err(DownlinkError::Answer(3))
        );
        assert!(matches!(
            downlink(br#"{"MessageTypeId":2,"Id":"x"}"#),
            Err(DownlinkError::Unreadable(_))
        ));
        assert!(matches!(downlink(b"[]"), Err(DownlinkError::Unreadable(_))));
        assert_eq!(
            downlink(br#"{"MessageTypeId":9,"Id":"x"}"#),
            Err(DownlinkError::BadType(9))
        );
    }

    fn result(status: CommandStatus, detail: Value) -> CommandResultData {
        CommandResultData {
            command_id: "b-1".into(),
            command: "ocpp_call".into(),
            status,
            detail,
        }
    }

    #[test]
    fn results_map_to_callresult_or_callerror() {
        let ok = reply(&result(
            CommandStatus::Accepted,
            json!({"payload": {"status": "Accepted"}}),
        ));
        assert_eq!(
            ok,
            json!({"MessageTypeId":3,"Id":"b-1","Payload":{"status":"Accepted"}})
        );
        let rejected = reply(&result(
            CommandStatus::Rejected,
            json!({"payload": {"status": "Rejected"}}),
        ));
        assert_eq!(rejected["MessageTypeId"], 3);
        let charger_error = reply(&result(
            CommandStatus::NotSupported,
            json!({"code": "NotImplemented", "description": "no", "details": {}}),
        ));
        assert_eq!(
            charger_error,
            json!({"MessageTypeId":4,"Id":"b-1","ErrorCode":"NotImplemented","ErrorDescription":"no","ErrorDetails":{}})
        );
        let offline = reply(&result(CommandStatus::Timeout, Value::Null));
        assert_eq!(offline["MessageTypeId"], 4);
        assert_eq!(offline["ErrorCode"], "GenericError");
        assert_eq!(offline["ErrorDescription"], "gateway: timeout");
    }
}
