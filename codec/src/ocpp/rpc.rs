//! OCPP-J RPC framing: `[2,id,action,payload]`, `[3,id,payload]`, `[4,id,code,description,details]`, and the 2.1
//! additions `[5,…]` CALLRESULTERROR and `[6,…]` SEND.
//!
//! Parsing borrows from the frame text: the payload stays a `&RawValue` slice of the input until a caller asks for
//! a typed value, so forwarding or validating a message copies nothing. Parsing never panics; a frame that is not a
//! valid RPC message yields an [`RpcError`] that says how the receiver must react ([`RpcError::reaction`]).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::{ErrorCode, OcppVersion};

/// MessageTypeId of a CALL.
pub const CALL: u8 = 2;
/// MessageTypeId of a CALLRESULT.
pub const CALLRESULT: u8 = 3;
/// MessageTypeId of a CALLERROR.
pub const CALLERROR: u8 = 4;
/// MessageTypeId of a CALLRESULTERROR (2.1 only).
pub const CALLRESULTERROR: u8 = 5;
/// MessageTypeId of a SEND (2.1 only).
pub const SEND: u8 = 6;
/// Longest allowed message id, in characters (J16 §4.1.4).
pub const MAX_ID_CHARS: usize = 36;
/// The message id a 2.0.1 receiver answers with when it cannot read the offending message's id.
pub const UNKNOWN_ID: &str = "-1";
/// Longest `errorDescription` 2.0.1 allows, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// One parsed OCPP-J message, borrowing its payload from the frame text.
#[derive(Debug, Clone)]
pub enum Message<'a> {
    /// `[2, id, action, payload]`: a request.
    Call(Call<'a>),
    /// `[3, id, payload]`: a successful response.
    CallResult(CallResult<'a>),
    /// `[4, id, code, description, details]`: an error response.
    CallError(CallError<'a>),
    /// `[5, id, code, description, details]` (2.1): the receiver could not process a CALLRESULT.
    CallResultError(CallError<'a>),
    /// `[6, id, action, payload]` (2.1): an unconfirmed message, never answered.
    Send(Call<'a>),
}

impl Message<'_> {
    /// The message id.
    pub fn id(&self) -> &str {
        match self {
            Message::Call(c) | Message::Send(c) => &c.id,
            Message::CallResult(r) => &r.id,
            Message::CallError(e) | Message::CallResultError(e) => &e.id,
        }
    }
}

/// A CALL (or SEND): the action and its payload.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// Message id, at most 36 characters.
    pub id: Cow<'a, str>,
    /// Action name, case-sensitive.
    pub action: Cow<'a, str>,
    /// The payload object, unparsed.
    pub payload: &'a RawValue,
}

/// A CALLRESULT: only an id and a payload; the action is known from the outstanding CALL.
#[derive(Debug, Clone)]
pub struct CallResult<'a> {
    /// The id of the CALL answered.
    pub id: Cow<'a, str>,
    /// The payload object, unparsed.
    pub payload: &'a RawValue,
}

/// A CALLERROR (or CALLRESULTERROR). The code is kept as sent; [`CallError::code`] interprets it.
#[derive(Debug, Clone)]
pub struct CallError<'a> {
    /// The id of the CALL answered.
    pub id: Cow<'a, str>,
    /// `errorCode` as sent.
    pub error_code: Cow<'a, str>,
    /// `errorDescription`, possibly empty.
    pub description: Cow<'a, str>,
    /// `errorDetails`, kept verbatim (never dropped).
    pub details: &'a RawValue,
}

impl CallError<'_> {
    /// The error code, accepting both 1.6 typo spellings; `None` for a code no version defines.
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::from_wire(&self.error_code)
    }
}

/// Why a frame is not a valid OCPP-J message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The text is not JSON.
    #[error("frame is not valid JSON")]
    NotJson,
    /// The JSON is not an array starting with an integer MessageTypeId.
    #[error("frame is not an OCPP-J array")]
    NotAnArray,
    /// The MessageTypeId is not one this version defines.
    #[error("unknown MessageTypeId {message_type}")]
    UnknownMessageType {
        /// The number received.
        message_type: u64,
        /// The id, when it could be read.
        id: Option<String>,
    },
    /// The id element is missing or not a string.
    #[error("message id missing or not a string")]
    BadId,
    /// The id is longer than 36 characters.
    #[error("message id of {chars} characters, at most {MAX_ID_CHARS} allowed")]
    IdTooLong {
        /// The id received.
        id: String,
        /// Its length in characters.
        chars: usize,
    },
    /// The array has the wrong number of elements for its type.
    #[error("message type {message_type} needs {expected} elements, got {got}")]
    Arity {
        /// MessageTypeId.
        message_type: u8,
        /// Elements the type needs.
        expected: usize,
        /// Elements received.
        got: usize,
        /// The id.
        id: String,
    },
    /// An element has the wrong JSON type (action, code or description not a string; payload not an object).
    #[error("element {index} of message type {message_type} has the wrong type")]
    ElementType {
        /// MessageTypeId.
        message_type: u8,
        /// Zero-based element index.
        index: usize,
        /// The id.
        id: String,
    },
}

/// What the receiver of a bad frame must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Drop it silently (and count it).
    Ignore,
    /// Answer with a CALLERROR under this id with this code.
    Answer {
        /// Message id of the CALLERROR (`"-1"` when unreadable).
        id: String,
        /// Error code.
        code: ErrorCode,
    },
}

impl RpcError {
    /// A stable metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            RpcError::NotJson => "not_json",
            RpcError::NotAnArray => "not_an_array",
            RpcError::UnknownMessageType { .. } => "unknown_message_type",
            RpcError::BadId => "bad_id",
            RpcError::IdTooLong { .. } => "id_too_long",
            RpcError::Arity { .. } => "arity",
            RpcError::ElementType { .. } => "element_type",
        }
    }

    /// How a receiver speaking `version` reacts: 1.6 and 2.1 ignore unknown message types, 2.0.1 answers
    /// `MessageTypeNotSupported`; structural errors are answered (id `"-1"` when unreadable), with
    /// `RpcFrameworkError` in 2.x and the nearest 1.6 code (`FormationViolation` / `ProtocolError`) in 1.6.
    pub fn reaction(&self, version: OcppVersion) -> Reaction {
        let framework = if version == OcppVersion::V16 {
            ErrorCode::FormatViolation
        } else {
            ErrorCode::RpcFrameworkError
        };
        let incomplete = if version == OcppVersion::V16 {
            ErrorCode::ProtocolError
        } else {
            ErrorCode::RpcFrameworkError
        };
        let answer = |id: &str, code| Reaction::Answer {
            id: id.to_owned(),
            code,
        };
        match self {
            RpcError::UnknownMessageType { id, .. } => match version {
                OcppVersion::V201 => answer(
                    id.as_deref().unwrap_or(UNKNOWN_ID),
                    ErrorCode::MessageTypeNotSupported,
                ),
                OcppVersion::V16 | OcppVersion::V21 => Reaction::Ignore,
            },
            RpcError::NotJson | RpcError::NotAnArray | RpcError::BadId => {
                answer(UNKNOWN_ID, framework)
            }
            RpcError::IdTooLong { id, .. } => answer(id, incomplete),
            RpcError::Arity {
                id, message_type, ..
            }
            | RpcError::ElementType {
                id, message_type, ..
            } => {
                if *message_type == CALL {
                    answer(id, incomplete)
                } else {
                    // A broken response or error is not answered: that would start a ping-pong of errors.
                    Reaction::Ignore
                }
            }
        }
    }
}

/// Parses one frame. 2.1 message types (5, 6) are accepted only when `version` is [`OcppVersion::V21`].
pub fn parse(text: &str, version: OcppVersion) -> Result<Message<'_>, RpcError> {
    let elems: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            RpcError::NotAnArray
        } else {
            RpcError::NotJson
        }
    })?;
    let first = elems.first().ok_or(RpcError::NotAnArray)?;
    let message_type: u64 = serde_json::from_str(first.get()).map_err(|_| RpcError::NotAnArray)?;
    let id = elems.get(1).and_then(|raw| string_of(raw));
    let known = matches!(message_type, 2..=4)
        || (version == OcppVersion::V21 && matches!(message_type, 5 | 6));
    if !known {
        return Err(RpcError::UnknownMessageType {
            message_type,
            id: id.map(Cow::into_owned),
        });
    }
    let message_type = u8::try_from(message_type).map_err(|_| RpcError::NotAnArray)?;
    let id = id.ok_or(RpcError::BadId)?;
    let chars = id.chars().count();
    if chars > MAX_ID_CHARS {
        return Err(RpcError::IdTooLong {
            id: id.into_owned(),
            chars,
        });
    }
    let expected = match message_type {
        CALL | SEND => 4,
        CALLRESULT => 3,
        _ => 5,
    };
    if elems.len() != expected {
        return Err(RpcError::Arity {
            message_type,
            expected,
            got: elems.len(),
            id: id.into_owned(),
        });
    }
    let bad = |index: usize, id: &str| RpcError::ElementType {
        message_type,
        index,
        id: id.to_owned(),
    };
    let object_at = |index: usize| {
        elems
            .get(index)
            .copied()
            .filter(|raw| raw.get().starts_with('{'))
    };
    let string_at = |index: usize| elems.get(index).and_then(|raw| string_of(raw));
    Ok(match message_type {
        CALL | SEND => {
            let action = string_at(2).ok_or_else(|| bad(2, &id))?;
            let payload = object_at(3).ok_or_else(|| bad(3, &id))?;
            let call = Call {
                id,
                action,
                payload,
            };
            if message_type == CALL {
                Message::Call(call)
            } else {
                Message::Send(call)
            }
        }
        CALLRESULT => {
            let payload = object_at(2).ok_or_else(|| bad(2, &id))?;
            Message::CallResult(CallResult { id, payload })
        }
        _ => {
            let error_code = string_at(2).ok_or_else(|| bad(2, &id))?;
            let description = string_at(3).ok_or_else(|| bad(3, &id))?;
            let details = object_at(4).ok_or_else(|| bad(4, &id))?;
            let err = CallError {
                id,
                error_code,
                description,
                details,
            };
            if message_type == CALLERROR {
                Message::CallError(err)
            } else {
                Message::CallResultError(err)
            }
        }
    })
}

/// A JSON string element, borrowed when it has no escapes.
fn string_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    if let Ok(s) = serde_json::from_str::<&str>(raw.get()) {
        return Some(Cow::Borrowed(s));
    }
    serde_json::from_str::<String>(raw.get())
        .ok()
        .map(Cow::Owned)
}

/// Encodes a CALL `[2, id, action, payload]`.
pub fn encode_call(id: &str, action: &str, payload: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string(&(CALL, id, action, payload))
}

/// Encodes a CALLRESULT `[3, id, payload]`.
pub fn encode_result(id: &str, payload: &impl Serialize) -> serde_json::Result<String> {
    serde_json::to_string(&(CALLRESULT, id, payload))
}

/// Encodes a CALLERROR `[4, id, code, description, details]` with `code` spelled for `version`; `details` of
/// `None` becomes `{}` as the spec requires, and 2.x descriptions are cut to 255 characters.
pub fn encode_error(
    id: &str,
    code: ErrorCode,
    description: &str,
    details: Option<&Value>,
    version: OcppVersion,
) -> serde_json::Result<String> {
    let empty = Value::Object(serde_json::Map::new());
    let details = details.filter(|d| d.is_object()).unwrap_or(&empty);
    let description = if version == OcppVersion::V16 {
        description
    } else {
        description
            .char_indices()
            .nth(MAX_DESCRIPTION_CHARS)
            .and_then(|(cut, _)| description.get(..cut))
            .unwrap_or(description)
    };
    serde_json::to_string(&(CALLERROR, id, code.as_wire(version), description, details))
}
