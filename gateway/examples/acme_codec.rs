//! The ACME example: a vendor codec registered from outside the gateway, driven through a login, a heartbeat, a
//! meter reading and a remote start with its reply — exactly the calls the gateway's connection driver makes.
//!
//! Run it with `cargo run -p chargegate --example acme_codec`; its tests with
//! `cargo test -p chargegate --example acme_codec`.

mod acme;

use std::sync::Arc;

use bytes::BytesMut;
use chargegate_codec::command::{Command, CommandKind, StartArgs};
use chargegate_codec::plugin::{CodecRegistry, Inbound, ReplyOutcome, ReplyPlan};

use acme::{frame, msg, AcmeCodec};

fn main() {
    // 1. Register: the only line an integrator adds to their build of the gateway.
    let registry = CodecRegistry::new();
    registry.register(Arc::new(AcmeCodec));
    println!("registered codecs: {:?}", registry.names());

    // 2. A listener configured with `codec = "acme"` (or a sniff listener) picks it by name or by first bytes.
    let mut login_body = b"ACME0001".to_vec();
    login_body.extend_from_slice(b"s3cr3t!!");
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&frame(msg::LOGIN, 1, &login_body));
    wire.extend_from_slice(&frame(msg::HEARTBEAT, 2, &[]));
    let meter = [1, 0x08, 0xFC, 0x03, 0xE8, 0x00, 0x00, 0x30, 0x39]; // gun 1, 230.0 V, 10.00 A, 12.345 kWh
    wire.extend_from_slice(&frame(msg::METER, 3, &meter));
    let codec = registry
        .detect(&["acme"], &wire)
        .unwrap_or_else(|_| unreachable!("the stream starts with AA 55"));
    let mut conn = codec.connect();

    // 3. Decode whatever arrived, frame by frame.
    while let Ok(Some(inbound)) = conn.decode(&mut wire) {
        let Inbound::Frame(f) = inbound else {
            println!("rejected: {inbound:?}");
            continue;
        };
        println!("{} -> {:?}", f.message_type, f.observations);
        match &f.reply {
            ReplyPlan::Immediate(bytes) => println!("  reply now: {}", hex::encode(bytes)),
            ReplyPlan::Deferred(d) => {
                // The gateway authenticates `f.login`, then asks for the reply.
                if let Ok(Some(bytes)) = conn.deferred_reply(d, ReplyOutcome::Accepted) {
                    println!("  login reply: {}", hex::encode(bytes));
                }
            }
            ReplyPlan::None => {}
        }
    }

    // 4. A command from REST / MQTT, and the charger's answer.
    let start = Command {
        id: "cmd-1".into(),
        kind: CommandKind::Start(StartArgs {
            connector: 1,
            ..Default::default()
        }),
    };
    if let Ok(encoded) = conn.encode_command("ACME0001", &start) {
        println!(
            "remote start: {} (key {:?})",
            hex::encode(&encoded.bytes),
            encoded.correlation
        );
        let mut answer = BytesMut::from(&frame(msg::REMOTE_START_REPLY, 1, &[1, 0])[..]);
        if let Ok(Some(Inbound::Frame(reply))) = conn.decode(&mut answer) {
            println!("result: {:?}", conn.command_result(&start, &reply));
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chargegate_codec::event::{CommandStatus, EventBody};
    use chargegate_codec::plugin::{CorrelationKey, Credential, Detect, FrameError, VendorCodec};

    use super::*;

    fn decode_all(bytes: &[u8]) -> Vec<Inbound> {
        let mut conn = AcmeCodec.connect();
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Ok(Some(i)) = conn.decode(&mut buf) {
            out.push(i);
        }
        out
    }

    fn only_frame(bytes: &[u8]) -> chargegate_codec::plugin::DecodedFrame {
        match decode_all(bytes).pop() {
            Some(Inbound::Frame(f)) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn a_heartbeat_frame_walks_through_as_documented() {
        // AA 55 | 00 03 | 02 | 00 02 | (no body) | CRC-16/XMODEM over 00 03 02 00 02
        // id: acme-heartbeat-seq2; source: docs/adding-a-codec.md walk-through (CRC computed independently of
        // this crate, with a bitwise CRC-16/XMODEM in Python).
        let hb = frame(msg::HEARTBEAT, 2, &[]);
        assert_eq!(hex::encode(&hb), "aa550003020002d5fe");
        let f = only_frame(&hb);
        assert_eq!(f.message_type, "0x02");
        assert_eq!(
            f.reply,
            ReplyPlan::Immediate(frame(msg::HEARTBEAT_REPLY, 2, &[]))
        );
    }

    #[test]
    fn login_carries_identity_and_secret_and_waits_for_the_auth_outcome() {
        let f = only_frame(&frame(msg::LOGIN, 7, b"ACME0001s3cr3t!!"));
        let login = f.login.clone().unwrap();
        assert_eq!(login.charger_id, "ACME0001");
        assert_eq!(
            login.credential,
            Credential::Secret(Bytes::from_static(b"s3cr3t!!"))
        );
        let ReplyPlan::Deferred(d) = &f.reply else {
            panic!("login reply must wait for auth")
        };
        let mut conn = AcmeCodec.connect();
        let refused = conn.deferred_reply(d, ReplyOutcome::Rejected).unwrap();
        assert_eq!(refused, Some(frame(msg::LOGIN_REPLY, 7, &[1])));
    }

    #[test]
    fn meter_values_are_scaled_to_si_units() {
        let f = only_frame(&frame(
            msg::METER,
            3,
            &[2, 0x08, 0xFC, 0x03, 0xE8, 0, 0, 0x30, 0x39],
        ));
        let EventBody::Meter(m) = &f.observations[0].body else {
            panic!("meter expected")
        };
        assert_eq!(f.observations[0].connector, Some(2));
        assert!((m.voltage_v.unwrap() - 230.0).abs() < 1e-9);
        assert!((m.current_a.unwrap() - 10.0).abs() < 1e-9);
        assert!((m.energy_kwh.unwrap() - 12.345).abs() < 1e-9);
    }

    #[test]
    fn a_session_record_is_billing_and_its_ack_waits_for_upstream() {
        let f = only_frame(&frame(
            msg::SESSION_RECORD,
            9,
            &[1, 0, 0, 0x01, 0x00, 0, 0, 0x30, 0x39],
        ));
        assert!(f.billing);
        let EventBody::Transaction(bill) = &f.observations[0].body else {
            panic!("transaction expected")
        };
        assert_eq!(bill.transaction_id, "256");
        assert_eq!(bill.energy_kwh, Some(12.345));
        let ReplyPlan::Deferred(d) = &f.reply else {
            panic!("the ack must wait for upstream")
        };
        let mut conn = AcmeCodec.connect();
        let ack = conn.deferred_reply(d, ReplyOutcome::Accepted).unwrap();
        assert_eq!(
            ack,
            Some(frame(msg::SESSION_RECORD_ACK, 9, &[0, 0, 0x01, 0x00, 0]))
        );
    }

    #[test]
    fn sticky_and_split_packets_decode_the_same() {
        let mut wire = frame(msg::HEARTBEAT, 1, &[]).to_vec();
        wire.extend_from_slice(&frame(msg::HEARTBEAT, 2, &[]));
        let mut conn = AcmeCodec.connect();
        let mut buf = BytesMut::new();
        let mut frames = 0;
        for byte in wire {
            buf.extend_from_slice(&[byte]);
            while let Ok(Some(Inbound::Frame(_))) = conn.decode(&mut buf) {
                frames += 1;
            }
        }
        assert_eq!(frames, 2);
    }

    #[test]
    fn a_bad_crc_is_rejected_and_the_next_frame_still_decodes() {
        let mut wire = frame(msg::HEARTBEAT, 1, &[]).to_vec();
        let last = wire.len() - 1;
        wire[last] ^= 0xFF;
        wire.extend_from_slice(&frame(msg::HEARTBEAT, 2, &[]));
        let out = decode_all(&wire);
        assert!(matches!(
            &out[0],
            Inbound::Rejected(r) if r.error.kind() == "bad_checksum"
        ));
        assert!(matches!(&out[1], Inbound::Frame(_)));
    }

    #[test]
    fn garbage_before_a_frame_is_skipped_to_the_next_marker() {
        let mut wire = vec![0x00, 0x13, 0x37];
        wire.extend_from_slice(&frame(msg::HEARTBEAT, 1, &[]));
        let out = decode_all(&wire);
        assert!(matches!(
            &out[0],
            Inbound::Rejected(r) if r.error == FrameError::Resync { skipped: 3 }
        ));
        assert!(matches!(&out[1], Inbound::Frame(_)));
    }

    #[test]
    fn remote_start_is_correlated_with_its_reply_by_sequence() {
        let mut conn = AcmeCodec.connect();
        let start = Command {
            id: "c1".into(),
            kind: CommandKind::Start(StartArgs {
                connector: 1,
                ..Default::default()
            }),
        };
        let encoded = conn.encode_command("ACME0001", &start).unwrap();
        assert_eq!(encoded.bytes, frame(msg::REMOTE_START, 1, &[1]));
        let reply = only_frame(&frame(msg::REMOTE_START_REPLY, 1, &[1, 0]));
        assert_eq!(reply.correlation, Some(CorrelationKey::Number(1)));
        assert_eq!(encoded.correlation, CorrelationKey::Number(1));
        assert_eq!(
            conn.command_result(&start, &reply).status,
            CommandStatus::Accepted
        );
    }

    #[test]
    fn commands_acme_cannot_express_are_refused_before_sending() {
        let mut conn = AcmeCodec.connect();
        let reset = Command {
            id: "c2".into(),
            kind: CommandKind::Reset(Default::default()),
        };
        assert_eq!(
            conn.encode_command("X", &reset).unwrap_err().kind(),
            "unsupported"
        );
    }

    #[test]
    fn detection_needs_the_two_marker_bytes() {
        assert_eq!(AcmeCodec.detect(&[0xAA]), Detect::NeedMore);
        assert_eq!(AcmeCodec.detect(&[0xAA, 0x55]), Detect::Match);
        assert_eq!(AcmeCodec.detect(&[0x68, 0x22]), Detect::NoMatch);
    }

    #[test]
    fn no_input_byte_sequence_panics() {
        // A cheap exhaustive-ish sweep: every 3-byte tail after a valid header prefix.
        for a in 0..=255u8 {
            for b in [0u8, 3, 4, 255] {
                decode_all(&[0xAA, 0x55, 0x00, b, a, 0x00, 0x01, a, a]);
            }
        }
    }
}
