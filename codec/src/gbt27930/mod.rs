//! GB/T 27930-2015: the CAN messages between an off-board DC charger and the vehicle's battery management system
//! (BMS).
//!
//! Chargegate meets these messages twice: inside YKC frames (already reassembled by the pile; the YKC codec calls
//! the per-message `decode` functions here on its byte ranges) and as raw CAN traffic relayed by CAN-to-Ethernet
//! converters. Values come out in SI units with GB/T's resolution and offset applied; currents follow the
//! standard's sign convention, `raw × 0.1 − 400` A, **negative = charging** (towards the battery).
//! 2-bit status fields are read LSB-first, and reserved bits are accepted as 0 or 1.
//!
//! Files, one concept each: [`fields`](self) primitives, one file per message family (`handshake`, `config`,
//! `charging`, `stop`, `timeouts`), `message` (the [`Message`] enum and PGN dispatch).

mod charging;
mod config;
mod error;
mod fields;
mod handshake;
mod message;
mod stop;
mod timeouts;

pub use charging::{Bcl, Bcs, Bmt, Bmv, Bsm, Bsp, Ccs, CellVoltage, ChargeMode};
pub use config::{Bcp, Bro, ChargerTime, Cml, Cro, Cts};
pub use error::GbtError;
pub use fields::{Level2, Permission, Status2};
pub use handshake::{
    BatteryType, Bhm, BmsSoftwareVersion, Brm, Chm, Crm, ProductionDate, ProtocolVersion,
    Recognition,
};
pub use message::{name_of, pgn, priority_of, Message};
pub use stop::{
    Bsd, Bst, BstErrors, BstFaults, BstStopReasons, Csd, Cst, CstErrors, CstFaults, CstStopReasons,
};
pub use timeouts::{Bem, BemTimeouts, Cem, CemTimeouts};
