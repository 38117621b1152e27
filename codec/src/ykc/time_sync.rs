//! Time sync, §9.3–9.4: the platform sets the pile's clock (0x56) and the pile echoes the time (0x55). Both
//! bodies are the same: pile number + CP56Time2a.

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, cp56, Cp56Time2a, PResult, PileNumber};

/// The body of 0x56 (set) and 0x55 (reply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeSync {
    /// Pile number.
    pub pile: PileNumber,
    /// The pile's local wall-clock time.
    pub time: Cp56Time2a,
}

impl TimeSync {
    /// Body length.
    pub const BODY_LEN: usize = 14;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), cp56)
            .map(|(pile, time)| TimeSync { pile, time })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&self.time.to_bytes());
    }
}
