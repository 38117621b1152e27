//! Frames whose body layout the reference does not cover — offline cards (0x43–0x48), parking locks (0x61–0x63),
//! dual-gun parallel charging (0xA1–0xA4): decoded as far as is known (serial, pile, gun) and the rest kept as a
//! slice of the frame buffer, so they can be logged, counted and re-encoded unchanged.

use bytes::Bytes;
use nom::combinator::cond;
use nom::Parser;
use serde::{Serialize, Serializer};

use super::encoding::{bcd, gun, put_gun, u8_, HexSlice, PResult, PileNumber, TransactionSerial};

/// Which known fields lead a partially covered body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Pile number only (offline-card frames).
    Pile,
    /// Pile number + gun as BIN (parking-lock frames).
    PileGunBin,
    /// Pile number + gun as BCD (0xA1, like 0x31).
    PileGun,
    /// Transaction serial + pile number + gun as BCD (0xA2–0xA4, like 0x32–0x34).
    SerialPileGun,
}

impl Layout {
    /// Bytes the known prefix needs.
    pub const fn prefix_len(self) -> usize {
        match self {
            Layout::Pile => 7,
            Layout::PileGunBin | Layout::PileGun => 8,
            Layout::SerialPileGun => 24,
        }
    }
}

/// A partially decoded body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partial {
    /// Transaction serial, when the layout has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<TransactionSerial>,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number, when the layout has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gun: Option<u8>,
    /// The rest of the body, undecoded (a slice of the frame buffer).
    #[serde(serialize_with = "hex_bytes")]
    pub rest: Bytes,
    /// Which layout the prefix follows.
    #[serde(skip)]
    pub layout: Layout,
}

fn hex_bytes<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{}", HexSlice(b)))
}

impl Partial {
    /// Parses the known prefix of `body`; the rest is sliced from `body` without copying.
    pub(crate) fn parse<'a>(layout: Layout, body: &Bytes, i: &'a [u8]) -> PResult<'a, Self> {
        let serial_pile_gun = layout == Layout::SerialPileGun;
        let (i, (serial, pile)) = (
            cond(serial_pile_gun, bcd::<16>("transaction_serial")),
            bcd::<7>("pile"),
        )
            .parse(i)?;
        let (i, gun) = match layout {
            Layout::Pile => (i, None),
            Layout::PileGunBin => u8_.map(Some).parse(i)?,
            Layout::PileGun | Layout::SerialPileGun => gun.map(Some).parse(i)?,
        };
        let consumed = body.len().saturating_sub(i.len());
        let (i, _) = nom::combinator::rest.parse(i)?;
        Ok((
            i,
            Partial {
                serial,
                pile,
                gun,
                rest: body.slice(consumed.min(body.len())..),
                layout,
            },
        ))
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Some(s) = self.serial {
            out.extend_from_slice(&s.0);
        }
        out.extend_from_slice(&self.pile.0);
        match (self.layout, self.gun) {
            (Layout::PileGunBin, Some(g)) => out.push(g),
            (_, Some(g)) => put_gun(out, g),
            (_, None) => {}
        }
        out.extend_from_slice(&self.rest);
    }
}
