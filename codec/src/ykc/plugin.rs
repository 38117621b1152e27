//! YKC as a gateway plug-in: the [`VendorCodec`] a `ykc` listener serves, built on this module's frame parser,
//! messages, [`normalize()`](super::normalize()), [`command::prepare`](super::command::prepare) and
//! [`reply`](super::reply) builders.
//!
//! What the gateway gets from it, per frame: the type label (`"0x13"`), the raw bytes, the login identity (0x01,
//! the 14-digit pile number), normalized observations, the correlation key of command replies, the billing flag
//! (0x3B) and the reply plan:
//!
//! | request | reply | when |
//! |---|---|---|
//! | 0x01 login | 0x02 (+ 0x56 time sync when [`YkcSettings::time_sync_after_login`]) | deferred: after auth |
//! | 0x03 heartbeat | 0x04 | immediate |
//! | 0x05 billing-model check | 0x06 consistent / inconsistent with [`YkcSettings::tariff`] | immediate |
//! | 0x09 billing-model request | 0x0A with [`YkcSettings::tariff`] | immediate |
//! | 0x3B transaction record | 0x40 | deferred: after the event is upstream |
//!
//! Commands go through [`command::prepare`](super::command::prepare); a `start` without a transaction id gets one
//! generated here (pile 14 + gun 2 + `yyMMddHHmmss` 12 + counter 4 = 32 digits). Time comes from an injected
//! [`LocalClock`], so the crate stays sans-I/O: the gateway passes its wall clock, tests a fixed one.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::billing::{Tariff, SLOTS, TIERS};
use super::command::{self, CommandError};
use super::encoding::{Bcd, BillingModel, Cp56Time2a, PileNumber, TransactionSerial};
use super::frame::{CrcOrder, Frame, ENCRYPTION_OFFSET, HEADER_LEN, LENGTH_OFFSET, START};
use super::login::LoginReply;
use super::reply;
use super::stream::shared_frame_spec;
use super::time_sync::TimeSync;
use super::transaction::{TransactionConfirm, CONFIRM_ILLEGAL, CONFIRM_OK};
use super::{normalize_on, Message, YkcError, PROTOCOL};
use crate::command::{Command, CommandKind};
use crate::event::{CommandResultData, CommandStatus};
use crate::frame::{CrcMatch, FrameDecoder, FrameEvent};
use crate::plugin::{
    CodecConnection, CorrelationKey, Credential, DecodedFrame, DeferredKind, DeferredReply, Detect,
    EncodedCommand, FrameError, Inbound, LivenessPolicy, LoginInfo, PluginError, Refusal,
    RejectedFrame, ReplyOutcome, ReplyPlan, VendorCodec,
};

/// Registry name of the YKC codec; listeners say `codec = "ykc"`.
pub const NAME: &str = "ykc";
/// Version of this implementation, for rollouts.
pub const VERSION: &str = "1";
/// The protocol's heartbeat period (V1.6 §4: every 10 s).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);
/// Missed heartbeats after which the link counts as down (V1.6: three).
pub const DEFAULT_MISSED_HEARTBEATS: u32 = 3;
/// Billing model the gateway announces when nothing else is configured.
pub const DEFAULT_TARIFF_MODEL: &str = "0001";
/// Built-in price, 1.00000 yuan/kWh electricity and service in every tier, in the wire unit of 0.00001 yuan/kWh.
pub const DEFAULT_PRICE_RAW: u32 = 100_000;
/// Built-in tier of every half hour: 2 = flat.
pub const DEFAULT_SLOT_TIER: u8 = 2;
/// Counter digits at the end of a generated transaction serial.
const SERIAL_COUNTER_MODULUS: u16 = 10_000;
/// Bytes of the login-reply context: sequence (2) + pile number (7).
const LOGIN_CONTEXT_LEN: usize = 2 + 7;
/// Bytes of the billing-ack context: sequence (2) + transaction serial (16).
const BILLING_CONTEXT_LEN: usize = 2 + 16;
/// Bits the frame type is shifted by in a correlation key (the gun takes the low byte).
const KEY_TYPE_SHIFT: u32 = 8;
/// Milliseconds per second, for CP56Time2a's millisecond field.
const MS_PER_SECOND: u16 = 1_000;
/// Years are written with two digits in a serial.
const CENTURY: u16 = 100;

/// The pile's local wall-clock time, as the gateway knows it.
pub trait LocalClock: Send + Sync {
    /// Now, in the piles' local time.
    fn now_local(&self) -> Cp56Time2a;
}

/// A clock that always says the same time (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Cp56Time2a);

impl LocalClock for FixedClock {
    fn now_local(&self) -> Cp56Time2a {
        self.0
    }
}

/// The billing model the gateway hands out (0x06 check, 0x0A reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultTariff {
    /// Model number; a pile that reports another one is told "inconsistent" and asks for this one.
    pub model: BillingModel,
    /// Raw prices in 0.00001 yuan/kWh, wire order (sharp electricity, sharp service, peak …, valley service).
    pub prices: [u32; 2 * TIERS],
    /// Tier of each half hour from 00:00 (0 sharp, 1 peak, 2 flat, 3 valley).
    pub slots: [u8; SLOTS],
}

impl Default for DefaultTariff {
    /// Model `0001`, 1 yuan/kWh electricity + 1 yuan/kWh service, flat all day.
    fn default() -> Self {
        DefaultTariff {
            model: BillingModel::from_digits(DEFAULT_TARIFF_MODEL).unwrap_or_default(),
            prices: [DEFAULT_PRICE_RAW; 2 * TIERS],
            slots: [DEFAULT_SLOT_TIER; SLOTS],
        }
    }
}

impl DefaultTariff {
    /// The 0x0A / 0x58 body for `pile`.
    pub fn for_pile(&self, pile: PileNumber) -> Tariff {
        Tariff {
            pile,
            model: self.model,
            prices: self.prices,
            loss_ratio: 0,
            slots: self.slots,
        }
    }
}

/// What a deployment tunes about YKC.
#[derive(Clone)]
pub struct YkcSettings {
    /// Heartbeat period the piles use.
    pub heartbeat: Duration,
    /// Missed heartbeats before the charger is declared offline.
    pub missed_heartbeats: u32,
    /// Send 0x56 with the gateway's time right after an accepted login.
    pub time_sync_after_login: bool,
    /// The billing model the gateway knows.
    pub tariff: DefaultTariff,
    /// Where "now" comes from (time sync, generated serials).
    pub clock: Arc<dyn LocalClock>,
}

impl std::fmt::Debug for YkcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YkcSettings")
            .field("heartbeat", &self.heartbeat)
            .field("missed_heartbeats", &self.missed_heartbeats)
            .field("time_sync_after_login", &self.time_sync_after_login)
            .field("tariff", &self.tariff)
            .finish_non_exhaustive()
    }
}

impl YkcSettings {
    /// Protocol defaults (10 s × 3, time sync on, the built-in tariff) with `clock`.
    pub fn new(clock: Arc<dyn LocalClock>) -> Self {
        YkcSettings {
            heartbeat: DEFAULT_HEARTBEAT,
            missed_heartbeats: DEFAULT_MISSED_HEARTBEATS,
            time_sync_after_login: true,
            tariff: DefaultTariff::default(),
            clock,
        }
    }
}

/// The YKC codec factory.
#[derive(Debug, Clone)]
pub struct YkcCodec {
    settings: Arc<YkcSettings>,
}

impl YkcCodec {
    /// A codec with `settings`.
    pub fn new(settings: YkcSettings) -> Self {
        YkcCodec {
            settings: Arc::new(settings),
        }
    }
}

impl VendorCodec for YkcCodec {
    fn name(&self) -> &'static str {
        NAME
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn protocol(&self) -> &'static str {
        PROTOCOL
    }

    /// `0x68` followed by a length byte of at least 4 (sequence, flag and type are always counted).
    fn detect(&self, first_bytes: &[u8]) -> Detect {
        match first_bytes {
            [] | [START] => Detect::NeedMore,
            [START, len, ..] if usize::from(*len) >= super::frame::LENGTH_OVERHEAD => Detect::Match,
            _ => Detect::NoMatch,
        }
    }

    fn liveness(&self) -> LivenessPolicy {
        let timeout = self
            .settings
            .heartbeat
            .checked_mul(self.settings.missed_heartbeats)
            .unwrap_or(Duration::MAX);
        LivenessPolicy {
            idle: timeout,
            charging: timeout,
        }
    }

    fn connect(&self) -> Box<dyn CodecConnection> {
        Box::new(YkcConnection::new(Arc::clone(&self.settings)))
    }
}

/// Per-connection YKC state: the framer, the pile number once logged in, and the counters for down frames.
pub struct YkcConnection {
    framer: FrameDecoder,
    settings: Arc<YkcSettings>,
    pile: Option<PileNumber>,
    next_seq: u16,
    serial_counter: u16,
}

impl YkcConnection {
    /// Fresh state for a new connection.
    pub fn new(settings: Arc<YkcSettings>) -> Self {
        YkcConnection {
            framer: FrameDecoder::shared(shared_frame_spec()),
            settings,
            pile: None,
            next_seq: 0,
            serial_counter: 0,
        }
    }

    fn seq(&mut self) -> [u8; 2] {
        self.next_seq = self.next_seq.wrapping_add(1);
        self.next_seq.to_le_bytes()
    }

    fn inbound(&mut self, event: FrameEvent) -> Inbound {
        match event {
            FrameEvent::Frame { bytes, crc } => {
                let order = if crc == CrcMatch::Swapped {
                    CrcOrder::Swapped
                } else {
                    CrcOrder::Spec
                };
                let parsed = Frame::parse_prechecked(bytes.clone(), order)
                    .and_then(|frame| Message::decode(&frame).map(|m| (frame, m)));
                match parsed {
                    Ok((frame, message)) => Inbound::Frame(self.frame(&frame, &message)),
                    Err(e) => rejected(bytes, frame_error(&e)),
                }
            }
            FrameEvent::CrcMismatch {
                bytes,
                computed,
                received,
            } => rejected(
                bytes,
                FrameError::BadChecksum {
                    expected: computed,
                    got: received,
                },
            ),
            FrameEvent::TooLong {
                frame_length,
                max_frame_length,
            } => rejected(
                Bytes::new(),
                FrameError::TooLong {
                    len: usize::try_from(frame_length).unwrap_or(usize::MAX),
                    max: max_frame_length,
                },
            ),
            FrameEvent::Corrupted { skipped, .. }
            | FrameEvent::Garbage { skipped }
            | FrameEvent::Truncated { dropped: skipped } => {
                rejected(Bytes::new(), FrameError::Resync { skipped })
            }
        }
    }

    fn frame(&mut self, frame: &Frame, message: &Message) -> DecodedFrame {
        let mut out = DecodedFrame::new(
            type_label(frame.frame_type),
            frame.raw.clone(),
            // Frames about the logged-in pile name no charger: the gateway stamps its shared identity.
            normalize_on(frame, message, self.pile.as_ref()),
        );
        let immediate =
            |r: Result<Bytes, YkcError>| r.map_or(ReplyPlan::None, ReplyPlan::Immediate);
        match message {
            Message::Login(login) => {
                self.pile = Some(login.pile);
                out.login = Some(LoginInfo {
                    charger_id: login.pile.to_string(),
                    // YKC's login carries no secret: the registry's allow-list decides.
                    credential: Credential::None,
                });
                out.reply = ReplyPlan::Deferred(DeferredReply {
                    kind: DeferredKind::Login,
                    context: context(frame.seq, &login.pile.0),
                });
            }
            Message::Heartbeat(h) => out.reply = immediate(reply::heartbeat_reply(frame, h)),
            Message::BillingModelCheck(c) => {
                let current = self.settings.tariff.model;
                out.reply = immediate(reply::billing_model_check_reply(frame, c, current));
            }
            Message::BillingModelRequest(r) => {
                let tariff = self.settings.tariff.for_pile(r.pile);
                out.reply = immediate(reply::tariff_reply(frame, &tariff));
            }
            Message::TransactionRecord(record) => {
                out.billing = true;
                out.reply = ReplyPlan::Deferred(DeferredReply {
                    kind: DeferredKind::BillingAck,
                    context: context(frame.seq, &record.serial.0),
                });
            }
            other => out.correlation = reply_key(other),
        }
        out
    }

    /// A 32-digit serial: pile (14) + gun (2) + `yyMMddHHmmss` (12) + a per-connection counter (4).
    fn transaction_serial(&mut self, pile: PileNumber, gun: u16) -> Option<String> {
        let now = self.settings.clock.now_local();
        self.serial_counter = self.serial_counter.wrapping_add(1) % SERIAL_COUNTER_MODULUS;
        let serial = format!(
            "{pile}{gun:02}{:02}{:02}{:02}{:02}{:02}{:02}{:04}",
            now.year % CENTURY,
            now.month,
            now.day,
            now.hour,
            now.minute,
            now.millis / MS_PER_SECOND,
            self.serial_counter
        );
        TransactionSerial::from_digits(&serial).map(|_| serial)
    }
}

fn context(seq: [u8; 2], rest: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(seq.len() + rest.len());
    out.extend_from_slice(&seq);
    out.extend_from_slice(rest);
    out.freeze()
}

fn rejected(raw: Bytes, error: FrameError) -> Inbound {
    Inbound::Rejected(RejectedFrame { raw, error })
}

/// The plug-in seam's error for a frame this module refused (the YKC error names the finer kind in logs).
pub fn frame_error(e: &YkcError) -> FrameError {
    match *e {
        YkcError::BadCrc { expected, got } => FrameError::BadChecksum {
            expected: u32::from(expected),
            got: u32::from(got),
        },
        YkcError::BodyLength {
            frame_type,
            expected,
            got,
        } => FrameError::BodyLength {
            frame_type: u16::from(frame_type),
            expected,
            got,
        },
        YkcError::Bcd { field, offset, .. } => FrameError::Malformed {
            field,
            offset: HEADER_LEN.saturating_add(offset),
        },
        YkcError::Truncated { offset, .. } => FrameError::Malformed {
            field: "body",
            offset: HEADER_LEN.saturating_add(offset),
        },
        YkcError::Gbt { offset, .. } => FrameError::Malformed {
            field: "gbt27930",
            offset: HEADER_LEN.saturating_add(offset),
        },
        YkcError::Encrypted { .. }
        | YkcError::UnknownEncryption { .. }
        | YkcError::Cipher { .. } => FrameError::Malformed {
            field: "encryption",
            offset: ENCRYPTION_OFFSET,
        },
        YkcError::Incomplete { .. }
        | YkcError::BadStart { .. }
        | YkcError::LengthTooSmall { .. }
        | YkcError::LengthMismatch { .. }
        | YkcError::BodyTooLong { .. } => FrameError::Malformed {
            field: "length",
            offset: LENGTH_OFFSET,
        },
    }
}

/// The correlation key of a reply: frame type in the high bits, gun (0 when the reply names none) in the low byte.
pub fn correlation_key(reply_type: u8, gun: Option<u8>) -> CorrelationKey {
    CorrelationKey::Number(
        (u64::from(reply_type) << KEY_TYPE_SHIFT) | u64::from(gun.unwrap_or_default()),
    )
}

/// The key a frame that may answer a command carries, `None` for every other frame.
fn reply_key(message: &Message) -> Option<CorrelationKey> {
    let gun = match message {
        Message::RemoteStartReply(r) => Some(r.gun),
        Message::RemoteStopReply(r) => Some(r.gun),
        Message::Realtime(r) => Some(r.gun),
        Message::RebootReply(_)
        | Message::UpdateReply(_)
        | Message::TimeSyncReply(_)
        | Message::BillingModelSetReply(_)
        | Message::WorkParamsReply(_) => None,
        _ => return None,
    };
    Some(correlation_key(message.frame_type(), gun))
}

fn command_error(e: CommandError) -> PluginError {
    match e {
        CommandError::NotSupported { command } => PluginError::Unsupported { command },
        CommandError::MissingArgument { argument, .. } => PluginError::BadArgument {
            field: argument,
            reason: "required by YKC",
        },
        CommandError::InvalidArgument { argument, .. } => PluginError::BadArgument {
            field: argument,
            reason: "does not fit the YKC field",
        },
        CommandError::Encode(e) => PluginError::BadArgument {
            field: "frame",
            reason: e.kind(),
        },
    }
}

impl CodecConnection for YkcConnection {
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        use tokio_util::codec::Decoder;
        match self.framer.decode(src) {
            Ok(event) => Ok(event.map(|e| self.inbound(e))),
            // The framer's only error is I/O, which a byte buffer never raises.
            Err(_) => Err(PluginError::Corrupt(FrameError::Resync { skipped: 0 })),
        }
    }

    fn refuse_unauthenticated(&mut self, _frame: &DecodedFrame) -> Refusal {
        Refusal::Close
    }

    fn deferred_reply(
        &mut self,
        deferred: &DeferredReply,
        outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        let ctx = &deferred.context;
        let seq: [u8; 2] = ctx
            .get(..2)
            .and_then(|s| s.try_into().ok())
            .ok_or(PluginError::BadReplyContext)?;
        let accepted = outcome == ReplyOutcome::Accepted;
        let encode_err = |e: YkcError| PluginError::BadArgument {
            field: "reply",
            reason: e.kind(),
        };
        match deferred.kind {
            DeferredKind::Login => {
                let pile_bytes: [u8; 7] = ctx
                    .get(2..LOGIN_CONTEXT_LEN)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(PluginError::BadReplyContext)?;
                let pile = Bcd(pile_bytes);
                let result = if accepted {
                    super::login::LOGIN_SUCCESS
                } else {
                    super::login::LOGIN_FAILURE
                };
                let login_reply = Message::LoginReply(LoginReply { pile, result })
                    .encode_frame(seq)
                    .map_err(encode_err)?;
                if !(accepted && self.settings.time_sync_after_login) {
                    return Ok(Some(login_reply));
                }
                let time = self.settings.clock.now_local();
                let sync = Message::TimeSync(TimeSync { pile, time })
                    .encode_frame(self.seq())
                    .map_err(encode_err)?;
                let mut both = BytesMut::with_capacity(login_reply.len() + sync.len());
                both.extend_from_slice(&login_reply);
                both.extend_from_slice(&sync);
                Ok(Some(both.freeze()))
            }
            DeferredKind::BillingAck => {
                let serial: [u8; 16] = ctx
                    .get(2..BILLING_CONTEXT_LEN)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(PluginError::BadReplyContext)?;
                let confirm = TransactionConfirm {
                    serial: Bcd(serial),
                    result: if accepted {
                        CONFIRM_OK
                    } else {
                        CONFIRM_ILLEGAL
                    },
                };
                Message::TransactionConfirm(confirm)
                    .encode_frame(seq)
                    .map(Some)
                    .map_err(encode_err)
            }
        }
    }

    fn encode_command(
        &mut self,
        charger: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError> {
        let pile = match self.pile {
            Some(p) => p,
            None => PileNumber::from_digits(charger).ok_or(PluginError::BadArgument {
                field: "charger",
                reason: "not a 14-digit YKC pile number",
            })?,
        };
        let mut kind = command.kind.clone();
        if let CommandKind::Start(args) = &mut kind {
            if args.transaction_id.is_none() {
                args.transaction_id = self.transaction_serial(pile, args.connector);
            }
        }
        let seq = self.seq();
        let prepared = command::prepare(&kind, pile, seq).map_err(command_error)?;
        Ok(EncodedCommand {
            bytes: prepared.frame,
            correlation: correlation_key(prepared.correlation.reply_type, prepared.correlation.gun),
            single_outstanding: false,
        })
    }

    fn command_result(&self, command: &Command, reply: &DecodedFrame) -> CommandResultData {
        let result = super::decode(reply.raw.clone())
            .ok()
            .and_then(|d| command::result_of(&d.message));
        match result {
            Some(mut r) => {
                r.command_id = command.id.clone();
                r
            }
            None => CommandResultData {
                command_id: command.id.clone(),
                command: command.kind.name().to_owned(),
                status: CommandStatus::Failed,
                detail: serde_json::json!({ "reason": "reply frame did not decode" }),
            },
        }
    }
}

/// Metric label of every frame type, so a label is a `&'static str` without allocating.
fn type_label(frame_type: u8) -> &'static str {
    TYPE_LABELS
        .get(usize::from(frame_type))
        .copied()
        .unwrap_or("unknown")
}

/// `"0x00"` … `"0xFF"`.
static TYPE_LABELS: [&str; 256] = [
    "0x00", "0x01", "0x02", "0x03", "0x04", "0x05", "0x06", "0x07", "0x08", "0x09", "0x0A", "0x0B",
    "0x0C", "0x0D", "0x0E", "0x0F", "0x10", "0x11", "0x12", "0x13", "0x14", "0x15", "0x16", "0x17",
    "0x18", "0x19", "0x1A", "0x1B", "0x1C", "0x1D", "0x1E", "0x1F", "0x20", "0x21", "0x22", "0x23",
    "0x24", "0x25", "0x26", "0x27", "0x28", "0x29", "0x2A", "0x2B", "0x2C", "0x2D", "0x2E", "0x2F",
    "0x30", "0x31", "0x32", "0x33", "0x34", "0x35", "0x36", "0x37", "0x38", "0x39", "0x3A", "0x3B",
    "0x3C", "0x3D", "0x3E", "0x3F", "0x40", "0x41", "0x42", "0x43", "0x44", "0x45", "0x46", "0x47",
    "0x48", "0x49", "0x4A", "0x4B", "0x4C", "0x4D", "0x4E", "0x4F", "0x50", "0x51", "0x52", "0x53",
    "0x54", "0x55", "0x56", "0x57", "0x58", "0x59", "0x5A", "0x5B", "0x5C", "0x5D", "0x5E", "0x5F",
    "0x60", "0x61", "0x62", "0x63", "0x64", "0x65", "0x66", "0x67", "0x68", "0x69", "0x6A", "0x6B",
    "0x6C", "0x6D", "0x6E", "0x6F", "0x70", "0x71", "0x72", "0x73", "0x74", "0x75", "0x76", "0x77",
    "0x78", "0x79", "0x7A", "0x7B", "0x7C", "0x7D", "0x7E", "0x7F", "0x80", "0x81", "0x82", "0x83",
    "0x84", "0x85", "0x86", "0x87", "0x88", "0x89", "0x8A", "0x8B", "0x8C", "0x8D", "0x8E", "0x8F",
    "0x90", "0x91", "0x92", "0x93", "0x94", "0x95", "0x96", "0x97", "0x98", "0x99", "0x9A", "0x9B",
    "0x9C", "0x9D", "0x9E", "0x9F", "0xA0", "0xA1", "0xA2", "0xA3", "0xA4", "0xA5", "0xA6", "0xA7",
    "0xA8", "0xA9", "0xAA", "0xAB", "0xAC", "0xAD", "0xAE", "0xAF", "0xB0", "0xB1", "0xB2", "0xB3",
    "0xB4", "0xB5", "0xB6", "0xB7", "0xB8", "0xB9", "0xBA", "0xBB", "0xBC", "0xBD", "0xBE", "0xBF",
    "0xC0", "0xC1", "0xC2", "0xC3", "0xC4", "0xC5", "0xC6", "0xC7", "0xC8", "0xC9", "0xCA", "0xCB",
    "0xCC", "0xCD", "0xCE", "0xCF", "0xD0", "0xD1", "0xD2", "0xD3", "0xD4", "0xD5", "0xD6", "0xD7",
    "0xD8", "0xD9", "0xDA", "0xDB", "0xDC", "0xDD", "0xDE", "0xDF", "0xE0", "0xE1", "0xE2", "0xE3",
    "0xE4", "0xE5", "0xE6", "0xE7", "0xE8", "0xE9", "0xEA", "0xEB", "0xEC", "0xED", "0xEE", "0xEF",
    "0xF0", "0xF1", "0xF2", "0xF3", "0xF4", "0xF5", "0xF6", "0xF7", "0xF8", "0xF9", "0xFA", "0xFB",
    "0xFC", "0xFD", "0xFE", "0xFF",
];

#[cfg(test)]
mod tests;
