//! The error of decoding one GB/T 27930 message body: cheap, non-allocating, naming the message and the byte.

use thiserror::Error;

/// Why a GB/T 27930 message body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum GbtError {
    /// The data is shorter than the message's fixed layout (or, for per-item messages, not a whole number of
    /// items).
    #[error("{message}: expected {expected} data bytes, got {got}")]
    Length {
        /// Message name, e.g. `"BCL"`.
        message: &'static str,
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The PGN names no GB/T 27930 application message.
    #[error("PGN 0x{pgn:06X} is not a GB/T 27930 message")]
    UnknownPgn {
        /// The parameter group number.
        pgn: u32,
    },
    /// A byte that must hold two BCD digits does not.
    #[error("{message}: byte {offset} (0-based) is not BCD: 0x{value:02X}")]
    Bcd {
        /// Message name.
        message: &'static str,
        /// 0-based offset of the byte in the message data.
        offset: usize,
        /// The byte.
        value: u8,
    },
}

impl GbtError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            GbtError::Length { .. } => "gbt_length",
            GbtError::UnknownPgn { .. } => "gbt_unknown_pgn",
            GbtError::Bcd { .. } => "gbt_bcd",
        }
    }
}
