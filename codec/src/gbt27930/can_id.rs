//! The 29-bit J1939 identifier GB/T 27930 uses: priority, PGN, destination and source address, and which way
//! (charger → BMS or BMS → charger) a frame travels.
//!
//! `id = priority(3) << 26 | R(1) << 25 | DP(1) << 24 | PF(8) << 16 | PS(8) << 8 | SA(8)`. For PDU1 formats
//! (PF < 240, every GB/T message) PS is the destination address and the PGN is `R/DP/PF` with a zero low byte.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The charger's J1939 source address.
pub const CHARGER_ADDRESS: u8 = 0x56;
/// The BMS's J1939 source address.
pub const BMS_ADDRESS: u8 = 0xF4;
/// The J1939 global (broadcast) address.
pub const GLOBAL_ADDRESS: u8 = 0xFF;
/// Largest 29-bit identifier.
pub const MAX_EXTENDED_ID: u32 = 0x1FFF_FFFF;
/// PF values from here on are PDU2 (broadcast; PS is a group extension, not an address).
const PDU2_MIN_PF: u8 = 240;
const PRIORITY_SHIFT: u32 = 26;
const PRIORITY_MASK: u32 = 0b111;
/// R, DP and PF: the bits of the PGN above the PS byte.
const PGN_HIGH_MASK: u32 = 0x3FF;

/// Why a number is not a valid 29-bit identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CanIdError {
    /// More than 29 bits set.
    #[error("CAN id 0x{id:X} does not fit 29 bits")]
    TooLarge {
        /// The value.
        id: u32,
    },
}

impl CanIdError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        "can_id_too_large"
    }
}

/// Which way a frame travels, from its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Source 0x56, destination 0xF4 (or global).
    ChargerToBms,
    /// Source 0xF4, destination 0x56 (or global).
    BmsToCharger,
}

/// A decoded 29-bit identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanId {
    /// Priority, 0 (highest) – 7.
    pub priority: u8,
    /// Parameter group number (18 bits; PDU1 PGNs have a zero low byte).
    pub pgn: u32,
    /// Source address.
    pub source_address: u8,
    /// Destination address (PDU1); [`GLOBAL_ADDRESS`] for PDU2 broadcasts.
    pub destination_address: u8,
}

impl CanId {
    /// Builds an identifier for a PDU1 PGN.
    pub fn new(priority: u8, pgn: u32, source_address: u8, destination_address: u8) -> Self {
        CanId {
            priority,
            pgn,
            source_address,
            destination_address,
        }
    }

    /// Splits a raw 29-bit identifier.
    pub fn from_raw(id: u32) -> Result<Self, CanIdError> {
        if id > MAX_EXTENDED_ID {
            return Err(CanIdError::TooLarge { id });
        }
        let priority = ((id >> PRIORITY_SHIFT) & PRIORITY_MASK) as u8;
        let high = (id >> 16) & PGN_HIGH_MASK;
        let pf = (high & 0xFF) as u8;
        let ps = ((id >> 8) & 0xFF) as u8;
        let source_address = (id & 0xFF) as u8;
        let (pgn, destination_address) = if pf < PDU2_MIN_PF {
            (high << 8, ps)
        } else {
            ((high << 8) | u32::from(ps), GLOBAL_ADDRESS)
        };
        Ok(CanId {
            priority,
            pgn,
            source_address,
            destination_address,
        })
    }

    /// Joins the fields into the raw 29-bit identifier (out-of-range fields are masked).
    pub fn to_raw(&self) -> u32 {
        let high = (self.pgn >> 8) & PGN_HIGH_MASK;
        let ps = if self.is_pdu1() {
            u32::from(self.destination_address)
        } else {
            self.pgn & 0xFF
        };
        (u32::from(self.priority) & PRIORITY_MASK) << PRIORITY_SHIFT
            | high << 16
            | ps << 8
            | u32::from(self.source_address)
    }

    /// PDU1 (addressed) format: PF below 240.
    pub fn is_pdu1(&self) -> bool {
        ((self.pgn >> 8) & 0xFF) < u32::from(PDU2_MIN_PF)
    }

    /// Charger → BMS or BMS → charger, from the source and destination addresses; `None` for other nodes.
    pub fn direction(&self) -> Option<Direction> {
        let to = |addr: u8| {
            self.destination_address == addr || self.destination_address == GLOBAL_ADDRESS
        };
        match self.source_address {
            CHARGER_ADDRESS if to(BMS_ADDRESS) => Some(Direction::ChargerToBms),
            BMS_ADDRESS if to(CHARGER_ADDRESS) => Some(Direction::BmsToCharger),
            _ => None,
        }
    }

    /// The identifier of a reply: same PGN space, addresses swapped.
    pub fn reply(&self, priority: u8, pgn: u32) -> Self {
        CanId::new(priority, pgn, self.destination_address, self.source_address)
    }
}

impl std::fmt::Display for CanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08X}", self.to_raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcl_id_splits_into_priority_pgn_and_addresses() {
        let id = CanId::from_raw(0x1810_56F4).unwrap();
        assert_eq!(id, CanId::new(6, 0x1000, 0xF4, 0x56));
        assert_eq!(id.direction(), Some(Direction::BmsToCharger));
        assert_eq!(id.to_raw(), 0x1810_56F4);
    }

    #[test]
    fn thirty_bit_id_is_rejected() {
        assert_eq!(
            CanId::from_raw(0x2000_0000),
            Err(CanIdError::TooLarge { id: 0x2000_0000 })
        );
    }

    #[test]
    fn pdu2_id_keeps_ps_in_the_pgn_and_is_global() {
        let id = CanId::from_raw(0x18FE_F100).unwrap();
        assert_eq!(id.pgn, 0xFEF1);
        assert_eq!(id.destination_address, GLOBAL_ADDRESS);
        assert_eq!(id.to_raw(), 0x18FE_F100);
    }
}
