//! `FrameSpec` and `FrameDecoder` behaviour that is not YKC-specific: envelopes without a marker keep Netty's
//! boundaries, envelopes with a marker resync on it, and invalid declarations are refused.

mod framing_support;

use bytes::Bytes;
use chargegate_codec::frame::{
    ByteOrder, ConfigError, Corruption, CrcAlgorithm, CrcMatch, CrcSpec, EncodeError, FrameDecoder,
    FrameEvent, FrameSpec, LengthFieldConfig,
};
use framing_support::*;

/// A 2-byte length of the body, then the body, then CRC-16/XMODEM big-endian over the body.
fn unmarked_spec() -> FrameSpec {
    FrameSpec::new(LengthFieldConfig::new(64, 0, 2, 2, 0).unwrap()).with_crc(CrcSpec {
        algorithm: CrcAlgorithm::Crc16Xmodem,
        start: 2,
        end_gap: 0,
        byte_order: ByteOrder::Big,
        accept_either_order: false,
    })
}

#[test]
fn without_a_marker_a_crc_mismatch_skips_the_whole_frame_and_keeps_the_boundary() {
    let spec = unmarked_spec();
    let good = spec.encode(b"ok").unwrap();
    let mut bad = spec.encode(b"no").unwrap().to_vec();
    bad[2] ^= 0xFF;
    let stream = [bad.as_slice(), &good].concat();
    let out = decode_whole(&mut FrameDecoder::new(spec), &stream);
    assert!(matches!(&out[0], FrameEvent::CrcMismatch { bytes, .. } if bytes[..] == bad[..]));
    assert_eq!(
        out[1],
        FrameEvent::Frame {
            bytes: good,
            crc: CrcMatch::InOrder
        }
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn without_a_marker_a_too_long_frame_is_discarded_exactly_as_netty_does() {
    let spec = FrameSpec::new(netty(8, 0, 1, 0, 0, true));
    // F = 9 + 1 = 10 > 8: skip exactly 10 bytes, then `02 4142` decodes.
    let stream = hex("09 000102030405060708 024142");
    assert_eq!(
        decode_whole(&mut FrameDecoder::new(spec), &stream),
        vec![too_long(10, 8), frame("024142")]
    );
}

#[test]
fn with_a_marker_a_too_long_length_skips_only_the_marker_and_resyncs() {
    let spec = FrameSpec::new(netty(8, 1, 1, 0, 0, true))
        .with_marker([0x7E])
        .unwrap();
    // The first frame announces 0xF0 bytes; the real next frame starts two bytes later.
    let stream = hex("7E F0 7E 02 4142");
    assert_eq!(
        decode_whole(&mut FrameDecoder::new(spec), &stream),
        vec![
            too_long(0xF0 + 2, 8),
            FrameEvent::Garbage { skipped: 1 },
            frame("7E024142"),
        ]
    );
}

#[test]
fn with_a_marker_a_corrupt_header_skips_only_the_marker() {
    let spec = FrameSpec::new(netty(16, 1, 1, -4, 0, true))
        .with_marker([0x7E])
        .unwrap();
    // 7E 01: F = 1 − 4 + 2 = −1 < 2. 7E 06: F = 6 − 4 + 2 = 4.
    let out = decode_whole(&mut FrameDecoder::new(spec), &hex("7E01 7E060102"));
    let corruption = Corruption::ShorterThanHeader {
        frame_length: -1,
        header_end: 2,
    };
    assert_eq!(
        out,
        vec![
            FrameEvent::Corrupted {
                corruption,
                skipped: 1
            },
            FrameEvent::Garbage { skipped: 1 },
            frame("7E060102"),
        ]
    );
}

#[test]
fn a_multi_byte_marker_split_across_reads_is_still_found() {
    let spec = FrameSpec::new(netty(16, 2, 1, 0, 0, true))
        .with_marker([0xAA, 0x55])
        .unwrap();
    let stream = hex("00AA AA55 01 42");
    let whole = decode_whole(&mut FrameDecoder::new(spec.clone()), &stream);
    assert_eq!(
        whole,
        vec![FrameEvent::Garbage { skipped: 2 }, frame("AA550142")]
    );
    assert_eq!(
        decode_bytewise(&mut FrameDecoder::new(spec), &stream),
        whole
    );
}

#[test]
fn a_frame_too_short_for_its_crc_is_corrupted() {
    let spec = FrameSpec::new(netty(16, 0, 1, 0, 0, true)).with_crc(CrcSpec {
        algorithm: CrcAlgorithm::Crc16Modbus,
        start: 1,
        end_gap: 0,
        byte_order: ByteOrder::Little,
        accept_either_order: false,
    });
    // F = 1 + 1 = 2 < start 1 + CRC 2.
    let out = decode_whole(&mut FrameDecoder::new(spec), &hex("0100"));
    let corruption = Corruption::ShorterThanCrc {
        frame_length: 2,
        needed: 3,
    };
    assert_eq!(
        out,
        vec![FrameEvent::Corrupted {
            corruption,
            skipped: 2
        }]
    );
}

/// Fuzz finding (`ocpp_envelope`): marker `B5`, a 1-byte length counting the whole frame, CRC-8/SMBUS from byte
/// 0. The 2-byte frame `B5 02` is long enough for the covered range (`B5`) plus a 1-byte CRC, and `02` happens
/// to be CRC-8(`B5`) — but that "CRC" is the length field itself. It used to pass as a good frame with no room
/// for a payload; the CRC field must come after the length field.
#[test]
fn a_crc_field_overlapping_the_length_field_is_corrupted_not_a_frame() {
    let spec = FrameSpec::new(netty(16, 1, 1, -2, 0, true))
        .with_marker([0xB5])
        .unwrap()
        .with_crc(CrcSpec {
            algorithm: CrcAlgorithm::Crc8Smbus,
            start: 0,
            end_gap: 0,
            byte_order: ByteOrder::Big,
            accept_either_order: false,
        });
    assert_eq!(spec.min_crc_frame_length(), Some(3));
    let out = decode_whole(&mut FrameDecoder::new(spec), &hex("b502"));
    assert!(out.iter().all(|e| e.frame().is_none()), "{out:?}");
    assert!(out.contains(&FrameEvent::Corrupted {
        corruption: Corruption::ShorterThanCrc {
            frame_length: 2,
            needed: 3
        },
        skipped: 1
    }));
}

#[test]
fn markers_that_are_empty_or_overlap_the_length_field_are_refused() {
    let length = LengthFieldConfig::new(64, 1, 1, 0, 0).unwrap();
    assert_eq!(
        FrameSpec::new(length).with_marker([]),
        Err(ConfigError::EmptyMarker)
    );
    assert_eq!(
        FrameSpec::new(length).with_marker([0xAA, 0x55]),
        Err(ConfigError::MarkerOverlapsLength {
            marker_len: 2,
            offset: 1
        })
    );
}

#[test]
fn a_declaration_with_an_unknown_crc_or_field_is_refused() {
    let unknown_crc = r#"{"length": {"max_frame_length": 64, "length_field_offset": 0, "length_field_length": 1},
                          "crc": {"algorithm": "CRC-16/NOPE"}}"#;
    assert!(serde_json::from_str::<FrameSpec>(unknown_crc).is_err());
    let typo = r#"{"length": {"max_frame_length": 64, "length_field_offset": 0, "length_field_length": 1},
                   "marcer": [1]}"#;
    assert!(serde_json::from_str::<FrameSpec>(typo).is_err());
    let overlap = r#"{"marker": [1],
                      "length": {"max_frame_length": 64, "length_field_offset": 0, "length_field_length": 1}}"#;
    let err = serde_json::from_str::<FrameSpec>(overlap).unwrap_err();
    assert!(err.to_string().contains("overlaps the length field"));
}

#[test]
fn encode_refuses_payloads_the_envelope_cannot_carry() {
    let ykc = ykc_spec();
    assert!(matches!(
        ykc.encode(&[0; 256]),
        Err(EncodeError::TooLong {
            frame_length: 260,
            max: 259
        })
    ));
    assert_eq!(ykc.encode(&[0; 255]).unwrap().len(), 259);
    let one_byte = FrameSpec::new(netty(1024, 0, 1, 0, 0, true));
    assert!(matches!(
        one_byte.encode(&[0; 256]),
        Err(EncodeError::LengthDoesNotFit {
            length: 256,
            field_length: 1
        })
    ));
    let small = FrameSpec::new(netty(8, 0, 1, 0, 0, true));
    assert!(matches!(
        small.encode(&[0; 8]),
        Err(EncodeError::TooLong {
            frame_length: 9,
            max: 8
        })
    ));
    let header_from_payload = FrameSpec::new(netty(64, 3, 1, 0, 0, true))
        .with_marker([0x7E])
        .unwrap();
    assert!(matches!(
        header_from_payload.encode(&[1]),
        Err(EncodeError::PayloadTooShort { needed: 2, got: 1 })
    ));
    assert_eq!(
        header_from_payload.encode(&[1, 2, 3]).unwrap(),
        Bytes::from(hex("7E 0102 01 03"))
    );
}

#[test]
fn a_json_over_tcp_vendor_envelope_declared_in_toml_round_trips() {
    // Copied from docs/protocols/framing.md §3.
    let declared = r#"
marker = [0xAA, 0x55]

[length]
max_frame_length = 4100       # 2 marker + 2 length + up to 4092 body bytes + 4 CRC
length_field_offset = 2
length_field_length = 2
length_adjustment = 4         # CRC-32 after the body

[crc]
algorithm = "CRC-32/ISO-HDLC"
start = 4
byte_order = "big"
"#;
    let spec: FrameSpec = toml::from_str(declared).unwrap();
    let body = br#"{"action":"Heartbeat"}"#;
    let frame = spec.encode(body).unwrap();
    assert_eq!(&frame[..4], &[0xAA, 0x55, 0x00, body.len() as u8]);
    assert_eq!(
        decode_whole(&mut FrameDecoder::new(spec), &frame),
        vec![FrameEvent::Frame {
            bytes: frame.clone(),
            crc: CrcMatch::InOrder
        }]
    );
}
