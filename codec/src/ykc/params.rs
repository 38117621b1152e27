//! Work parameters, §9.1–9.2: the platform enables or locks the pile and caps its output power (0x52); the pile
//! replies (0x51).

use std::ops::RangeInclusive;

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, u8_, PResult, PileNumber};

/// Work byte: charging allowed.
pub const WORK_ALLOWED: u8 = 0x00;
/// Work byte: pile locked (disabled).
pub const WORK_LOCKED: u8 = 0x01;
/// The spec range of the maximum output power, percent.
pub const MAX_POWER_RANGE_PCT: RangeInclusive<u8> = 30..=100;
/// Full power, percent.
pub const FULL_POWER_PCT: u8 = 100;

/// 0x52 work-parameter set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkParams {
    /// Pile number.
    pub pile: PileNumber,
    /// [`WORK_ALLOWED`] or [`WORK_LOCKED`].
    pub work: u8,
    /// Maximum output power, percent (spec range 30–100; decoded as sent, see [`Self::power_out_of_range`]).
    pub max_power_pct: u8,
}

impl WorkParams {
    /// Body length.
    pub const BODY_LEN: usize = 9;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_, u8_)
            .map(|(pile, work, max_power_pct)| WorkParams {
                pile,
                work,
                max_power_pct,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&[self.work, self.max_power_pct]);
    }

    /// Whether charging is allowed.
    pub fn work_allowed(&self) -> bool {
        self.work == WORK_ALLOWED
    }

    /// Field deviation flag: the power cap is outside 30–100 %.
    pub fn power_out_of_range(&self) -> bool {
        !MAX_POWER_RANGE_PCT.contains(&self.max_power_pct)
    }
}

/// 0x51 work-parameter set reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkParamsReply {
    /// Pile number.
    pub pile: PileNumber,
    /// Result code: 0x00 failure, 0x01 success.
    pub result: u8,
}

impl WorkParamsReply {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_)
            .map(|(pile, result)| WorkParamsReply { pile, result })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.result);
    }
}
