//! cargo-fuzz target `frame_decoder`; the body and its invariants are in `chargegate_codec::fuzzing::frame_decoder`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| chargegate_codec::fuzzing::frame_decoder(data));
