//! The [`Message`] enum over every V1.6 frame type, dispatch by frame type with the body-length policy, and the
//! field deviations a decoded message can carry.

use bytes::Bytes;
use serde::{Serialize, Serializer};

use super::balance::{BalanceUpdate, BalanceUpdateReply};
use super::billing::{
    BillingModelCheck, BillingModelCheckReply, BillingModelRequest, BillingModelSetReply, Tariff,
};
use super::bms::{
    BmsAbort, BmsInfo, ChargeEnd, ChargerAbort, Demand, ErrorReport, Handshake, ParameterConfig,
};
use super::encoding::HexSlice;
use super::encoding::{finish, PResult};
use super::frame::{encode_frame, BodyCipher, CrcOrder, Frame, ENCRYPTION_3DES, ENCRYPTION_NONE};
use super::heartbeat::{Heartbeat, HeartbeatReply};
use super::login::{Login, LoginReply};
use super::maintenance::{PileResult, Reboot, Update};
use super::params::{WorkParams, WorkParamsReply};
use super::partial::{Layout, Partial};
use super::realtime::{PollRealtime, Realtime};
use super::start_stop::{
    RemoteStart, RemoteStartReply, RemoteStop, RemoteStopReply, StartAnswer, StartRequest,
};
use super::time_sync::TimeSync;
use super::transaction::{TransactionConfirm, TransactionRecord};
use super::YkcError;

use super::frame_type as ft;

/// One decoded YKC message. Serializes as `{"type": "<variant>", …fields}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// 0x01.
    Login(Login),
    /// 0x02.
    LoginReply(LoginReply),
    /// 0x03.
    Heartbeat(Heartbeat),
    /// 0x04.
    HeartbeatReply(HeartbeatReply),
    /// 0x05.
    BillingModelCheck(BillingModelCheck),
    /// 0x06.
    BillingModelCheckReply(BillingModelCheckReply),
    /// 0x09.
    BillingModelRequest(BillingModelRequest),
    /// 0x0A.
    BillingModelReply(Tariff),
    /// 0x12.
    PollRealtime(PollRealtime),
    /// 0x13.
    Realtime(Realtime),
    /// 0x15.
    Handshake(Handshake),
    /// 0x17.
    ParameterConfig(ParameterConfig),
    /// 0x19.
    ChargeEnd(ChargeEnd),
    /// 0x1B.
    ErrorReport(ErrorReport),
    /// 0x1D.
    BmsAbort(BmsAbort),
    /// 0x21.
    ChargerAbort(ChargerAbort),
    /// 0x23.
    Demand(Demand),
    /// 0x25.
    BmsInfo(BmsInfo),
    /// 0x31.
    StartRequest(StartRequest),
    /// 0x32.
    StartAnswer(StartAnswer),
    /// 0x33.
    RemoteStartReply(RemoteStartReply),
    /// 0x34.
    RemoteStart(RemoteStart),
    /// 0x35.
    RemoteStopReply(RemoteStopReply),
    /// 0x36.
    RemoteStop(RemoteStop),
    /// 0x3B.
    TransactionRecord(Box<TransactionRecord>),
    /// 0x40.
    TransactionConfirm(TransactionConfirm),
    /// 0x41.
    BalanceUpdateReply(BalanceUpdateReply),
    /// 0x42.
    BalanceUpdate(BalanceUpdate),
    /// 0x43.
    OfflineCardSyncReply(Partial),
    /// 0x44.
    OfflineCardSync(Partial),
    /// 0x45.
    OfflineCardClearReply(Partial),
    /// 0x46.
    OfflineCardClear(Partial),
    /// 0x47.
    OfflineCardQueryReply(Partial),
    /// 0x48.
    OfflineCardQuery(Partial),
    /// 0x51.
    WorkParamsReply(WorkParamsReply),
    /// 0x52.
    WorkParams(WorkParams),
    /// 0x55.
    TimeSyncReply(TimeSync),
    /// 0x56.
    TimeSync(TimeSync),
    /// 0x57.
    BillingModelSetReply(BillingModelSetReply),
    /// 0x58.
    BillingModelSet(Tariff),
    /// 0x61.
    ParkingLockStatus(Partial),
    /// 0x62.
    ParkingLockCommand(Partial),
    /// 0x63.
    ParkingLockReply(Partial),
    /// 0x91.
    RebootReply(PileResult),
    /// 0x92.
    Reboot(Reboot),
    /// 0x93.
    UpdateReply(PileResult),
    /// 0x94.
    Update(Update),
    /// 0xA1.
    ParallelStartRequest(Partial),
    /// 0xA2.
    ParallelStartAnswer(Partial),
    /// 0xA3.
    ParallelRemoteStartReply(Partial),
    /// 0xA4.
    ParallelRemoteStart(Partial),
    /// A frame type outside V1.6 (e.g. 0x3D of V1.7): kept raw, not an error.
    Unknown {
        /// The frame type.
        frame_type: u8,
        /// The body, a slice of the frame buffer.
        #[serde(serialize_with = "hex_bytes")]
        body: Bytes,
    },
}

fn hex_bytes<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&HexSlice(b))
}

/// A field deviation found while decoding (reference §12), to be counted by its [`Deviation::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deviation {
    /// CRC sent high byte first.
    CrcSwapped,
    /// 0x3B with the fifth tariff block (length 0xB2).
    FifthTariffBlock,
    /// 0x19 with one extra trailing byte.
    TrailingByte,
    /// 0x52 power cap outside 30–100 %.
    PowerOutOfRange,
}

impl Deviation {
    /// Stable short name, used as a metric label.
    pub fn kind(self) -> &'static str {
        match self {
            Deviation::CrcSwapped => "crc_swapped",
            Deviation::FifthTariffBlock => "fifth_tariff_block",
            Deviation::TrailingByte => "trailing_byte",
            Deviation::PowerOutOfRange => "power_out_of_range",
        }
    }
}

/// Checks the body length against `expected`, then runs the parser.
fn exact<'a, T>(
    frame_type: u8,
    body: &'a [u8],
    expected: usize,
    parser: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> Result<T, YkcError> {
    if body.len() != expected {
        return Err(YkcError::BodyLength {
            frame_type,
            expected,
            got: body.len(),
        });
    }
    finish(frame_type, body, parser)
}

/// Checks that the body holds at least the known prefix of a partially covered layout, then parses it.
fn partial(frame_type: u8, body: &Bytes, layout: Layout) -> Result<Partial, YkcError> {
    if body.len() < layout.prefix_len() {
        return Err(YkcError::BodyLength {
            frame_type,
            expected: layout.prefix_len(),
            got: body.len(),
        });
    }
    finish(frame_type, body, |i| Partial::parse(layout, body, i))
}

impl Message {
    /// Decodes the message of a frame; an encrypted body is [`YkcError::Encrypted`].
    pub fn decode(frame: &Frame) -> Result<Message, YkcError> {
        Message::decode_with(frame, None)
    }

    /// Decodes the message of a frame, decrypting a 3DES body with `cipher` when one is given.
    pub fn decode_with(
        frame: &Frame,
        cipher: Option<&dyn BodyCipher>,
    ) -> Result<Message, YkcError> {
        let frame_type = frame.frame_type;
        match (frame.encryption, cipher) {
            (ENCRYPTION_NONE, _) => Message::decode_body(frame_type, &frame.body),
            (ENCRYPTION_3DES, Some(c)) => {
                let clear = c
                    .decrypt(frame_type, &frame.body)
                    .ok_or(YkcError::Cipher { frame_type })?;
                Message::decode_body(frame_type, &clear)
            }
            (ENCRYPTION_3DES, None) => Err(YkcError::Encrypted { frame_type }),
            (flag, _) => Err(YkcError::UnknownEncryption { frame_type, flag }),
        }
    }

    /// Decodes a clear body of the given frame type.
    pub fn decode_body(frame_type: u8, body: &Bytes) -> Result<Message, YkcError> {
        let b: &[u8] = body;
        // Decodes a fixed-length layout: checks the body length, then parses.
        macro_rules! fixed {
            ($ty:ident) => {
                exact(frame_type, b, $ty::BODY_LEN, $ty::parse)?
            };
        }
        Ok(match frame_type {
            ft::LOGIN => Message::Login(fixed!(Login)),
            ft::LOGIN_REPLY => Message::LoginReply(fixed!(LoginReply)),
            ft::HEARTBEAT => Message::Heartbeat(fixed!(Heartbeat)),
            ft::HEARTBEAT_REPLY => Message::HeartbeatReply(fixed!(HeartbeatReply)),
            ft::BILLING_MODEL_CHECK => Message::BillingModelCheck(fixed!(BillingModelCheck)),
            ft::BILLING_MODEL_CHECK_REPLY => {
                Message::BillingModelCheckReply(fixed!(BillingModelCheckReply))
            }
            ft::BILLING_MODEL_REQUEST => Message::BillingModelRequest(fixed!(BillingModelRequest)),
            ft::BILLING_MODEL_REPLY => Message::BillingModelReply(fixed!(Tariff)),
            ft::POLL_REALTIME => Message::PollRealtime(fixed!(PollRealtime)),
            ft::REALTIME => Message::Realtime(fixed!(Realtime)),
            ft::HANDSHAKE => Message::Handshake(fixed!(Handshake)),
            ft::PARAMETER_CONFIG => Message::ParameterConfig(fixed!(ParameterConfig)),
            ft::CHARGE_END => {
                let expected = if b.len() == ChargeEnd::BODY_LEN_TRAILING {
                    ChargeEnd::BODY_LEN_TRAILING
                } else {
                    ChargeEnd::BODY_LEN
                };
                Message::ChargeEnd(exact(frame_type, b, expected, ChargeEnd::parse)?)
            }
            ft::ERROR_REPORT => Message::ErrorReport(fixed!(ErrorReport)),
            ft::BMS_ABORT => Message::BmsAbort(fixed!(BmsAbort)),
            ft::CHARGER_ABORT => Message::ChargerAbort(fixed!(ChargerAbort)),
            ft::DEMAND => Message::Demand(fixed!(Demand)),
            ft::BMS_INFO => Message::BmsInfo(fixed!(BmsInfo)),
            ft::START_REQUEST => Message::StartRequest(fixed!(StartRequest)),
            ft::START_ANSWER => Message::StartAnswer(fixed!(StartAnswer)),
            ft::REMOTE_START_REPLY => Message::RemoteStartReply(fixed!(RemoteStartReply)),
            ft::REMOTE_START => Message::RemoteStart(fixed!(RemoteStart)),
            ft::REMOTE_STOP_REPLY => Message::RemoteStopReply(fixed!(RemoteStopReply)),
            ft::REMOTE_STOP => Message::RemoteStop(fixed!(RemoteStop)),
            ft::TRANSACTION_RECORD => {
                let expected = if b.len() == TransactionRecord::BODY_LEN_FIVE_TIERS {
                    TransactionRecord::BODY_LEN_FIVE_TIERS
                } else {
                    TransactionRecord::BODY_LEN
                };
                Message::TransactionRecord(Box::new(exact(
                    frame_type,
                    b,
                    expected,
                    TransactionRecord::parse,
                )?))
            }
            ft::TRANSACTION_CONFIRM => Message::TransactionConfirm(fixed!(TransactionConfirm)),
            ft::BALANCE_UPDATE_REPLY => Message::BalanceUpdateReply(fixed!(BalanceUpdateReply)),
            ft::BALANCE_UPDATE => Message::BalanceUpdate(fixed!(BalanceUpdate)),
            ft::OFFLINE_CARD_SYNC_REPLY => {
                Message::OfflineCardSyncReply(partial(frame_type, body, Layout::Pile)?)
            }
            ft::OFFLINE_CARD_SYNC => {
                Message::OfflineCardSync(partial(frame_type, body, Layout::Pile)?)
            }
            ft::OFFLINE_CARD_CLEAR_REPLY => {
                Message::OfflineCardClearReply(partial(frame_type, body, Layout::Pile)?)
            }
            ft::OFFLINE_CARD_CLEAR => {
                Message::OfflineCardClear(partial(frame_type, body, Layout::Pile)?)
            }
            ft::OFFLINE_CARD_QUERY_REPLY => {
                Message::OfflineCardQueryReply(partial(frame_type, body, Layout::Pile)?)
            }
            ft::OFFLINE_CARD_QUERY => {
                Message::OfflineCardQuery(partial(frame_type, body, Layout::Pile)?)
            }
            ft::WORK_PARAMS_REPLY => Message::WorkParamsReply(fixed!(WorkParamsReply)),
            ft::WORK_PARAMS => Message::WorkParams(fixed!(WorkParams)),
            ft::TIME_SYNC_REPLY => Message::TimeSyncReply(fixed!(TimeSync)),
            ft::TIME_SYNC => Message::TimeSync(fixed!(TimeSync)),
            ft::BILLING_MODEL_SET_REPLY => {
                Message::BillingModelSetReply(fixed!(BillingModelSetReply))
            }
            ft::BILLING_MODEL_SET => Message::BillingModelSet(fixed!(Tariff)),
            ft::PARKING_LOCK_STATUS => {
                Message::ParkingLockStatus(partial(frame_type, body, Layout::PileGunBin)?)
            }
            ft::PARKING_LOCK_COMMAND => {
                Message::ParkingLockCommand(partial(frame_type, body, Layout::PileGunBin)?)
            }
            ft::PARKING_LOCK_REPLY => {
                Message::ParkingLockReply(partial(frame_type, body, Layout::PileGunBin)?)
            }
            ft::REBOOT_REPLY => Message::RebootReply(fixed!(PileResult)),
            ft::REBOOT => Message::Reboot(fixed!(Reboot)),
            ft::UPDATE_REPLY => Message::UpdateReply(fixed!(PileResult)),
            ft::UPDATE => Message::Update(fixed!(Update)),
            ft::PARALLEL_START_REQUEST => {
                Message::ParallelStartRequest(partial(frame_type, body, Layout::PileGun)?)
            }
            ft::PARALLEL_START_ANSWER => {
                Message::ParallelStartAnswer(partial(frame_type, body, Layout::SerialPileGun)?)
            }
            ft::PARALLEL_REMOTE_START_REPLY => {
                Message::ParallelRemoteStartReply(partial(frame_type, body, Layout::SerialPileGun)?)
            }
            ft::PARALLEL_REMOTE_START => {
                Message::ParallelRemoteStart(partial(frame_type, body, Layout::SerialPileGun)?)
            }
            _ => Message::Unknown {
                frame_type,
                body: body.clone(),
            },
        })
    }

    /// The frame type this message travels in.
    pub fn frame_type(&self) -> u8 {
        match self {
            Message::Login(_) => ft::LOGIN,
            Message::LoginReply(_) => ft::LOGIN_REPLY,
            Message::Heartbeat(_) => ft::HEARTBEAT,
            Message::HeartbeatReply(_) => ft::HEARTBEAT_REPLY,
            Message::BillingModelCheck(_) => ft::BILLING_MODEL_CHECK,
            Message::BillingModelCheckReply(_) => ft::BILLING_MODEL_CHECK_REPLY,
            Message::BillingModelRequest(_) => ft::BILLING_MODEL_REQUEST,
            Message::BillingModelReply(_) => ft::BILLING_MODEL_REPLY,
            Message::PollRealtime(_) => ft::POLL_REALTIME,
            Message::Realtime(_) => ft::REALTIME,
            Message::Handshake(_) => ft::HANDSHAKE,
            Message::ParameterConfig(_) => ft::PARAMETER_CONFIG,
            Message::ChargeEnd(_) => ft::CHARGE_END,
            Message::ErrorReport(_) => ft::ERROR_REPORT,
            Message::BmsAbort(_) => ft::BMS_ABORT,
            Message::ChargerAbort(_) => ft::CHARGER_ABORT,
            Message::Demand(_) => ft::DEMAND,
            Message::BmsInfo(_) => ft::BMS_INFO,
            Message::StartRequest(_) => ft::START_REQUEST,
            Message::StartAnswer(_) => ft::START_ANSWER,
            Message::RemoteStartReply(_) => ft::REMOTE_START_REPLY,
            Message::RemoteStart(_) => ft::REMOTE_START,
            Message::RemoteStopReply(_) => ft::REMOTE_STOP_REPLY,
            Message::RemoteStop(_) => ft::REMOTE_STOP,
            Message::TransactionRecord(_) => ft::TRANSACTION_RECORD,
            Message::TransactionConfirm(_) => ft::TRANSACTION_CONFIRM,
            Message::BalanceUpdateReply(_) => ft::BALANCE_UPDATE_REPLY,
            Message::BalanceUpdate(_) => ft::BALANCE_UPDATE,
            Message::OfflineCardSyncReply(_) => ft::OFFLINE_CARD_SYNC_REPLY,
            Message::OfflineCardSync(_) => ft::OFFLINE_CARD_SYNC,
            Message::OfflineCardClearReply(_) => ft::OFFLINE_CARD_CLEAR_REPLY,
            Message::OfflineCardClear(_) => ft::OFFLINE_CARD_CLEAR,
            Message::OfflineCardQueryReply(_) => ft::OFFLINE_CARD_QUERY_REPLY,
            Message::OfflineCardQuery(_) => ft::OFFLINE_CARD_QUERY,
            Message::WorkParamsReply(_) => ft::WORK_PARAMS_REPLY,
            Message::WorkParams(_) => ft::WORK_PARAMS,
            Message::TimeSyncReply(_) => ft::TIME_SYNC_REPLY,
            Message::TimeSync(_) => ft::TIME_SYNC,
            Message::BillingModelSetReply(_) => ft::BILLING_MODEL_SET_REPLY,
            Message::BillingModelSet(_) => ft::BILLING_MODEL_SET,
            Message::ParkingLockStatus(_) => ft::PARKING_LOCK_STATUS,
            Message::ParkingLockCommand(_) => ft::PARKING_LOCK_COMMAND,
            Message::ParkingLockReply(_) => ft::PARKING_LOCK_REPLY,
            Message::RebootReply(_) => ft::REBOOT_REPLY,
            Message::Reboot(_) => ft::REBOOT,
            Message::UpdateReply(_) => ft::UPDATE_REPLY,
            Message::Update(_) => ft::UPDATE,
            Message::ParallelStartRequest(_) => ft::PARALLEL_START_REQUEST,
            Message::ParallelStartAnswer(_) => ft::PARALLEL_START_ANSWER,
            Message::ParallelRemoteStartReply(_) => ft::PARALLEL_REMOTE_START_REPLY,
            Message::ParallelRemoteStart(_) => ft::PARALLEL_REMOTE_START,
            Message::Unknown { frame_type, .. } => *frame_type,
        }
    }

    /// Appends the clear body.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Message::Login(m) => m.encode(out),
            Message::LoginReply(m) => m.encode(out),
            Message::Heartbeat(m) => m.encode(out),
            Message::HeartbeatReply(m) => m.encode(out),
            Message::BillingModelCheck(m) => m.encode(out),
            Message::BillingModelCheckReply(m) => m.encode(out),
            Message::BillingModelRequest(m) => m.encode(out),
            Message::BillingModelReply(m) | Message::BillingModelSet(m) => m.encode(out),
            Message::PollRealtime(m) => m.encode(out),
            Message::Realtime(m) => m.encode(out),
            Message::Handshake(m) => m.encode(out),
            Message::ParameterConfig(m) => m.encode(out),
            Message::ChargeEnd(m) => m.encode(out),
            Message::ErrorReport(m) => m.encode(out),
            Message::BmsAbort(m) => m.encode(out),
            Message::ChargerAbort(m) => m.encode(out),
            Message::Demand(m) => m.encode(out),
            Message::BmsInfo(m) => m.encode(out),
            Message::StartRequest(m) => m.encode(out),
            Message::StartAnswer(m) => m.encode(out),
            Message::RemoteStartReply(m) => m.encode(out),
            Message::RemoteStart(m) => m.encode(out),
            Message::RemoteStopReply(m) => m.encode(out),
            Message::RemoteStop(m) => m.encode(out),
            Message::TransactionRecord(m) => m.encode(out),
            Message::TransactionConfirm(m) => m.encode(out),
            Message::BalanceUpdateReply(m) => m.encode(out),
            Message::BalanceUpdate(m) => m.encode(out),
            Message::OfflineCardSyncReply(m)
            | Message::OfflineCardSync(m)
            | Message::OfflineCardClearReply(m)
            | Message::OfflineCardClear(m)
            | Message::OfflineCardQueryReply(m)
            | Message::OfflineCardQuery(m)
            | Message::ParkingLockStatus(m)
            | Message::ParkingLockCommand(m)
            | Message::ParkingLockReply(m)
            | Message::ParallelStartRequest(m)
            | Message::ParallelStartAnswer(m)
            | Message::ParallelRemoteStartReply(m)
            | Message::ParallelRemoteStart(m) => m.encode(out),
            Message::WorkParamsReply(m) => m.encode(out),
            Message::WorkParams(m) => m.encode(out),
            Message::TimeSyncReply(m) | Message::TimeSync(m) => m.encode(out),
            Message::BillingModelSetReply(m) => m.encode(out),
            Message::RebootReply(m) | Message::UpdateReply(m) => m.encode(out),
            Message::Reboot(m) => m.encode(out),
            Message::Update(m) => m.encode(out),
            Message::Unknown { body, .. } => out.extend_from_slice(body),
        }
    }

    /// Encodes the whole frame with the given sequence bytes, unencrypted, CRC low byte first. Fails only when
    /// the body does not fit the length byte (an `Unknown` or partial body over 251 bytes).
    pub fn encode_frame(&self, seq: [u8; 2]) -> Result<Bytes, YkcError> {
        let mut body = Vec::with_capacity(crate::ykc::frame::MAX_LENGTH);
        self.encode_body(&mut body);
        let frame_type = self.frame_type();
        encode_frame(seq, ENCRYPTION_NONE, frame_type, &body).ok_or(YkcError::BodyTooLong {
            frame_type,
            len: body.len(),
        })
    }

    /// The message-level field deviation this message carries, if any.
    pub fn deviation(&self) -> Option<Deviation> {
        match self {
            Message::TransactionRecord(r) if r.fifth_tier.is_some() => {
                Some(Deviation::FifthTariffBlock)
            }
            Message::ChargeEnd(c) if c.trailing_byte.is_some() => Some(Deviation::TrailingByte),
            Message::WorkParams(w) if w.power_out_of_range() => Some(Deviation::PowerOutOfRange),
            _ => None,
        }
    }
}

/// A frame and its decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The envelope.
    pub frame: Frame,
    /// The message.
    pub message: Message,
}

impl Decoded {
    /// Every field deviation of frame and message, for counting.
    pub fn deviations(&self) -> impl Iterator<Item = Deviation> {
        let crc = (self.frame.crc_order == CrcOrder::Swapped).then_some(Deviation::CrcSwapped);
        crc.into_iter().chain(self.message.deviation())
    }
}

/// Parses one complete frame and decodes its message (no cipher).
pub fn decode(frame: Bytes) -> Result<Decoded, YkcError> {
    let frame = Frame::parse(frame)?;
    let message = Message::decode(&frame)?;
    Ok(Decoded { frame, message })
}
