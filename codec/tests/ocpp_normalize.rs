//! OCPP messages become normalized events with SI units: kW, kWh, A, V per phase; sessions; statuses; commands.

use chargegate_codec::command::{CommandKind, ResetArgs, StartArgs, StopArgs};
use chargegate_codec::event::{CommandStatus, ConnectorStatus, EventBody};
use chargegate_codec::ocpp::command::{error_result, to_v16_call, to_v201_call, v16_result};
use chargegate_codec::ocpp::normalize::{normalize_v16, v201::normalize_v201};
use chargegate_codec::ocpp::rpc::{self, Message};
use chargegate_codec::ocpp::{answers, v16, v201, OcppVersion};
use serde_json::json;

fn decode16(action: &str, payload: serde_json::Value) -> v16::Request {
    let raw = serde_json::value::to_raw_value(&payload).unwrap();
    v16::decode_call(action, &raw, true).unwrap()
}

fn sv(value: &str, measurand: &str, unit: &str, phase: Option<&str>) -> serde_json::Value {
    let mut v =
        json!({"value": value, "measurand": measurand, "unit": unit, "context": "Sample.Periodic"});
    if let Some(p) = phase {
        v["phase"] = json!(p);
    }
    v
}

#[test]
fn three_phase_meter_values_carry_kw_kwh_a_v_per_phase() {
    let samples = vec![
        sv("230.1", "Voltage", "V", Some("L1-N")),
        sv("229.8", "Voltage", "V", Some("L2-N")),
        sv("231.0", "Voltage", "V", Some("L3-N")),
        sv("16.2", "Current.Import", "A", Some("L1")),
        sv("15.9", "Current.Import", "A", Some("L2")),
        sv("16.0", "Current.Import", "A", Some("L3")),
        sv("3720", "Power.Active.Import", "W", Some("L1")),
        sv("3650", "Power.Active.Import", "W", Some("L2")),
        sv("3.7", "Power.Active.Import", "kW", Some("L3")),
        sv("11070", "Power.Active.Import", "W", None),
        sv("12345678", "Energy.Active.Import.Register", "Wh", None),
        sv("1500", "Energy.Reactive.Import.Register", "varh", None),
    ];
    let req = decode16(
        "MeterValues",
        json!({"connectorId": 2, "transactionId": 77,
               "meterValue": [{"timestamp": "2024-05-01T12:00:00Z", "sampledValue": samples}]}),
    );
    let obs = normalize_v16("CP-1", &req, None);
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0].connector, Some(2));
    let EventBody::Meter(m) = &obs[0].body else {
        panic!()
    };
    assert_eq!(m.transaction_id.as_deref(), Some("77"));
    assert_eq!(m.power_kw, Some(11.07));
    assert_eq!(m.energy_kwh, Some(12345.678));
    assert!(m.energy_is_register);
    let phase = |n: &str| m.phases.iter().find(|p| p.phase == n).unwrap();
    assert_eq!(
        (
            phase("L1").voltage_v,
            phase("L1").current_a,
            phase("L1").power_kw
        ),
        (Some(230.1), Some(16.2), Some(3.72))
    );
    assert_eq!(
        (
            phase("L2").voltage_v,
            phase("L2").current_a,
            phase("L2").power_kw
        ),
        (Some(229.8), Some(15.9), Some(3.65))
    );
    assert_eq!(
        (
            phase("L3").voltage_v,
            phase("L3").current_a,
            phase("L3").power_kw
        ),
        (Some(231.0), Some(16.0), Some(3.7))
    );
    assert_eq!(m.phases.len(), 3);
    assert_eq!(m.readings.len(), 1);
    assert_eq!(
        (m.readings[0].unit.as_str(), m.readings[0].value),
        ("kvarh", 1.5)
    );
    assert_eq!(m.readings[0].context.as_deref(), Some("Sample.Periodic"));
}

#[test]
fn a_faulted_status_on_connector_zero_is_a_charger_status_plus_an_alarm() {
    let req = decode16(
        "StatusNotification",
        json!({"connectorId": 0, "errorCode": "GroundFailure", "status": "Faulted", "vendorErrorCode": "E42"}),
    );
    let obs = normalize_v16("CP-1", &req, None);
    assert_eq!(obs.len(), 2);
    assert_eq!(obs[0].connector, None);
    let EventBody::Status(s) = &obs[0].body else {
        panic!()
    };
    assert_eq!(
        (s.status, s.errors.clone()),
        (ConnectorStatus::Faulted, vec!["GroundFailure".to_owned()])
    );
    let EventBody::Alarm(a) = &obs[1].body else {
        panic!()
    };
    assert_eq!(
        (a.code.as_str(), a.severity.as_str(), a.text.as_str()),
        ("ocpp.GroundFailure", "major", "E42")
    );
}

#[test]
fn start_and_stop_transaction_become_session_events_in_kwh() {
    let start = decode16(
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": "2024-05-01T12:00:00Z"}),
    );
    let obs = normalize_v16("CP-1", &start, Some(501));
    let EventBody::SessionStarted(s) = &obs[0].body else {
        panic!()
    };
    assert_eq!(
        (s.transaction_id.as_str(), s.meter_start_kwh),
        ("501", Some(1.0))
    );
    let stop = decode16(
        "StopTransaction",
        json!({"transactionId": 501, "meterStop": 23500, "timestamp": "2024-05-01T13:00:00Z", "reason": "EVDisconnected",
               "transactionData": [{"timestamp": "2024-05-01T13:00:00Z", "sampledValue": [
                   {"value": "23500", "context": "Transaction.End", "unit": "Wh"}]}]}),
    );
    let obs = normalize_v16("CP-1", &stop, None);
    let kinds: Vec<_> = obs.iter().map(|o| o.body.kind()).collect();
    assert_eq!(kinds, ["session_stopped", "transaction", "meter"]);
    let EventBody::Meter(m) = &obs[2].body else {
        panic!()
    };
    assert_eq!(
        (m.energy_kwh, m.transaction_id.as_deref()),
        (Some(23.5), Some("501"))
    );
    let EventBody::SessionStopped(s) = &obs[0].body else {
        panic!()
    };
    assert_eq!(
        (s.reason.as_str(), s.meter_stop_kwh),
        ("ev_disconnected", Some(23.5))
    );
}

#[test]
fn boot_heartbeat_authorize_and_firmware_status_map_to_their_kinds() {
    let cases = [
        (
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M"}),
            "online",
        ),
        ("Heartbeat", json!({}), "heartbeat"),
        ("Authorize", json!({"idTag": "T"}), "authorize"),
        (
            "FirmwareStatusNotification",
            json!({"status": "Installed"}),
            "notice",
        ),
        (
            "DiagnosticsStatusNotification",
            json!({"status": "Uploaded"}),
            "notice",
        ),
        (
            "DataTransfer",
            json!({"vendorId": "acme", "data": "x"}),
            "notice",
        ),
    ];
    for (action, payload, kind) in cases {
        let obs = normalize_v16("CP-1", &decode16(action, payload), None);
        assert_eq!(obs[0].body.kind(), kind, "{action}");
    }
}

#[test]
fn a_2_0_1_transaction_event_ended_stops_the_session_with_energy_from_its_meter_value() {
    let payload = json!({"eventType": "Ended", "timestamp": "2024-05-01T13:00:00Z", "triggerReason": "EVCommunicationLost",
        "seqNo": 3, "transactionInfo": {"transactionId": "tx-9", "stoppedReason": "EVDisconnected"}, "evse": {"id": 1},
        "meterValue": [{"timestamp": "2024-05-01T13:00:00Z", "sampledValue": [
            {"value": 22.5, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "kWh"}}]}]});
    let raw = serde_json::value::to_raw_value(&payload).unwrap();
    let req = v201::decode_call("TransactionEvent", &raw, true).unwrap();
    let obs = normalize_v201("CS-1", &req);
    let kinds: Vec<_> = obs.iter().map(|o| o.body.kind()).collect();
    assert_eq!(kinds, ["session_stopped", "transaction", "meter"]);
    let EventBody::SessionStopped(s) = &obs[0].body else {
        panic!()
    };
    assert_eq!(
        (
            s.transaction_id.as_str(),
            s.meter_stop_kwh,
            s.reason.as_str()
        ),
        ("tx-9", Some(22.5), "ev_disconnected")
    );
}

#[test]
fn start_command_becomes_remote_start_in_1_6_and_request_start_in_2_0_1() {
    let start = CommandKind::Start(StartArgs {
        connector: 1,
        id_tag: Some("TAG".into()),
        ..Default::default()
    });
    let call = to_v16_call(&start).unwrap();
    assert_eq!(
        call.encode("c1").unwrap(),
        r#"[2,"c1","RemoteStartTransaction",{"connectorId":1,"idTag":"TAG"}]"#
    );
    let call = to_v201_call(&start, 7).unwrap();
    assert_eq!(call.action, "RequestStartTransaction");
    assert_eq!(call.payload["idToken"]["idToken"], "TAG");
    let stop = CommandKind::Stop(StopArgs {
        transaction_id: Some("501".into()),
        connector: None,
    });
    assert_eq!(
        to_v16_call(&stop).unwrap().payload,
        json!({"transactionId": 501})
    );
    let reset = CommandKind::Reset(ResetArgs { hard: true });
    assert_eq!(
        to_v16_call(&reset).unwrap().payload,
        json!({"type": "Hard"})
    );
}

#[test]
fn results_and_errors_become_command_results() {
    let start = CommandKind::Start(StartArgs {
        connector: 1,
        id_tag: Some("TAG".into()),
        ..Default::default()
    });
    let Message::CallResult(r) =
        rpc::parse(r#"[3,"c1",{"status":"Rejected"}]"#, OcppVersion::V16).unwrap()
    else {
        panic!()
    };
    let res = v16_result("cmd-1", &start, v16::Action::RemoteStartTransaction, &r);
    assert_eq!(
        (res.status, res.command.as_str()),
        (CommandStatus::Rejected, "start")
    );
    let Message::CallError(e) = rpc::parse(
        r#"[4,"c1","NotImplemented","no",{"x":1}]"#,
        OcppVersion::V16,
    )
    .unwrap() else {
        panic!()
    };
    let res = error_result("cmd-1", &start, &e);
    assert_eq!(res.status, CommandStatus::NotSupported);
    assert_eq!(res.detail["details"], json!({"x":1}));
    let set_price = CommandKind::SetPrice(Default::default());
    assert!(to_v16_call(&set_price).is_err());
}

#[test]
fn local_answers_validate_against_the_response_schemas() {
    use chargegate_codec::ocpp::schema::PayloadKind;
    let now = "2024-05-01T12:00:00Z";
    let check = |action, value: serde_json::Value| {
        v16::validate(action, PayloadKind::Response, &value).unwrap()
    };
    check(
        v16::Action::BootNotification,
        serde_json::to_value(answers::boot_notification(
            v16::BootNotificationStatus::Accepted,
            300,
            now,
        ))
        .unwrap(),
    );
    check(
        v16::Action::Heartbeat,
        serde_json::to_value(answers::heartbeat(now)).unwrap(),
    );
    check(
        v16::Action::StatusNotification,
        serde_json::to_value(answers::status_notification()).unwrap(),
    );
    check(
        v16::Action::MeterValues,
        serde_json::to_value(answers::meter_values()).unwrap(),
    );
    check(
        v16::Action::Authorize,
        serde_json::to_value(answers::authorize(v16::AuthorizationStatus::Accepted)).unwrap(),
    );
    check(
        v16::Action::StartTransaction,
        serde_json::to_value(answers::start_transaction(
            501,
            v16::AuthorizationStatus::Accepted,
        ))
        .unwrap(),
    );
    check(
        v16::Action::StopTransaction,
        serde_json::to_value(answers::stop_transaction(None)).unwrap(),
    );
    check(
        v16::Action::DataTransfer,
        serde_json::to_value(answers::data_transfer(
            v16::DataTransferStatus::Accepted,
            None,
        ))
        .unwrap(),
    );
}

#[test]
fn every_command_ocpp_can_express_maps_to_a_schema_valid_2_0_1_call() {
    use chargegate_codec::command::{
        AvailabilityArgs, ChangeConfigurationArgs, ConnectorArgs, DataTransferArgs,
        GetConfigurationArgs, TriggerArgs,
    };
    let cases = [
        (
            CommandKind::Unlock(ConnectorArgs { connector: 2 }),
            "UnlockConnector",
        ),
        (
            CommandKind::ChangeAvailability(AvailabilityArgs {
                connector: 0,
                operative: false,
            }),
            "ChangeAvailability",
        ),
        (
            CommandKind::GetConfiguration(GetConfigurationArgs {
                keys: vec!["OCPPCommCtrlr.HeartbeatInterval".into()],
            }),
            "GetVariables",
        ),
        (
            CommandKind::ChangeConfiguration(ChangeConfigurationArgs {
                key: "OCPPCommCtrlr.HeartbeatInterval".into(),
                value: "60".into(),
            }),
            "SetVariables",
        ),
        (
            CommandKind::TriggerMessage(TriggerArgs {
                message: "status".into(),
                connector: Some(1),
            }),
            "TriggerMessage",
        ),
        (
            CommandKind::DataTransfer(DataTransferArgs {
                vendor_id: "acme".into(),
                message_id: None,
                data: Some("x".into()),
            }),
            "DataTransfer",
        ),
    ];
    for (command, action) in cases {
        assert_eq!(to_v201_call(&command, 1).unwrap().action, action);
        assert!(to_v16_call(&command).is_ok(), "{action} in 1.6");
    }
    let bad_key = CommandKind::GetConfiguration(GetConfigurationArgs {
        keys: vec!["HeartbeatInterval".into()],
    });
    assert!(to_v201_call(&bad_key, 1).is_err());
}
