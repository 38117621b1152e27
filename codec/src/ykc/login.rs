//! Login (0x01, up) and login reply (0x02, down), §6.1–6.2: the first exchange on every connection.

use nom::Parser;
use serde::Serialize;

use super::encoding::{ascii, bcd, hex_bcd, u8_, Ascii, Iccid, PResult, PileNumber};

/// Login result code: success.
pub const LOGIN_SUCCESS: u8 = 0x00;
/// Login result code: failure (the platform then closes the connection).
pub const LOGIN_FAILURE: u8 = 0x01;
/// Pile type code: DC.
pub const PILE_TYPE_DC: u8 = 0x00;
/// Pile type code: AC.
pub const PILE_TYPE_AC: u8 = 0x01;
/// Divisor of the protocol-version byte (version × 10).
const VERSION_DIVISOR: u8 = 10;

/// 0x01 login: who the pile is and how it is connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Login {
    /// Pile number.
    pub pile: PileNumber,
    /// Pile type code, `0x00` DC, `0x01` AC.
    pub pile_type: u8,
    /// Number of guns.
    pub gun_count: u8,
    /// Protocol version × 10 (`0x10` = V1.6).
    pub protocol_version: u8,
    /// Program (firmware) version.
    pub program_version: Ascii<8>,
    /// Network type code: 0 SIM, 1 LAN, 2 WAN, 3 other.
    pub network_type: u8,
    /// SIM ICCID, hex nibbles (zero when unknown).
    pub sim: Iccid,
    /// Operator code, raw (sources disagree on its meaning).
    pub operator: u8,
}

impl Login {
    /// Body length.
    pub const BODY_LEN: usize = 30;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            bcd::<7>("pile"),
            u8_,
            u8_,
            u8_,
            ascii::<8>,
            u8_,
            hex_bcd::<10>,
            u8_,
        )
            .map(
                |(
                    pile,
                    pile_type,
                    gun_count,
                    protocol_version,
                    program_version,
                    network_type,
                    sim,
                    operator,
                )| {
                    Login {
                        pile,
                        pile_type,
                        gun_count,
                        protocol_version,
                        program_version,
                        network_type,
                        sim,
                        operator,
                    }
                },
            )
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.extend_from_slice(&[self.pile_type, self.gun_count, self.protocol_version]);
        out.extend_from_slice(&self.program_version.0);
        out.push(self.network_type);
        out.extend_from_slice(&self.sim.0);
        out.push(self.operator);
    }

    /// `"dc"`, `"ac"`, or `None` for an unknown code.
    pub fn current_type(&self) -> Option<&'static str> {
        match self.pile_type {
            PILE_TYPE_DC => Some("dc"),
            PILE_TYPE_AC => Some("ac"),
            _ => None,
        }
    }

    /// The protocol version as text, e.g. `"1.6"`.
    pub fn protocol_version_text(&self) -> String {
        format!(
            "{}.{}",
            self.protocol_version / VERSION_DIVISOR,
            self.protocol_version % VERSION_DIVISOR
        )
    }

    /// `"sim"`, `"lan"`, `"wan"`, `"other"`, or `None` for an unknown code.
    pub fn network_name(&self) -> Option<&'static str> {
        match self.network_type {
            0 => Some("sim"),
            1 => Some("lan"),
            2 => Some("wan"),
            3 => Some("other"),
            _ => None,
        }
    }
}

/// 0x02 login reply. Serializes with the raw `result` code and, for readers of captures, `"outcome":
/// "success" | "failure"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginReply {
    /// Pile number.
    pub pile: PileNumber,
    /// Result code, [`LOGIN_SUCCESS`] or [`LOGIN_FAILURE`].
    pub result: u8,
}

impl Serialize for LoginReply {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("LoginReply", 3)?;
        st.serialize_field("pile", &self.pile)?;
        st.serialize_field("result", &self.result)?;
        st.serialize_field(
            "outcome",
            if self.is_success() {
                "success"
            } else {
                "failure"
            },
        )?;
        st.end()
    }
}

impl LoginReply {
    /// Body length.
    pub const BODY_LEN: usize = 8;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<7>("pile"), u8_)
            .map(|(pile, result)| LoginReply { pile, result })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pile.0);
        out.push(self.result);
    }

    /// Whether the login succeeded.
    pub fn is_success(&self) -> bool {
        self.result == LOGIN_SUCCESS
    }
}
