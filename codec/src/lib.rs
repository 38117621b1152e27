//! # chargegate-codec
//!
//! The sans-I/O half of Chargegate: bytes in, typed frames and normalized events out, and back again.
//! Nothing here opens a socket, reads a clock or spawns a task; time arrives as a parameter. The gateway,
//! `chargegate decode`, `device-sim` and the fuzz targets all share this crate.
//!
//! Layout, one concept per module:
//! - [`frame`]: protocol-neutral framing — the Netty-exact length-field decoder, start-marker resync, CRC checking.
//! - [`ykc`]: the YKC (云快充) V1.5/V1.6 charger protocol.
//! - [`gbt27930`]: GB/T 27930-2015 BMS messages, J1939 transport, the 13-byte CAN relay frame.
//! - [`ocpp`]: OCPP-J RPC framing and payloads.
//! - [`event`]: the normalized event model every protocol maps into.
//! - [`command`]: the normalized command model every protocol maps from.
//! - [`plugin`]: the vendor-codec plug-in trait, the codec registry and versioned rollout.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod command;
pub mod event;
pub mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod gbt27930;
pub mod ocpp;
pub mod plugin;
pub mod ykc;
