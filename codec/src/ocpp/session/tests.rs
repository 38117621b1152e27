//! The session logic without any transport: what a charger gets back for each message it sends.

use serde_json::{json, Value};

use super::*;
use crate::command::{CommandKind, ResetArgs};

const NOW: &str = "2026-01-02T03:04:05Z";

fn session(identity: Identity, mode: AnswerMode) -> OcppSession {
    let config = SessionConfig {
        heartbeat_interval: Duration::from_secs(120),
        mode,
        ..SessionConfig::default()
    };
    OcppSession::new(
        OcppVersion::V16,
        identity,
        config,
        Arc::new(|| NOW.to_owned()),
    )
}

fn ws() -> OcppSession {
    session(Identity::Established("CP-1".into()), AnswerMode::Local)
}

fn send(s: &mut OcppSession, message: Value) -> DecodedFrame {
    let text = message.to_string();
    match s.on_message(Bytes::from(text.clone()), text.as_bytes()) {
        Inbound::Frame(frame) => frame,
        Inbound::Rejected(r) => panic!("rejected: {r:?}"),
    }
}

fn reply(frame: &DecodedFrame) -> Value {
    match &frame.reply {
        ReplyPlan::Immediate(bytes) => serde_json::from_slice(bytes).unwrap(),
        other => panic!("no immediate reply: {other:?}"),
    }
}

fn boot(s: &mut OcppSession) {
    send(
        s,
        json!([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]),
    );
}

#[test]
fn a_call_before_the_boot_notification_is_answered_security_error() {
    let mut s = ws();
    let frame = send(&mut s, json!([2, "h1", "Heartbeat", {}]));
    assert_eq!(reply(&frame)[2], "SecurityError");
    assert!(
        frame.observations.is_empty(),
        "a refused CALL produces no events"
    );
}

#[test]
fn the_boot_notification_is_accepted_with_the_configured_heartbeat_interval() {
    let mut s = ws();
    let frame = send(
        &mut s,
        json!([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]),
    );
    assert_eq!(
        reply(&frame),
        json!([3, "b", {"status": "Accepted", "currentTime": NOW, "interval": 120}])
    );
    assert!(s.is_booted());
    assert_eq!(frame.observations.len(), 1);
}

#[test]
fn schema_violations_get_the_callerror_code_the_spec_names() {
    let mut s = ws();
    boot(&mut s);
    let missing = send(
        &mut s,
        json!([2, "1", "StatusNotification", {"connectorId": 1}]),
    );
    assert_eq!(reply(&missing)[2], "OccurenceConstraintViolation");
    let wrong_type = send(
        &mut s,
        json!([2, "2", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", "status": "Available"}]),
    );
    assert_eq!(reply(&wrong_type)[2], "TypeConstraintViolation");
    let unknown = send(&mut s, json!([2, "3", "Teleport", {}]));
    assert_eq!(reply(&unknown)[2], "NotImplemented");
    let wrong_direction = send(&mut s, json!([2, "4", "Reset", {"type": "Soft"}]));
    assert_eq!(reply(&wrong_direction)[2], "NotSupported");
}

#[test]
fn a_frame_that_is_not_json_is_answered_with_id_minus_one() {
    let mut s = ws();
    let text = "[2, \"x\", ";
    let Inbound::Frame(frame) = s.on_message(Bytes::from(text), text.as_bytes()) else {
        panic!("expected an answer")
    };
    let answer = reply(&frame);
    assert_eq!(answer[1], "-1");
    assert_eq!(answer[2], "FormationViolation");
}

#[test]
fn an_unknown_message_type_is_ignored_in_1_6() {
    let mut s = ws();
    let text = r#"[7,"x","Heartbeat",{}]"#;
    assert!(matches!(
        s.on_message(Bytes::from(text), text.as_bytes()),
        Inbound::Rejected(_)
    ));
}

#[test]
fn start_transactions_get_increasing_gateway_ids_and_a_session_started_event() {
    let mut s = ws();
    boot(&mut s);
    let start = json!({"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW});
    let first = send(&mut s, json!([2, "s1", "StartTransaction", start]));
    let second = send(&mut s, json!([2, "s2", "StartTransaction", start]));
    assert_eq!(reply(&first)[2]["transactionId"], 1);
    assert_eq!(reply(&second)[2]["transactionId"], 2);
    let EventBody::SessionStarted(started) = &first.observations[0].body else {
        panic!("expected session_started")
    };
    assert_eq!(started.transaction_id, "1");
}

#[test]
fn the_stop_transaction_ack_waits_for_upstream_and_a_failure_makes_the_charger_retry() {
    let mut s = ws();
    boot(&mut s);
    let stop = json!([2, "t", "StopTransaction", {"transactionId": 1, "idTag": "T", "meterStop": 10, "timestamp": NOW}]);
    let frame = send(&mut s, stop);
    assert!(frame.billing);
    let ReplyPlan::Deferred(deferred) = &frame.reply else {
        panic!("the ack must be deferred")
    };
    let ok = s
        .deferred(deferred, ReplyOutcome::Accepted)
        .unwrap()
        .unwrap();
    let ok: Value = serde_json::from_slice(&ok).unwrap();
    assert_eq!(ok, json!([3, "t", {"idTagInfo": {"status": "Accepted"}}]));
    let failed = s
        .deferred(deferred, ReplyOutcome::Rejected)
        .unwrap()
        .unwrap();
    let failed: Value = serde_json::from_slice(&failed).unwrap();
    assert_eq!(failed[2], "InternalError");
}

#[test]
fn local_answers_cover_authorize_meter_values_and_data_transfer() {
    let mut s = ws();
    boot(&mut s);
    let auth = send(&mut s, json!([2, "a", "Authorize", {"idTag": "T"}]));
    assert_eq!(
        reply(&auth),
        json!([3, "a", {"idTagInfo": {"status": "Accepted"}}])
    );
    let mv = send(
        &mut s,
        json!([2, "m", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "1000"}]}]}]),
    );
    assert_eq!(reply(&mv), json!([3, "m", {}]));
    let dt = send(
        &mut s,
        json!([2, "d", "DataTransfer", {"vendorId": "acme"}]),
    );
    assert_eq!(reply(&dt), json!([3, "d", {"status": "Accepted"}]));
}

#[test]
fn transparent_mode_answers_nothing_and_forwards_the_call() {
    let mut s = session(
        Identity::Established("CP-1".into()),
        AnswerMode::Transparent,
    );
    let frame = send(&mut s, json!([2, "h", "Heartbeat", {}]));
    assert_eq!(frame.reply, ReplyPlan::None);
    let EventBody::Notice(notice) = &frame.observations[0].body else {
        panic!("expected a notice")
    };
    assert_eq!(notice.topic, "ocpp_call");
    assert_eq!(notice.detail["action"], "Heartbeat");
}

#[test]
fn over_raw_tcp_the_boot_notification_is_the_login_and_names_the_charger() {
    let mut s = session(Identity::FromBoot, AnswerMode::Local);
    let frame = send(
        &mut s,
        json!([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B", "chargeBoxSerialNumber": "SN-1"}]),
    );
    assert_eq!(frame.login.as_ref().unwrap().charger_id, "SN-1");
    let ReplyPlan::Deferred(login) = &frame.reply else {
        panic!("the boot reply waits for the auth decision")
    };
    let refused = s.deferred(login, ReplyOutcome::Rejected).unwrap().unwrap();
    let refused: Value = serde_json::from_slice(&refused).unwrap();
    assert_eq!(refused[2]["status"], "Rejected");
}

#[test]
fn commands_get_fresh_message_ids_and_replies_map_to_results() {
    let mut s = ws();
    let reset = Command {
        id: "c".into(),
        kind: CommandKind::Reset(ResetArgs { hard: true }),
    };
    let (id1, encoded) = s.encode_command(&reset).unwrap();
    let (id2, _) = s.encode_command(&reset).unwrap();
    assert_ne!(id1, id2);
    assert!(encoded.single_outstanding);
    let call: Value = serde_json::from_slice(&encoded.bytes).unwrap();
    assert_eq!(call, json!([2, id1, "Reset", {"type": "Hard"}]));
    let ok = s.command_result(
        &reset,
        json!([3, id1, {"status": "Accepted"}])
            .to_string()
            .as_bytes(),
    );
    assert_eq!(ok.status, CommandStatus::Accepted);
    let err = s.command_result(
        &reset,
        json!([4, id1, "NotImplemented", "", {}])
            .to_string()
            .as_bytes(),
    );
    assert_eq!(err.status, CommandStatus::NotSupported);
}

#[test]
fn a_passed_through_call_keeps_the_backend_id_and_its_answer_comes_back_whole() {
    use crate::command::OcppCallArgs;
    let mut s = ws();
    let call = Command {
        id: "emqx-1".into(),
        kind: CommandKind::OcppCall(OcppCallArgs {
            action: "GetConfiguration".into(),
            payload: json!({"key": ["HeartbeatInterval"]}),
        }),
    };
    let (id, encoded) = s.encode_command(&call).unwrap();
    assert_eq!(id, "emqx-1");
    let sent: Value = serde_json::from_slice(&encoded.bytes).unwrap();
    assert_eq!(
        sent,
        json!([2, "emqx-1", "GetConfiguration", {"key": ["HeartbeatInterval"]}])
    );
    let answer =
        json!([3, "emqx-1", {"configurationKey": [], "unknownKey": ["HeartbeatInterval"]}]);
    let result = s.command_result(&call, answer.to_string().as_bytes());
    assert_eq!(result.status, CommandStatus::Accepted);
    assert_eq!(result.detail["payload"], answer[2]);

    let unknown = Command {
        id: "emqx-2".into(),
        kind: CommandKind::OcppCall(OcppCallArgs {
            action: "Teleport".into(),
            payload: json!({}),
        }),
    };
    assert!(matches!(
        s.encode_command(&unknown),
        Err(PluginError::BadArgument {
            field: "action",
            ..
        })
    ));
    let bad_payload = Command {
        id: "emqx-3".into(),
        kind: CommandKind::OcppCall(OcppCallArgs {
            action: "Reset".into(),
            payload: json!({"type": "Sideways"}),
        }),
    };
    assert!(s.encode_command(&bad_payload).is_err(), "schema-checked");
}
