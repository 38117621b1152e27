//! cargo-fuzz target `ocpp_rpc`; the body and its invariants are in `chargegate_codec::fuzzing::ocpp_rpc`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::ocpp_rpc(data));
