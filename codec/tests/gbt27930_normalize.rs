//! What the platform sees: GB/T messages turned into normalized events, from relay records to `Observation`s.

mod gbt27930_support;

use bytes::BytesMut;
use chargegate_codec::event::{ConnectorStatus, EventBody};
use chargegate_codec::gbt27930::normalize::observations;
use chargegate_codec::gbt27930::*;
use gbt27930_support::unhex;
use tokio_util::codec::Decoder;

fn decode(p: u32, hex: &str) -> Message {
    Message::decode(p, &unhex(hex)).unwrap()
}

#[test]
fn every_message_yields_a_bms_event_first_without_charger_identity() {
    let obs = observations(&decode(pgn::BCL, "A510D80E02"));
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0].charger, None);
    assert_eq!(obs[0].connector, None);
    let json = serde_json::to_value(&obs[0]).unwrap();
    assert_eq!(json["kind"], "bms");
    assert_eq!(json["data"]["message"], "BCL");
    assert_eq!(json["data"]["current_demand_a"], -20.0);
}

#[test]
fn ccs_gives_a_meter_reading_with_charging_current_positive() {
    // 380.0 V, raw 3500 = -50.0 A (charging), 12 min, permitted.
    let obs = observations(&decode(pgn::CCS, "D80EAC0D0C00FD"));
    let EventBody::Meter(m) = &obs[1].body else {
        panic!("{obs:?}")
    };
    assert_eq!(m.voltage_v, Some(380.0));
    assert_eq!(m.current_a, Some(50.0));
    assert_eq!(m.power_kw, Some(19.0));
    assert_eq!(m.elapsed_min, Some(12));
    assert_eq!(obs.len(), 2, "no status while charging is permitted");
}

#[test]
fn ccs_paused_hints_suspended_evse() {
    let obs = observations(&decode(pgn::CCS, "D80EAC0D0C00FC"));
    let EventBody::Status(s) = &obs[2].body else {
        panic!("{obs:?}")
    };
    assert_eq!(s.status, ConnectorStatus::SuspendedEvse);
}

#[test]
fn bcs_gives_soc_and_remaining_time() {
    let obs = observations(&decode(pgn::BCS, "D80EAC0D6D21372A00"));
    let EventBody::Meter(m) = &obs[1].body else {
        panic!("{obs:?}")
    };
    assert_eq!(
        (m.soc_pct, m.remaining_min, m.current_a),
        (Some(55.0), Some(42), Some(50.0))
    );
}

#[test]
fn cst_emergency_stop_is_a_critical_alarm_and_the_connector_finishes() {
    let obs = observations(&decode(pgn::CST, "1000F1F0"));
    let EventBody::Alarm(a) = &obs[1].body else {
        panic!("{obs:?}")
    };
    assert_eq!(a.code, "gbt.cst.fault.emergency_stop");
    assert_eq!(a.severity, "critical");
    assert!(a.active);
    let EventBody::Status(s) = &obs[2].body else {
        panic!("{obs:?}")
    };
    assert_eq!(s.status, ConnectorStatus::Finishing);
}

#[test]
fn bst_from_the_capture_finishes_without_alarms() {
    let obs = observations(&decode(pgn::BST, "40000000"));
    let kinds: Vec<_> = obs.iter().map(|o| o.body.kind()).collect();
    assert_eq!(kinds, vec!["bms", "status"]);
}

#[test]
fn bem_timeout_becomes_an_alarm_named_after_the_missing_message() {
    let obs = observations(&decode(pgn::BEM, "F4F0F0FC"));
    let EventBody::Alarm(a) = &obs[1].body else {
        panic!("{obs:?}")
    };
    assert_eq!(a.code, "gbt.bem.timeout.crm_aa");
}

#[test]
fn csd_reports_the_session_energy() {
    let obs = observations(&decode(pgn::CSD, "0000010001010101"));
    let EventBody::Meter(m) = &obs[1].body else {
        panic!("{obs:?}")
    };
    assert_eq!(m.energy_kwh, Some(0.1));
}

#[test]
fn relay_stream_to_events_end_to_end() {
    // The BCL capture C14 and a CCS as relay records, then a record with DLC 9.
    let mut buf = BytesMut::new();
    let layout = RelayLayout::InfoFirst;
    buf.extend_from_slice(&layout.encode(&CanFrame::extended(0x1810_56F4, &unhex("A510D80E02"))));
    assert_eq!(
        hex::encode_upper(&buf[..]),
        "851810 56F4A510D80E02000000".replace(' ', "")
    );
    buf.extend_from_slice(
        &layout.encode(&CanFrame::extended(0x1812_F456, &unhex("240BA00F0000FD"))),
    );
    buf.extend_from_slice(&[0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut codec = RelayCodec::default();
    let mut dec = CanDecoder::default();
    let mut out = Vec::new();
    let mut relay_errors = Vec::new();
    while let Some(item) = codec.decode(&mut buf).unwrap() {
        match item {
            Ok(frame) => dec.push(&frame, 0, &mut out),
            Err(e) => relay_errors.push(e),
        }
    }
    assert_eq!(relay_errors, vec![RelayError::Dlc { dlc: 9 }]);
    let names: Vec<_> = out
        .iter()
        .map(|r| match r {
            Ok(Decoded::Message {
                message, events, ..
            }) => (message.name(), events.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec![("BCL", 1), ("CCS", 2)]);
}

#[test]
fn standard_frames_and_bad_data_are_reported_not_fatal() {
    let mut dec = CanDecoder::default();
    let mut out = Vec::new();
    let mut std_frame = CanFrame::extended(0x123, &[1]);
    std_frame.extended = false;
    dec.push(&std_frame, 0, &mut out);
    dec.push_raw(0x1810_56F4, &[0xA5], 0, &mut out);
    dec.push_raw(0x1810_56F4, &unhex("A510D80E02"), 0, &mut out);
    assert_eq!(out[0], Err(DecodeError::NotExtended { id: 0x123 }));
    assert!(matches!(
        out[1],
        Err(DecodeError::Message {
            error: GbtError::Length {
                message: "BCL",
                expected: 5,
                got: 1
            },
            ..
        })
    ));
    assert_eq!(out[1].as_ref().unwrap_err().kind(), "gbt_length");
    assert!(out[2].is_ok());
}

#[test]
fn candump_log_lines_feed_the_decoder_with_their_timestamps() {
    let log = "(1703534921.100000) can0 1CEC56F4#100D0002FF000600\n\
               (1703534921.110000) can0 1CEB56F4#017201DA052A02A5\n\
               \n\
               (1703534922.900000) can0 1CEB56F4#0210730803C60EFF\n";
    let mut dec = CanDecoder::default();
    let mut out = Vec::new();
    for line in log.lines() {
        dec.push_line(line, 0, &mut out).unwrap();
    }
    // The last packet came 1.79 s after the previous one: past T1, so the transfer timed out.
    assert!(
        out.iter()
            .any(|r| matches!(r, Ok(Decoded::Aborted { pgn: 0x600, .. }))),
        "{out:?}"
    );
    assert!(!out.iter().any(|r| matches!(r, Ok(Decoded::Message { .. }))));
    assert!(dec.push_line("1CEB56F4#01ZZ", 0, &mut out).is_err());
}
