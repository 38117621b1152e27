//! The per-connection OCPP logic, sans-I/O: one OCPP-J text message in, a [`DecodedFrame`] (events, reply plan,
//! correlation) out; normalized commands out as CALLs with our own message ids.
//!
//! The same [`OcppSession`] serves every transport — the OCPP-J WebSocket route and the OCPP-like JSON envelopes
//! over raw TCP ([`super::envelope`]) — because [`super::plugin`] only strips the transport framing and hands
//! the JSON text here. What the session decides:
//!
//! - **Boot gate** (CORE §4.2, ERR §3.8): until a BootNotification was accepted, any other CALL is answered
//!   CALLERROR `SecurityError`. On the WebSocket the identity was proven at the handshake, so the boot gate lives
//!   here; over raw TCP the BootNotification *is* the login and the gateway's auth layer gates the rest.
//! - **Local answers** ([`AnswerMode::Local`], the default): BootNotification.conf with the granted heartbeat
//!   interval, Heartbeat, StatusNotification, Authorize, Start/StopTransaction (transaction ids assigned here),
//!   MeterValues, DataTransfer and the status notifications. StopTransaction.conf is a billing acknowledgement:
//!   it is deferred until the gateway has the event upstream. [`AnswerMode::Transparent`] answers nothing and
//!   forwards each CALL as an `ocpp_call` notice for a backend to answer.
//! - **Validation**: every CALL is checked against the vendored schemas; a failure is answered with the CALLERROR
//!   code the spec names for it, and broken RPC frames get the reaction [`super::rpc::RpcError::reaction`] says.
//! - **Commands**: each CALL we send gets a fresh message id; replies are correlated by that id (the gateway's
//!   correlator keeps one CALL outstanding).
//!
//! Time is a parameter: the session asks the injected [`WallClock`] for `currentTime`; the crate has no clock.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::command::{self, CommandError};
use super::normalize::{normalize_v16, v201::normalize_v201};
use super::rpc::{self, Message, Reaction};
use super::{answers, v16, v201, ErrorCode, OcppVersion, PayloadError};
use crate::command::{Command, CommandKind};
use crate::event::{CommandResultData, CommandStatus, EventBody, Observation, StatusNoticeData};
use crate::plugin::{
    CorrelationKey, Credential, DecodedFrame, DeferredKind, DeferredReply, EncodedCommand,
    FrameError, Inbound, LoginInfo, PluginError, RejectedFrame, ReplyOutcome, ReplyPlan,
};

/// Heartbeat interval granted in BootNotification.conf unless configured otherwise (OCPP's common default).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(300);
/// Extra silence allowed past the granted interval before a charger is declared offline.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);
/// First transaction id a session assigns (ids are per connection, counted up from here).
const FIRST_TRANSACTION_ID: i64 = 1;
/// Message type label of a frame that is a CALLRESULT.
const LABEL_RESULT: &str = "CALLRESULT";
/// Message type label of a frame that is a CALLERROR.
const LABEL_ERROR: &str = "CALLERROR";
/// Message type label of a frame that is not a readable RPC message.
const LABEL_INVALID: &str = "invalid";
/// Message type label of a CALL whose action is unknown.
const LABEL_UNKNOWN: &str = "unknown";

/// The source of `currentTime` (RFC 3339) for BootNotification.conf and Heartbeat.conf, injected by the gateway.
pub type WallClock = Arc<dyn Fn() -> String + Send + Sync>;

/// Whether the gateway answers charger CALLs itself or leaves them to a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// Answer BootNotification, Heartbeat, StatusNotification, … locally (a gateway with no backend works).
    #[default]
    Local,
    /// Answer nothing; every CALL is forwarded as an `ocpp_call` notice.
    Transparent,
}

/// Per-listener OCPP settings shared by all sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Heartbeat interval granted in BootNotification.conf.
    pub heartbeat_interval: Duration,
    /// Silence allowed past the interval before the charger is offline.
    pub grace: Duration,
    /// Local answers or transparent forwarding.
    pub mode: AnswerMode,
    /// Validate CALL payloads against the schemas (on by default; off only to tolerate a broken charger).
    pub validate: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            grace: DEFAULT_GRACE,
            mode: AnswerMode::Local,
            validate: true,
        }
    }
}

impl SessionConfig {
    /// The liveness timeout this config implies: the granted interval plus grace.
    pub fn liveness_timeout(&self) -> Duration {
        self.heartbeat_interval.saturating_add(self.grace)
    }
}

/// How the charger's identity is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Not yet: the BootNotification is the login and names the charger by its serial number (raw TCP).
    FromBoot,
    /// Proven before the first message (the WebSocket URL and Basic auth); BootNotification is not a login.
    Established(String),
}

/// One charger connection's OCPP state.
pub struct OcppSession {
    version: OcppVersion,
    config: SessionConfig,
    clock: WallClock,
    identity: Identity,
    booted: bool,
    next_transaction: i64,
    next_message: u64,
}

impl std::fmt::Debug for OcppSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcppSession")
            .field("version", &self.version)
            .field("identity", &self.identity)
            .field("booted", &self.booted)
            .finish_non_exhaustive()
    }
}

impl OcppSession {
    /// A fresh session speaking `version`.
    pub fn new(
        version: OcppVersion,
        identity: Identity,
        config: SessionConfig,
        clock: WallClock,
    ) -> Self {
        OcppSession {
            version,
            config,
            clock,
            identity,
            booted: false,
            next_transaction: FIRST_TRANSACTION_ID,
            next_message: 0,
        }
    }

    /// The negotiated OCPP version.
    pub fn version(&self) -> OcppVersion {
        self.version
    }

    /// Whether a BootNotification has been accepted on this connection.
    pub fn is_booted(&self) -> bool {
        self.booted
    }

    /// The charger id, once known.
    pub fn charger(&self) -> Option<&str> {
        match &self.identity {
            Identity::Established(id) => Some(id),
            Identity::FromBoot => None,
        }
    }

    /// Handles one OCPP-J message; `raw` is the frame as received (kept for the dead-letter topic) and `text` its
    /// JSON text.
    pub fn on_message(&mut self, raw: Bytes, text: &[u8]) -> Inbound {
        let Ok(text) = std::str::from_utf8(text) else {
            return rejected(raw, "text", 0);
        };
        match rpc::parse(text, self.version) {
            Err(error) => match error.reaction(self.version) {
                Reaction::Ignore => rejected(raw, "message", 0),
                Reaction::Answer { id, code } => {
                    let reply = self.error_frame(&id, code, &error.to_string(), None);
                    let mut frame = DecodedFrame::new(LABEL_INVALID, raw, Vec::new());
                    frame.reply = ReplyPlan::Immediate(reply);
                    Inbound::Frame(frame)
                }
            },
            Ok(Message::Call(call)) => {
                self.on_call(raw.clone(), &call.id, &call.action, call.payload)
            }
            Ok(Message::Send(_)) => Inbound::Frame(DecodedFrame::new("SEND", raw, Vec::new())),
            Ok(
                message @ (Message::CallResult(_)
                | Message::CallError(_)
                | Message::CallResultError(_)),
            ) => {
                let label = if matches!(message, Message::CallResult(_)) {
                    LABEL_RESULT
                } else {
                    LABEL_ERROR
                };
                let key = CorrelationKey::Text(message.id().into());
                let mut frame = DecodedFrame::new(label, raw, Vec::new());
                frame.correlation = Some(key);
                Inbound::Frame(frame)
            }
        }
    }

    fn on_call(&mut self, raw: Bytes, id: &str, action: &str, payload: &RawValue) -> Inbound {
        let label = action_label(self.version, action);
        let is_boot = action == "BootNotification";
        if self.config.mode == AnswerMode::Transparent {
            return Inbound::Frame(self.transparent(raw, label, id, action, payload, is_boot));
        }
        if !is_boot && !self.booted && matches!(self.identity, Identity::Established(_)) {
            let reply =
                self.error_frame(id, ErrorCode::SecurityError, "BootNotification first", None);
            let mut frame = DecodedFrame::new(label, raw, Vec::new());
            frame.reply = ReplyPlan::Immediate(reply);
            return Inbound::Frame(frame);
        }
        let outcome = match self.version {
            OcppVersion::V16 => self.call_v16(raw.clone(), label, id, action, payload),
            OcppVersion::V201 | OcppVersion::V21 => {
                self.call_v201(raw.clone(), label, id, action, payload)
            }
        };
        match outcome {
            Ok(frame) => Inbound::Frame(frame),
            Err(error) => {
                let details = error.details();
                let reply = self.error_frame(id, error.code(), &error.to_string(), Some(&details));
                let mut frame = DecodedFrame::new(label, raw, Vec::new());
                frame.reply = ReplyPlan::Immediate(reply);
                Inbound::Frame(frame)
            }
        }
    }

    /// The charger id events are stamped with (empty until a raw-TCP charger booted).
    fn charger_name(&self) -> &str {
        self.charger().unwrap_or_default()
    }

    fn call_v16(
        &mut self,
        raw: Bytes,
        label: &'static str,
        id: &str,
        action: &str,
        payload: &RawValue,
    ) -> Result<DecodedFrame, PayloadError> {
        let request = v16::decode_call(action, payload, self.config.validate)?;
        let mut assigned = None;
        let mut frame = DecodedFrame::new(label, raw, Vec::new());
        let reply: Option<String> = match &request {
            v16::Request::BootNotification(boot) => {
                if let Identity::FromBoot = self.identity {
                    let serial = boot
                        .charge_box_serial_number
                        .clone()
                        .or_else(|| boot.charge_point_serial_number.clone())
                        .ok_or(PayloadError::Typed(
                            "chargeBoxSerialNumber is required over raw TCP".into(),
                        ))?;
                    frame.login = Some(LoginInfo {
                        charger_id: serial.clone(),
                        credential: Credential::None,
                    });
                    self.identity = Identity::Established(serial);
                    frame.reply = ReplyPlan::Deferred(DeferredReply {
                        kind: DeferredKind::Login,
                        context: Bytes::copy_from_slice(id.as_bytes()),
                    });
                    None
                } else {
                    self.booted = true;
                    Some(self.boot_conf(id, v16::BootNotificationStatus::Accepted))
                }
            }
            v16::Request::Heartbeat(_) => Some(encode(id, &answers::heartbeat(&(self.clock)()))),
            v16::Request::StatusNotification(_) => {
                Some(encode(id, &answers::status_notification()))
            }
            v16::Request::MeterValues(_) => Some(encode(id, &answers::meter_values())),
            v16::Request::Authorize(_) => Some(encode(
                id,
                &answers::authorize(v16::AuthorizationStatus::Accepted),
            )),
            v16::Request::StartTransaction(_) => {
                let txn = self.next_transaction;
                self.next_transaction = txn.checked_add(1).unwrap_or(FIRST_TRANSACTION_ID);
                assigned = Some(txn);
                Some(encode(
                    id,
                    &answers::start_transaction(txn, v16::AuthorizationStatus::Accepted),
                ))
            }
            v16::Request::StopTransaction(stop) => {
                frame.billing = true;
                let mut context = Vec::with_capacity(id.len() + 1);
                context.push(u8::from(stop.id_tag.is_some()));
                context.extend_from_slice(id.as_bytes());
                frame.reply = ReplyPlan::Deferred(DeferredReply {
                    kind: DeferredKind::BillingAck,
                    context: Bytes::from(context),
                });
                None
            }
            v16::Request::DataTransfer(_) => Some(encode(
                id,
                &answers::data_transfer(v16::DataTransferStatus::Accepted, None),
            )),
            v16::Request::FirmwareStatusNotification(_)
            | v16::Request::DiagnosticsStatusNotification(_)
            | v16::Request::LogStatusNotification(_)
            | v16::Request::SecurityEventNotification(_)
            | v16::Request::SignedFirmwareStatusNotification(_) => Some(encode(id, &json!({}))),
            other => {
                return Err(PayloadError::WrongDirection(other.action().as_str()));
            }
        };
        frame.observations = normalize_v16(self.charger_name(), &request, assigned);
        if let Some(text) = reply {
            frame.reply = ReplyPlan::Immediate(Bytes::from(text));
        }
        Ok(frame)
    }

    fn call_v201(
        &mut self,
        raw: Bytes,
        label: &'static str,
        id: &str,
        action: &str,
        payload: &RawValue,
    ) -> Result<DecodedFrame, PayloadError> {
        let request = v201::decode_call(action, payload, self.config.validate)?;
        let now = (self.clock)();
        let answer = match request.action() {
            v201::Action::BootNotification => {
                self.booted = true;
                json!({"currentTime": now, "interval": self.interval_s(), "status": "Accepted"})
            }
            v201::Action::Heartbeat => json!({"currentTime": now}),
            v201::Action::Authorize => json!({"idTokenInfo": {"status": "Accepted"}}),
            v201::Action::StatusNotification
            | v201::Action::MeterValues
            | v201::Action::TransactionEvent => json!({}),
            other => return Err(PayloadError::WrongDirection(other.as_str())),
        };
        let observations = normalize_v201(self.charger_name(), &request);
        let mut frame = DecodedFrame::new(label, raw, observations);
        frame.reply = ReplyPlan::Immediate(Bytes::from(encode(id, &answer)));
        Ok(frame)
    }

    fn transparent(
        &mut self,
        raw: Bytes,
        label: &'static str,
        id: &str,
        action: &str,
        payload: &RawValue,
        is_boot: bool,
    ) -> DecodedFrame {
        if is_boot {
            self.booted = true;
        }
        let payload: Value = serde_json::from_str(payload.get()).unwrap_or(Value::Null);
        let notice = Observation::charger(
            self.charger_name(),
            EventBody::Notice(StatusNoticeData {
                topic: "ocpp_call".into(),
                detail: json!({"id": id, "action": action, "payload": payload}),
            }),
        );
        DecodedFrame::new(label, raw, vec![notice])
    }

    /// A remote-start id for 2.0.1 RequestStartTransaction (the next message counter value).
    fn next_remote_start(&self) -> i64 {
        i64::try_from(self.next_message.wrapping_add(1)).unwrap_or(0)
    }

    fn interval_s(&self) -> i64 {
        i64::try_from(self.config.heartbeat_interval.as_secs()).unwrap_or(i64::MAX)
    }

    fn boot_conf(&self, id: &str, status: v16::BootNotificationStatus) -> String {
        let conf = answers::boot_notification(status, self.interval_s(), &(self.clock)());
        encode(id, &conf)
    }

    /// A CALLERROR spelled for this session's version.
    pub fn error_frame(
        &self,
        id: &str,
        code: ErrorCode,
        description: &str,
        details: Option<&Value>,
    ) -> Bytes {
        let text =
            rpc::encode_error(id, code, description, details, self.version).unwrap_or_default();
        Bytes::from(text)
    }

    /// The answer to a frame that arrived before the login (raw TCP): CALLERROR `SecurityError` under its id.
    pub fn refusal(&self, text: &[u8]) -> Bytes {
        let id = std::str::from_utf8(text)
            .ok()
            .and_then(|t| rpc::parse(t, self.version).ok().map(|m| m.id().to_owned()))
            .unwrap_or_else(|| rpc::UNKNOWN_ID.to_owned());
        self.error_frame(
            &id,
            ErrorCode::SecurityError,
            "BootNotification first",
            None,
        )
    }

    /// The reply the gateway released: BootNotification.conf (raw-TCP login) or StopTransaction.conf (billing
    /// ack; when upstream failed, CALLERROR `InternalError` so the charger retries the transaction message).
    pub fn deferred(
        &mut self,
        reply: &DeferredReply,
        outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        match reply.kind {
            DeferredKind::Login => {
                let id = std::str::from_utf8(&reply.context)
                    .map_err(|_| PluginError::BadReplyContext)?;
                let status = if outcome == ReplyOutcome::Accepted {
                    self.booted = true;
                    v16::BootNotificationStatus::Accepted
                } else {
                    v16::BootNotificationStatus::Rejected
                };
                Ok(Some(Bytes::from(self.boot_conf(id, status))))
            }
            DeferredKind::BillingAck => {
                let (flag, id) = reply
                    .context
                    .split_first()
                    .ok_or(PluginError::BadReplyContext)?;
                let id = std::str::from_utf8(id).map_err(|_| PluginError::BadReplyContext)?;
                if outcome != ReplyOutcome::Accepted {
                    return Ok(Some(self.error_frame(
                        id,
                        ErrorCode::InternalError,
                        "transaction not stored upstream; please retry",
                        None,
                    )));
                }
                let status = (*flag != 0).then_some(v16::AuthorizationStatus::Accepted);
                Ok(Some(Bytes::from(encode(
                    id,
                    &answers::stop_transaction(status),
                ))))
            }
        }
    }

    /// Encodes a normalized command as a CALL with a fresh message id (the correlation key of its reply).
    pub fn encode_command(
        &mut self,
        command: &Command,
    ) -> Result<(String, EncodedCommand), PluginError> {
        let call = match self.version {
            OcppVersion::V16 => command::to_v16_call(&command.kind),
            OcppVersion::V201 | OcppVersion::V21 => {
                command::to_v201_call(&command.kind, self.next_remote_start())
            }
        }
        .map_err(|e| match e {
            CommandError::NotSupported(name) => PluginError::Unsupported { command: name },
            CommandError::BadArgument(field) => PluginError::BadArgument {
                field,
                reason: "missing or out of range",
            },
            CommandError::Invalid(_) => PluginError::BadArgument {
                field: "payload",
                reason: "fails the action's schema",
            },
        })?;
        self.next_message = self.next_message.wrapping_add(1);
        // A passed-through CALL keeps the backend's id, so its answer carries the id the backend waits for.
        let id = match &command.kind {
            CommandKind::OcppCall(_) if !command.id.is_empty() => command.id.clone(),
            _ => format!("cg-{}", self.next_message),
        };
        let text = call.encode(&id).map_err(|_| PluginError::BadArgument {
            field: "payload",
            reason: "cannot be serialized",
        })?;
        let encoded = EncodedCommand {
            bytes: Bytes::from(text),
            correlation: CorrelationKey::Text(id.as_str().into()),
            single_outstanding: true,
        };
        Ok((id, encoded))
    }

    /// Maps the charger's CALLRESULT / CALLERROR text (`text`) for `command` to its result.
    pub fn command_result(&self, command: &Command, text: &[u8]) -> CommandResultData {
        let failed = |why: &str| CommandResultData {
            command_id: command.id.clone(),
            command: command.kind.name().to_owned(),
            status: CommandStatus::Failed,
            detail: json!({"error": why}),
        };
        let Ok(text) = std::str::from_utf8(text) else {
            return failed("reply is not UTF-8");
        };
        let Ok(message) = rpc::parse(text, self.version) else {
            return failed("reply is not an OCPP-J message");
        };
        if let CommandKind::OcppCall(_) = &command.kind {
            return match message {
                Message::CallResult(result) => {
                    command::passthrough_result(&command.id, &command.kind, &result)
                }
                Message::CallError(error) | Message::CallResultError(error) => {
                    command::error_result(&command.id, &command.kind, &error)
                }
                Message::Call(_) | Message::Send(_) => failed("reply is a request"),
            };
        }
        match message {
            Message::CallResult(result) => match self.version {
                OcppVersion::V16 => match command::to_v16_call(&command.kind)
                    .ok()
                    .and_then(|c| v16::Action::from_name(c.action))
                {
                    Some(action) => {
                        command::v16_result(&command.id, &command.kind, action, &result)
                    }
                    None => failed("no OCPP action for this command"),
                },
                OcppVersion::V201 | OcppVersion::V21 => {
                    match command::to_v201_call(&command.kind, 0)
                        .ok()
                        .and_then(|c| v201::Action::from_name(c.action))
                    {
                        Some(action) => {
                            command::v201_result(&command.id, &command.kind, action, &result)
                        }
                        None => failed("no OCPP action for this command"),
                    }
                }
            },
            Message::CallError(error) | Message::CallResultError(error) => {
                command::error_result(&command.id, &command.kind, &error)
            }
            Message::Call(_) | Message::Send(_) => failed("reply is a request"),
        }
    }
}

fn encode(id: &str, payload: &impl serde::Serialize) -> String {
    rpc::encode_result(id, payload).unwrap_or_default()
}

fn rejected(raw: Bytes, field: &'static str, offset: usize) -> Inbound {
    Inbound::Rejected(RejectedFrame {
        raw,
        error: FrameError::Malformed { field, offset },
    })
}

/// The metric label of an action: its canonical name when known, `unknown` otherwise (never the charger's text).
fn action_label(version: OcppVersion, action: &str) -> &'static str {
    match version {
        OcppVersion::V16 => {
            v16::Action::from_name(action).map_or(LABEL_UNKNOWN, v16::Action::as_str)
        }
        OcppVersion::V201 | OcppVersion::V21 => {
            v201::Action::from_name(action).map_or(LABEL_UNKNOWN, v201::Action::as_str)
        }
    }
}

#[cfg(test)]
mod tests;
