//! Starting and stopping a charge, §8.1–8.6: the pile asks to start (0x31) and the platform answers (0x32); the
//! platform starts (0x34) or stops (0x36) remotely and the pile replies (0x33, 0x35).

use nom::Parser;
use serde::Serialize;

use super::encoding::{
    ascii, bcd, gun, le32, put_gun, raw, u8_, Ascii, LogicalCard, PResult, PileNumber,
    TransactionSerial,
};

/// Start mode: card.
pub const START_MODE_CARD: u8 = 0x01;
/// Start mode: account.
pub const START_MODE_ACCOUNT: u8 = 0x02;
/// Start mode: VIN.
pub const START_MODE_VIN: u8 = 0x03;
/// Result byte of 0x32/0x33/0x35: failure.
pub const RESULT_FAILURE: u8 = 0x00;
/// Result byte of 0x32/0x33/0x35: success.
pub const RESULT_SUCCESS: u8 = 0x01;
/// Balance resolution: 0.01 yuan.
pub const BALANCE_SCALE: f64 = 100.0;
/// VIN length.
pub const VIN_LEN: usize = 17;

/// 0x31 the pile asks to start charging (card or VIN presented at the pile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartRequest {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Start mode code ([`START_MODE_CARD`], [`START_MODE_ACCOUNT`], [`START_MODE_VIN`]).
    pub start_mode: u8,
    /// 0x01 when a password is needed.
    pub password_required: u8,
    /// Account or physical card number, the 8 wire bytes.
    pub card_or_account: [u8; 8],
    /// Password (MD5), the 16 wire bytes.
    pub password: [u8; 16],
    /// VIN in reading order (the wire carries it reversed; decode and encode reverse it).
    pub vin: Ascii<VIN_LEN>,
}

impl StartRequest {
    /// Body length.
    pub const BODY_LEN: usize = 51;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<7>("pile"),
            gun,
            u8_,
            u8_,
            raw::<8>,
            raw::<16>,
            ascii::<VIN_LEN>,
        )
            .map(
                |(pile, gun, start_mode, password_required, card_or_account, password, vin)| {
                    StartRequest {
                        pile,
                        gun,
                        start_mode,
                        password_required,
                        card_or_account,
                        password,
                        vin: vin.reversed(),
                    }
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&[self.start_mode, self.password_required]);
        out.extend_from_slice(&self.card_or_account);
        out.extend_from_slice(&self.password);
        out.extend_from_slice(&self.vin.reversed().0);
    }

    /// `"card"`, `"account"`, `"vin"`, or `None` for an unknown code.
    pub fn start_mode_name(&self) -> Option<&'static str> {
        match self.start_mode {
            START_MODE_CARD => Some("card"),
            START_MODE_ACCOUNT => Some("account"),
            START_MODE_VIN => Some("vin"),
            _ => None,
        }
    }

    /// Whether a password is needed.
    pub fn needs_password(&self) -> bool {
        self.password_required == RESULT_SUCCESS
    }
}

/// 0x32 the platform answers a start request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartAnswer {
    /// Transaction serial for the session.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Logical card number.
    pub logical_card: LogicalCard,
    /// Account balance, 0.01 yuan.
    pub balance_raw: u32,
    /// [`RESULT_SUCCESS`] or [`RESULT_FAILURE`].
    pub auth_result: u8,
    /// Failure reason code (0x01 account unknown … 0x0B cards not supported).
    pub failure_reason: u8,
}

impl StartAnswer {
    /// Body length.
    pub const BODY_LEN: usize = 38;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<16>("transaction_serial"),
            bcd::<7>("pile"),
            gun,
            bcd::<8>("logical_card"),
            le32,
            u8_,
            u8_,
        )
            .map(
                |(serial, pile, gun, logical_card, balance_raw, auth_result, failure_reason)| {
                    StartAnswer {
                        serial,
                        pile,
                        gun,
                        logical_card,
                        balance_raw,
                        auth_result,
                        failure_reason,
                    }
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&self.logical_card.0);
        out.extend_from_slice(&self.balance_raw.to_le_bytes());
        out.extend_from_slice(&[self.auth_result, self.failure_reason]);
    }

    /// Account balance, yuan.
    pub fn balance_yuan(&self) -> f64 {
        f64::from(self.balance_raw) / BALANCE_SCALE
    }
}

/// 0x33 the pile replies to a remote start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteStartReply {
    /// Transaction serial.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// [`RESULT_SUCCESS`] or [`RESULT_FAILURE`].
    pub result: u8,
    /// Failure reason code (0x00 none … 0x05 gun not plugged in).
    pub failure_reason: u8,
}

impl RemoteStartReply {
    /// Body length.
    pub const BODY_LEN: usize = 26;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<16>("transaction_serial"),
            bcd::<7>("pile"),
            gun,
            u8_,
            u8_,
        )
            .map(
                |(serial, pile, gun, result, failure_reason)| RemoteStartReply {
                    serial,
                    pile,
                    gun,
                    result,
                    failure_reason,
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&[self.result, self.failure_reason]);
    }
}

/// 0x34 the platform starts charging remotely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteStart {
    /// Transaction serial, made by the platform.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Logical card number (shown on the pile's screen).
    pub logical_card: LogicalCard,
    /// Physical card number, the 8 wire bytes.
    pub physical_card: [u8; 8],
    /// Account balance, 0.01 yuan.
    pub balance_raw: u32,
}

impl RemoteStart {
    /// Body length.
    pub const BODY_LEN: usize = 44;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<16>("transaction_serial"),
            bcd::<7>("pile"),
            gun,
            bcd::<8>("logical_card"),
            raw::<8>,
            le32,
        )
            .map(
                |(serial, pile, gun, logical_card, physical_card, balance_raw)| RemoteStart {
                    serial,
                    pile,
                    gun,
                    logical_card,
                    physical_card,
                    balance_raw,
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&self.logical_card.0);
        out.extend_from_slice(&self.physical_card);
        out.extend_from_slice(&self.balance_raw.to_le_bytes());
    }

    /// Account balance, yuan.
    pub fn balance_yuan(&self) -> f64 {
        f64::from(self.balance_raw) / BALANCE_SCALE
    }
}

/// 0x35 the pile replies to a remote stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteStopReply {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// [`RESULT_SUCCESS`] or [`RESULT_FAILURE`].
    pub result: u8,
    /// Failure reason code (0x00 none, 0x01 pile mismatch, 0x02 not charging, 0x03 other).
    pub failure_reason: u8,
}

impl RemoteStopReply {
    /// Body length.
    pub const BODY_LEN: usize = 10;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun, u8_, u8_)
            .map(|(pile, gun, result, failure_reason)| RemoteStopReply {
                pile,
                gun,
                result,
                failure_reason,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&[self.result, self.failure_reason]);
    }
}

/// 0x36 the platform stops charging remotely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteStop {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
}

impl RemoteStop {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun)
            .map(|(pile, gun)| RemoteStop { pile, gun })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
    }
}
