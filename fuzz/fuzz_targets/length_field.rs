//! cargo-fuzz target `length_field`; the body and its invariants are in `chargegate_codec::fuzzing::length_field`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::length_field(data));
