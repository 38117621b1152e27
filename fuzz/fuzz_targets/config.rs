//! cargo-fuzz target `config`; the body and its invariants are in `chargegate::fuzzing::config` (gateway).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate::fuzzing::config(data));
