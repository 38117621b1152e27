//! Remote balance update (0x42, down, §8.9) and its reply (0x41, up, §8.10).

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, gun, le32, put_gun, raw, u8_, PResult, PileNumber};

/// Balance resolution: 0.01 yuan.
pub const BALANCE_SCALE: f64 = 100.0;
/// 0x41 result: OK.
pub const BALANCE_OK: u8 = 0x00;

/// 0x42 remote balance update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceUpdate {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Physical card number, the 8 wire bytes.
    pub physical_card: [u8; 8],
    /// New balance, 0.01 yuan.
    pub balance_raw: u32,
}

impl BalanceUpdate {
    /// Body length.
    pub const BODY_LEN: usize = 20;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun, raw::<8>, le32)
            .map(|(pile, gun, physical_card, balance_raw)| BalanceUpdate {
                pile,
                gun,
                physical_card,
                balance_raw,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.extend_from_slice(&self.physical_card);
        out.extend_from_slice(&self.balance_raw.to_le_bytes());
    }

    /// New balance, yuan.
    pub fn balance_yuan(&self) -> f64 {
        f64::from(self.balance_raw) / BALANCE_SCALE
    }
}

/// 0x41 balance update reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceUpdateReply {
    /// Pile number.
    pub pile: PileNumber,
    /// Physical card number, the 8 wire bytes.
    pub physical_card: [u8; 8],
    /// Result code: 0x00 OK, 0x01 wrong pile number, 0x02 wrong card number.
    pub result: u8,
}

impl BalanceUpdateReply {
    /// Body length.
    pub const BODY_LEN: usize = 16;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), raw::<8>, u8_)
            .map(|(pile, physical_card, result)| BalanceUpdateReply {
                pile,
                physical_card,
                result,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&self.physical_card);
        out.push(self.result);
    }
}
