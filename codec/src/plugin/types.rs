//! The values that cross the plug-in seam: detection results, decoded frames, reply plans, encoded commands.

use std::time::Duration;

use bytes::Bytes;

use super::FrameError;
use crate::event::Observation;

/// Outcome of looking at a connection's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detect {
    /// These bytes start a frame of this protocol.
    Match,
    /// These bytes cannot start a frame of this protocol.
    NoMatch,
    /// Too few bytes to tell; ask again when more have arrived.
    NeedMore,
}

/// Silence allowed before a connection is declared offline (`liveness_timeout`), by connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivenessPolicy {
    /// Before login: the auth deadline is the limit, this only applies afterwards while idle.
    pub idle: Duration,
    /// While a charging session runs (chargers heartbeat faster then).
    pub charging: Duration,
}

/// Identity and credential material found in a login frame (YKC 0x01, OCPP BootNotification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInfo {
    /// Charger id as the protocol names it (YKC pile number as 14 digits, OCPP identity).
    pub charger_id: String,
    /// What the charger presented to prove it.
    pub credential: Credential,
}

/// Credential material a charger presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Nothing: identity only (the allow-list decides).
    None,
    /// A shared secret or signature carried in the login frame.
    Secret(Bytes),
    /// A password (OCPP Basic auth), checked against the registry's hash.
    Password(String),
}

/// What correlates a command with its reply: YKC frame type + connector or sequence, an OCPP message id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CorrelationKey {
    /// A numeric key (sequence number, or frame type and connector packed by the codec).
    Number(u64),
    /// A textual key (OCPP message id).
    Text(Box<str>),
}

/// Which decision a deferred reply waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferredKind {
    /// A login reply: needs the auth outcome.
    Login,
    /// A billing acknowledgement: released only once the event is safely upstream.
    BillingAck,
}

/// A reply the codec will encode once the gateway has decided; `context` is codec-owned (sequence number,
/// transaction id, …) and opaque to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredReply {
    /// Which decision it waits for.
    pub kind: DeferredKind,
    /// Whatever the codec needs to build the reply later.
    pub context: Bytes,
}

/// The gateway's decision for a [`DeferredReply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Login accepted, or billing event safely upstream.
    Accepted,
    /// Login refused, or the event could not be stored.
    Rejected,
}

/// How a decoded frame wants to be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyPlan {
    /// No reply.
    None,
    /// Send these bytes now, whatever the gateway decides (heartbeat reply).
    Immediate(Bytes),
    /// Ask [`super::CodecConnection::deferred_reply`] once the decision is known.
    Deferred(DeferredReply),
}

/// What to do with a frame that arrived before the charger authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Close the connection (YKC).
    Close,
    /// Send this error reply and keep waiting for the login (OCPP CALLERROR `SecurityError`).
    Reply(Bytes),
}

/// One frame, decoded and normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    /// Message type label for metrics, such as `"0x03"` or `"Heartbeat"`.
    pub message_type: &'static str,
    /// The whole frame as received (a slice of the read buffer, not a copy); kept for the dead-letter topic.
    pub raw: Bytes,
    /// Present when this is a login frame.
    pub login: Option<LoginInfo>,
    /// What the frame says, normalized.
    pub observations: Vec<Observation>,
    /// Present when this frame answers a command.
    pub correlation: Option<CorrelationKey>,
    /// Losing it would lose money: acknowledge only after upstream has it.
    pub billing: bool,
    /// How to answer it.
    pub reply: ReplyPlan,
}

impl DecodedFrame {
    /// A frame with no login, correlation, billing flag or reply; fill in what applies.
    pub fn new(message_type: &'static str, raw: Bytes, observations: Vec<Observation>) -> Self {
        DecodedFrame {
            message_type,
            raw,
            login: None,
            observations,
            correlation: None,
            billing: false,
            reply: ReplyPlan::None,
        }
    }
}

/// A frame the codec could not accept; the stream goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedFrame {
    /// The bytes that were skipped, for the dead-letter topic.
    pub raw: Bytes,
    /// Why.
    pub error: FrameError,
}

/// One outcome of [`super::CodecConnection::decode`].
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A good frame.
    Frame(DecodedFrame),
    /// A bad frame, skipped.
    Rejected(RejectedFrame),
}

/// A command in wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedCommand {
    /// The request frame.
    pub bytes: Bytes,
    /// The key the reply will carry.
    pub correlation: CorrelationKey,
    /// The protocol allows only one outstanding request per connection (OCPP): queue the others.
    pub single_outstanding: bool,
}
