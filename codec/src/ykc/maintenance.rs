//! Remote reboot (0x92/0x91) and remote update over FTP (0x94/0x93), §11.

use nom::Parser;
use serde::Serialize;

use super::encoding::{ascii, bcd, le16, u8_, Ascii, PResult, PileNumber};

/// Execute control: immediately.
pub const EXECUTE_NOW: u8 = 0x01;
/// Execute control: when idle.
pub const EXECUTE_WHEN_IDLE: u8 = 0x02;
/// 0x91 result: success.
pub const REBOOT_SUCCESS: u8 = 0x01;
/// 0x93 status: success.
pub const UPDATE_SUCCESS: u8 = 0x00;

/// 0x92 remote reboot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reboot {
    /// Pile number.
    pub pile: PileNumber,
    /// [`EXECUTE_NOW`] or [`EXECUTE_WHEN_IDLE`].
    pub control: u8,
}

impl Reboot {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_)
            .map(|(pile, control)| Reboot { pile, control })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.control);
    }
}

/// 0x91 remote reboot reply (also the shape of 0x93: pile + one status byte).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PileResult {
    /// Pile number.
    pub pile: PileNumber,
    /// Result or status code.
    pub result: u8,
}

impl PileResult {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_)
            .map(|(pile, result)| PileResult { pile, result })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.result);
    }
}

/// 0x94 remote update (OTA via FTP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    /// Pile number.
    pub pile: PileNumber,
    /// Pile model: 0x01 DC, 0x02 AC.
    pub pile_model: u8,
    /// Pile power, kW.
    pub power_kw: u16,
    /// Upgrade server address.
    pub server: Ascii<16>,
    /// Server port.
    pub port: u16,
    /// User name.
    pub user: Ascii<16>,
    /// Password.
    pub password: Ascii<16>,
    /// File path.
    pub path: Ascii<32>,
    /// [`EXECUTE_NOW`] or [`EXECUTE_WHEN_IDLE`].
    pub control: u8,
    /// Download timeout, minutes.
    pub timeout_min: u8,
}

impl Update {
    /// Body length.
    pub const BODY_LEN: usize = 94;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<7>("pile"),
            u8_,
            le16,
            ascii::<16>,
            le16,
            ascii::<16>,
            ascii::<16>,
            ascii::<32>,
            u8_,
            u8_,
        )
            .map(
                |(
                    pile,
                    pile_model,
                    power_kw,
                    server,
                    port,
                    user,
                    password,
                    path,
                    control,
                    timeout_min,
                )| {
                    Update {
                        pile,
                        pile_model,
                        power_kw,
                        server,
                        port,
                        user,
                        password,
                        path,
                        control,
                        timeout_min,
                    }
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.pile_model);
        out.extend_from_slice(&self.power_kw.to_le_bytes());
        out.extend_from_slice(&self.server.0);
        out.extend_from_slice(&self.port.to_le_bytes());
        out.extend_from_slice(&self.user.0);
        out.extend_from_slice(&self.password.0);
        out.extend_from_slice(&self.path.0);
        out.extend_from_slice(&[self.control, self.timeout_min]);
    }
}
