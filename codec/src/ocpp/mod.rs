//! OCPP-J RPC framing and typed payloads.
