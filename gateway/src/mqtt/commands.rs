//! Commands from MQTT: `{p}/{charger}/down` carries `{"id","command","args"}` (the REST body); the instance that
//! holds the charger — or, while it is offline, the instance that last held it — runs it through the same
//! dispatcher REST uses and publishes the correlated result on `{p}/{charger}/reply` (QoS 1).

use std::sync::Arc;

use chargegate_codec::command::Command;
use chargegate_codec::event::CommandResultData;
use serde::Serialize;
use tokio::sync::mpsc;

use super::codes;
use super::publisher::Outbound;
use super::record::Record;
use crate::http::CommandDispatcher;

/// The reply document on `{p}/{charger}/reply`.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// The command id the platform chose.
    pub id: String,
    /// Charger id.
    pub charger: String,
    /// Command name (`start`, `stop`, …), empty if the command could not be read.
    pub command: String,
    /// Outcome: `accepted`, `rejected`, `not_supported`, `failed`, `timeout`, `busy`, `offline`.
    pub status: String,
    /// Detail from the charger or the gateway.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
    /// Instance that ran it.
    pub instance: String,
}

impl Reply {
    /// From a dispatcher result.
    pub fn from_result(charger: &str, instance: &str, r: CommandResultData) -> Reply {
        let status = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Reply {
            id: r.command_id,
            charger: charger.to_owned(),
            command: r.command,
            status,
            detail: r.detail,
            instance: instance.to_owned(),
        }
    }
}

/// Reads a down payload; the error text goes into the `rejected` reply.
pub fn parse(payload: &[u8]) -> Result<Command, String> {
    serde_json::from_slice::<Command>(payload).map_err(|e| e.to_string())
}

/// Runs `command` for `charger` on a task of its own and sends the reply to `out` on `topic`.
pub fn spawn_dispatch(
    dispatcher: Arc<dyn CommandDispatcher>,
    out: mpsc::Sender<Outbound>,
    topic: String,
    qos: rumqttc::QoS,
    charger: String,
    instance: String,
    command: Command,
) {
    tokio::spawn(async move {
        let result = dispatcher.dispatch(charger.clone(), command).await;
        tracing::info!(charger = %charger, id = %result.command_id, status = ?result.status, "MQTT command answered");
        let reply = Reply::from_result(&charger, &instance, result);
        send_reply(&out, topic, qos, &charger, &reply).await;
    });
}

/// Publishes a `rejected` reply for a payload that is not a command.
pub async fn reject(
    out: &mpsc::Sender<Outbound>,
    topic: String,
    qos: rumqttc::QoS,
    charger: &str,
    instance: &str,
    payload: &[u8],
    error: String,
) {
    tracing::warn!(charger, error = %error, code = codes::BAD_COMMAND, "MQTT command unreadable");
    let id = serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let reply = Reply {
        id,
        charger: charger.to_owned(),
        command: String::new(),
        status: "rejected".to_owned(),
        detail: serde_json::json!({"error": "bad_command", "code": codes::BAD_COMMAND, "reason": error}),
        instance: instance.to_owned(),
    };
    send_reply(out, topic, qos, charger, &reply).await;
}

/// Publishes one reply document (`{p}/{charger}/reply`, or the EMQX `ocpp/cp/{id}/Reply`) as a critical record.
pub(super) async fn send_reply(
    out: &mpsc::Sender<Outbound>,
    topic: String,
    qos: rumqttc::QoS,
    charger: &str,
    reply: &impl Serialize,
) {
    let payload = match serde_json::to_vec(reply) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(charger, error = %e, "reply not serializable");
            return;
        }
    };
    let record = Record {
        topic,
        qos,
        retain: false,
        payload,
    };
    // The publisher is gone only at shutdown.
    let _ = out
        .send(Outbound {
            record,
            critical: true,
            stored: None,
        })
        .await;
}
