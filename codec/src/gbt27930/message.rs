//! The [`Message`] enum over every GB/T 27930 application message, and PGN dispatch.

use serde::{Deserialize, Serialize};

use super::{
    Bcl, Bcp, Bcs, Bem, Bhm, Bmt, Bmv, Brm, Bro, Bsd, Bsm, Bsp, Bst, Ccs, Cem, Chm, Cml, Crm, Cro,
    Csd, Cst, Cts, GbtError,
};

/// Parameter group numbers of the GB/T 27930 application messages (all PDU1: `PF << 8`).
pub mod pgn {
    /// CHM, charger handshake.
    pub const CHM: u32 = 0x2600;
    /// BHM, BMS handshake.
    pub const BHM: u32 = 0x2700;
    /// CRM, charger recognition.
    pub const CRM: u32 = 0x0100;
    /// BRM, BMS and vehicle recognition.
    pub const BRM: u32 = 0x0200;
    /// BCP, battery charging parameters.
    pub const BCP: u32 = 0x0600;
    /// CTS, charger time sync.
    pub const CTS: u32 = 0x0700;
    /// CML, charger maximum output.
    pub const CML: u32 = 0x0800;
    /// BRO, BMS ready.
    pub const BRO: u32 = 0x0900;
    /// CRO, charger ready.
    pub const CRO: u32 = 0x0A00;
    /// BCL, battery charging demand.
    pub const BCL: u32 = 0x1000;
    /// BCS, battery charging status.
    pub const BCS: u32 = 0x1100;
    /// CCS, charger charging status.
    pub const CCS: u32 = 0x1200;
    /// BSM, battery status.
    pub const BSM: u32 = 0x1300;
    /// BMV, cell voltages.
    pub const BMV: u32 = 0x1500;
    /// BMT, battery temperatures.
    pub const BMT: u32 = 0x1600;
    /// BSP, battery reserved.
    pub const BSP: u32 = 0x1700;
    /// BST, BMS stop.
    pub const BST: u32 = 0x1900;
    /// CST, charger stop.
    pub const CST: u32 = 0x1A00;
    /// BSD, BMS statistics.
    pub const BSD: u32 = 0x1C00;
    /// CSD, charger statistics.
    pub const CSD: u32 = 0x1D00;
    /// BEM, BMS error.
    pub const BEM: u32 = 0x1E00;
    /// CEM, charger error.
    pub const CEM: u32 = 0x1F00;
    /// J1939 TP.CM (transport connection management).
    pub const TP_CM: u32 = 0xEC00;
    /// J1939 TP.DT (transport data).
    pub const TP_DT: u32 = 0xEB00;
}

/// One typed GB/T 27930 message; serialized with its name in `"message"` (`{"message":"BCL", …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "message")]
pub enum Message {
    /// Charger handshake.
    #[serde(rename = "CHM")]
    Chm(Chm),
    /// BMS handshake.
    #[serde(rename = "BHM")]
    Bhm(Bhm),
    /// Charger recognition.
    #[serde(rename = "CRM")]
    Crm(Crm),
    /// BMS and vehicle recognition.
    #[serde(rename = "BRM")]
    Brm(Brm),
    /// Battery charging parameters.
    #[serde(rename = "BCP")]
    Bcp(Bcp),
    /// Charger time sync.
    #[serde(rename = "CTS")]
    Cts(Cts),
    /// Charger maximum output.
    #[serde(rename = "CML")]
    Cml(Cml),
    /// BMS ready.
    #[serde(rename = "BRO")]
    Bro(Bro),
    /// Charger ready.
    #[serde(rename = "CRO")]
    Cro(Cro),
    /// Battery charging demand.
    #[serde(rename = "BCL")]
    Bcl(Bcl),
    /// Battery charging status.
    #[serde(rename = "BCS")]
    Bcs(Bcs),
    /// Charger charging status.
    #[serde(rename = "CCS")]
    Ccs(Ccs),
    /// Battery status.
    #[serde(rename = "BSM")]
    Bsm(Bsm),
    /// Cell voltages.
    #[serde(rename = "BMV")]
    Bmv(Bmv),
    /// Battery temperatures.
    #[serde(rename = "BMT")]
    Bmt(Bmt),
    /// Battery reserved data.
    #[serde(rename = "BSP")]
    Bsp(Bsp),
    /// BMS stop.
    #[serde(rename = "BST")]
    Bst(Bst),
    /// Charger stop.
    #[serde(rename = "CST")]
    Cst(Cst),
    /// BMS statistics.
    #[serde(rename = "BSD")]
    Bsd(Bsd),
    /// Charger statistics.
    #[serde(rename = "CSD")]
    Csd(Csd),
    /// BMS error (timeouts).
    #[serde(rename = "BEM")]
    Bem(Bem),
    /// Charger error (timeouts).
    #[serde(rename = "CEM")]
    Cem(Cem),
}

/// Applies `$body` to the inner message of every variant.
macro_rules! each {
    ($self:expr, $m:ident => $body:expr) => {
        match $self {
            Message::Chm($m) => $body,
            Message::Bhm($m) => $body,
            Message::Crm($m) => $body,
            Message::Brm($m) => $body,
            Message::Bcp($m) => $body,
            Message::Cts($m) => $body,
            Message::Cml($m) => $body,
            Message::Bro($m) => $body,
            Message::Cro($m) => $body,
            Message::Bcl($m) => $body,
            Message::Bcs($m) => $body,
            Message::Ccs($m) => $body,
            Message::Bsm($m) => $body,
            Message::Bmv($m) => $body,
            Message::Bmt($m) => $body,
            Message::Bsp($m) => $body,
            Message::Bst($m) => $body,
            Message::Cst($m) => $body,
            Message::Bsd($m) => $body,
            Message::Csd($m) => $body,
            Message::Bem($m) => $body,
            Message::Cem($m) => $body,
        }
    };
}

impl Message {
    /// Decodes the data of the message with parameter group number `pgn`.
    pub fn decode(pgn: u32, data: &[u8]) -> Result<Self, GbtError> {
        Ok(match pgn {
            pgn::CHM => Message::Chm(Chm::decode(data)?),
            pgn::BHM => Message::Bhm(Bhm::decode(data)?),
            pgn::CRM => Message::Crm(Crm::decode(data)?),
            pgn::BRM => Message::Brm(Brm::decode(data)?),
            pgn::BCP => Message::Bcp(Bcp::decode(data)?),
            pgn::CTS => Message::Cts(Cts::decode(data)?),
            pgn::CML => Message::Cml(Cml::decode(data)?),
            pgn::BRO => Message::Bro(Bro::decode(data)?),
            pgn::CRO => Message::Cro(Cro::decode(data)?),
            pgn::BCL => Message::Bcl(Bcl::decode(data)?),
            pgn::BCS => Message::Bcs(Bcs::decode(data)?),
            pgn::CCS => Message::Ccs(Ccs::decode(data)?),
            pgn::BSM => Message::Bsm(Bsm::decode(data)?),
            pgn::BMV => Message::Bmv(Bmv::decode(data)?),
            pgn::BMT => Message::Bmt(Bmt::decode(data)?),
            pgn::BSP => Message::Bsp(Bsp::decode(data)?),
            pgn::BST => Message::Bst(Bst::decode(data)?),
            pgn::CST => Message::Cst(Cst::decode(data)?),
            pgn::BSD => Message::Bsd(Bsd::decode(data)?),
            pgn::CSD => Message::Csd(Csd::decode(data)?),
            pgn::BEM => Message::Bem(Bem::decode(data)?),
            pgn::CEM => Message::Cem(Cem::decode(data)?),
            other => return Err(GbtError::UnknownPgn { pgn: other }),
        })
    }

    /// Appends the message's data bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        each!(self, m => m.encode(out))
    }

    /// The message's data bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The parameter group number.
    pub fn pgn(&self) -> u32 {
        match self {
            Message::Chm(_) => pgn::CHM,
            Message::Bhm(_) => pgn::BHM,
            Message::Crm(_) => pgn::CRM,
            Message::Brm(_) => pgn::BRM,
            Message::Bcp(_) => pgn::BCP,
            Message::Cts(_) => pgn::CTS,
            Message::Cml(_) => pgn::CML,
            Message::Bro(_) => pgn::BRO,
            Message::Cro(_) => pgn::CRO,
            Message::Bcl(_) => pgn::BCL,
            Message::Bcs(_) => pgn::BCS,
            Message::Ccs(_) => pgn::CCS,
            Message::Bsm(_) => pgn::BSM,
            Message::Bmv(_) => pgn::BMV,
            Message::Bmt(_) => pgn::BMT,
            Message::Bsp(_) => pgn::BSP,
            Message::Bst(_) => pgn::BST,
            Message::Cst(_) => pgn::CST,
            Message::Bsd(_) => pgn::BSD,
            Message::Csd(_) => pgn::CSD,
            Message::Bem(_) => pgn::BEM,
            Message::Cem(_) => pgn::CEM,
        }
    }

    /// The three-letter name (`"BCL"`), as in the standard and in the JSON `"message"` tag.
    pub fn name(&self) -> &'static str {
        name_of(self.pgn()).unwrap_or("?")
    }

    /// The default J1939 priority the standard gives this message.
    pub fn priority(&self) -> u8 {
        priority_of(self.pgn())
    }
}

/// The name of the message with this PGN, or `None` for a PGN GB/T 27930 does not define.
pub fn name_of(p: u32) -> Option<&'static str> {
    Some(match p {
        pgn::CHM => "CHM",
        pgn::BHM => "BHM",
        pgn::CRM => "CRM",
        pgn::BRM => "BRM",
        pgn::BCP => "BCP",
        pgn::CTS => "CTS",
        pgn::CML => "CML",
        pgn::BRO => "BRO",
        pgn::CRO => "CRO",
        pgn::BCL => "BCL",
        pgn::BCS => "BCS",
        pgn::CCS => "CCS",
        pgn::BSM => "BSM",
        pgn::BMV => "BMV",
        pgn::BMT => "BMT",
        pgn::BSP => "BSP",
        pgn::BST => "BST",
        pgn::CST => "CST",
        pgn::BSD => "BSD",
        pgn::CSD => "CSD",
        pgn::BEM => "BEM",
        pgn::CEM => "CEM",
        pgn::TP_CM => "TP.CM",
        pgn::TP_DT => "TP.DT",
        _ => return None,
    })
}

/// The priority the standard assigns to a PGN (6 when it names none).
pub fn priority_of(p: u32) -> u8 {
    match p {
        pgn::BEM | pgn::CEM => 2,
        pgn::BRO | pgn::CRO | pgn::BST | pgn::CST => 4,
        pgn::BRM
        | pgn::BCP
        | pgn::BCS
        | pgn::BMV
        | pgn::BMT
        | pgn::BSP
        | pgn::TP_CM
        | pgn::TP_DT => 7,
        _ => 6,
    }
}
