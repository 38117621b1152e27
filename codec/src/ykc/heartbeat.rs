//! Heartbeat (0x03, up) and heartbeat reply (0x04, down), §6.3–6.4: liveness every 10 s per gun.

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, gun, put_gun, u8_, PResult, PileNumber};

/// Gun status in a heartbeat: normal.
pub const GUN_NORMAL: u8 = 0x00;
/// Gun status in a heartbeat: fault.
pub const GUN_FAULT: u8 = 0x01;

/// 0x03 heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heartbeat {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Gun status code, [`GUN_NORMAL`] or [`GUN_FAULT`].
    pub gun_status: u8,
}

impl Heartbeat {
    /// Body length.
    pub const BODY_LEN: usize = 9;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun, u8_)
            .map(|(pile, gun, gun_status)| Heartbeat {
                pile,
                gun,
                gun_status,
            })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.push(self.gun_status);
    }

    /// Whether the gun reports a fault.
    pub fn is_fault(&self) -> bool {
        self.gun_status == GUN_FAULT
    }
}

/// 0x04 heartbeat reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatReply {
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
    /// Reply code, always 0.
    pub reply: u8,
}

impl HeartbeatReply {
    /// Body length.
    pub const BODY_LEN: usize = 9;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), gun, u8_)
            .map(|(pile, gun, reply)| HeartbeatReply { pile, gun, reply })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
        out.push(self.reply);
    }
}
