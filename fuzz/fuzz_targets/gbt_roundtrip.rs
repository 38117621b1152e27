//! cargo-fuzz target `gbt_roundtrip`; the body and its invariants are in `chargegate_codec::fuzzing::gbt_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::gbt_roundtrip(data));
