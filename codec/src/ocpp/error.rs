//! OCPP versions and CALLERROR codes, with the 1.6 spellings (typos included) on output and both spellings on input.

/// The OCPP-J version negotiated for a connection (its WebSocket subprotocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OcppVersion {
    /// `ocpp1.6`.
    V16,
    /// `ocpp2.0.1`.
    V201,
    /// `ocpp2.1`.
    V21,
}

impl OcppVersion {
    /// The `Sec-WebSocket-Protocol` token.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
            OcppVersion::V21 => "ocpp2.1",
        }
    }

    /// Looks a version up by its subprotocol token (exact match).
    pub fn from_subprotocol(token: &str) -> Option<OcppVersion> {
        match token {
            "ocpp1.6" => Some(OcppVersion::V16),
            "ocpp2.0.1" => Some(OcppVersion::V201),
            "ocpp2.1" => Some(OcppVersion::V21),
            _ => None,
        }
    }

    /// The protocol label used in normalized events (`ocpp/1.6`).
    pub fn event_protocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp/1.6",
            OcppVersion::V201 => "ocpp/2.0.1",
            OcppVersion::V21 => "ocpp/2.1",
        }
    }
}

/// A CALLERROR `errorCode`, independent of how a version spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The action is not known by the receiver.
    NotImplemented,
    /// The action is recognised but not supported.
    NotSupported,
    /// The receiver failed internally.
    InternalError,
    /// 1.6: the payload is incomplete; 2.0.1: the payload does not conform to the PDU structure.
    ProtocolError,
    /// A security issue prevented completing the action.
    SecurityError,
    /// The payload is syntactically wrong (1.6 `FormationViolation`, 2.0.1 `FormatViolation`).
    FormatViolation,
    /// A field has an invalid value.
    PropertyConstraintViolation,
    /// A field violates occurrence constraints (1.6 `OccurenceConstraintViolation`).
    OccurrenceConstraintViolation,
    /// A field has the wrong data type.
    TypeConstraintViolation,
    /// Anything else.
    GenericError,
    /// 2.0.1: unknown MessageTypeId.
    MessageTypeNotSupported,
    /// 2.0.1: the message is not a valid RPC frame.
    RpcFrameworkError,
}

impl ErrorCode {
    /// The spelling `version` puts on the wire: 1.6 keeps its two typos, and the 2.0.1-only codes fall back to the
    /// nearest 1.6 code (`MessageTypeNotSupported` → `NotSupported`, `RpcFrameworkError` → `ProtocolError`).
    pub fn as_wire(self, version: OcppVersion) -> &'static str {
        let v16 = version == OcppVersion::V16;
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormatViolation if v16 => "FormationViolation",
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation if v16 => "OccurenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::MessageTypeNotSupported if v16 => "NotSupported",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
            ErrorCode::RpcFrameworkError if v16 => "ProtocolError",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
        }
    }

    /// Parses an `errorCode` from any version, accepting both spellings of the two 1.6 typos.
    pub fn from_wire(code: &str) -> Option<ErrorCode> {
        Some(match code {
            "NotImplemented" => ErrorCode::NotImplemented,
            "NotSupported" => ErrorCode::NotSupported,
            "InternalError" => ErrorCode::InternalError,
            "ProtocolError" => ErrorCode::ProtocolError,
            "SecurityError" => ErrorCode::SecurityError,
            "FormationViolation" | "FormatViolation" => ErrorCode::FormatViolation,
            "PropertyConstraintViolation" => ErrorCode::PropertyConstraintViolation,
            "OccurenceConstraintViolation" | "OccurrenceConstraintViolation" => {
                ErrorCode::OccurrenceConstraintViolation
            }
            "TypeConstraintViolation" => ErrorCode::TypeConstraintViolation,
            "GenericError" => ErrorCode::GenericError,
            "MessageTypeNotSupported" => ErrorCode::MessageTypeNotSupported,
            "RpcFrameworkError" => ErrorCode::RpcFrameworkError,
            _ => return None,
        })
    }
}
