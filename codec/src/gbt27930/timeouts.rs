//! BEM and CEM: each side's report of which of the other side's messages timed out.

use serde::{Deserialize, Serialize};

use super::fields::{fixed, flag_group};
use super::GbtError;

flag_group!(
    /// The BMS's timeout flags (BEM bytes 1–4 read as one little-endian word).
    BemTimeouts: u32, fill = 0xFCF0_F0F0, {
        /// CRM with 0x00 not received.
        crm_00 = 0,
        /// CRM with 0xAA not received.
        crm_aa = 1,
        /// CTS / CML not received.
        cts_cml = 4,
        /// CRO not received.
        cro = 5,
        /// CCS not received.
        ccs = 8,
        /// CST not received.
        cst = 9,
        /// CSD not received.
        csd = 12,
    }
);

flag_group!(
    /// The charger's timeout flags (CEM bytes 1–4 read as one little-endian word).
    CemTimeouts: u32, fill = 0xFCC0_F0FC, {
        /// BRM not received.
        brm = 0,
        /// BCP not received.
        bcp = 4,
        /// BRO not received.
        bro = 5,
        /// BCS not received.
        bcs = 8,
        /// BCL not received.
        bcl = 9,
        /// BST not received.
        bst = 10,
        /// BSD not received.
        bsd = 12,
    }
);

/// BEM (PGN 0x1E00, BMS → charger): the BMS saw one of the charger's messages time out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bem {
    /// Per-message timeout flags.
    pub timeouts: BemTimeouts,
}

/// CEM (PGN 0x1F00, charger → BMS): the charger saw one of the BMS's messages time out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cem {
    /// Per-message timeout flags.
    pub timeouts: CemTimeouts,
}

impl Bem {
    /// Data length.
    pub const LEN: usize = 4;

    /// Decodes the 4 data bytes; reserved bits may be 0 or 1.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("BEM", data)?;
        Ok(Bem {
            timeouts: BemTimeouts::from_word(u32::from_le_bytes(*b)),
        })
    }

    /// Appends the 4 data bytes, reserved bits 1.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timeouts.word().to_le_bytes());
    }
}

impl Cem {
    /// Data length.
    pub const LEN: usize = 4;

    /// Decodes the 4 data bytes; reserved bits may be 0 or 1.
    pub fn decode(data: &[u8]) -> Result<Self, GbtError> {
        let b = fixed::<{ Self::LEN }>("CEM", data)?;
        Ok(Cem {
            timeouts: CemTimeouts::from_word(u32::from_le_bytes(*b)),
        })
    }

    /// Appends the 4 data bytes, reserved bits 1.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timeouts.word().to_le_bytes());
    }
}
