//! A classic CAN frame as the relay and candump inputs deliver it: identifier, format flags and up to 8 data bytes.

use serde::{Deserialize, Serialize};

/// Most data bytes of a classic CAN frame.
pub const CAN_MAX_DLC: usize = 8;
/// Largest 11-bit identifier.
pub const MAX_STANDARD_ID: u32 = 0x7FF;

/// One CAN frame, data stored inline (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanFrame {
    /// Identifier: 29 bits when `extended`, else 11 bits.
    pub id: u32,
    /// Extended (29-bit) identifier.
    pub extended: bool,
    /// Remote transmission request (no data).
    pub remote: bool,
    /// Data length code, 0–8.
    pub len: u8,
    /// Data bytes; only the first `len` are valid.
    pub bytes: [u8; CAN_MAX_DLC],
}

impl CanFrame {
    /// An extended data frame; data beyond 8 bytes is cut.
    pub fn extended(id: u32, data: &[u8]) -> Self {
        let mut bytes = [0u8; CAN_MAX_DLC];
        let len = data.len().min(CAN_MAX_DLC);
        for (d, s) in bytes.iter_mut().zip(data) {
            *d = *s;
        }
        CanFrame {
            id,
            extended: true,
            remote: false,
            len: len as u8,
            bytes,
        }
    }

    /// The valid data bytes.
    pub fn data(&self) -> &[u8] {
        self.bytes
            .get(..usize::from(self.len))
            .unwrap_or(&self.bytes)
    }
}
