//! # device-sim
//!
//! Plays many EV chargers against a gateway to prove what it holds: YKC, OCPP over WebSocket, OCPP over raw TCP
//! and GB/T CAN relays in a configurable mix, each charger a state machine that behaves like the field (login,
//! billing-model check, staggered heartbeats whose period depends on state, charging sessions with telemetry and
//! a transaction record, answers to remote commands, reconnects with exponential backoff and jitter). It shares
//! the codec crate for encoding, checks every reply (CRC, sequence echo, correlation) and counts mismatches,
//! injects faults on request, spreads sockets over source addresses and worker processes, and reports counts and
//! HDR latency histograms as a table or one JSON object. See `docs/device-sim.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod charger;
pub mod fault;
pub mod fleet;
pub mod gbt;
pub mod net;
pub mod observe;
pub mod ocpp;
pub mod procs;
pub mod progress;
pub mod report;
pub mod rng;
pub mod spec;
pub mod ykc;
