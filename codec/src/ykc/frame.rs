//! The YKC frame envelope: start flag, length byte, sequence bytes, encryption flag, frame type, body, CRC.
//!
//! This file parses and builds **one complete frame**. Finding frames in a TCP byte stream (resync on `0x68`,
//! waiting for the length) is the generic [`crate::frame`] decoder's job; the constants below are the facts it needs.
//!
//! ```text
//! 68 | LL | S0 S1 | EE | TT | body (LL − 4 bytes) | C_lo C_hi
//!      CRC-16/MODBUS covers S0 … last body byte = frame[2 .. 2+LL)
//! ```

use bytes::Bytes;
use crc::{Crc, Table, CRC_16_MODBUS};
use serde::Serialize;

use super::YkcError;

/// The start flag, first byte of every frame.
pub const START: u8 = 0x68;
/// Offset of the length byte.
pub const LENGTH_OFFSET: usize = 1;
/// Offset of the two sequence bytes.
pub const SEQ_OFFSET: usize = 2;
/// Offset of the encryption flag.
pub const ENCRYPTION_OFFSET: usize = 4;
/// Offset of the frame-type byte.
pub const TYPE_OFFSET: usize = 5;
/// Bytes before the body: start, length, 2 sequence, encryption flag, type.
pub const HEADER_LEN: usize = 6;
/// Bytes after the body: the CRC.
pub const CRC_LEN: usize = 2;
/// Bytes the length byte counts besides the body: sequence (2), encryption flag, type.
pub const LENGTH_OVERHEAD: usize = 4;
/// Bytes on the wire besides what the length byte counts: start, length, CRC.
pub const FRAME_OVERHEAD: usize = 4;
/// First byte the CRC covers (the sequence number); it runs for `length` bytes.
pub const CRC_START: usize = SEQ_OFFSET;
/// Smallest frame: an empty body.
pub const MIN_FRAME_LEN: usize = HEADER_LEN + CRC_LEN;
/// Largest value of the length byte.
pub const MAX_LENGTH: usize = u8::MAX as usize;
/// Encryption flag: body in clear.
pub const ENCRYPTION_NONE: u8 = 0x00;
/// Encryption flag: body 3DES-encrypted.
pub const ENCRYPTION_3DES: u8 = 0x01;

/// CRC-16/MODBUS with the slice-by-16 table (hot path).
pub const MODBUS: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_MODBUS);

/// CRC-16/MODBUS of `data`.
pub fn crc16(data: &[u8]) -> u16 {
    MODBUS.checksum(data)
}

/// In which byte order the CRC arrived; [`CrcOrder::Swapped`] is a field deviation to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrcOrder {
    /// Low byte first, as the spec says.
    Spec,
    /// High byte first (some JCPP-derived senders).
    Swapped,
}

/// One parsed frame. The body is a slice of the frame's buffer, not a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The two sequence bytes as on the wire; replies echo them verbatim.
    pub seq: [u8; 2],
    /// The encryption flag (`0x00` none, `0x01` 3DES).
    pub encryption: u8,
    /// The frame type.
    pub frame_type: u8,
    /// The message body (still encrypted when `encryption` is set).
    pub body: Bytes,
    /// The CRC byte order the sender used.
    pub crc_order: CrcOrder,
    /// The whole frame as received (for `raw` events and logs).
    pub raw: Bytes,
}

impl Frame {
    /// Parses one complete frame starting with `0x68`. `frame` must hold exactly `length + 4` bytes; a shorter
    /// buffer is [`YkcError::Incomplete`], a longer one a [`YkcError::LengthMismatch`] (the length byte is wrong).
    pub fn parse(frame: Bytes) -> Result<Frame, YkcError> {
        Frame::parse_inner(frame, None)
    }

    /// Like [`Frame::parse`] for a frame whose CRC the stream decoder already checked (in the order given): the
    /// envelope is validated, the CRC is not computed again.
    pub fn parse_prechecked(frame: Bytes, crc_order: CrcOrder) -> Result<Frame, YkcError> {
        Frame::parse_inner(frame, Some(crc_order))
    }

    fn parse_inner(frame: Bytes, checked: Option<CrcOrder>) -> Result<Frame, YkcError> {
        let (&start, rest) = frame.split_first().ok_or(YkcError::Incomplete {
            needed: MIN_FRAME_LEN,
        })?;
        if start != START {
            return Err(YkcError::BadStart { got: start });
        }
        let declared = usize::from(*rest.first().ok_or(YkcError::Incomplete {
            needed: MIN_FRAME_LEN - 1,
        })?);
        if declared < LENGTH_OVERHEAD {
            return Err(YkcError::LengthTooSmall { declared });
        }
        let total = declared + FRAME_OVERHEAD;
        if frame.len() < total {
            return Err(YkcError::Incomplete {
                needed: total - frame.len(),
            });
        }
        if frame.len() > total {
            return Err(YkcError::LengthMismatch {
                declared,
                actual: frame.len() - FRAME_OVERHEAD,
            });
        }
        let crc_order = match checked {
            Some(order) => order,
            None => check_crc(&frame, declared)?,
        };
        let header = frame
            .get(SEQ_OFFSET..HEADER_LEN)
            .ok_or(YkcError::Incomplete { needed: 1 })?;
        let (seq, encryption, frame_type) = match header {
            [s0, s1, enc, ty] => ([*s0, *s1], *enc, *ty),
            _ => return Err(YkcError::Incomplete { needed: 1 }),
        };
        let body = frame.slice(HEADER_LEN..CRC_START + declared);
        Ok(Frame {
            seq,
            encryption,
            frame_type,
            body,
            crc_order,
            raw: frame,
        })
    }

    /// Parses a frame from a borrowed slice (copies it once into a [`Bytes`]).
    pub fn parse_slice(frame: &[u8]) -> Result<Frame, YkcError> {
        Frame::parse(Bytes::copy_from_slice(frame))
    }

    /// The sequence number read little-endian, for logs and correlation keys only.
    pub fn seq_number(&self) -> u16 {
        u16::from_le_bytes(self.seq)
    }

    /// Whether the body is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encryption != ENCRYPTION_NONE
    }
}

/// Checks the CRC of a frame of `declared` length (already known to be complete) in either byte order.
fn check_crc(frame: &[u8], declared: usize) -> Result<CrcOrder, YkcError> {
    let end = CRC_START + declared;
    let covered = frame
        .get(CRC_START..end)
        .ok_or(YkcError::Incomplete { needed: 1 })?;
    let wire = frame
        .get(end..end + CRC_LEN)
        .and_then(|b| <[u8; CRC_LEN]>::try_from(b).ok())
        .ok_or(YkcError::Incomplete { needed: CRC_LEN })?;
    let expected = crc16(covered);
    if wire == expected.to_le_bytes() {
        Ok(CrcOrder::Spec)
    } else if wire == expected.to_be_bytes() {
        Ok(CrcOrder::Swapped)
    } else {
        Err(YkcError::BadCrc {
            expected,
            got: u16::from_le_bytes(wire),
        })
    }
}

/// Builds a frame around `body`, CRC low byte first; `None` when the body is too long for the length byte.
pub fn encode_frame(seq: [u8; 2], encryption: u8, frame_type: u8, body: &[u8]) -> Option<Bytes> {
    let length = body.len().checked_add(LENGTH_OVERHEAD)?;
    let length_byte = u8::try_from(length).ok()?;
    let mut out = Vec::with_capacity(length + FRAME_OVERHEAD);
    out.extend_from_slice(&[START, length_byte, seq[0], seq[1], encryption, frame_type]);
    out.extend_from_slice(body);
    let crc = crc16(out.get(CRC_START..).unwrap_or_default());
    out.extend_from_slice(&crc.to_le_bytes());
    Some(Bytes::from(out))
}

/// A hook for the 3DES body encryption (flag `0x01`). The key handling is not public, so Chargegate ships no
/// implementation; an operator that has one plugs it in here.
pub trait BodyCipher: Send + Sync {
    /// Decrypts a body; `None` when it cannot.
    fn decrypt(&self, frame_type: u8, body: &[u8]) -> Option<Bytes>;
    /// Encrypts a body.
    fn encrypt(&self, frame_type: u8, body: &[u8]) -> Option<Bytes>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_modbus_check_value() {
        assert_eq!(crc16(b"123456789"), 0x4B37);
    }

    #[test]
    fn encoded_frame_parses_with_spec_crc_order() {
        let f = encode_frame([1, 2], 0, 0x09, &[0x20, 0x23, 0x12, 0x12, 0, 0, 0x10]).unwrap();
        let p = Frame::parse(f).unwrap();
        assert_eq!(p.crc_order, CrcOrder::Spec);
        assert_eq!(p.seq, [1, 2]);
        assert_eq!(p.body.len(), 7);
    }

    #[test]
    fn prechecked_frame_skips_the_crc_but_not_the_envelope() {
        let mut f = encode_frame([0, 0], 0, 0x09, &[0x20, 0x23, 0x12, 0x12, 0, 0, 0x10])
            .unwrap()
            .to_vec();
        let last = f.len() - 1;
        f[last] ^= 0xFF;
        let f = Bytes::from(f);
        assert!(matches!(
            Frame::parse(f.clone()),
            Err(YkcError::BadCrc { .. })
        ));
        let p = Frame::parse_prechecked(f.clone(), CrcOrder::Swapped).unwrap();
        assert_eq!(p.crc_order, CrcOrder::Swapped);
        assert_eq!(
            Frame::parse_prechecked(f.slice(..10), CrcOrder::Spec).unwrap_err(),
            YkcError::Incomplete { needed: 5 }
        );
    }

    #[test]
    fn body_longer_than_the_length_byte_allows_is_refused() {
        assert!(encode_frame([0, 0], 0, 0x01, &[0; 252]).is_none());
        assert!(encode_frame([0, 0], 0, 0x01, &[0; 251]).is_some());
    }
}
