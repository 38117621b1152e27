//! [`Event::write_json`] must write exactly the bytes `serde_json::to_writer` writes, for every kind: the
//! JSON-lines sink uses it, and consumers (and `docs/events.md`) see serde's output.

use proptest::prelude::*;

use super::*;
use crate::gbt27930;

/// Renders `ev` both ways and compares the bytes.
fn assert_same_bytes(ev: &Event) {
    let expected = serde_json::to_vec(ev).unwrap();
    let mut got = Vec::new();
    ev.write_json(&mut got).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected)
    );
    // Written over stale bytes in a reused buffer (what the JSON-lines sink does): the same bytes, nothing before
    // them touched, whether the buffer has room to spare or must grow.
    for len in [7, 7 + 4096] {
        let mut reused = vec![b'\xff'; len];
        let end = ev.view().write_json_at(&mut reused, 7).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reused[7..end]),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(&reused[..7], &[b'\xff'; 7]);
    }
}

fn event(connector: Option<u16>, body: EventBody) -> Event {
    Event {
        v: EVENT_SCHEMA_VERSION,
        id: "gw-a-2a-17".into(),
        ts: 1_700_000_000_123,
        charger: "32010600019236".into(),
        connector,
        protocol: "ykc/1.6".into(),
        body,
        gw: "gw-a".into(),
    }
}

/// One body of every kind, with every optional field set (and a second, minimal one where fields are optional).
fn every_kind(text: &str, x: f64) -> Vec<EventBody> {
    let s = || text.to_owned();
    vec![
        EventBody::Online(OnlineData {
            protocol_version: Some(s()),
            vendor: Some(s()),
            model: Some(s()),
            serial: Some(s()),
            firmware: Some(s()),
            current_type: Some("dc".into()),
            connectors: Some(2),
            network: Some(s()),
            iccid: Some(s()),
            operator_code: Some(255),
        }),
        EventBody::Online(OnlineData::default()),
        EventBody::Offline(OfflineData { reason: s() }),
        EventBody::Heartbeat(HeartbeatData { fault: Some(true) }),
        EventBody::Heartbeat(HeartbeatData::default()),
        EventBody::Status(StatusData {
            status: ConnectorStatus::SuspendedEvse,
            vendor_status: s().into(),
            plugged: Some(false),
            gun_returned: Some(true),
            errors: vec![s(), "over_temperature".into()],
            info: Some(s()),
        }),
        EventBody::Status(StatusData {
            status: ConnectorStatus::Charging,
            vendor_status: "0x03".into(),
            plugged: None,
            gun_returned: None,
            errors: Vec::new(),
            info: None,
        }),
        EventBody::Meter(MeterData {
            transaction_id: Some(s()),
            voltage_v: Some(x),
            current_a: Some(-x),
            power_kw: Some(x * 1e-7),
            energy_kwh: Some(x * 1e21),
            energy_is_register: true,
            soc_pct: Some(0.0),
            connector_temperature_c: Some(-0.0),
            battery_temperature_max_c: Some(f64::NAN),
            elapsed_min: Some(u32::MAX),
            remaining_min: Some(0),
            amount: Some(f64::INFINITY),
            phases: vec![PhaseReading {
                phase: s(),
                voltage_v: Some(x),
                ..Default::default()
            }],
            readings: vec![Reading {
                measurand: s(),
                value: x,
                unit: "kWh".into(),
                phase: None,
                location: Some(s()),
                context: None,
            }],
            sampled_at: Some(s()),
        }),
        EventBody::Meter(MeterData::default()),
        EventBody::Bms(Box::new(gbt27930::Message::Bhm(gbt27930::Bhm {
            max_charge_voltage_v: x,
        }))),
        EventBody::SessionStarted(SessionStartedData {
            transaction_id: s(),
            id_tag: Some(s()),
            meter_start_kwh: Some(x),
            started_at: None,
        }),
        EventBody::SessionStopped(SessionStoppedData {
            transaction_id: s(),
            reason: s(),
            ..Default::default()
        }),
        EventBody::Transaction(Box::new(TransactionData {
            transaction_id: s(),
            amount: Some(x),
            tiers: vec![TariffTier {
                tier: s(),
                price_per_kwh: x,
                energy_kwh: 1.0,
                loss_adjusted_energy_kwh: 1.5,
                amount: x,
            }],
            ..Default::default()
        })),
        EventBody::Alarm(AlarmData {
            code: s(),
            severity: "major".into(),
            text: s(),
            active: false,
        }),
        EventBody::Authorize(AuthorizeData {
            method: "card".into(),
            id: s(),
            password_supplied: true,
        }),
        EventBody::Notice(StatusNoticeData {
            topic: s(),
            detail: serde_json::json!({"a": [1, 2.5, text], "b": null}),
        }),
        EventBody::CommandResult(CommandResultData {
            command_id: s(),
            command: "start".into(),
            status: CommandStatus::NotSupported,
            detail: serde_json::json!({"code": x}),
        }),
        EventBody::CommandResult(CommandResultData {
            command_id: String::new(),
            command: "stop".into(),
            status: CommandStatus::Accepted,
            detail: serde_json::Value::Null,
        }),
        EventBody::Raw(RawData {
            message_type: s(),
            hex: "68".into(),
        }),
    ]
}

#[test]
fn every_kind_renders_the_same_bytes_as_serde() {
    let texts = [
        "plain",
        "",
        "quote \" and backslash \\",
        "ctl \u{1} \n \t \u{7f} 中文",
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for text in texts {
        for body in every_kind(text, 225.1) {
            kinds.insert(body.kind());
            assert_same_bytes(&event(Some(1), body.clone()));
            assert_same_bytes(&event(None, body));
        }
    }
    assert_eq!(
        kinds.len(),
        14,
        "a kind is missing from the test: {kinds:?}"
    );
}

#[test]
fn every_connector_status_renders_the_same_bytes_as_serde() {
    use ConnectorStatus::*;
    for status in [
        Available,
        Preparing,
        Charging,
        SuspendedEv,
        SuspendedEvse,
        Finishing,
        Reserved,
        Unavailable,
        Faulted,
        Offline,
    ] {
        assert_same_bytes(&event(
            Some(2),
            EventBody::Status(StatusData {
                status,
                vendor_status: "0x01".into(),
                plugged: Some(true),
                gun_returned: None,
                errors: Vec::new(),
                info: None,
            }),
        ));
    }
}

/// What `float` writes, against `zmij`'s shortest round-trip form (what serde_json writes).
fn float_text(v: f64) -> String {
    let mut out = Vec::new();
    super::json::float(&mut out, v);
    String::from_utf8(out).unwrap()
}

fn zmij_text(v: f64) -> String {
    if v.is_finite() {
        zmij::Buffer::new().format_finite(v).to_owned()
    } else {
        "null".to_owned()
    }
}

#[test]
fn the_short_decimal_float_path_writes_the_shortest_round_trip_form() {
    for v in [
        0.0,
        -0.0,
        380.5,
        12.25,
        0.001,
        0.002,
        0.009,
        0.01,
        0.1,
        0.3,
        42.0,
        -42.0,
        1e9,
        1e12,
        1099511627775.0,
        1099511627776.0,
        123456.789,
        0.0015,
        1.0005,
        2.675,
        1.005,
        0.000999,
        9007199254740993.0,
        1e-7,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        100.0,
        1000.5,
        -0.001,
        0.0001,
        0.00015,
        0.0009,
        -0.0001,
        1.2345,
        12345678.9012,
        109951162.7775,
        0.30000000000000004,
        // One unit in the last place off a whole number: within the fast path's tolerance of it, but not it.
        5.000000000000001,
        4.999999999999999,
        1234.0000000000002,
        -7.000000000000001,
    ] {
        assert_eq!(float_text(v), zmij_text(v), "{v:e}");
    }
}

proptest! {
    #[test]
    fn short_decimals_render_like_zmij(n in 0u64..(1 << 42), d in 0u32..7, neg in any::<bool>()) {
        let v = (n as f64) / 10f64.powi(d as i32);
        let v = if neg { -v } else { v };
        prop_assert_eq!(float_text(v), zmij_text(v));
    }

    #[test]
    fn doubles_next_to_short_decimals_render_like_zmij(n in 0u64..(1 << 30), d in 0u32..5, up in any::<bool>()) {
        let v = (n as f64) / 10f64.powi(d as i32);
        let v = if up { v.next_up() } else { v.next_down() };
        prop_assert_eq!(float_text(v), zmij_text(v));
    }

    #[test]
    fn any_double_renders_like_zmij(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        prop_assert_eq!(float_text(v), zmij_text(v));
    }
}

proptest! {
    #[test]
    fn any_strings_and_numbers_render_the_same_bytes_as_serde(
        text in any::<String>(),
        id in any::<String>(),
        x in any::<f64>(),
        ts in any::<u64>(),
        connector in any::<Option<u16>>(),
    ) {
        for body in every_kind(&text, x) {
            let mut ev = event(connector, body);
            ev.id = id.as_str().into();
            ev.charger = text.as_str().into();
            ev.gw = text.as_str().into();
            ev.ts = ts;
            let expected = serde_json::to_vec(&ev).unwrap();
            let mut got = Vec::new();
            ev.write_json(&mut got).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}

proptest! {
    /// Strings with nothing to escape take the copying path at every length (short copies, long copies, and a
    /// document larger than the room reserved ahead), appended after whatever the buffer already holds.
    #[test]
    fn plain_strings_of_any_length_render_the_same_bytes_after_earlier_lines(
        text in "[ -!#-\\[\\]-~]{0,1200}",
        charger in "[0-9A-Za-z]{0,40}",
        prefix in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        for body in every_kind(&text, 380.5) {
            let mut ev = event(Some(1), body);
            ev.charger = charger.as_str().into();
            ev.protocol = text.as_str().into();
            let mut expected = prefix.clone();
            serde_json::to_writer(&mut expected, &ev).unwrap();
            let mut got = prefix.clone();
            ev.write_json(&mut got).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}

proptest! {
    /// A view whose id is still its parts renders the same bytes as the stamped event (what the JSON-lines sink
    /// writes either way), for every kind and any instance name, connection and sequence number.
    #[test]
    fn a_view_with_its_id_as_parts_renders_the_stamped_event(
        gw in "[ -~]{0,40}",
        conn in any::<u64>(),
        seq in any::<u64>(),
        connector in any::<Option<u16>>(),
        text in any::<String>(),
    ) {
        for body in every_kind(&text, 12.25) {
            let obs = Observation { charger: None, connector, body };
            let view = EventView::stamped(
                &obs.body,
                "32010600019236",
                obs.connector,
                IdView::Parts { conn, seq },
                1_700_000_000_123,
                "ykc/1.6",
                &gw,
                plain_names("32010600019236", "ykc/1.6", &gw),
            );
            let ev = Event::stamp(
                obs.clone(),
                EventId::compose(&gw, conn, seq),
                1_700_000_000_123,
                "32010600019236",
                "ykc/1.6",
                gw.as_str(),
            );
            let mut got = Vec::new();
            view.write_json(&mut got).unwrap();
            prop_assert_eq!(&got, &serde_json::to_vec(&ev).unwrap());
            // The owned event is the same too (compared as JSON: NaN is not equal to itself).
            prop_assert_eq!(serde_json::to_vec(&view.to_event()).unwrap(), got);
        }
    }
}
