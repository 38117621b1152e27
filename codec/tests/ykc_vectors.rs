//! One test per public YKC vector (`tests/data/ykc-vectors.json`, copied from the protocol reference with each
//! vector's `id` and `source`): the frame decodes to the listed `expect` values, the CRC byte order is reported as
//! listed, and negative vectors fail with the listed, precise error.

mod ykc_support;

use chargegate_codec::ykc::{self, crc16, CrcOrder, Deviation, Message, YkcError};
use ykc_support::*;

/// Runs every check the vector's fields call for.
fn check(id: &str, unmapped: &[&str]) {
    let v = vector(id);
    assert!(!v.source.is_empty(), "{id}: vector without a source");
    let e = &v.expect;
    let b = &v.bytes;
    let n = b.len();
    // Envelope facts every vector states.
    assert_eq!(
        hex_upper(&b[2..4]),
        e["seq_bytes"].as_str().unwrap(),
        "{id}: seq bytes"
    );
    let crc = parse_hex_u16(e["crc_modbus"].as_str().unwrap());
    assert_eq!(crc16(&b[2..n - 2]), crc, "{id}: CRC-16/MODBUS");
    assert_eq!(b[5], v.frame_type, "{id}: frame type byte");

    let body_on_wire = b.slice(6..n - 2);
    let result = ykc::decode(b.clone());
    let salvaged_body = if v.crc_order == "bad" {
        let wire = u16::from_le_bytes([b[n - 2], b[n - 1]]);
        assert_eq!(
            result.unwrap_err(),
            YkcError::BadCrc {
                expected: crc,
                got: wire
            },
            "{id}"
        );
        body_on_wire
    } else if !v.length_ok {
        let declared = e["declared_length"].as_u64().unwrap() as usize;
        let actual = e["actual_length"].as_u64().unwrap() as usize;
        assert_eq!(
            result.unwrap_err(),
            YkcError::LengthMismatch { declared, actual },
            "{id}"
        );
        // The stream decoder would cut `declared + 4` bytes and find a bad CRC in them.
        let cut = ykc::Frame::parse(b.slice(..declared + 4)).unwrap_err();
        assert_eq!(cut.kind(), "ykc_bad_crc", "{id}: length-framed cut");
        body_on_wire
    } else if let (Some(spec), false) = (e.get("spec_body_length"), v.frame_type == 0x19) {
        let expected = spec.as_u64().unwrap() as usize;
        let got = e["body_length"].as_u64().unwrap() as usize;
        let err = result.unwrap_err();
        assert_eq!(
            err,
            YkcError::BodyLength {
                frame_type: v.frame_type,
                expected,
                got
            },
            "{id}"
        );
        assert_eq!(err.kind(), "ykc_body_length");
        // The listed fields still sit where the spec layout puts them.
        let mut fitted = body_on_wire.to_vec();
        fitted.resize(expected, 0);
        bytes::Bytes::from(fitted)
    } else {
        let d = result.unwrap_or_else(|err| panic!("{id}: {err}"));
        let want = if v.crc_order == "le" {
            CrcOrder::Spec
        } else {
            CrcOrder::Swapped
        };
        assert_eq!(d.frame.crc_order, want, "{id}: crc order");
        assert_eq!(
            d.deviations().any(|x| x == Deviation::CrcSwapped),
            want == CrcOrder::Swapped,
            "{id}: swapped CRC counted"
        );
        assert_eq!(hex_upper(&d.frame.seq), e["seq_bytes"].as_str().unwrap());
        if let Some(len) = e.get("body_length") {
            assert_eq!(
                d.frame.body.len() as u64,
                len.as_u64().unwrap(),
                "{id}: body length"
            );
        }
        assert_fields(id, e, &fields(&d.message, &d.frame.body), unmapped);
        return;
    };
    let m = Message::decode_body(v.frame_type, &salvaged_body)
        .unwrap_or_else(|err| panic!("{id}: salvaged body: {err}"));
    assert_fields(id, e, &fields(&m, &salvaged_body), unmapped);
}

macro_rules! vectors {
    ($( $name:ident : $id:literal $( unmapped $($u:literal),+ )? ;)*) => {
        $(
            #[test]
            fn $name() {
                check($id, &[$($($u),+)?]);
            }
        )*

        #[test]
        fn every_vector_in_the_file_has_its_own_test() {
            let covered = [$($id),*];
            for id in all_ids() {
                assert!(covered.contains(&id.as_str()), "vector {id} has no test");
            }
        }
    };
}

vectors! {
    vector_s1_login_reply_success: "S1";
    vector_s2_billing_model_check_reply_consistent: "S2";
    vector_s3_start_answer_failure: "S3";
    vector_j1_login_ac_pile_with_hex_iccid: "J1";
    vector_j1_be_login_with_crc_high_byte_first: "J1-BE";
    vector_j2_login_reply: "J2";
    vector_j3_time_sync: "J3";
    vector_j4_heartbeat_crc_swapped: "J4";
    vector_j5_heartbeat_reply_with_body_length_in_length_byte_is_rejected: "J5";
    vector_j6_billing_model_check_crc_swapped: "J6";
    vector_j7_billing_model_check_reply_with_swapped_seq: "J7";
    vector_j8_billing_model_request_crc_swapped: "J8";
    vector_j9_tariff_with_body_length_in_length_byte_is_rejected: "J9";
    vector_j11_bms_handshake: "J11";
    vector_j12_start_request_by_card: "J12";
    vector_j13_start_answer_with_short_body_is_rejected: "J13";
    vector_j14_remote_start: "J14";
    vector_j15_remote_start_reply_crc_swapped: "J15";
    vector_j17_v17_transaction_record_is_kept_raw: "J17";
    vector_j18_transaction_confirm: "J18";
    vector_j19_parameter_config: "J19";
    vector_j20_error_report_crc_swapped: "J20";
    vector_j22_bms_info_with_per_flag_fields_is_rejected: "J22";
    vector_j23_transaction_confirm_sent_as_0x06_is_rejected: "J23";
    vector_j24_bms_abort_crc_swapped: "J24";
    vector_j25_reboot_with_long_body_is_rejected: "J25";
    vector_j26_reboot_reply: "J26";
    vector_j27_remote_update: "J27";
    vector_j28_update_reply: "J28";
    vector_j29_parking_lock_status: "J29";
    vector_j30_balance_update: "J30";
    vector_j31_balance_update_reply: "J31";
    vector_j32_offline_card_sync: "J32";
    vector_j33_offline_card_sync_reply_success: "J33";
    vector_j34_offline_card_sync_reply_failure: "J34";
    vector_j35_time_sync: "J35";
    vector_j36_time_sync_reply: "J36";
    vector_j37_offline_card_clear: "J37";
    vector_j38_offline_card_clear_reply_success: "J38";
    vector_j39_offline_card_clear_reply_failure: "J39";
    vector_j40_offline_card_query: "J40";
    vector_j41_offline_card_query_reply_success: "J41";
    vector_j42_offline_card_query_reply_failure: "J42";
    vector_j43_charge_end_with_trailing_byte_decodes_and_is_flagged: "J43";
    vector_j44_work_params_reply: "J44";
    vector_j45_work_params_with_power_out_of_range_is_flagged: "J45";
    vector_s36_badcrc_remote_stop_is_rejected: "S36-badcrc";
    vector_s56_badcrc_time_sync_is_rejected: "S56-badcrc";
    vector_s36_computed_remote_stop: "S36-computed";
    vector_s56_computed_time_sync: "S56-computed";
}

#[test]
fn spec_login_reply_decodes_to_pile_and_success() {
    let d = ykc::decode(unhex("680C000000025503141278230500DA4C")).unwrap();
    match d.message {
        Message::LoginReply(r) => {
            assert_eq!(r.pile.to_string(), "55031412782305");
            assert!(r.is_success());
        }
        other => panic!("not a login reply: {other:?}"),
    }
}

#[test]
fn charge_end_with_trailing_byte_keeps_the_byte_and_counts_a_deviation() {
    let d = ykc::decode(vector("J43").bytes).unwrap();
    assert_eq!(d.message.deviation(), Some(Deviation::TrailingByte));
    match d.message {
        Message::ChargeEnd(c) => assert_eq!(c.trailing_byte, Some(0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn work_params_outside_30_to_100_percent_decode_and_are_flagged() {
    let d = ykc::decode(vector("J45").bytes).unwrap();
    assert_eq!(d.message.deviation(), Some(Deviation::PowerOutOfRange));
}

#[test]
fn unknown_frame_type_is_kept_raw_not_an_error() {
    let d = ykc::decode(vector("J17").bytes).unwrap();
    match d.message {
        Message::Unknown { frame_type, body } => {
            assert_eq!(frame_type, 0x3D);
            assert_eq!(body.len(), 201);
        }
        other => panic!("{other:?}"),
    }
}
