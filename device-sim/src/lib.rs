//! # device-sim
//!
//! Plays YKC chargers against a gateway: each simulated charger connects, logs in (0x01), checks the login reply
//! (0x02: CRC, sequence echo, result), then heartbeats (0x03) every interval — the first beat offset within one
//! interval, as real fleets should stagger — and checks every heartbeat reply (0x04). It shares the codec crate for
//! encoding and for checking replies, and counts everything it sees. This is the seed of the load tester
//! (issue #6 grows it: protocol mix, charging sessions, faults, latency histograms, many processes).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod charger;
pub mod report;
