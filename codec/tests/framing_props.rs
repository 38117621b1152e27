//! Property tests for both framing decoders: the read boundaries never change what comes out (sticky and split
//! packets), no input panics them under any valid configuration, and `FrameSpec::encode` round-trips.

mod framing_support;

use bytes::Bytes;
use chargegate_codec::frame::{
    ByteOrder, CrcAlgorithm, CrcMatch, CrcSpec, FrameDecoder, FrameEvent, FrameSpec, FrameStats,
    LengthFieldConfig, LengthFieldDecoder, SUPPORTED_LENGTH_FIELD_LENGTHS,
};
use framing_support::*;
use proptest::prelude::*;
use proptest::sample::{select, Index};

fn byte_order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Big), Just(ByteOrder::Little)]
}

/// Any configuration `LengthFieldConfig::new` accepts, with small maxima so too-long frames are common.
fn length_config(max: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = LengthFieldConfig> {
    (
        max,
        0usize..6,
        select(SUPPORTED_LENGTH_FIELD_LENGTHS.to_vec()),
        -12i64..12,
        0usize..8,
        byte_order(),
        any::<bool>(),
    )
        .prop_filter_map(
            "config Netty refuses",
            |(max, o, l, a, s, order, fail_fast)| {
                LengthFieldConfig::new(max, o, l, a, s)
                    .ok()
                    .map(|c| c.with_byte_order(order).with_fail_fast(fail_fast))
            },
        )
}

fn crc_spec() -> impl Strategy<Value = CrcSpec> {
    (
        select(CrcAlgorithm::ALL.to_vec()),
        0usize..6,
        0usize..3,
        byte_order(),
        any::<bool>(),
    )
        .prop_map(
            |(algorithm, start, end_gap, byte_order, accept_either_order)| CrcSpec {
                algorithm,
                start,
                end_gap,
                byte_order,
                accept_either_order,
            },
        )
}

/// Any envelope the constructors accept.
fn frame_spec(max: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = FrameSpec> {
    (
        length_config(max),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..3)),
        proptest::option::of(crc_spec()),
    )
        .prop_filter_map(
            "marker overlaps the length field",
            |(length, marker, crc)| {
                let spec = FrameSpec::new(length);
                let spec = match marker {
                    Some(marker) => spec.with_marker(marker).ok()?,
                    None => spec,
                };
                Some(match crc {
                    Some(crc) => spec.with_crc(crc),
                    None => spec,
                })
            },
        )
}

/// A piece of a test stream: noise, a frame built by the spec, or a built frame with one byte flipped.
#[derive(Debug, Clone)]
enum Piece {
    Noise(Vec<u8>),
    Frame(Vec<u8>),
    Damaged(Vec<u8>, Index),
}

fn pieces() -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Piece::Noise),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Piece::Frame),
        (
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<Index>()
        )
            .prop_map(|(p, i)| Piece::Damaged(p, i)),
    ];
    proptest::collection::vec(piece, 0..12)
}

/// Lays the pieces out as one byte stream, building frames with `spec` (pieces it cannot build become noise).
fn stream(spec: &FrameSpec, pieces: &[Piece]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Noise(bytes) => out.extend_from_slice(bytes),
            Piece::Frame(payload) => match spec.encode(payload) {
                Ok(frame) => out.extend_from_slice(&frame),
                Err(_) => out.extend_from_slice(payload),
            },
            Piece::Damaged(payload, at) => {
                let mut frame = spec
                    .encode(payload)
                    .map(|f| f.to_vec())
                    .unwrap_or_else(|_| payload.clone());
                if !frame.is_empty() {
                    let i = at.index(frame.len());
                    frame[i] ^= 0x5A;
                }
                out.extend_from_slice(&frame);
            }
        }
    }
    out
}

fn cuts(stream_len: usize, picks: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = picks.iter().map(|i| i.index(stream_len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// The counters agree with the items yielded.
fn assert_stats_match(events: &[FrameEvent], stats: FrameStats) {
    let count = |kind: &str| events.iter().filter(|e| e.kind() == kind).count() as u32;
    assert_eq!(stats.frames, count("frame"));
    assert_eq!(stats.crc_errors, count("crc_mismatch"));
    assert_eq!(stats.too_long, count("too_long"));
    assert_eq!(stats.corrupted, count("corrupted"));
    assert_eq!(stats.truncated, count("truncated"));
    let garbage: usize = events
        .iter()
        .map(|e| match e {
            FrameEvent::Garbage { skipped } => *skipped,
            _ => 0,
        })
        .sum();
    assert_eq!(stats.garbage_bytes, garbage as u32);
    let swapped = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                FrameEvent::Frame {
                    crc: CrcMatch::Swapped,
                    ..
                }
            )
        })
        .count() as u32;
    assert_eq!(stats.swapped_crc, swapped);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn length_field_decoder_output_does_not_depend_on_read_boundaries(
        config in length_config(1..=120),
        pieces in pieces(),
        picks in proptest::collection::vec(any::<Index>(), 0..10),
    ) {
        let stream = stream(&FrameSpec::new(config), &pieces);
        let mut whole_decoder = LengthFieldDecoder::new(config);
        let whole = decode_whole(&mut whole_decoder, &stream);
        assert_stats_match(&whole, whole_decoder.stats());
        prop_assert_eq!(&decode_bytewise(&mut LengthFieldDecoder::new(config), &stream), &whole);
        let cuts = cuts(stream.len(), &picks);
        prop_assert_eq!(&decode_split(&mut LengthFieldDecoder::new(config), &stream, &cuts), &whole);
    }

    #[test]
    fn frame_decoder_output_does_not_depend_on_read_boundaries(
        spec in frame_spec(1..=120),
        pieces in pieces(),
        picks in proptest::collection::vec(any::<Index>(), 0..10),
    ) {
        let stream = stream(&spec, &pieces);
        let mut whole_decoder = FrameDecoder::new(spec.clone());
        let whole = decode_whole(&mut whole_decoder, &stream);
        assert_stats_match(&whole, whole_decoder.stats());
        prop_assert_eq!(&decode_bytewise(&mut FrameDecoder::new(spec.clone()), &stream), &whole);
        let cuts = cuts(stream.len(), &picks);
        prop_assert_eq!(&decode_split(&mut FrameDecoder::new(spec), &stream, &cuts), &whole);
    }

    #[test]
    fn ykc_decoder_output_does_not_depend_on_read_boundaries(
        pieces in pieces(),
        picks in proptest::collection::vec(any::<Index>(), 0..10),
    ) {
        let spec = ykc_spec();
        let stream = stream(&spec, &pieces);
        let whole = decode_whole(&mut FrameDecoder::new(spec.clone()), &stream);
        prop_assert_eq!(&decode_bytewise(&mut FrameDecoder::new(spec.clone()), &stream), &whole);
        let cuts = cuts(stream.len(), &picks);
        prop_assert_eq!(&decode_split(&mut FrameDecoder::new(spec), &stream, &cuts), &whole);
    }

    #[test]
    fn random_bytes_never_panic_the_length_field_decoder(
        config in length_config(1..=4096),
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        picks in proptest::collection::vec(any::<Index>(), 0..6),
    ) {
        let events = decode_split(&mut LengthFieldDecoder::new(config), &bytes, &cuts(bytes.len(), &picks));
        prop_assert!(events.len() <= bytes.len() + 1);
    }

    #[test]
    fn random_bytes_never_panic_the_frame_decoder(
        spec in frame_spec(1..=4096),
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        picks in proptest::collection::vec(any::<Index>(), 0..6),
    ) {
        let mut decoder = FrameDecoder::new(spec);
        let events = decode_split(&mut decoder, &bytes, &cuts(bytes.len(), &picks));
        assert_stats_match(&events, decoder.stats());
    }

    #[test]
    fn encode_then_decode_round_trips_for_fixed_specs(
        which in 0usize..4,
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 2..80), 1..6),
    ) {
        let spec = fixed_specs().swap_remove(which);
        round_trip(&spec, &payloads)?;
    }

    #[test]
    fn encode_then_decode_round_trips_for_random_specs(
        spec in frame_spec(64..=4096),
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 1..6),
    ) {
        let frames: Result<Vec<Bytes>, _> = payloads.iter().map(|p| spec.encode(p)).collect();
        let frames = frames.map_err(|_| ()).ok();
        prop_assume!(frames.is_some());
        let frames = frames.unwrap_or_default();
        let strip = spec.length().initial_bytes_to_strip();
        prop_assume!(frames.iter().all(|f| f.len() >= strip));
        round_trip(&spec, &payloads)?;
    }
}

/// The YKC envelope and three other shapes: no marker + CRC-32 big-endian, a two-byte marker with a whole-frame
/// length and a CRC gap, and an 8-bit CRC with the header stripped.
fn fixed_specs() -> Vec<FrameSpec> {
    let crc32 = FrameSpec::new(
        LengthFieldConfig::new(1024, 0, 2, 0, 0)
            .unwrap()
            .with_byte_order(ByteOrder::Little),
    )
    .with_crc(CrcSpec {
        algorithm: CrcAlgorithm::Crc32IsoHdlc,
        start: 0,
        end_gap: 0,
        byte_order: ByteOrder::Big,
        accept_either_order: false,
    });
    let two_byte_marker = FrameSpec::new(LengthFieldConfig::new(1024, 2, 2, -4, 0).unwrap())
        .with_marker([0xAA, 0x55])
        .unwrap()
        .with_crc(CrcSpec {
            algorithm: CrcAlgorithm::Crc16Xmodem,
            start: 0,
            end_gap: 1,
            byte_order: ByteOrder::Big,
            accept_either_order: true,
        });
    let stripped = FrameSpec::new(LengthFieldConfig::new(1024, 1, 1, 1, 2).unwrap())
        .with_marker([0x7E])
        .unwrap()
        .with_crc(CrcSpec {
            algorithm: CrcAlgorithm::Crc8Smbus,
            start: 1,
            end_gap: 0,
            byte_order: ByteOrder::Little,
            accept_either_order: false,
        });
    vec![ykc_spec(), crc32, two_byte_marker, stripped]
}

/// Encodes every payload, decodes the concatenation, and expects exactly the frames back (after the strip).
fn round_trip(spec: &FrameSpec, payloads: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let strip = spec.length().initial_bytes_to_strip();
    let crc = if spec.crc().is_some() {
        CrcMatch::InOrder
    } else {
        CrcMatch::Unchecked
    };
    for payload in payloads {
        let frame = spec
            .encode(payload)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        wire.extend_from_slice(&frame);
        expected.push(FrameEvent::Frame {
            bytes: frame.slice(strip..),
            crc,
        });
    }
    let decoded = decode_whole(&mut FrameDecoder::new(spec.clone()), &wire);
    prop_assert_eq!(decoded, expected);
    Ok(())
}
