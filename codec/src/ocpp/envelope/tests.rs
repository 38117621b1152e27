//! The OCPP-over-TCP envelopes: hex vectors, round trips, resync after garbage under arbitrary read splits, and
//! declaring an envelope in TOML.

use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

use super::*;
use crate::frame::FrameEvent;

/// The JSON both hex vectors carry.
const HEARTBEAT: &[u8] = br#"[2,"1","Heartbeat",{}]"#;

/// id: ocpp-tcp-heartbeat
/// source: docs/protocols/ocpp-tcp.md (CRC computed independently with a bitwise CRC-16/XMODEM)
const OCPP_TCP_HEARTBEAT: &str = "4f43 0016 5b322c2231222c22486561727462656174222c7b7d5d 2e61";

/// id: ocpp-tcp-alt-heartbeat
/// source: docs/protocols/ocpp-tcp.md (CRC computed independently with zlib's CRC-32)
const OCPP_TCP_ALT_HEARTBEAT: &str =
    "abcdef 01 22000000 5b322c2231222c22486561727462656174222c7b7d5d 7383423d";

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

fn frames(envelope: &Envelope, bytes: &[u8], chunks: &[usize]) -> (Vec<Vec<u8>>, usize) {
    let mut decoder = envelope.decoder();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut garbage = 0;
    let mut rest = bytes;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        buf.extend_from_slice(now);
        rest = later;
        while let Some(event) = decoder.decode(&mut buf).unwrap() {
            match event {
                FrameEvent::Frame { bytes, .. } => {
                    out.push(envelope.payload(&bytes).unwrap().to_vec())
                }
                FrameEvent::Garbage { skipped } => garbage += skipped,
                _ => {}
            }
        }
    }
    while let Some(event) = decoder.decode_eof(&mut buf).unwrap() {
        if let FrameEvent::Garbage { skipped } = event {
            garbage += skipped;
        }
    }
    (out, garbage)
}

#[test]
fn the_ocpp_tcp_preset_encodes_the_documented_heartbeat_vector() {
    let frame = Envelope::ocpp_tcp().encode(HEARTBEAT).unwrap();
    assert_eq!(frame.as_ref(), unhex(OCPP_TCP_HEARTBEAT).as_slice());
}

#[test]
fn the_ocpp_tcp_alt_preset_encodes_the_documented_heartbeat_vector() {
    let frame = Envelope::ocpp_tcp_alt().encode(HEARTBEAT).unwrap();
    assert_eq!(frame.as_ref(), unhex(OCPP_TCP_ALT_HEARTBEAT).as_slice());
}

#[test]
fn both_documented_vectors_decode_to_the_ocpp_j_text() {
    for (envelope, vector) in [
        (Envelope::ocpp_tcp(), OCPP_TCP_HEARTBEAT),
        (Envelope::ocpp_tcp_alt(), OCPP_TCP_ALT_HEARTBEAT),
    ] {
        let (out, garbage) = frames(&envelope, &unhex(vector), &[usize::MAX]);
        assert_eq!(out, vec![HEARTBEAT.to_vec()]);
        assert_eq!(garbage, 0);
    }
}

#[test]
fn the_second_preset_differs_from_the_default_in_every_parameter() {
    let (a, b) = (Envelope::ocpp_tcp(), Envelope::ocpp_tcp_alt());
    let (fa, fb) = (a.frame_spec(), b.frame_spec());
    assert_ne!(fa.marker(), fb.marker());
    assert_ne!(
        fa.length().length_field_offset(),
        fb.length().length_field_offset()
    );
    assert_ne!(
        fa.length().length_field_length(),
        fb.length().length_field_length()
    );
    assert_ne!(fa.length().byte_order(), fb.length().byte_order());
    assert_ne!(
        fa.length().length_adjustment(),
        fb.length().length_adjustment()
    );
    let (ca, cb) = (fa.crc().unwrap(), fb.crc().unwrap());
    assert_ne!(ca.algorithm, cb.algorithm);
    assert_ne!(ca.start, cb.start);
    assert_ne!(ca.byte_order, cb.byte_order);
}

#[test]
fn a_corrupted_crc_is_reported_and_the_next_frame_still_decodes() {
    for envelope in [Envelope::ocpp_tcp(), Envelope::ocpp_tcp_alt()] {
        let mut bad = envelope.encode(HEARTBEAT).unwrap().to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        bad.extend_from_slice(&envelope.encode(br#"[2,"2","Heartbeat",{}]"#).unwrap());
        let (out, _) = frames(&envelope, &bad, &[usize::MAX]);
        assert_eq!(out, vec![br#"[2,"2","Heartbeat",{}]"#.to_vec()]);
    }
}

#[test]
fn an_envelope_is_declared_in_toml_without_rust() {
    let toml = r#"
        header = [0x01]
        [frame]
        marker = [0xAB, 0xCD, 0xEF]
        [frame.length]
        max_frame_length = 1048576
        length_field_offset = 4
        length_field_length = 4
        length_adjustment = -8
        byte_order = "little"
        [frame.crc]
        algorithm = "CRC-32/ISO-HDLC"
        start = 0
        byte_order = "little"
    "#;
    let declared: Envelope = toml::from_str(toml).unwrap();
    assert_eq!(declared, Envelope::ocpp_tcp_alt());
}

#[test]
fn a_header_that_does_not_fill_the_gap_before_the_length_field_is_refused() {
    let toml = r#"
        [frame]
        marker = [0xAB, 0xCD, 0xEF]
        [frame.length]
        max_frame_length = 4096
        length_field_offset = 4
        length_field_length = 4
    "#;
    let err = toml::from_str::<Envelope>(toml).unwrap_err().to_string();
    assert!(err.contains("header has 0 bytes, but 1"), "{err}");
}

#[test]
fn detection_looks_at_the_marker() {
    let envelope = Envelope::ocpp_tcp();
    assert_eq!(envelope.detect(b"O"), Detect::NeedMore);
    assert_eq!(envelope.detect(b"OC\x00"), Detect::Match);
    assert_eq!(envelope.detect(b"GET "), Detect::NoMatch);
}

fn messages() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[a-zA-Z0-9 ]{0,40}", 1..5).prop_map(|texts| {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| format!(r#"[2,"{i}","DataTransfer",{{"vendorId":"{t}"}}]"#))
            .collect()
    })
}

proptest! {
    #[test]
    fn every_preset_round_trips_and_resyncs_after_garbage_under_any_read_split(
        texts in messages(),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
        chunks in proptest::collection::vec(1usize..32, 1..8),
        alt in any::<bool>(),
    ) {
        let envelope = if alt { Envelope::ocpp_tcp_alt() } else { Envelope::ocpp_tcp() };
        let marker = envelope.frame_spec().marker().unwrap().to_vec();
        // Garbage free of the marker's first byte cannot fake a frame start.
        let garbage: Vec<u8> = garbage.into_iter().filter(|b| *b != marker[0]).collect();
        let mut stream = garbage.clone();
        for text in &texts {
            stream.extend_from_slice(&envelope.encode(text.as_bytes()).unwrap());
            stream.extend_from_slice(&garbage);
        }
        let (out, skipped) = frames(&envelope, &stream, &chunks);
        let expected: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
        prop_assert_eq!(out, expected);
        prop_assert_eq!(skipped, garbage.len() * (texts.len() + 1));
    }
}
