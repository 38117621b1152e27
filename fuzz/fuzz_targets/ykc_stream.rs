//! cargo-fuzz target `ykc_stream`; the body and its invariants are in `chargegate_codec::fuzzing::ykc_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::ykc_stream(data));
