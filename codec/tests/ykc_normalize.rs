//! Normalization: what each up message becomes in the event model.

mod ykc_support;

use chargegate_codec::event::{CommandStatus, ConnectorStatus, EventBody};
use chargegate_codec::gbt27930::Message as Gbt;
use chargegate_codec::ykc::realtime::Realtime;
use chargegate_codec::ykc::transaction::{TierBlock, TransactionRecord};
use chargegate_codec::ykc::{
    self, normalize, normalize_on, Ascii, Cp56Time2a, Message, PileNumber, TransactionSerial,
};
use ykc_support::{unhex, vector};

fn observe(bytes: bytes::Bytes) -> Vec<chargegate_codec::event::Observation> {
    let d = ykc::decode(bytes).unwrap();
    normalize(&d.frame, &d.message)
}

fn realtime_sample() -> Realtime {
    Realtime {
        serial: TransactionSerial::from_digits("32010200000001012018061219595785").unwrap(),
        pile: PileNumber::from_digits("32010200000001").unwrap(),
        gun: 1,
        status: 0x03,
        gun_returned: 0x00,
        plugged: 0x01,
        voltage_raw: 3805,
        current_raw: 1000,
        cable_temperature_raw: 75,
        cable_code: [0; 8],
        soc_pct: 56,
        battery_temperature_raw: 80,
        charging_min: 42,
        remaining_min: 30,
        energy_raw: 123_456,
        loss_energy_raw: 123_456,
        amount_raw: 987_650,
        faults: 0b1_0000_0000_0001,
    }
}

#[test]
fn frames_about_the_logged_in_pile_leave_the_charger_to_the_connection_others_name_theirs() {
    let frame = Message::Realtime(realtime_sample())
        .encode_frame([0x12, 0x00])
        .unwrap();
    let d = ykc::decode(frame).unwrap();
    let own = PileNumber::from_digits("32010200000001").unwrap();
    let obs = normalize_on(&d.frame, &d.message, Some(&own));
    assert_eq!(obs.len(), 4);
    // The gateway stamps the connection's identity (the same 14 digits) into these.
    assert!(obs
        .iter()
        .all(|o| o.charger.is_none() && o.connector == Some(1)));
    let other = PileNumber::from_digits("32010200000002").unwrap();
    let obs = normalize_on(&d.frame, &d.message, Some(&other));
    assert!(obs
        .iter()
        .all(|o| o.charger.as_deref() == Some("32010200000001")));
}

#[test]
fn realtime_becomes_status_meter_and_one_alarm_per_fault_bit() {
    let frame = Message::Realtime(realtime_sample())
        .encode_frame([0x12, 0x00])
        .unwrap();
    let obs = observe(frame);
    assert_eq!(obs.len(), 4, "{obs:#?}");
    assert!(obs
        .iter()
        .all(|o| o.charger.as_deref() == Some("32010200000001") && o.connector == Some(1)));
    match &obs[0].body {
        EventBody::Status(s) => {
            assert_eq!(s.status, ConnectorStatus::Charging);
            assert_eq!(s.vendor_status, "0x03");
            assert_eq!(s.plugged, Some(true));
            assert_eq!(s.gun_returned, Some(false));
            assert_eq!(s.errors, vec!["emergency_stop", "door_open"]);
        }
        other => panic!("{other:?}"),
    }
    match &obs[1].body {
        EventBody::Meter(m) => {
            assert_eq!(
                m.transaction_id.as_deref(),
                Some("32010200000001012018061219595785")
            );
            assert_eq!(m.voltage_v, Some(380.5));
            assert_eq!(m.current_a, Some(100.0));
            assert!((m.power_kw.unwrap() - 38.05).abs() < 1e-9);
            assert_eq!(m.energy_kwh, Some(12.3456));
            assert_eq!(m.soc_pct, Some(56.0));
            assert_eq!(m.connector_temperature_c, Some(25.0));
            assert_eq!(m.battery_temperature_max_c, Some(30.0));
            assert_eq!(m.elapsed_min, Some(42));
            assert_eq!(m.remaining_min, Some(30));
            assert_eq!(m.amount, Some(98.765));
        }
        other => panic!("{other:?}"),
    }
    let codes: Vec<_> = obs[2..]
        .iter()
        .map(|o| match &o.body {
            EventBody::Alarm(a) => (a.code.clone(), a.severity.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("ykc.hw.emergency_stop".to_owned(), "critical".to_owned()),
            ("ykc.hw.door_open".to_owned(), "major".to_owned())
        ]
    );
}

#[test]
fn realtime_frame_of_the_docs_walk_through_decodes_to_the_sample() {
    // docs/protocols/ykc.md walks through this frame byte by byte.
    let d = ykc::decode(unhex(
        "684000120013320102000000010120180612195957853201020000000101030001DD0EE8034B000000000000000038502A001E0040E2010040E2010002120F000110BE7D",
    ))
    .unwrap();
    assert_eq!(d.frame.seq, [0x00, 0x12]);
    assert_eq!(d.message, Message::Realtime(realtime_sample()));
}

#[test]
fn idle_realtime_has_no_transaction_and_no_fake_minus_50_degrees() {
    let mut r = realtime_sample();
    r.serial = TransactionSerial::default();
    r.status = 0x02;
    r.plugged = 0x00;
    r.cable_temperature_raw = 0;
    r.battery_temperature_raw = 0;
    r.faults = 0;
    let obs = observe(Message::Realtime(r).encode_frame([0, 0]).unwrap());
    assert_eq!(obs.len(), 2);
    match (&obs[0].body, &obs[1].body) {
        (EventBody::Status(s), EventBody::Meter(m)) => {
            assert_eq!(s.status, ConnectorStatus::Available);
            assert!(m.transaction_id.is_none());
            assert!(m.connector_temperature_c.is_none());
            assert!(m.battery_temperature_max_c.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn login_becomes_online_with_version_firmware_and_iccid() {
    let obs = observe(vector("J1").bytes);
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0].charger.as_deref(), Some("20231212000010"));
    match &obs[0].body {
        EventBody::Online(o) => {
            assert_eq!(o.protocol_version.as_deref(), Some("1.6"));
            assert_eq!(o.firmware.as_deref(), Some("GV.95r13"));
            assert_eq!(o.current_type.as_deref(), Some("ac"));
            assert_eq!(o.connectors, Some(1));
            assert_eq!(o.network.as_deref(), Some("sim"));
            assert_eq!(o.iccid.as_deref(), Some("898604D11722D0348606"));
            assert_eq!(o.operator_code, Some(2));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn heartbeat_becomes_heartbeat_of_the_gun() {
    let obs = observe(vector("J4").bytes);
    assert_eq!(obs[0].connector, Some(1));
    assert!(matches!(&obs[0].body, EventBody::Heartbeat(h) if h.fault == Some(false)));
}

#[test]
fn bms_relay_frames_become_typed_gbt_messages() {
    let obs = observe(vector("J19").bytes);
    let kinds: Vec<_> = obs
        .iter()
        .map(|o| match &o.body {
            EventBody::Bms(m) => m.pgn(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, vec![0x0600, 0x0800]);
    let obs = observe(vector("J11").bytes);
    assert!(matches!(&obs[0].body, EventBody::Bms(m) if matches!(**m, Gbt::Brm(_))));
}

#[test]
fn bms_abort_with_a_fault_adds_an_alarm() {
    // J24 with the BST insulation-fault bits (01) set.
    let mut bytes = vector("J24").bytes.to_vec();
    bytes[6 + 25] = 0x01;
    let len = bytes.len();
    let crc = ykc::crc16(&bytes[2..len - 2]).to_le_bytes();
    bytes[len - 2..].copy_from_slice(&crc);
    let obs = observe(bytes.into());
    assert!(matches!(&obs[0].body, EventBody::Bms(_)));
    match &obs[1].body {
        EventBody::Alarm(a) => assert_eq!(a.code, "gbt.bst.insulation"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn start_request_becomes_authorize_with_card_hex() {
    let obs = observe(vector("J12").bytes);
    match &obs[0].body {
        EventBody::Authorize(a) => {
            assert_eq!(a.method, "card");
            assert_eq!(a.id, "00000000D14B0A54");
            assert!(!a.password_supplied);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_replies_become_command_results_without_id() {
    let obs = observe(vector("J15").bytes);
    match &obs[0].body {
        EventBody::CommandResult(r) => {
            assert_eq!(r.command, "start");
            assert_eq!(r.status, CommandStatus::Accepted);
            assert!(r.command_id.is_empty());
        }
        other => panic!("{other:?}"),
    }
    for (id, command) in [
        ("J26", "reset"),
        ("J28", "update_firmware"),
        ("J44", "change_availability"),
        ("J36", "set_time"),
        ("J31", "update_balance"),
    ] {
        let obs = observe(vector(id).bytes);
        match &obs[0].body {
            EventBody::CommandResult(r) => {
                assert_eq!(r.command, command, "{id}");
                assert_eq!(r.status, CommandStatus::Accepted, "{id}");
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}

#[test]
fn billing_model_check_and_request_become_notices() {
    for id in ["J6", "J8"] {
        let obs = observe(vector(id).bytes);
        assert!(
            matches!(&obs[0].body, EventBody::Notice(n) if n.topic == "billing_model"),
            "{id}"
        );
    }
}

#[test]
fn unknown_frame_type_becomes_raw_with_the_whole_frame() {
    let v = vector("J17");
    let obs = observe(v.bytes.clone());
    match &obs[0].body {
        EventBody::Raw(r) => {
            assert_eq!(r.message_type, "0x3D");
            assert_eq!(r.hex, ykc_support::hex_upper(&v.bytes));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn down_frames_normalize_to_nothing() {
    for id in ["S1", "J2", "J3", "J14", "J18", "J27", "S36-computed"] {
        assert!(observe(vector(id).bytes).is_empty(), "{id}");
    }
}

fn record(fifth: Option<TierBlock>) -> TransactionRecord {
    let block = |price, energy| TierBlock {
        price_raw: price,
        energy_raw: energy,
        loss_energy_raw: energy,
        amount_raw: price / 10 * energy / 10_000,
    };
    TransactionRecord {
        serial: TransactionSerial::from_digits("32010200000001012018061219595785").unwrap(),
        pile: PileNumber::from_digits("32010200000001").unwrap(),
        gun: 1,
        // Day byte 0x6D: day-of-week 3, day 13 (reference §12 #7).
        start: Cp56Time2a::from_bytes([0x98, 0xB7, 0x0E, 0x11, 0x6D, 0x03, 0x14]),
        end: Cp56Time2a::from_bytes([0x98, 0xB7, 0x2A, 0x11, 0x6D, 0x03, 0x14]),
        tiers: [
            block(120_000, 10_000),
            block(100_000, 20_000),
            block(80_000, 0),
            block(50_000, 5_000),
        ],
        fifth_tier: fifth,
        meter_start_raw: 0x01_0000_0000,
        meter_stop_raw: 0x01_0000_0000 + 35_000,
        energy_raw: 35_000,
        loss_energy_raw: 35_000,
        amount_raw: 365_000,
        vin: Ascii::from_text("LSVAU2180N2183294"),
        flag: 0x01,
        time: Cp56Time2a::from_bytes([0x98, 0xB7, 0x2B, 0x11, 0x6D, 0x03, 0x14]),
        stop_reason: 0x41,
        physical_card: [0; 8],
    }
}

#[test]
fn transaction_record_becomes_session_stopped_and_transaction() {
    let frame = Message::TransactionRecord(Box::new(record(None)))
        .encode_frame([0, 0x46])
        .unwrap();
    assert_eq!(frame[1], 0xA2, "spec length byte");
    let obs = observe(frame);
    assert_eq!(obs.len(), 2);
    match &obs[0].body {
        EventBody::SessionStopped(s) => {
            assert_eq!(s.reason, "soc_reached");
            assert_eq!(s.vendor_reason.as_deref(), Some("0x41"));
            assert_eq!(s.stopped_at.as_deref(), Some("2020-03-13T17:42:47.000"));
        }
        other => panic!("{other:?}"),
    }
    match &obs[1].body {
        EventBody::Transaction(t) => {
            assert_eq!(t.started_at.as_deref(), Some("2020-03-13T17:14:47.000"));
            assert_eq!(t.tiers.len(), 4);
            assert_eq!(t.tiers[0].tier, "sharp");
            assert_eq!(t.tiers[0].price_per_kwh, 1.2);
            assert_eq!(t.tiers[1].energy_kwh, 2.0);
            assert_eq!(t.meter_start_kwh, Some(429_496.729_6));
            assert_eq!(t.meter_stop_kwh, Some(429_500.229_6));
            assert_eq!(t.energy_kwh, Some(3.5));
            assert_eq!(t.amount, Some(36.5));
            assert_eq!(t.vin.as_deref(), Some("LSVAU2180N2183294"));
            assert_eq!(t.start_method.as_deref(), Some("app"));
            assert_eq!(t.stop_reason.as_deref(), Some("soc_reached"));
            assert!(t.id_tag.is_none());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn transaction_record_of_length_0xb2_decodes_five_tiers_and_is_flagged() {
    let fifth = TierBlock {
        price_raw: 30_000,
        energy_raw: 1_000,
        loss_energy_raw: 1_000,
        amount_raw: 300,
    };
    let frame = Message::TransactionRecord(Box::new(record(Some(fifth))))
        .encode_frame([0, 0])
        .unwrap();
    assert_eq!(frame[1], 0xB2);
    let d = ykc::decode(frame).unwrap();
    assert_eq!(
        d.message.deviation(),
        Some(ykc::Deviation::FifthTariffBlock)
    );
    let obs = normalize(&d.frame, &d.message);
    match &obs[1].body {
        EventBody::Transaction(t) => {
            assert_eq!(t.tiers.len(), 5);
            assert_eq!(t.tiers[4].tier, "tier5");
            assert_eq!(t.tiers[4].price_per_kwh, 0.3);
            // The meter values sit after the fifth block.
            assert_eq!(t.meter_stop_kwh, Some(429_500.229_6));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cp56_day_of_week_bits_are_masked_but_kept_for_re_encoding() {
    let t = Cp56Time2a::from_bytes([0x98, 0xB7, 0x0E, 0x11, 0x6D, 0x03, 0x14]);
    assert_eq!(t.day, 13);
    assert_eq!(t.day_of_week, 3);
    assert_eq!(t.to_string(), "2020-03-13T17:14:47.000");
    assert_eq!(t.to_bytes(), [0x98, 0xB7, 0x0E, 0x11, 0x6D, 0x03, 0x14]);
}

#[test]
fn cp56_parses_local_time_text() {
    let t = Cp56Time2a::parse_local("2020-03-16T17:14:47.000").unwrap();
    assert_eq!(t.to_bytes(), [0x98, 0xB7, 0x0E, 0x11, 0x10, 0x03, 0x14]);
    assert!(Cp56Time2a::parse_local("2020-13-16T17:14:47").is_none());
    assert!(Cp56Time2a::parse_local("2020-03-16").is_none());
}
