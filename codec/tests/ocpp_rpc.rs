//! OCPP-J framing as a receiver sees it: message types, ids, error codes per version, and no panics.

use chargegate_codec::ocpp::rpc::{self, Message, Reaction, RpcError};
use chargegate_codec::ocpp::{ErrorCode, OcppVersion};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn unknown_message_type_is_ignored_in_1_6_and_2_1_but_answered_in_2_0_1() {
    let err = rpc::parse(r#"[7,"abc","X",{}]"#, OcppVersion::V16).unwrap_err();
    assert_eq!(err.kind(), "unknown_message_type");
    assert_eq!(err.reaction(OcppVersion::V16), Reaction::Ignore);
    assert_eq!(err.reaction(OcppVersion::V21), Reaction::Ignore);
    assert_eq!(
        err.reaction(OcppVersion::V201),
        Reaction::Answer {
            id: "abc".into(),
            code: ErrorCode::MessageTypeNotSupported
        }
    );
}

#[test]
fn unreadable_id_is_answered_with_minus_one_in_2_0_1() {
    for frame in ["not json", "{}", r#"[2, 5, "Heartbeat", {}]"#] {
        let err = rpc::parse(frame, OcppVersion::V201).unwrap_err();
        assert_eq!(
            err.reaction(OcppVersion::V201),
            Reaction::Answer {
                id: "-1".into(),
                code: ErrorCode::RpcFrameworkError
            },
            "{frame}"
        );
    }
}

#[test]
fn ids_longer_than_36_characters_are_refused() {
    let long = "x".repeat(37);
    let err = rpc::parse(
        &format!(r#"[2,"{long}","Heartbeat",{{}}]"#),
        OcppVersion::V16,
    )
    .unwrap_err();
    assert!(matches!(err, RpcError::IdTooLong { chars: 37, .. }));
    let ok = "y".repeat(36);
    assert!(rpc::parse(&format!(r#"[2,"{ok}","Heartbeat",{{}}]"#), OcppVersion::V16).is_ok());
}

#[test]
fn a_call_without_payload_is_a_protocol_error_in_1_6() {
    let err = rpc::parse(r#"[2,"1","Heartbeat"]"#, OcppVersion::V16).unwrap_err();
    assert_eq!(
        err.reaction(OcppVersion::V16),
        Reaction::Answer {
            id: "1".into(),
            code: ErrorCode::ProtocolError
        }
    );
}

#[test]
fn both_spellings_of_the_1_6_typo_codes_are_accepted_and_the_1_6_spelling_is_emitted() {
    for (wire, code) in [
        ("FormationViolation", ErrorCode::FormatViolation),
        ("FormatViolation", ErrorCode::FormatViolation),
        (
            "OccurenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation,
        ),
        (
            "OccurrenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation,
        ),
    ] {
        let frame = format!(r#"[4,"9","{wire}","",{{}}]"#);
        let Message::CallError(e) = rpc::parse(&frame, OcppVersion::V16).unwrap() else {
            panic!()
        };
        assert_eq!(e.code(), Some(code));
    }
    assert_eq!(
        ErrorCode::FormatViolation.as_wire(OcppVersion::V16),
        "FormationViolation"
    );
    assert_eq!(
        ErrorCode::OccurrenceConstraintViolation.as_wire(OcppVersion::V16),
        "OccurenceConstraintViolation"
    );
    assert_eq!(
        ErrorCode::FormatViolation.as_wire(OcppVersion::V201),
        "FormatViolation"
    );
}

#[test]
fn error_details_are_kept_verbatim_and_empty_details_are_sent_as_an_object() {
    let frame = r#"[4,"9","GenericError","boom",{"vendor":{"trace":[1,2]}}]"#;
    let Message::CallError(e) = rpc::parse(frame, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(e.details.get(), r#"{"vendor":{"trace":[1,2]}}"#);
    assert_eq!(e.error_code, "GenericError");
    let out = rpc::encode_error(
        "9",
        ErrorCode::OccurrenceConstraintViolation,
        "",
        None,
        OcppVersion::V16,
    )
    .unwrap();
    assert_eq!(out, r#"[4,"9","OccurenceConstraintViolation","",{}]"#);
}

#[test]
fn call_and_result_round_trip_through_the_encoder() {
    let text = rpc::encode_call("42", "Heartbeat", &json!({})).unwrap();
    assert_eq!(text, r#"[2,"42","Heartbeat",{}]"#);
    let Message::Call(c) = rpc::parse(&text, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.id.as_ref(), c.action.as_ref(), c.payload.get()),
        ("42", "Heartbeat", "{}")
    );
    let text = rpc::encode_result("42", &json!({"currentTime": "2024-05-01T12:00:00Z"})).unwrap();
    let Message::CallResult(r) = rpc::parse(&text, OcppVersion::V16).unwrap() else {
        panic!()
    };
    assert_eq!(r.id, "42");
}

#[test]
fn the_payload_is_borrowed_from_the_frame_not_copied() {
    let frame = String::from(r#"[2,"1","Authorize",{"idTag":"ABC"}]"#);
    let Message::Call(c) = rpc::parse(&frame, OcppVersion::V16).unwrap() else {
        panic!()
    };
    let range = frame.as_bytes().as_ptr_range();
    assert!(range.contains(&c.payload.get().as_ptr()));
}

#[test]
fn result_and_error_types_of_2_1_are_refused_under_1_6() {
    assert!(rpc::parse(r#"[5,"1","GenericError","",{}]"#, OcppVersion::V16).is_err());
    let Message::CallResultError(e) =
        rpc::parse(r#"[5,"1","GenericError","",{}]"#, OcppVersion::V21).unwrap()
    else {
        panic!()
    };
    assert_eq!(e.id, "1");
}

proptest! {
    #[test]
    fn parsing_arbitrary_text_never_panics(s in any::<String>()) {
        for v in [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21] {
            if let Err(e) = rpc::parse(&s, v) { let _ = e.reaction(v); }
        }
    }

    #[test]
    fn parsing_array_shaped_text_never_panics(t in 0u64..10, id in ".{0,40}", a in "[A-Za-z]{0,12}", tail in "[\\[\\]{}\",:0-9a-z ]{0,30}") {
        let frame = format!("[{t},{:?},{:?},{tail}]", id, a);
        for v in [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21] {
            if let Err(e) = rpc::parse(&frame, v) { let _ = e.reaction(v); }
        }
    }
}

proptest! {
    #[test]
    fn decoding_arbitrary_payload_objects_never_panics(
        action in prop::sample::select(vec!["MeterValues", "StatusNotification", "BootNotification", "StopTransaction", "Nope"]),
        keys in prop::collection::vec("[a-zA-Z]{1,12}", 0..4),
        vals in prop::collection::vec(prop_oneof![Just(json!(1)), Just(json!("x")), Just(json!(null)), Just(json!([{}])), Just(json!({"a": 1.5}))], 0..4),
    ) {
        let obj: serde_json::Map<String, serde_json::Value> = keys.into_iter().zip(vals).collect();
        let raw = serde_json::value::to_raw_value(&obj).unwrap();
        for validate in [true, false] {
            if let Err(e) = chargegate_codec::ocpp::v16::decode_call(action, &raw, validate) {
                let _ = (e.code(), e.kind(), e.details());
            }
        }
    }
}
