use super::*;

#[test]
fn event_serializes_to_the_documented_shape() {
    let obs = Observation::connector(
        "55031412782305",
        1,
        EventBody::Meter(MeterData {
            voltage_v: Some(225.1),
            energy_kwh: Some(1.5),
            ..Default::default()
        }),
    );
    let ev = Event::stamp(obs, "e1", 1_700_000_000_000, "x", "ykc/1.6", "gw-a");
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"v":1,"id":"e1","ts":1_700_000_000_000u64,"charger":"55031412782305","connector":1,
            "protocol":"ykc/1.6","kind":"meter","data":{"voltage_v":225.1,"energy_kwh":1.5},"gw":"gw-a"})
    );
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, ev);
}

#[test]
fn connector_zero_means_the_charger_and_is_omitted() {
    let obs = Observation {
        charger: None,
        connector: Some(0),
        body: EventBody::Heartbeat(HeartbeatData::default()),
    };
    let ev = Event::stamp(obs, "e2", 1, "CP-1", "ocpp/1.6", "gw");
    assert_eq!(ev.connector, None);
    assert_eq!(ev.charger, "CP-1");
    let json = serde_json::to_string(&ev).unwrap();
    assert!(json.contains("\"kind\":\"heartbeat\""), "{json}");
    assert!(!json.contains("connector"), "{json}");
}
