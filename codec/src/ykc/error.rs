//! The YKC codec's error: cheap (`Copy`, no allocation) so it can sit on the decode hot path, and precise enough to
//! name the frame type, the field and the byte offset that failed. [`YkcError::kind`] is the metric label.

use thiserror::Error;

use crate::gbt27930::GbtError;

/// Why a YKC frame or message body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum YkcError {
    /// Fewer bytes than the smallest frame or than the length byte announces.
    #[error("incomplete frame: {needed} more byte(s) needed")]
    Incomplete {
        /// Bytes still missing.
        needed: usize,
    },
    /// The first byte is not the start flag `0x68`.
    #[error("frame starts with 0x{got:02X}, not the start flag 0x68")]
    BadStart {
        /// The byte found at offset 0.
        got: u8,
    },
    /// The length byte is below the 4 bytes of sequence, encryption flag and frame type.
    #[error("length byte {declared} is below the minimum of 4")]
    LengthTooSmall {
        /// The length byte.
        declared: usize,
    },
    /// The length byte disagrees with the frame handed in (e.g. a sender that counts only the body).
    #[error("length byte says {declared} but the frame holds {actual} bytes after the length byte (without CRC)")]
    LengthMismatch {
        /// The length byte.
        declared: usize,
        /// What the length byte should have been: frame size − 4.
        actual: usize,
    },
    /// The checksum matches in neither byte order.
    #[error("bad CRC: computed 0x{expected:04X}, wire bytes read low-first 0x{got:04X}")]
    BadCrc {
        /// CRC-16/MODBUS of `frame[2 .. 2+len)`.
        expected: u16,
        /// The two CRC bytes on the wire, read low byte first.
        got: u16,
    },
    /// The body is 3DES-encrypted and no [`crate::ykc::BodyCipher`] is configured.
    #[error("frame type 0x{frame_type:02X} is encrypted and no body cipher is configured")]
    Encrypted {
        /// Frame type.
        frame_type: u8,
    },
    /// The encryption flag is neither 0x00 (none) nor 0x01 (3DES).
    #[error("frame type 0x{frame_type:02X}: unknown encryption flag 0x{flag:02X}")]
    UnknownEncryption {
        /// Frame type.
        frame_type: u8,
        /// The flag byte.
        flag: u8,
    },
    /// The body cipher failed to decrypt the body.
    #[error("frame type 0x{frame_type:02X}: body decryption failed")]
    Cipher {
        /// Frame type.
        frame_type: u8,
    },
    /// The body length is not one the frame type allows.
    #[error("frame type 0x{frame_type:02X}: body of {got} bytes, expected {expected}")]
    BodyLength {
        /// Frame type.
        frame_type: u8,
        /// Body length of the spec layout.
        expected: usize,
        /// Body length received.
        got: usize,
    },
    /// A BCD field holds a nibble above 9.
    #[error("frame type 0x{frame_type:02X}: {field} is not BCD: byte 0x{value:02X} at body offset {offset}")]
    Bcd {
        /// Frame type.
        frame_type: u8,
        /// Field name.
        field: &'static str,
        /// Body offset of the offending byte.
        offset: usize,
        /// The byte.
        value: u8,
    },
    /// A relayed GB/T 27930 part failed to decode.
    #[error("frame type 0x{frame_type:02X}: GB/T part at body offset {offset}: {source}")]
    Gbt {
        /// Frame type.
        frame_type: u8,
        /// Body offset where the GB/T part starts.
        offset: usize,
        /// The GB/T error.
        source: GbtError,
    },
    /// The body ended inside a field (only reachable for layouts of variable length).
    #[error("frame type 0x{frame_type:02X}: body ends inside a field at offset {offset}")]
    Truncated {
        /// Frame type.
        frame_type: u8,
        /// Body offset where input ran out.
        offset: usize,
    },
    /// A body to encode does not fit the one-byte length field.
    #[error("frame type 0x{frame_type:02X}: body of {len} bytes does not fit the length byte")]
    BodyTooLong {
        /// Frame type.
        frame_type: u8,
        /// Body length.
        len: usize,
    },
}

impl YkcError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            YkcError::Incomplete { .. } => "ykc_incomplete",
            YkcError::BadStart { .. } => "ykc_bad_start",
            YkcError::LengthTooSmall { .. } => "ykc_length_too_small",
            YkcError::LengthMismatch { .. } => "ykc_length_mismatch",
            YkcError::BadCrc { .. } => "ykc_bad_crc",
            YkcError::Encrypted { .. } => "ykc_encrypted",
            YkcError::UnknownEncryption { .. } => "ykc_unknown_encryption",
            YkcError::Cipher { .. } => "ykc_cipher",
            YkcError::BodyLength { .. } => "ykc_body_length",
            YkcError::Bcd { .. } => "ykc_bcd",
            YkcError::Gbt { .. } => "ykc_gbt",
            YkcError::Truncated { .. } => "ykc_truncated",
            YkcError::BodyTooLong { .. } => "ykc_body_too_long",
        }
    }
}
