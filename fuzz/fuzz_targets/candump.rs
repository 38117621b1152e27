//! cargo-fuzz target `candump`; the body and its invariants are in `chargegate_codec::fuzzing::candump`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::candump(data));
