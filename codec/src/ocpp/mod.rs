//! OCPP-J: RPC framing, typed payloads for 1.6 and 2.0.1, schema validation, normalization and commands.
//!
//! A WebSocket text frame goes through [`rpc::parse`] (framing, borrowed payload), then a version module's
//! `decode_call` / `decode_response` (schema check against the vendored official schemas, then typed serde
//! structs), then [`normalize`] into the crate's event model. The other way, [`command`] turns a normalized
//! command into a CALL and its answer into a `command_result`, and [`answers`] builds the replies a gateway sends
//! when it answers a charger itself. [`session`] is the per-connection logic (boot gate, local answers, message ids) that [`plugin`] serves
//! as a gateway codec over the WebSocket bridge and over the raw-TCP [`envelope`]s. Everything is sans-I/O: time
//! and ids come in as parameters.

pub mod answers;
pub mod basic_auth;
pub mod command;
pub mod envelope;
pub mod error;
pub mod normalize;
pub mod plugin;
pub mod rpc;
pub mod schema;
pub mod session;
pub mod v16;
pub mod v201;
pub mod validate;
mod wire_enum;

pub use error::{ErrorCode, OcppVersion};
pub use rpc::{Call, CallError, CallResult, Message, Reaction, RpcError};
pub use schema::{PayloadError, PayloadKind};
