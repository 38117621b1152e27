//! # chargegate
//!
//! The gateway runtime around [`chargegate_codec`]: listeners, the per-connection pipeline, sessions, routing and
//! sinks, and the command-line tools built on the codecs.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod pipeline;
pub mod session;
