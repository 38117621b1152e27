//! cargo-fuzz target `ocpp_roundtrip`; the body and its invariants are in `chargegate_codec::fuzzing::ocpp_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::ocpp_roundtrip(data));
