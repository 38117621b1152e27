//! cargo-fuzz target `ws_subscriber`; the body and its invariants are in `chargegate::ws::fuzzing::ws_subscriber`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate::ws::fuzzing::ws_subscriber(data));
