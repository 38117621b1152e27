//! Public OCPP examples (spec text and the Python `ocpp` library's examples) decode as the documents say.
//! The frames live in `tests/data/ocpp/vectors.json` with their id and source.

use chargegate_codec::ocpp::rpc::{self, Message};
use chargegate_codec::ocpp::{v16, v201, ErrorCode, OcppVersion};
use serde_json::Value;

fn vector(id: &str) -> String {
    let all: Vec<Value> = serde_json::from_str(include_str!("data/ocpp/vectors.json")).unwrap();
    let v = all
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no vector {id}"));
    assert!(v["source"].as_str().is_some_and(|s| !s.is_empty()));
    v["frame"].as_str().unwrap().to_owned()
}

#[test]
fn errata_callerror_example_reads_as_not_supported_with_empty_details() {
    let frame = vector("err-3.7-callerror");
    let Message::CallError(e) = rpc::parse(&frame, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(e.id, "162376037");
    assert_eq!(e.code(), Some(ErrorCode::NotSupported));
    assert_eq!(e.description, "SendLocalList.req not implemented");
    assert_eq!(e.details.get(), "{}");
}

#[test]
fn spec_call_example_is_a_valid_boot_notification() {
    let frame = vector("j16-4.2.1-call-boot");
    let Message::Call(c) = rpc::parse(&frame, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.id.as_ref(), c.action.as_ref()),
        ("19223201", "BootNotification")
    );
    let v16::Request::BootNotification(b) = v16::decode_call(&c.action, c.payload, true).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.charge_point_vendor, "VendorX");
    assert_eq!(b.charge_point_model, "SingleSocketCharger");
}

#[test]
fn spec_callresult_example_frames_fine_but_fails_the_schema_for_its_heartbeat_interval_field() {
    let frame = vector("j16-4.2.2-callresult-boot");
    let Message::CallResult(r) = rpc::parse(&frame, OcppVersion::V16).unwrap() else {
        panic!()
    };
    let err = v16::decode_response(v16::Action::BootNotification, r.payload, true).unwrap_err();
    assert_eq!(
        err.code().as_wire(OcppVersion::V16),
        "OccurenceConstraintViolation"
    );
}

#[test]
fn send_example_is_a_send_in_2_1_and_an_ignored_unknown_type_in_1_6() {
    let frame = vector("p4-21-send");
    let Message::Send(s) = rpc::parse(&frame, OcppVersion::V21).unwrap() else {
        panic!()
    };
    assert_eq!(s.action, "NotifyPeriodicEventStream");
    let err = rpc::parse(&frame, OcppVersion::V16).unwrap_err();
    assert_eq!(err.reaction(OcppVersion::V16), rpc::Reaction::Ignore);
}

#[test]
fn python_ocpp_boot_notification_call_and_result_decode() {
    let call = vector("pyocpp-v16-boot-call");
    let Message::Call(c) = rpc::parse(&call, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(c.id.len(), 36);
    let v16::Request::BootNotification(b) = v16::decode_call(&c.action, c.payload, true).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (
            b.charge_point_model.as_str(),
            b.charge_point_vendor.as_str()
        ),
        ("Optimus", "The Mobility House")
    );
    let result = vector("pyocpp-v16-boot-result");
    let Message::CallResult(r) = rpc::parse(&result, OcppVersion::V16).unwrap() else {
        panic!()
    };
    let v16::Response::BootNotification(conf) =
        v16::decode_response(v16::Action::BootNotification, r.payload, true).unwrap()
    else {
        panic!()
    };
    assert_eq!(conf.interval, 10);
    assert_eq!(conf.status, v16::BootNotificationStatus::Accepted);
}

#[test]
fn python_ocpp_v201_boot_notification_decodes() {
    let call = vector("pyocpp-v201-boot-call");
    let Message::Call(c) = rpc::parse(&call, OcppVersion::V201).unwrap() else {
        panic!()
    };
    let v201::Request::BootNotification(b) = v201::decode_call(&c.action, c.payload, true).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.charging_station.vendor_name, "anewone");
    assert_eq!(b.reason, v201::BootReasonEnum::PowerUp);
}
