//! OCPP-like JSON over raw TCP: both envelope presets round-trip, resync after garbage and bad CRCs exactly like the
//! YKC framing, and split/sticky packets never change what comes out.

mod framing_support;

use chargegate_codec::frame::CrcMatch;
use chargegate_codec::ocpp::envelope::{EnvelopeDecoder, EnvelopeItem, EnvelopeSpec};
use chargegate_codec::ocpp::{rpc, Message, OcppVersion};
use proptest::prelude::*;

/// BootNotification CALL as the Python `ocpp` library's README example sends it (mobilityhouse/ocpp, v16 example).
const BOOT: &str = r#"[2,"12345","BootNotification",{"chargePointModel":"Optimus","chargePointVendor":"The Mobility House"}]"#;
const HEARTBEAT: &str = r#"[2,"1","Heartbeat",{}]"#;

fn presets() -> [EnvelopeSpec; 2] {
    [EnvelopeSpec::ocpp_tcp(), EnvelopeSpec::ocpp_tcp_alt()]
}

fn decode_in_pieces(spec: &EnvelopeSpec, stream: &[u8], cuts: &[usize]) -> Vec<EnvelopeItem> {
    framing_support::decode_split(
        &mut EnvelopeDecoder::new(spec.clone()).unwrap(),
        stream,
        cuts,
    )
}

fn messages(items: &[EnvelopeItem]) -> Vec<&str> {
    items.iter().filter_map(EnvelopeItem::json).collect()
}

#[test]
fn the_default_preset_frames_a_heartbeat_as_documented() {
    // docs/protocols/ocpp-tcp.md walks through these bytes. The CRCs were checked independently of our encoder
    // (a bitwise CRC-16/MODBUS and Python's zlib.crc32).
    let frame = EnvelopeSpec::ocpp_tcp().encode(HEARTBEAT).unwrap();
    assert_eq!(
        hex::encode_upper(&frame),
        "AA00165B322C2231222C22486561727462656174222C7B7D5DAFAB"
    );
}

#[test]
fn the_alt_preset_frames_a_heartbeat_as_documented() {
    let frame = EnvelopeSpec::ocpp_tcp_alt().encode(HEARTBEAT).unwrap();
    assert_eq!(
        hex::encode_upper(&frame),
        "5AA501210000005B322C2231222C22486561727462656174222C7B7D5D92BE9613"
    );
}

#[test]
fn every_preset_round_trips_an_ocpp_message_that_then_parses() {
    for spec in presets() {
        let frame = spec.encode(BOOT).unwrap();
        let items = decode_in_pieces(&spec, &frame, &[]);
        assert_eq!(messages(&items), vec![BOOT], "{}", spec.name);
        match rpc::parse(messages(&items)[0], OcppVersion::V16).unwrap() {
            Message::Call(c) => assert_eq!(c.action, "BootNotification"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_second_preset_differs_in_every_parameter() {
    let (a, b) = (EnvelopeSpec::ocpp_tcp(), EnvelopeSpec::ocpp_tcp_alt());
    let (la, lb) = (a.framing.length(), b.framing.length());
    let (ca, cb) = (a.framing.crc().unwrap(), b.framing.crc().unwrap());
    assert_ne!(a.framing.marker(), b.framing.marker());
    assert_ne!(la.length_field_offset(), lb.length_field_offset());
    assert_ne!(la.length_field_length(), lb.length_field_length());
    assert_ne!(la.byte_order(), lb.byte_order());
    assert_ne!(la.length_adjustment(), lb.length_adjustment());
    assert_ne!(ca.algorithm, cb.algorithm);
    assert_ne!(ca.start, cb.start);
    assert_ne!(ca.byte_order, cb.byte_order);
    assert_ne!(ca.accept_either_order, cb.accept_either_order);
}

#[test]
fn garbage_and_a_bad_crc_are_skipped_and_the_next_message_decodes() {
    for spec in presets() {
        let good = spec.encode(HEARTBEAT).unwrap();
        let mut bad = spec.encode(BOOT).unwrap().to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0x5A;
        let stream: Vec<u8> = [&b"\x00\x13noise"[..], &bad, &good].concat();
        let items = decode_in_pieces(&spec, &stream, &[]);
        assert!(
            matches!(items[0], EnvelopeItem::Skipped(7)),
            "{}: {items:?}",
            spec.name
        );
        assert!(
            items.iter().any(|i| matches!(i, EnvelopeItem::Rejected { kind: "crc_mismatch", bytes } if bytes[..] == bad[..])),
            "{}: {items:?}",
            spec.name
        );
        assert_eq!(messages(&items), vec![HEARTBEAT], "{}", spec.name);
    }
}

#[test]
fn the_alt_preset_accepts_its_crc_in_swapped_order_and_says_so() {
    let spec = EnvelopeSpec::ocpp_tcp_alt();
    let mut frame = spec.encode(HEARTBEAT).unwrap().to_vec();
    let n = frame.len();
    frame[n - 4..].reverse();
    let items = decode_in_pieces(&spec, &frame, &[]);
    assert!(
        matches!(
            items[..],
            [EnvelopeItem::Message {
                crc: CrcMatch::Swapped,
                ..
            }]
        ),
        "{items:?}"
    );
}

#[test]
fn the_documented_toml_declaration_equals_the_default_preset() {
    // The declaration printed in docs/protocols/ocpp-tcp.md.
    let toml_text = r#"
name = "ocpp-tcp"
header = []

[framing]
marker = [0xAA]

[framing.length]
max_frame_length = 16384
length_field_offset = 1
length_field_length = 2
length_adjustment = 2

[framing.crc]
algorithm = "CRC-16/MODBUS"
start = 1
byte_order = "little"
"#;
    let spec: EnvelopeSpec = toml::from_str(toml_text).unwrap();
    assert_eq!(spec, EnvelopeSpec::ocpp_tcp());
}

#[test]
fn a_header_that_does_not_fill_the_gap_is_refused() {
    let mut spec = EnvelopeSpec::ocpp_tcp_alt();
    spec.header.clear();
    assert!(EnvelopeDecoder::new(spec).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_give_the_same_items_as_whole(mut cuts in proptest::collection::vec(0usize..400, 0..30), which in 0usize..2) {
        let spec = presets()[which].clone();
        let mut bad = spec.encode(BOOT).unwrap().to_vec();
        bad[5] ^= 0xFF;
        let stream: Vec<u8> = [spec.encode(HEARTBEAT).unwrap().to_vec(), b"zz".to_vec(), bad, spec.encode(BOOT).unwrap().to_vec()].concat();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_pieces(&spec, &stream, &cuts), decode_in_pieces(&spec, &stream, &[]));
    }

    #[test]
    fn any_json_text_round_trips(text in "[ -~]{0,300}", which in 0usize..2) {
        let spec = presets()[which].clone();
        let frame = spec.encode(&text).unwrap();
        let items = decode_in_pieces(&spec, &frame, &[]);
        prop_assert_eq!(messages(&items), vec![text.as_str()]);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..500), which in 0usize..2) {
        let _ = decode_in_pieces(&presets()[which], &bytes, &[bytes.len() / 3]);
    }
}
