//! `device-sim`: plays EV chargers against a Chargegate gateway.
//!
//! How it fits the whole: the gateway terminates charger connections; this crate is the other end of those
//! connections. Each simulated charger is one tokio task running the YKC state machine in [`charger`]
//! (connect → 0x01 login → check 0x02 → 0x03 heartbeats checked against 0x04 → optional 0x13 real-time data).
//! All frames are built and checked with `chargegate-codec`, so the simulator speaks exactly the bytes the codec
//! accepts. Counters are shared in [`stats`]; [`run`] spawns the fleet and returns its summary. It grows into the
//! full load tester of issue #6.

pub mod charger;
pub mod duration;
pub mod rng;
pub mod run;
pub mod stats;

pub use charger::{ChargerConfig, ChargerError};
pub use run::{run, RunConfig};
pub use stats::{Stats, Summary};
