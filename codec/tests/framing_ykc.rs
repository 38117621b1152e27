//! YKC framing through the generic `FrameSpec` / `FrameDecoder`: marker 0x68, length byte, CRC-16/MODBUS low byte
//! first with the high-byte-first field deviation accepted and counted, and resync after wrong length bytes and bad
//! CRCs (ykc.md §2, §3, §12 #1 and #5). Vectors are copied from `ykc-vectors.json` with their id and source.

mod framing_support;

use bytes::{Bytes, BytesMut};
use chargegate_codec::frame::{CrcMatch, FrameDecoder, FrameEvent, FrameSpec, FrameStats};
use framing_support::*;

/// id J1 — source: sanbing-java/JCPP jcpp-protocol-yunkuaichong/READMD.md (login 0x01, CRC low byte first).
const J1: &str = "6822001900012023121200001001011047562E393572313300898604D11722D034860602874E";
/// id J1-BE — source: sanbing-java/JCPP jcpp-protocol-bootstrap/src/test/java/sanbing/jcpp/protocol/adapter/
/// DownlinkControllerIT.java (J1 with the CRC high byte first).
const J1_BE: &str = "6822001900012023121200001001011047562E393572313300898604D11722D0348606024E87";
/// id J2 — source: sanbing-java/JCPP jcpp-protocol-yunkuaichong/READMD.md (login reply 0x02).
const J2: &str = "680C001900022023121200001000A155";
/// id J5 — source: sanbing-java/JCPP jcpp-protocol-yunkuaichong/READMD.md (0x04 with length byte 0x09 instead of
/// 0x0D; CRC over the 13 real bytes is valid).
const J5: &str = "680925D300042023121200001001001D0B";
/// id J9 — source: sanbing-java/JCPP jcpp-protocol-yunkuaichong/READMD.md (0x0A with length byte 0x5A instead of
/// 0x5E).
const J9: &str = "685A0007000A202312120000100001F8240100C8AF0000F8240100C8AF0000F8240100C8AF0000F8240100C8AF000000000000000000000000000000010101010101010101010101020202020202020202020202030303030303030303030303FE63";
/// id S1 — source: DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §6.2 example (login reply).
const S1: &str = "680C000000025503141278230500DA4C";
/// id S36-badcrc — source: DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §8.5 example (placeholder
/// CRC C1 A9; CRC-16/MODBUS is 0x5847).
const S36_BADCRC: &str = "680C000300363201020000000101C1A9";
/// id S36-computed — computed from the same §8.5 example with the CRC recomputed (not from a source).
const S36_COMPUTED: &str = "680C0003003632010200000001014758";

fn ykc_decoder() -> FrameDecoder {
    FrameDecoder::new(ykc_spec())
}

fn decode_hex(decoder: &mut FrameDecoder, hex_stream: &str) -> Vec<FrameEvent> {
    decode_whole(decoder, &hex(hex_stream))
}

#[test]
fn j1_login_with_crc_low_byte_first_decodes_in_order() {
    let mut d = ykc_decoder();
    assert_eq!(
        decode_hex(&mut d, J1),
        vec![checked_frame(J1, CrcMatch::InOrder)]
    );
    assert_eq!(d.stats().swapped_crc, 0);
}

#[test]
fn j1_be_login_with_crc_high_byte_first_is_accepted_and_counted_as_swapped() {
    let mut d = ykc_decoder();
    assert_eq!(
        decode_hex(&mut d, J1_BE),
        vec![checked_frame(J1_BE, CrcMatch::Swapped)]
    );
    assert_eq!(d.stats().frames, 1);
    assert_eq!(d.stats().swapped_crc, 1);
}

#[test]
fn j1_be_is_rejected_when_the_envelope_requires_spec_byte_order() {
    let mut d = FrameDecoder::new(ykc_spec_with_either_order(false));
    let out = decode_hex(&mut d, J1_BE);
    assert_eq!(
        out[0],
        FrameEvent::CrcMismatch {
            bytes: Bytes::from(hex(J1_BE)),
            computed: 0x4E87,
            received: 0x874E,
        }
    );
    assert_eq!(d.stats().crc_errors, 1);
}

#[test]
fn j5_wrong_length_byte_is_rejected_with_its_bytes_and_the_next_good_frame_decodes() {
    let mut d = ykc_decoder();
    let out = decode_hex(&mut d, &format!("{J5}{J2}"));
    // Length 0x09 frames 13 bytes; the CRC over frame[2..11) is 0x4AC6, the bytes at 11..13 read 0x1000.
    let rejected = FrameEvent::CrcMismatch {
        bytes: Bytes::from(hex(&J5[..26])),
        computed: 0x4AC6,
        received: 0x1000,
    };
    // Only the marker is consumed; the other 16 bytes of J5 are noise before J2's marker.
    let expected = vec![
        rejected,
        FrameEvent::Garbage { skipped: 16 },
        checked_frame(J2, CrcMatch::InOrder),
    ];
    assert_eq!(out, expected);
    assert_eq!(
        d.stats(),
        FrameStats {
            frames: 1,
            garbage_bytes: 16,
            crc_errors: 1,
            ..FrameStats::default()
        }
    );
}

#[test]
fn j9_wrong_length_tariff_is_rejected_and_the_following_login_reply_survives() {
    let mut d = ykc_decoder();
    let out = decode_hex(&mut d, &format!("{J9}{J2}"));
    assert!(matches!(&out[0], FrameEvent::CrcMismatch { bytes, .. } if bytes.len() == 0x5A + 4));
    assert_eq!(
        out[1],
        FrameEvent::Garbage {
            skipped: hex(J9).len() - 1
        }
    );
    assert_eq!(out[2], checked_frame(J2, CrcMatch::InOrder));
    assert_eq!(out.len(), 3);
}

#[test]
fn s36_badcrc_is_rejected_with_the_whole_frame_for_dead_lettering() {
    let mut d = ykc_decoder();
    let out = decode_hex(&mut d, S36_BADCRC);
    assert_eq!(
        out,
        vec![
            FrameEvent::CrcMismatch {
                bytes: Bytes::from(hex(S36_BADCRC)),
                computed: 0x5847,
                received: 0xA9C1,
            },
            FrameEvent::Garbage { skipped: 15 },
        ]
    );
    assert_eq!(d.stats().crc_errors, 1);
    assert_eq!(d.stats().frames, 0);
}

#[test]
fn garbage_before_a_marker_is_skipped_reported_once_and_counted() {
    let mut d = ykc_decoder();
    let stream = format!("DEADBEEF00{J2}");
    let out = decode_hex(&mut d, &stream);
    assert_eq!(
        out,
        vec![
            FrameEvent::Garbage { skipped: 5 },
            checked_frame(J2, CrcMatch::InOrder)
        ]
    );
    assert_eq!(d.stats().garbage_bytes, 5);
    assert_eq!(decode_bytewise(&mut ykc_decoder(), &hex(&stream)), out);
}

#[test]
fn a_crc_error_storm_does_not_stop_the_stream() {
    const ROUNDS: usize = 200;
    let stream = format!("{S36_BADCRC}{S36_COMPUTED}{J1_BE}").repeat(ROUNDS);
    let mut d = ykc_decoder();
    let out = decode_hex(&mut d, &stream);
    let good: Vec<&Bytes> = out.iter().filter_map(FrameEvent::frame).collect();
    assert_eq!(good.len(), 2 * ROUNDS);
    assert_eq!(
        d.stats(),
        FrameStats {
            frames: 2 * ROUNDS as u32,
            garbage_bytes: 15 * ROUNDS as u32,
            crc_errors: ROUNDS as u32,
            swapped_crc: ROUNDS as u32,
            ..FrameStats::default()
        }
    );
    assert_eq!(out.last(), Some(&checked_frame(J1_BE, CrcMatch::Swapped)));
}

#[test]
fn frames_split_anywhere_decode_the_same_as_whole() {
    let stream = hex(&format!("AA{J5}{J1}{S36_BADCRC}{J1_BE}{S1}"));
    let whole = decode_whole(&mut ykc_decoder(), &stream);
    assert_eq!(decode_bytewise(&mut ykc_decoder(), &stream), whole);
    for cut in 1..stream.len() {
        assert_eq!(
            decode_split(&mut ykc_decoder(), &stream, &[cut]),
            whole,
            "cut at {cut}"
        );
    }
}

#[test]
fn a_frame_cut_by_the_end_of_the_stream_is_reported_as_truncated() {
    let mut d = ykc_decoder();
    let out = decode_hex(&mut d, &J1[..20]);
    assert_eq!(out, vec![FrameEvent::Truncated { dropped: 10 }]);
    assert_eq!(d.stats().truncated, 1);
}

#[test]
fn good_frames_are_zero_copy_slices_of_the_read_buffer() {
    let mut d = ykc_decoder();
    let mut buf = BytesMut::from(&hex(&format!("{J2}{S1}"))[..]);
    let start = buf.as_ptr();
    let out = drain(&mut d, &mut buf);
    assert_eq!(out[0].frame().unwrap().as_ptr(), start);
}

/// Payload for `FrameSpec::encode`: everything between the length byte and the CRC.
fn ykc_payload(frame_hex: &str) -> Vec<u8> {
    let frame = hex(frame_hex);
    frame[2..frame.len() - 2].to_vec()
}

#[test]
fn encode_rebuilds_public_vectors_with_the_crc_low_byte_first() {
    let spec = ykc_spec();
    for vector in [J1, J2, S1, S36_COMPUTED] {
        assert_eq!(
            spec.encode(&ykc_payload(vector)).unwrap(),
            Bytes::from(hex(vector))
        );
    }
}

/// A vendor config file holding an envelope, as in docs/protocols/framing.md §3.
#[derive(serde::Deserialize)]
struct VendorFile {
    envelope: FrameSpec,
}

#[test]
fn a_vendor_declares_the_ykc_envelope_in_toml() {
    // Copied from docs/protocols/framing.md §3.
    let declared = r#"
[envelope]
marker = [0x68]

[envelope.length]
max_frame_length = 259        # 255 counted bytes + marker, length byte, 2 CRC bytes
length_field_offset = 1
length_field_length = 1
length_adjustment = 2         # the CRC follows the counted bytes
# initial_bytes_to_strip = 0, byte_order = "big", fail_fast = true are the defaults

[envelope.crc]
algorithm = "CRC-16/MODBUS"
start = 2                     # from the sequence number; marker and length byte are not covered
byte_order = "little"         # low byte first on the wire
accept_either_order = true    # some chargers send it high byte first; accepted and counted
"#;
    let file: VendorFile = toml::from_str(declared).unwrap();
    assert_eq!(file.envelope, ykc_spec());
}

#[test]
fn the_ykc_envelope_reads_back_from_its_own_serialization() {
    let spec = ykc_spec();
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(serde_json::from_str::<FrameSpec>(&json).unwrap(), spec);
    let toml_text = toml::to_string(&spec).unwrap();
    assert_eq!(toml::from_str::<FrameSpec>(&toml_text).unwrap(), spec);
}
