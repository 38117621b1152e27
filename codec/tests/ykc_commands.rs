//! Normalized commands → YKC down frames with reply correlation, and the automatic replies, checked against the
//! public frames where one exists.

mod ykc_support;

use chargegate_codec::command::{
    AvailabilityArgs, CommandKind, ConnectorArgs, GetConfigurationArgs, ResetArgs, SetPriceArgs,
    StartArgs, StopArgs,
};
use chargegate_codec::ykc::command::{prepare, result_of, CommandError};
use chargegate_codec::ykc::reply::{self, StartDecision};
use chargegate_codec::ykc::{
    self, frame_type, Cp56Time2a, Frame, LogicalCard, Message, PileNumber, TransactionSerial,
};
use ykc_support::{hex_upper, vector};

fn pile(s: &str) -> PileNumber {
    PileNumber::from_digits(s).unwrap()
}

fn request(id: &str) -> (Frame, Message) {
    ykc_support::decode_frame(vector(id).bytes)
}

#[test]
fn start_builds_the_0x34_frame_byte_for_byte_and_expects_0x33() {
    let cmd = CommandKind::Start(StartArgs {
        connector: 1,
        transaction_id: Some("00000000000012345678901234567890".into()),
        id_tag: Some("5678901234567890".into()),
        card: Some("5678901234567890".into()),
        balance: Some(100.0),
    });
    let p = prepare(&cmd, pile("20231212000010"), [0x01, 0x00]).unwrap();
    assert_eq!(
        hex_upper(&p.frame),
        vector("J14")
            .bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    assert_eq!(p.correlation.reply_type, frame_type::REMOTE_START_REPLY);
    // J15 is the pile's reply to that start: same serial, pile and gun.
    let (_, reply) = request("J15");
    assert!(p.correlation.matches(&reply));
    assert_eq!(
        result_of(&reply).unwrap().status,
        chargegate_codec::event::CommandStatus::Accepted
    );
}

#[test]
fn reply_from_another_pile_does_not_match() {
    let cmd = CommandKind::Start(StartArgs {
        connector: 1,
        transaction_id: Some("00000000000012345678901234567890".into()),
        ..Default::default()
    });
    let p = prepare(&cmd, pile("20231212000011"), [0, 0]).unwrap();
    assert!(!p.correlation.matches(&request("J15").1));
}

#[test]
fn start_without_transaction_id_is_refused_before_sending() {
    let cmd = CommandKind::Start(StartArgs {
        connector: 1,
        ..Default::default()
    });
    assert_eq!(
        prepare(&cmd, pile("20231212000010"), [0, 0]).unwrap_err(),
        CommandError::MissingArgument {
            command: "start",
            argument: "transaction_id"
        }
    );
}

#[test]
fn stop_builds_the_0x36_frame_of_the_spec_example() {
    let cmd = CommandKind::Stop(StopArgs {
        connector: Some(1),
        transaction_id: None,
    });
    let p = prepare(&cmd, pile("32010200000001"), [0x00, 0x03]).unwrap();
    assert_eq!(p.frame, vector("S36-computed").bytes);
    assert_eq!(p.correlation.reply_type, frame_type::REMOTE_STOP_REPLY);
}

#[test]
fn each_supported_command_names_its_reply_type() {
    let p = pile("20231212000010");
    let cases = [
        (
            CommandKind::Reset(ResetArgs { hard: true }),
            frame_type::REBOOT,
            frame_type::REBOOT_REPLY,
        ),
        (
            CommandKind::PollRealtime(ConnectorArgs { connector: 2 }),
            frame_type::POLL_REALTIME,
            frame_type::REALTIME,
        ),
        (
            CommandKind::ChangeAvailability(AvailabilityArgs {
                connector: 0,
                operative: false,
            }),
            frame_type::WORK_PARAMS,
            frame_type::WORK_PARAMS_REPLY,
        ),
    ];
    for (cmd, sent, reply) in cases {
        let prepared = prepare(&cmd, p, [0, 0]).unwrap();
        assert_eq!(prepared.frame[5], sent, "{cmd:?}");
        assert_eq!(prepared.correlation.reply_type, reply, "{cmd:?}");
        assert_eq!(
            ykc::decode(prepared.frame).unwrap().message,
            prepared.message
        );
    }
}

#[test]
fn change_availability_out_of_service_locks_the_pile_at_full_power() {
    let cmd = CommandKind::ChangeAvailability(AvailabilityArgs {
        connector: 0,
        operative: false,
    });
    match prepare(&cmd, pile("20231212000010"), [0, 0])
        .unwrap()
        .message
    {
        Message::WorkParams(w) => {
            assert!(!w.work_allowed());
            assert_eq!(w.max_power_pct, 100);
        }
        other => panic!("{other:?}"),
    }
}

fn j9_prices() -> SetPriceArgs {
    let mut slots = vec![0u8; 12];
    slots.extend([1u8; 12]);
    slots.extend([2u8; 12]);
    slots.extend([3u8; 12]);
    SetPriceArgs {
        model: "0001".into(),
        prices: [0.75, 0.45].repeat(4),
        slots,
        loss_ratio: 0,
    }
}

#[test]
fn set_price_builds_0x58_with_the_spec_length_byte() {
    let p = prepare(
        &CommandKind::SetPrice(j9_prices()),
        pile("20231212000010"),
        [0, 7],
    )
    .unwrap();
    assert_eq!(p.frame[1], 0x5E);
    assert_eq!(
        p.correlation.reply_type,
        frame_type::BILLING_MODEL_SET_REPLY
    );
    // Same body as JCPP's 0x0A example J9, whose only fault is its length byte.
    let j9 = vector("J9").bytes;
    assert_eq!(&p.frame[6..p.frame.len() - 2], &j9[6..j9.len() - 2]);
}

#[test]
fn set_price_with_seven_prices_is_invalid() {
    let mut args = j9_prices();
    args.prices.pop();
    let err = prepare(&CommandKind::SetPrice(args), pile("20231212000010"), [0, 0]).unwrap_err();
    assert_eq!(
        err,
        CommandError::InvalidArgument {
            command: "set_price",
            argument: "prices"
        }
    );
}

#[test]
fn commands_ykc_cannot_express_are_not_supported() {
    let err = prepare(
        &CommandKind::GetConfiguration(GetConfigurationArgs::default()),
        pile("20231212000010"),
        [0, 0],
    )
    .unwrap_err();
    assert_eq!(err.kind(), "ykc_command_not_supported");
}

#[test]
fn login_reply_echoes_sequence_and_matches_the_public_reply() {
    let (f, m) = request("J1");
    let Message::Login(login) = m else { panic!() };
    assert_eq!(
        reply::login_reply(&f, &login, true).unwrap(),
        vector("J2").bytes
    );
}

#[test]
fn heartbeat_reply_has_the_correct_length_byte_and_echoes_sequence() {
    let (f, m) = request("J4");
    let Message::Heartbeat(hb) = m else { panic!() };
    let out = reply::heartbeat_reply(&f, &hb).unwrap();
    let j5 = vector("J5").bytes;
    assert_eq!(out[1], 0x0D, "J5 sent 0x09 here");
    assert_eq!(&out[2..4], &[0x25, 0xD3]);
    assert_eq!(&out[6..out.len() - 2], &j5[6..j5.len() - 2]);
}

#[test]
fn billing_model_check_reply_echoes_the_request_bytes_verbatim() {
    let (f, m) = request("J6");
    let Message::BillingModelCheck(check) = m else {
        panic!()
    };
    let out = reply::billing_model_check_reply(&f, &check, check.model).unwrap();
    let j7 = vector("J7").bytes;
    assert_eq!(&out[2..4], &[0x71, 0xAD], "not JCPP's swapped AD 71");
    assert_eq!(&out[4..out.len() - 2], &j7[4..j7.len() - 2]);
}

#[test]
fn billing_model_check_reply_reports_a_different_model_as_inconsistent() {
    let (f, m) = request("J6");
    let Message::BillingModelCheck(check) = m else {
        panic!()
    };
    let out = reply::billing_model_check_reply(
        &f,
        &check,
        ykc::BillingModel::from_digits("0001").unwrap(),
    )
    .unwrap();
    assert_eq!(out[out.len() - 3], 0x01);
}

#[test]
fn tariff_reply_answers_0x09_with_0x0a() {
    let (f, _) = request("J8");
    let tariff =
        chargegate_codec::ykc::command::tariff_from_args(pile("20231212000010"), &j9_prices())
            .unwrap();
    let out = reply::tariff_reply(&f, &tariff).unwrap();
    let j9 = vector("J9").bytes;
    assert_eq!(out[5], 0x0A);
    assert_eq!(&out[2..4], &[0x00, 0x07]);
    assert_eq!(&out[6..out.len() - 2], &j9[6..j9.len() - 2]);
}

#[test]
fn transaction_confirmation_echoes_the_record_sequence() {
    use chargegate_codec::ykc::transaction::TransactionRecord;
    let body = {
        let mut b = hex::decode("20231212000010323239000000000000").unwrap();
        b.extend(hex::decode("20231212000010").unwrap());
        b.push(0x01);
        b.resize(158, 0);
        b
    };
    let frame = Frame::parse(ykc::encode_frame([0x00, 0x46], 0, 0x3B, &body).unwrap()).unwrap();
    let Message::TransactionRecord(rec) = Message::decode(&frame).unwrap() else {
        panic!()
    };
    let rec: &TransactionRecord = &rec;
    let out = reply::transaction_confirm(&frame, rec, true).unwrap();
    let j18 = vector("J18").bytes;
    assert_eq!(&out[2..4], &[0x00, 0x46]);
    assert_eq!(&out[4..out.len() - 2], &j18[4..j18.len() - 2]);
}

#[test]
fn time_sync_after_login_echoes_login_sequence() {
    let (f, _) = request("J1");
    let now = Cp56Time2a::parse_local("2024-12-18T17:15:30").unwrap();
    let out = reply::time_sync(&f, pile("20231212000010"), now).unwrap();
    let d = ykc::decode(out).unwrap();
    assert_eq!(d.frame.seq, f.seq);
    assert!(
        matches!(d.message, Message::TimeSync(t) if t.time.to_string() == "2024-12-18T17:15:30.000")
    );
}

#[test]
fn start_answer_refusal_carries_the_reason() {
    let (f, m) = request("J12");
    let Message::StartRequest(start) = m else {
        panic!()
    };
    let decision = StartDecision {
        serial: TransactionSerial::from_digits("32010200000001012018061219595785").unwrap(),
        logical_card: LogicalCard::default(),
        balance_raw: 0,
        refusal: Some(0x01),
    };
    let d = ykc::decode(reply::start_answer(&f, &start, &decision).unwrap()).unwrap();
    assert_eq!(d.frame.seq, [0x00, 0x04]);
    match d.message {
        Message::StartAnswer(a) => {
            assert_eq!(a.auth_result, 0x00);
            assert_eq!(a.failure_reason, 0x01);
            assert_eq!(a.gun, 1);
        }
        other => panic!("{other:?}"),
    }
}
