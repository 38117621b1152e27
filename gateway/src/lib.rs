//! # chargegate
//!
//! The gateway runtime around [`chargegate_codec`]: listeners, the per-connection pipeline, sessions, routing and
//! sinks, and the command-line tools built on the codecs.
//!
//! Runtime shell, one concept per module:
//! - [`config`]: the TOML/env/CLI configuration and `check-config`.
//! - [`server`]: the boss (one acceptor per listener) and the worker event loops the connections live on.
//! - [`metrics`]: the Prometheus registry and the cheap per-worker handles the hot path uses.
//! - [`http`]: `/metrics`, health, the REST API and the OCPP-J/WebSocket route hooks (axum).
//! - [`route`]: the in-process event bus and the JSON-lines sink.
//! - [`shutdown`]: signals to a cancellation token, and the drain deadline.
//! - [`app`]: assembles all of the above from a configuration into a gateway that serves chargers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod mqtt;
pub mod pipeline;
pub mod route;
pub mod server;
pub mod session;
pub mod shutdown;
pub mod ws;
