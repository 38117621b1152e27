//! Payload validation for both versions: the vendored schemas compiled once, and the mapping from a failed
//! schema keyword to the CALLERROR code the spec names for it.

use std::sync::OnceLock;

use serde_json::Value;

use super::error::ErrorCode;
use super::validate::{CompiledSchema, Keyword, SchemaError, Violation};
use super::{v16, v201};

/// Which payload of an action: the CALL's (request) or the CALLRESULT's (response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// The CALL payload (`.req`).
    Request,
    /// The CALLRESULT payload (`.conf`).
    Response,
}

/// Why a payload was refused, with the CALLERROR code to answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    /// The action name is not known (`NotImplemented`).
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// The action is known but not accepted in this direction (`NotSupported`).
    #[error("action `{0}` is not supported in this direction")]
    WrongDirection(&'static str),
    /// The payload failed its schema.
    #[error(transparent)]
    Schema(#[from] Violation),
    /// The payload is not JSON (only possible when it did not come through [`crate::ocpp::rpc::parse`]).
    #[error("payload is not JSON")]
    NotJson,
    /// Typed decoding failed although the schema passed (or validation was off); carries serde's message.
    #[error("typed decoding failed: {0}")]
    Typed(String),
    /// A vendored schema could not be compiled — a build defect, answered `InternalError`.
    #[error(transparent)]
    BadSchema(#[from] SchemaError),
}

impl PayloadError {
    /// A stable metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            PayloadError::UnknownAction(_) => "unknown_action",
            PayloadError::WrongDirection(_) => "wrong_direction",
            PayloadError::Schema(v) => v.keyword.as_str(),
            PayloadError::NotJson => "not_json",
            PayloadError::Typed(_) => "typed",
            PayloadError::BadSchema(_) => "bad_schema",
        }
    }

    /// The CALLERROR code for this failure (spell it with [`ErrorCode::as_wire`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            PayloadError::UnknownAction(_) => ErrorCode::NotImplemented,
            PayloadError::WrongDirection(_) => ErrorCode::NotSupported,
            PayloadError::Schema(v) => code_for_violation(v),
            PayloadError::NotJson => ErrorCode::FormatViolation,
            PayloadError::Typed(msg) => code_for_serde_message(msg),
            PayloadError::BadSchema(_) => ErrorCode::InternalError,
        }
    }

    /// `errorDetails` for the CALLERROR: the failed keyword and JSON pointer, never the offending JSON itself.
    pub fn details(&self) -> Value {
        match self {
            PayloadError::Schema(v) => {
                serde_json::json!({"keyword": v.keyword.as_str(), "pointer": v.pointer})
            }
            _ => Value::Object(serde_json::Map::new()),
        }
    }
}

/// The code for a failed keyword: payload not an object or an undeclared property → FormatViolation (the
/// payload does not have the PDU's structure); a wrong JSON type → TypeConstraintViolation; a missing required
/// field or a wrong item count → OccurrenceConstraintViolation; a value outside its enum, length, range, step or
/// format → PropertyConstraintViolation.
pub fn code_for_violation(v: &Violation) -> ErrorCode {
    match v.keyword {
        Keyword::Type if v.is_root() => ErrorCode::FormatViolation,
        Keyword::Type => ErrorCode::TypeConstraintViolation,
        Keyword::AdditionalProperties => ErrorCode::FormatViolation,
        Keyword::Required | Keyword::MinItems | Keyword::MaxItems => {
            ErrorCode::OccurrenceConstraintViolation
        }
        Keyword::Enum
        | Keyword::MaxLength
        | Keyword::Minimum
        | Keyword::Maximum
        | Keyword::MultipleOf
        | Keyword::Format => ErrorCode::PropertyConstraintViolation,
    }
}

fn code_for_serde_message(msg: &str) -> ErrorCode {
    if msg.starts_with("missing field") {
        ErrorCode::OccurrenceConstraintViolation
    } else if msg.starts_with("invalid type") {
        ErrorCode::TypeConstraintViolation
    } else if msg.starts_with("unknown variant") || msg.starts_with("invalid value") {
        ErrorCode::PropertyConstraintViolation
    } else {
        ErrorCode::FormatViolation
    }
}

/// Number of schema slots per action (request and response).
const KINDS: usize = 2;
const V16_SLOTS: usize = v16::Action::ALL.len() * KINDS;
const V201_SLOTS: usize = v201::Action::ALL.len() * KINDS;

type Slot = OnceLock<Result<CompiledSchema, SchemaError>>;

static V16_SCHEMAS: [Slot; V16_SLOTS] = [const { OnceLock::new() }; V16_SLOTS];
static V201_SCHEMAS: [Slot; V201_SLOTS] = [const { OnceLock::new() }; V201_SLOTS];

fn slot_index(action_index: usize, kind: PayloadKind) -> usize {
    action_index * KINDS + usize::from(kind == PayloadKind::Response)
}

fn cached<'a>(
    slots: &'a [Slot],
    index: usize,
    text: &str,
) -> Result<&'a CompiledSchema, SchemaError> {
    let slot = slots.get(index).ok_or(SchemaError::RefTooDeep)?;
    slot.get_or_init(|| CompiledSchema::compile(text))
        .as_ref()
        .map_err(Clone::clone)
}

/// The compiled OCPP 1.6 schema of an action's request or response (compiled on first use, then shared).
pub fn v16_schema(
    action: v16::Action,
    kind: PayloadKind,
) -> Result<&'static CompiledSchema, SchemaError> {
    cached(
        &V16_SCHEMAS,
        slot_index(action.index(), kind),
        action.schema_text(kind),
    )
}

/// The compiled OCPP 2.0.1 schema of an action's request or response.
pub fn v201_schema(
    action: v201::Action,
    kind: PayloadKind,
) -> Result<&'static CompiledSchema, SchemaError> {
    cached(
        &V201_SCHEMAS,
        slot_index(action.index(), kind),
        action.schema_text(kind),
    )
}
