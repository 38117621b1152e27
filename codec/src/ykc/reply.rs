//! The platform's automatic replies: login (0x02), heartbeat (0x04), billing-model check (0x06), tariff (0x0A),
//! transaction confirmation (0x40), time sync (0x56) and the answer to a start request (0x32).
//!
//! Every builder takes the request's [`Frame`] and echoes its two sequence bytes verbatim — the spec says a reply
//! carries the request's sequence number, and echoing the bytes (rather than re-encoding a number) stays correct
//! whichever byte order the pile uses.

use bytes::Bytes;

use super::billing::{
    BillingModelCheck, BillingModelCheckReply, Tariff, MODEL_CONSISTENT, MODEL_INCONSISTENT,
};
use super::encoding::{BillingModel, Cp56Time2a, LogicalCard, PileNumber, TransactionSerial};
use super::heartbeat::{Heartbeat, HeartbeatReply};
use super::login::{Login, LoginReply, LOGIN_FAILURE, LOGIN_SUCCESS};
use super::start_stop::{StartAnswer, StartRequest, RESULT_FAILURE, RESULT_SUCCESS};
use super::time_sync::TimeSync;
use super::transaction::{TransactionConfirm, TransactionRecord, CONFIRM_ILLEGAL, CONFIRM_OK};
use super::{Frame, Message, YkcError};

/// Heartbeat reply code (always 0).
const HEARTBEAT_REPLY_CODE: u8 = 0x00;

/// Encodes `message` with the request's sequence bytes.
pub fn echo(request: &Frame, message: &Message) -> Result<Bytes, YkcError> {
    message.encode_frame(request.seq)
}

/// 0x02: accept or refuse a login.
pub fn login_reply(request: &Frame, login: &Login, accept: bool) -> Result<Bytes, YkcError> {
    echo(
        request,
        &Message::LoginReply(LoginReply {
            pile: login.pile,
            result: if accept { LOGIN_SUCCESS } else { LOGIN_FAILURE },
        }),
    )
}

/// 0x04: answer a heartbeat.
pub fn heartbeat_reply(request: &Frame, heartbeat: &Heartbeat) -> Result<Bytes, YkcError> {
    echo(
        request,
        &Message::HeartbeatReply(HeartbeatReply {
            pile: heartbeat.pile,
            gun: heartbeat.gun,
            reply: HEARTBEAT_REPLY_CODE,
        }),
    )
}

/// 0x06: tell the pile whether its billing model is `current`.
pub fn billing_model_check_reply(
    request: &Frame,
    check: &BillingModelCheck,
    current: BillingModel,
) -> Result<Bytes, YkcError> {
    echo(
        request,
        &Message::BillingModelCheckReply(BillingModelCheckReply {
            pile: check.pile,
            model: check.model,
            result: if check.model == current {
                MODEL_CONSISTENT
            } else {
                MODEL_INCONSISTENT
            },
        }),
    )
}

/// 0x0A: send the tariff a pile asked for with 0x09.
pub fn tariff_reply(request: &Frame, tariff: &Tariff) -> Result<Bytes, YkcError> {
    echo(request, &Message::BillingModelReply(tariff.clone()))
}

/// 0x40: acknowledge a transaction record (send only once it is safely stored upstream).
pub fn transaction_confirm(
    request: &Frame,
    record: &TransactionRecord,
    accepted: bool,
) -> Result<Bytes, YkcError> {
    echo(
        request,
        &Message::TransactionConfirm(TransactionConfirm {
            serial: record.serial,
            result: if accepted {
                CONFIRM_OK
            } else {
                CONFIRM_ILLEGAL
            },
        }),
    )
}

/// 0x56: set the pile's clock to `now` (its local time), e.g. right after login.
pub fn time_sync(request: &Frame, pile: PileNumber, now: Cp56Time2a) -> Result<Bytes, YkcError> {
    echo(request, &Message::TimeSync(TimeSync { pile, time: now }))
}

/// What the platform decided about a 0x31 start request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartDecision {
    /// Transaction serial for the session (made by the platform).
    pub serial: TransactionSerial,
    /// Logical card number to show.
    pub logical_card: LogicalCard,
    /// Account balance, 0.01 yuan.
    pub balance_raw: u32,
    /// `None` to accept, `Some(code)` to refuse with a failure reason (0x01 … 0x0B).
    pub refusal: Option<u8>,
}

/// 0x32: answer a start request.
pub fn start_answer(
    request: &Frame,
    start: &StartRequest,
    decision: &StartDecision,
) -> Result<Bytes, YkcError> {
    echo(
        request,
        &Message::StartAnswer(StartAnswer {
            serial: decision.serial,
            pile: start.pile,
            gun: start.gun,
            logical_card: decision.logical_card,
            balance_raw: decision.balance_raw,
            auth_result: if decision.refusal.is_some() {
                RESULT_FAILURE
            } else {
                RESULT_SUCCESS
            },
            failure_reason: decision.refusal.unwrap_or_default(),
        }),
    )
}
