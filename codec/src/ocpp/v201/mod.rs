//! OCPP 2.0.1 payloads for the messages Chargegate types (boot, heartbeat, status, transactions, meter values,
//! authorize, remote start/stop, reset), the action table, and the schema-checked decode entry points.
//!
//! The payload types are generated from the schemas by `codec/schemas/gen_types.py`, so each field's
//! optionality, type and enum matches the official file it came from.

mod action;
pub mod control;
pub mod enums;
pub mod messages;
mod payload;
mod schema_table;
pub mod types;

pub use action::{Action, Initiator};
pub use control::*;
pub use enums::*;
pub use messages::*;
pub use payload::{Request, Response};
pub use types::*;

use serde_json::value::RawValue;
use serde_json::Value;

use super::schema::{v201_schema, PayloadError, PayloadKind};

/// Checks a parsed payload against the action's vendored 2.0.1 schema.
pub fn validate(action: Action, kind: PayloadKind, payload: &Value) -> Result<(), PayloadError> {
    v201_schema(action, kind)?.check_payload(payload)?;
    Ok(())
}

/// Decodes a CALL payload of any action (no direction check): schema first when `validate`, then typed.
pub fn decode_request(
    action: Action,
    payload: &RawValue,
    validate_schema: bool,
) -> Result<Request, PayloadError> {
    let value: Value = serde_json::from_str(payload.get()).map_err(|_| PayloadError::NotJson)?;
    if validate_schema {
        validate(action, PayloadKind::Request, &value)?;
    }
    Request::from_value(action, &value).map_err(|e| PayloadError::Typed(e.to_string()))
}

/// Decodes a CALLRESULT payload; the action is the one remembered for the CALL's id.
pub fn decode_response(
    action: Action,
    payload: &RawValue,
    validate_schema: bool,
) -> Result<Response, PayloadError> {
    let value: Value = serde_json::from_str(payload.get()).map_err(|_| PayloadError::NotJson)?;
    if validate_schema {
        validate(action, PayloadKind::Response, &value)?;
    }
    Response::from_value(action, &value).map_err(|e| PayloadError::Typed(e.to_string()))
}

/// Decodes a CALL received by the central system: an unknown action is `NotImplemented`, an action only the
/// CSMS may start is `NotSupported`, then as [`decode_request`].
pub fn decode_call(
    action: &str,
    payload: &RawValue,
    validate_schema: bool,
) -> Result<Request, PayloadError> {
    let known =
        Action::from_name(action).ok_or_else(|| PayloadError::UnknownAction(action.to_owned()))?;
    if known.initiator() == Initiator::CentralSystem {
        return Err(PayloadError::WrongDirection(known.as_str()));
    }
    decode_request(known, payload, validate_schema)
}
