//! cargo-fuzz target `ocpp_envelope`; the body and its invariants are in `chargegate_codec::fuzzing::ocpp_envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::ocpp_envelope(data));
