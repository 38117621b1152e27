//! Encode → decode round trips, one property test per frame type: any valid body decodes, re-encodes into a frame
//! with a spec-order CRC and the same sequence bytes, and decodes back to the same message.

mod ykc_support;

use bytes::Bytes;
use chargegate_codec::ykc::{self, CrcOrder, Message};
use proptest::prelude::*;
use ykc_support::layouts::{body_of, layouts};

/// Frame types whose bodies re-encode byte for byte (no reserved bits dropped by the decoder).
const BYTE_EXACT: [u8; 30] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0A, 0x12, 0x13, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
    0x40, 0x41, 0x42, 0x43, 0x51, 0x52, 0x57, 0x58, 0x61, 0x91, 0x92, 0x93, 0x94, 0xA2,
];

fn round_trip(frame_type: u8, body: Vec<u8>, seq: [u8; 2]) -> Result<(), TestCaseError> {
    let first = Message::decode_body(frame_type, &Bytes::from(body.clone()))
        .map_err(|e| TestCaseError::fail(format!("valid body refused: {e}")))?;
    prop_assert_eq!(first.frame_type(), frame_type);
    let wire = first.encode_frame(seq).unwrap();
    let again = ykc::decode(wire.clone()).unwrap();
    prop_assert_eq!(again.frame.crc_order, CrcOrder::Spec);
    prop_assert_eq!(again.frame.seq, seq);
    prop_assert_eq!(&again.message, &first);
    if BYTE_EXACT.contains(&frame_type) {
        prop_assert_eq!(&again.frame.body[..], &body[..]);
    }
    Ok(())
}

macro_rules! round_trips {
    ($( $name:ident = $ft:literal ;)*) => {
        proptest! {
            $(
                #[test]
                fn $name(body in body_of($ft), seq in any::<[u8; 2]>()) {
                    round_trip($ft, body, seq)?;
                }
            )*
        }

        #[test]
        fn every_layout_has_a_round_trip_test() {
            let covered = [$($ft),*];
            for (ft, _) in layouts() {
                assert!(covered.contains(&ft), "frame type 0x{ft:02X} has no round-trip test");
            }
        }
    };
}

round_trips! {
    login_0x01 = 0x01;
    login_reply_0x02 = 0x02;
    heartbeat_0x03 = 0x03;
    heartbeat_reply_0x04 = 0x04;
    billing_model_check_0x05 = 0x05;
    billing_model_check_reply_0x06 = 0x06;
    billing_model_request_0x09 = 0x09;
    tariff_reply_0x0a = 0x0A;
    poll_realtime_0x12 = 0x12;
    realtime_0x13 = 0x13;
    bms_handshake_0x15 = 0x15;
    bms_parameter_config_0x17 = 0x17;
    bms_charge_end_0x19_with_and_without_trailing_byte = 0x19;
    bms_error_report_0x1b = 0x1B;
    bms_abort_0x1d = 0x1D;
    charger_abort_0x21 = 0x21;
    bms_demand_0x23 = 0x23;
    bms_info_0x25 = 0x25;
    start_request_0x31 = 0x31;
    start_answer_0x32 = 0x32;
    remote_start_reply_0x33 = 0x33;
    remote_start_0x34 = 0x34;
    remote_stop_reply_0x35 = 0x35;
    remote_stop_0x36 = 0x36;
    transaction_record_0x3b_four_and_five_tiers = 0x3B;
    transaction_confirm_0x40 = 0x40;
    balance_update_reply_0x41 = 0x41;
    balance_update_0x42 = 0x42;
    offline_card_sync_reply_0x43 = 0x43;
    offline_card_sync_0x44 = 0x44;
    offline_card_clear_reply_0x45 = 0x45;
    offline_card_clear_0x46 = 0x46;
    offline_card_query_reply_0x47 = 0x47;
    offline_card_query_0x48 = 0x48;
    work_params_reply_0x51 = 0x51;
    work_params_0x52 = 0x52;
    time_sync_reply_0x55 = 0x55;
    time_sync_0x56 = 0x56;
    billing_model_set_reply_0x57 = 0x57;
    billing_model_set_0x58 = 0x58;
    parking_lock_status_0x61 = 0x61;
    parking_lock_command_0x62 = 0x62;
    parking_lock_reply_0x63 = 0x63;
    reboot_reply_0x91 = 0x91;
    reboot_0x92 = 0x92;
    update_reply_0x93 = 0x93;
    update_0x94 = 0x94;
    parallel_start_request_0xa1 = 0xA1;
    parallel_start_answer_0xa2 = 0xA2;
    parallel_remote_start_reply_0xa3 = 0xA3;
    parallel_remote_start_0xa4 = 0xA4;
}

proptest! {
    #[test]
    fn unknown_frame_types_round_trip_raw(body in proptest::collection::vec(any::<u8>(), 0..200), seq in any::<[u8; 2]>()) {
        let first = Message::decode_body(0x3D, &Bytes::from(body.clone())).unwrap();
        let again = ykc::decode(first.encode_frame(seq).unwrap()).unwrap();
        prop_assert_eq!(again.message, first);
        prop_assert_eq!(&again.frame.body[..], &body[..]);
    }
}
