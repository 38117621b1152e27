//! BMS relay frames 0x15–0x25 (§7.3–7.10): GB/T 27930 messages a DC pile copies from the CAN bus into YKC frames.
//!
//! Each body is a 24-byte prefix (transaction serial, pile, gun) followed by GB/T message data, decoded by the
//! shared [`crate::gbt27930`] types so that CAN-relayed and YKC-relayed BMS data have one shape. The GB/T types
//! hold physical values (their resolution and offset applied), unlike the raw integers of the other YKC messages.

use nom::Parser;
use serde::Serialize;

use super::encoding::{bcd, gbt, gun, put_gun, u8_, PResult, PileNumber, TransactionSerial};
use crate::gbt27930::{Bcl, Bcp, Bcs, Bem, Brm, Bsd, Bsm, Bst, Ccs, Cem, Cml, Csd, Cst};

/// Length of the serial + pile + gun prefix.
pub const PREFIX_LEN: usize = 24;
/// CCS as YKC 0x23 relays it: without the charging-permission byte.
pub const CCS_RELAY_LEN: usize = 6;

/// The prefix of every BMS relay frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BmsPrefix {
    /// Transaction serial.
    pub serial: TransactionSerial,
    /// Pile number.
    pub pile: PileNumber,
    /// Gun number.
    pub gun: u8,
}

impl BmsPrefix {
    fn parse(i: &[u8]) -> PResult<'_, Self> {
        (bcd::<16>("transaction_serial"), bcd::<7>("pile"), gun)
            .map(|(serial, pile, gun)| BmsPrefix { serial, pile, gun })
            .parse(i)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.serial.0);
        out.extend_from_slice(&self.pile.0);
        put_gun(out, self.gun);
    }
}

/// 0x15 charging handshake: BRM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handshake {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Battery and vehicle identity.
    pub brm: Brm,
}

impl Handshake {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Brm::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (BmsPrefix::parse, gbt(Brm::LEN, Brm::decode))
            .map(|(prefix, brm)| Handshake { prefix, brm })
            .parse(i)
    }

    /// Appends the body (a BRM without software version is padded with zeros to the fixed length).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.prefix.encode(out);
        self.brm.encode(out);
        out.resize(start + Self::BODY_LEN, 0);
    }
}

/// 0x17 parameter configuration: BCP + CML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterConfig {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Battery charging parameters.
    pub bcp: Bcp,
    /// Charger maximum output.
    pub cml: Cml,
}

impl ParameterConfig {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bcp::LEN + Cml::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            BmsPrefix::parse,
            gbt(Bcp::LEN, Bcp::decode),
            gbt(Cml::LEN, Cml::decode),
        )
            .map(|(prefix, bcp, cml)| ParameterConfig { prefix, bcp, cml })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bcp.encode(out);
        self.cml.encode(out);
    }
}

/// 0x19 charge end: BSD + CSD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeEnd {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// BMS statistics.
    pub bsd: Bsd,
    /// Charger statistics.
    pub csd: Csd,
    /// Field deviation: one extra byte after the spec body (JCPP sends 40 bytes); kept and counted.
    pub trailing_byte: Option<u8>,
}

impl ChargeEnd {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bsd::LEN + Csd::LEN;
    /// Body length of the tolerated variant with one trailing byte.
    pub const BODY_LEN_TRAILING: usize = Self::BODY_LEN + 1;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        let (i, (prefix, bsd, csd)) = (
            BmsPrefix::parse,
            gbt(Bsd::LEN, Bsd::decode),
            gbt(Csd::LEN, Csd::decode),
        )
            .parse(i)?;
        let (i, trailing_byte) = nom::combinator::opt(u8_).parse(i)?;
        Ok((
            i,
            ChargeEnd {
                prefix,
                bsd,
                csd,
                trailing_byte,
            },
        ))
    }

    /// Appends the body (including the trailing byte if one was received).
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bsd.encode(out);
        self.csd.encode(out);
        if let Some(b) = self.trailing_byte {
            out.push(b);
        }
    }
}

/// 0x1B error report: BEM + CEM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// The BMS's timeout flags.
    pub bem: Bem,
    /// The charger's timeout flags.
    pub cem: Cem,
}

impl ErrorReport {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bem::LEN + Cem::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            BmsPrefix::parse,
            gbt(Bem::LEN, Bem::decode),
            gbt(Cem::LEN, Cem::decode),
        )
            .map(|(prefix, bem, cem)| ErrorReport { prefix, bem, cem })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bem.encode(out);
        self.cem.encode(out);
    }
}

/// 0x1D BMS abort: BST.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BmsAbort {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Why the BMS stopped.
    pub bst: Bst,
}

impl BmsAbort {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bst::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (BmsPrefix::parse, gbt(Bst::LEN, Bst::decode))
            .map(|(prefix, bst)| BmsAbort { prefix, bst })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bst.encode(out);
    }
}

/// 0x21 charger abort: CST.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargerAbort {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Why the charger stopped.
    pub cst: Cst,
}

impl ChargerAbort {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Cst::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (BmsPrefix::parse, gbt(Cst::LEN, Cst::decode))
            .map(|(prefix, cst)| ChargerAbort { prefix, cst })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.cst.encode(out);
    }
}

/// 0x23 BMS demand and charger output: BCL + BCS + CCS (6 bytes, no permission byte).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Battery charging demand.
    pub bcl: Bcl,
    /// Battery charging status.
    pub bcs: Bcs,
    /// Charger output (`permission` is `None`).
    pub ccs: Ccs,
}

impl Demand {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bcl::LEN + Bcs::LEN + CCS_RELAY_LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (
            BmsPrefix::parse,
            gbt(Bcl::LEN, Bcl::decode),
            gbt(Bcs::LEN, Bcs::decode),
            gbt(CCS_RELAY_LEN, Ccs::decode),
        )
            .map(|(prefix, bcl, bcs, ccs)| Demand {
                prefix,
                bcl,
                bcs,
                ccs,
            })
            .parse(i)
    }

    /// Appends the body; a permission byte in `ccs` is not sent (YKC has no room for it).
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bcl.encode(out);
        self.bcs.encode(out);
        Ccs {
            permission: None,
            ..self.ccs
        }
        .encode(out);
    }
}

/// 0x25 BMS information: BSM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BmsInfo {
    /// Serial, pile, gun.
    pub prefix: BmsPrefix,
    /// Battery status.
    pub bsm: Bsm,
}

impl BmsInfo {
    /// Body length.
    pub const BODY_LEN: usize = PREFIX_LEN + Bsm::LEN;

    pub(crate) fn parse(i: &[u8]) -> PResult<'_, Self> {
        (BmsPrefix::parse, gbt(Bsm::LEN, Bsm::decode))
            .map(|(prefix, bsm)| BmsInfo { prefix, bsm })
            .parse(i)
    }

    /// Appends the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.prefix.encode(out);
        self.bsm.encode(out);
    }
}
