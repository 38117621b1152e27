//! ACME: a complete vendor codec for a fictional charger brand, written only against the public plug-in trait
//! (`chargegate_codec::plugin`). Nothing in the gateway knows about it; it is registered at start-up.
//!
//! Envelope (all integers big-endian):
//!
//! ```text
//! AA 55 | LEN (2) | TYPE (1) | SEQ (2) | BODY (LEN − 3) | CRC-16/XMODEM (2) over LEN..BODY
//! ```
//!
//! | type | direction | body |
//! |---|---|---|
//! | 0x01 login | charger → gw | charger id, 8 ASCII chars; secret, 8 bytes |
//! | 0x81 login reply | gw → charger | result: 0 accepted, 1 refused |
//! | 0x02 heartbeat | charger → gw | empty |
//! | 0x82 heartbeat reply | gw → charger | empty |
//! | 0x03 meter | charger → gw | connector (1), voltage 0.1 V (2), current 0.01 A (2), energy Wh (4) |
//! | 0x05 session record (the bill) | charger → gw | connector (1), transaction number (4), energy Wh (4) |
//! | 0x85 session record ack | gw → charger | transaction number (4), result: 0 stored, 1 not stored (resend) |
//! | 0x10 remote start | gw → charger | connector (1) |
//! | 0x90 remote start reply | charger → gw | connector (1), result (1): 0 accepted, 1 rejected |
//!
//! The reply to a command echoes the command's SEQ, which is the correlation key. The session record is
//! billing-relevant: its ack is sent only once the gateway has the event safely upstream.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use chargegate_codec::command::{Command, CommandKind};
use chargegate_codec::event::{
    CommandResultData, CommandStatus, EventBody, HeartbeatData, MeterData, Observation,
    TransactionData,
};
use chargegate_codec::plugin::{
    CodecConnection, CorrelationKey, Credential, DecodedFrame, DeferredKind, DeferredReply, Detect,
    EncodedCommand, FrameError, Inbound, LivenessPolicy, LoginInfo, PluginError, Refusal,
    RejectedFrame, ReplyOutcome, ReplyPlan, VendorCodec,
};
use crc::{Crc, Table, CRC_16_XMODEM};

/// Start marker.
pub const MARKER: [u8; 2] = [0xAA, 0x55];
/// Marker + length field.
const HEADER_LEN: usize = 4;
/// Type + sequence, counted in LEN.
const TYPE_SEQ_LEN: usize = 3;
/// Trailing CRC.
const CRC_LEN: usize = 2;
/// Largest LEN accepted; ACME frames are tiny.
const MAX_LEN: usize = 256;
/// CRC-16/XMODEM with a 16-entry-per-byte table (fast on the hot path).
const CRC16: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_XMODEM);

/// Message types.
pub mod msg {
    /// Login.
    pub const LOGIN: u8 = 0x01;
    /// Login reply.
    pub const LOGIN_REPLY: u8 = 0x81;
    /// Heartbeat.
    pub const HEARTBEAT: u8 = 0x02;
    /// Heartbeat reply.
    pub const HEARTBEAT_REPLY: u8 = 0x82;
    /// Meter values.
    pub const METER: u8 = 0x03;
    /// Session record (the bill).
    pub const SESSION_RECORD: u8 = 0x05;
    /// Session record acknowledgement.
    pub const SESSION_RECORD_ACK: u8 = 0x85;
    /// Remote start.
    pub const REMOTE_START: u8 = 0x10;
    /// Remote start reply.
    pub const REMOTE_START_REPLY: u8 = 0x90;
}

const CHARGER_ID_LEN: usize = 8;
const SECRET_LEN: usize = 8;
const METER_BODY_LEN: usize = 9;
const START_REPLY_BODY_LEN: usize = 2;
const RECORD_BODY_LEN: usize = 9;
/// Deferred-reply context of a session record: SEQ (2) + transaction number (4).
const RECORD_CONTEXT_LEN: usize = 6;
/// ACME chargers heartbeat every 15 s; three missed beats = offline.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
const MISSED_BEATS: u32 = 3;
const DECIVOLT: f64 = 0.1;
const CENTIAMP: f64 = 0.01;
const WH_PER_KWH: f64 = 1_000.0;

/// Builds one ACME frame.
pub fn frame(kind: u8, seq: u16, body: &[u8]) -> Bytes {
    let len = u16::try_from(TYPE_SEQ_LEN + body.len()).unwrap_or(u16::MAX);
    let mut out = BytesMut::with_capacity(HEADER_LEN + usize::from(len) + CRC_LEN);
    out.put_slice(&MARKER);
    out.put_u16(len);
    out.put_u8(kind);
    out.put_u16(seq);
    out.put_slice(body);
    let crc = CRC16.checksum(out.get(MARKER.len()..).unwrap_or(&[]));
    out.put_u16(crc);
    out.freeze()
}

/// The ACME codec factory.
#[derive(Debug, Default)]
pub struct AcmeCodec;

impl VendorCodec for AcmeCodec {
    fn name(&self) -> &'static str {
        "acme"
    }
    fn version(&self) -> &'static str {
        "1"
    }
    fn protocol(&self) -> &'static str {
        "acme/1"
    }
    fn detect(&self, first_bytes: &[u8]) -> Detect {
        match first_bytes {
            [] | [0xAA] => Detect::NeedMore,
            [0xAA, 0x55, ..] => Detect::Match,
            _ => Detect::NoMatch,
        }
    }
    fn liveness(&self) -> LivenessPolicy {
        let timeout = HEARTBEAT_INTERVAL * MISSED_BEATS;
        LivenessPolicy {
            idle: timeout,
            charging: timeout,
        }
    }
    fn connect(&self) -> Box<dyn CodecConnection> {
        Box::new(AcmeConnection::default())
    }
}

/// Per-connection ACME state: only the sequence counter for commands.
#[derive(Debug, Default)]
pub struct AcmeConnection {
    next_seq: u16,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl AcmeConnection {
    /// Skips to the next marker, reporting the skipped bytes.
    fn resync(src: &mut BytesMut) -> Inbound {
        let found = src
            .windows(MARKER.len())
            .skip(1)
            .position(|w| w == MARKER)
            .map_or(src.len(), |p| p + 1);
        let raw = src.split_to(found).freeze();
        Inbound::Rejected(RejectedFrame {
            error: FrameError::Resync { skipped: raw.len() },
            raw,
        })
    }

    fn parse(&self, raw: Bytes) -> Inbound {
        let kind = raw.get(HEADER_LEN).copied().unwrap_or(0);
        let seq = be16(&raw, HEADER_LEN + 1).unwrap_or(0);
        let body_start = HEADER_LEN + TYPE_SEQ_LEN;
        let body_end = raw.len().saturating_sub(CRC_LEN);
        let body = raw.slice(body_start..body_end.max(body_start));
        let reject = |error| {
            Inbound::Rejected(RejectedFrame {
                raw: raw.clone(),
                error,
            })
        };
        let body_len = |expected: usize| FrameError::BodyLength {
            frame_type: u16::from(kind),
            expected,
            got: body.len(),
        };
        match kind {
            msg::LOGIN => {
                if body.len() != CHARGER_ID_LEN + SECRET_LEN {
                    return reject(body_len(CHARGER_ID_LEN + SECRET_LEN));
                }
                let Some(Ok(id)) = body.get(..CHARGER_ID_LEN).map(std::str::from_utf8) else {
                    return reject(FrameError::Malformed {
                        field: "charger_id",
                        offset: body_start,
                    });
                };
                let mut f = DecodedFrame::new("0x01", raw.clone(), Vec::new());
                f.login = Some(LoginInfo {
                    charger_id: id.to_owned(),
                    credential: Credential::Secret(body.slice(CHARGER_ID_LEN..)),
                });
                f.observations.push(Observation::charger(
                    id,
                    EventBody::Online(Default::default()),
                ));
                f.reply = ReplyPlan::Deferred(DeferredReply {
                    kind: DeferredKind::Login,
                    context: Bytes::copy_from_slice(&seq.to_be_bytes()),
                });
                Inbound::Frame(f)
            }
            msg::HEARTBEAT => {
                let obs = Observation {
                    charger: None,
                    connector: None,
                    body: EventBody::Heartbeat(HeartbeatData::default()),
                };
                let mut f = DecodedFrame::new("0x02", raw.clone(), vec![obs]);
                f.reply = ReplyPlan::Immediate(frame(msg::HEARTBEAT_REPLY, seq, &[]));
                Inbound::Frame(f)
            }
            msg::METER => {
                if body.len() != METER_BODY_LEN {
                    return reject(body_len(METER_BODY_LEN));
                }
                let (Some(volts), Some(amps), Some(wh)) =
                    (be16(&body, 1), be16(&body, 3), be32(&body, 5))
                else {
                    return reject(body_len(METER_BODY_LEN));
                };
                let meter = MeterData {
                    voltage_v: Some(f64::from(volts) * DECIVOLT),
                    current_a: Some(f64::from(amps) * CENTIAMP),
                    energy_kwh: Some(f64::from(wh) / WH_PER_KWH),
                    energy_is_register: true,
                    ..Default::default()
                };
                let obs = Observation {
                    charger: None,
                    connector: body.first().map(|c| u16::from(*c)),
                    body: EventBody::Meter(meter),
                };
                Inbound::Frame(DecodedFrame::new("0x03", raw.clone(), vec![obs]))
            }
            msg::SESSION_RECORD => {
                let (Some(connector), Some(txn), Some(wh), true) = (
                    body.first(),
                    be32(&body, 1),
                    be32(&body, 5),
                    body.len() == RECORD_BODY_LEN,
                ) else {
                    return reject(body_len(RECORD_BODY_LEN));
                };
                let bill = TransactionData {
                    transaction_id: txn.to_string(),
                    energy_kwh: Some(f64::from(wh) / WH_PER_KWH),
                    ..Default::default()
                };
                let obs = Observation {
                    charger: None,
                    connector: Some(u16::from(*connector)),
                    body: EventBody::Transaction(Box::new(bill)),
                };
                let mut context = Vec::with_capacity(RECORD_CONTEXT_LEN);
                context.extend_from_slice(&seq.to_be_bytes());
                context.extend_from_slice(&txn.to_be_bytes());
                let mut f = DecodedFrame::new("0x05", raw.clone(), vec![obs]);
                f.billing = true;
                f.reply = ReplyPlan::Deferred(DeferredReply {
                    kind: DeferredKind::BillingAck,
                    context: Bytes::from(context),
                });
                Inbound::Frame(f)
            }
            msg::REMOTE_START_REPLY => {
                if body.len() != START_REPLY_BODY_LEN {
                    return reject(body_len(START_REPLY_BODY_LEN));
                }
                let mut f = DecodedFrame::new("0x90", raw.clone(), Vec::new());
                f.correlation = Some(CorrelationKey::Number(u64::from(seq)));
                Inbound::Frame(f)
            }
            other => reject(FrameError::UnknownType {
                frame_type: u16::from(other),
            }),
        }
    }
}

impl CodecConnection for AcmeConnection {
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        if src.len() < MARKER.len() {
            return Ok(None);
        }
        if src.get(..MARKER.len()) != Some(&MARKER[..]) {
            return Ok(Some(Self::resync(src)));
        }
        let Some(len) = be16(src, MARKER.len()).map(usize::from) else {
            return Ok(None);
        };
        if !(TYPE_SEQ_LEN..=MAX_LEN).contains(&len) {
            // Not a real header: skip this marker and look for the next.
            let mut rejected = Self::resync(src);
            if let Inbound::Rejected(r) = &mut rejected {
                r.error = FrameError::TooLong { len, max: MAX_LEN };
            }
            return Ok(Some(rejected));
        }
        let total = HEADER_LEN + len + CRC_LEN;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        let raw = src.split_to(total).freeze();
        let expected = CRC16.checksum(raw.get(MARKER.len()..total - CRC_LEN).unwrap_or(&[]));
        let got = be16(&raw, total - CRC_LEN).unwrap_or(0);
        if expected != got {
            return Ok(Some(Inbound::Rejected(RejectedFrame {
                raw,
                error: FrameError::BadChecksum {
                    expected: u32::from(expected),
                    got: u32::from(got),
                },
            })));
        }
        Ok(Some(self.parse(raw)))
    }

    fn refuse_unauthenticated(&mut self, _frame: &DecodedFrame) -> Refusal {
        Refusal::Close
    }

    fn deferred_reply(
        &mut self,
        reply: &DeferredReply,
        outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        let seq = be16(&reply.context, 0).ok_or(PluginError::BadReplyContext)?;
        match reply.kind {
            DeferredKind::Login => {
                let result = u8::from(outcome != ReplyOutcome::Accepted);
                Ok(Some(frame(msg::LOGIN_REPLY, seq, &[result])))
            }
            DeferredKind::BillingAck => {
                let txn = reply
                    .context
                    .get(2..RECORD_CONTEXT_LEN)
                    .ok_or(PluginError::BadReplyContext)?;
                let mut body = txn.to_vec();
                body.push(u8::from(outcome != ReplyOutcome::Accepted));
                Ok(Some(frame(msg::SESSION_RECORD_ACK, seq, &body)))
            }
        }
    }

    fn encode_command(
        &mut self,
        _charger: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError> {
        let CommandKind::Start(args) = &command.kind else {
            return Err(PluginError::Unsupported {
                command: command.kind.name(),
            });
        };
        let connector = u8::try_from(args.connector).map_err(|_| PluginError::BadArgument {
            field: "connector",
            reason: "ACME connectors are 0..=255",
        })?;
        self.next_seq = self.next_seq.wrapping_add(1);
        Ok(EncodedCommand {
            bytes: frame(msg::REMOTE_START, self.next_seq, &[connector]),
            correlation: CorrelationKey::Number(u64::from(self.next_seq)),
            single_outstanding: false,
        })
    }

    fn command_result(&self, command: &Command, reply: &DecodedFrame) -> CommandResultData {
        let body = reply.raw.get(HEADER_LEN + TYPE_SEQ_LEN..).unwrap_or(&[]);
        let status = match body.get(1) {
            Some(0) => CommandStatus::Accepted,
            Some(_) => CommandStatus::Rejected,
            None => CommandStatus::Failed,
        };
        CommandResultData {
            command_id: command.id.clone(),
            command: command.kind.name().to_owned(),
            status,
            detail: serde_json::json!({ "connector": body.first() }),
        }
    }
}
