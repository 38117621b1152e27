//! The length-field parameters of Netty's `LengthFieldBasedFrameDecoder`, validated, and the header arithmetic
//! both decoders share.
//!
//! Naming follows Netty so a Netty engineer can carry a configuration across unchanged: offset `O`, width `L`,
//! adjustment `A`, strip `S`. The frame length is `F = field + A + O + L`, counted from the frame start; `F` is
//! what `max_frame_length` limits.

use serde::{Deserialize, Serialize};

use super::error::ConfigError;
use super::event::Corruption;

/// The widths (bytes) Netty accepts for the length field.
pub const SUPPORTED_LENGTH_FIELD_LENGTHS: [usize; 5] = [1, 2, 3, 4, 8];

/// Width whose field Netty reads as a signed integer; the narrower ones are unsigned.
const SIGNED_LENGTH_FIELD_LENGTH: usize = 8;

/// Byte order of a multi-byte field on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    /// Most significant byte first (network order, Netty's default).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

impl ByteOrder {
    /// Reads an unsigned integer of `bytes.len()` (at most 8) bytes in this order.
    pub fn read_uint(self, bytes: &[u8]) -> u64 {
        let fold = |acc: u64, b: &u8| (acc << u8::BITS) | u64::from(*b);
        match self {
            ByteOrder::Big => bytes.iter().fold(0, fold),
            ByteOrder::Little => bytes.iter().rev().fold(0, fold),
        }
    }

    /// Writes the low `width` bytes of `value` in this order.
    pub fn write_uint(self, value: u64, width: usize, dst: &mut impl bytes::BufMut) {
        let be = value.to_be_bytes();
        let low = be.get(be.len().saturating_sub(width)..).unwrap_or(&be);
        match self {
            ByteOrder::Big => dst.put_slice(low),
            ByteOrder::Little => low.iter().rev().for_each(|b| dst.put_u8(*b)),
        }
    }
}

fn default_fail_fast() -> bool {
    true
}

/// Netty `LengthFieldBasedFrameDecoder` parameters. Build with [`LengthFieldConfig::new`] (or deserialize), which
/// refuses what Netty refuses; the fields are private so a built config is always valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawLengthFieldConfig")]
pub struct LengthFieldConfig {
    max_frame_length: usize,
    length_field_offset: usize,
    length_field_length: usize,
    length_adjustment: i64,
    initial_bytes_to_strip: usize,
    byte_order: ByteOrder,
    fail_fast: bool,
}

/// The unchecked, deserialized shape of [`LengthFieldConfig`]; defaults as in Netty's shorter constructors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLengthFieldConfig {
    max_frame_length: usize,
    length_field_offset: usize,
    length_field_length: usize,
    #[serde(default)]
    length_adjustment: i64,
    #[serde(default)]
    initial_bytes_to_strip: usize,
    #[serde(default)]
    byte_order: ByteOrder,
    #[serde(default = "default_fail_fast")]
    fail_fast: bool,
}

impl TryFrom<RawLengthFieldConfig> for LengthFieldConfig {
    type Error = ConfigError;

    fn try_from(raw: RawLengthFieldConfig) -> Result<Self, ConfigError> {
        Ok(LengthFieldConfig::new(
            raw.max_frame_length,
            raw.length_field_offset,
            raw.length_field_length,
            raw.length_adjustment,
            raw.initial_bytes_to_strip,
        )?
        .with_byte_order(raw.byte_order)
        .with_fail_fast(raw.fail_fast))
    }
}

/// What the buffered header says about the frame at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// Fewer than `O + L` bytes are buffered.
    Incomplete,
    /// The whole frame is `F` bytes long (not yet compared with the maximum).
    Length(u64),
    /// The header is unusable (Netty's `CorruptedFrameException` before the frame is read).
    Corrupt(Corruption),
}

impl LengthFieldConfig {
    /// Netty's full constructor minus byte order and fail-fast (big-endian and fail-fast by default; see
    /// [`Self::with_byte_order`], [`Self::with_fail_fast`]). Refuses a zero maximum, a width other than
    /// 1, 2, 3, 4 or 8 (Netty only notices at decode time) and `offset + length > max`.
    pub fn new(
        max_frame_length: usize,
        length_field_offset: usize,
        length_field_length: usize,
        length_adjustment: i64,
        initial_bytes_to_strip: usize,
    ) -> Result<Self, ConfigError> {
        if max_frame_length == 0 {
            return Err(ConfigError::ZeroMaxFrameLength);
        }
        if !SUPPORTED_LENGTH_FIELD_LENGTHS.contains(&length_field_length) {
            return Err(ConfigError::UnsupportedLengthFieldLength {
                length: length_field_length,
            });
        }
        let too_big = ConfigError::HeaderExceedsMax {
            max: max_frame_length,
            offset: length_field_offset,
            length: length_field_length,
        };
        let header_end = length_field_offset
            .checked_add(length_field_length)
            .ok_or(too_big)?;
        if header_end > max_frame_length {
            return Err(too_big);
        }
        Ok(LengthFieldConfig {
            max_frame_length,
            length_field_offset,
            length_field_length,
            length_adjustment,
            initial_bytes_to_strip,
            byte_order: ByteOrder::Big,
            fail_fast: true,
        })
    }

    /// Same configuration with the length field read in `byte_order`.
    pub fn with_byte_order(mut self, byte_order: ByteOrder) -> Self {
        self.byte_order = byte_order;
        self
    }

    /// Same configuration reporting a too-long frame as soon as its header is seen (`true`) or only once all of it
    /// has been skipped (`false`).
    pub fn with_fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Largest accepted frame, header included, after adjustment (`F > max` is too long).
    pub fn max_frame_length(&self) -> usize {
        self.max_frame_length
    }

    /// Offset of the length field from the frame start (`O`).
    pub fn length_field_offset(&self) -> usize {
        self.length_field_offset
    }

    /// Width of the length field in bytes (`L`: 1, 2, 3, 4 or 8).
    pub fn length_field_length(&self) -> usize {
        self.length_field_length
    }

    /// Added to the field value to get the bytes after the length field (`A`, may be negative).
    pub fn length_adjustment(&self) -> i64 {
        self.length_adjustment
    }

    /// Bytes removed from the front of every emitted frame (`S`).
    pub fn initial_bytes_to_strip(&self) -> usize {
        self.initial_bytes_to_strip
    }

    /// Byte order of the length field.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Whether a too-long frame is reported at its header (`true`) or after its last byte (`false`).
    pub fn fail_fast(&self) -> bool {
        self.fail_fast
    }

    /// End of the length field, `E = O + L`: the bytes needed before anything can be decided.
    pub fn length_field_end_offset(&self) -> usize {
        // Cannot overflow: checked in `new`.
        self.length_field_offset
            .saturating_add(self.length_field_length)
    }

    /// Reads the header at the front of `buf` and computes the whole-frame length `F` (Netty steps 3–5).
    pub(crate) fn header(&self, buf: &[u8]) -> Header {
        let end = self.length_field_end_offset();
        let Some(field) = buf.get(self.length_field_offset..end) else {
            return Header::Incomplete;
        };
        let raw = self.byte_order.read_uint(field);
        let value = if self.length_field_length == SIGNED_LENGTH_FIELD_LENGTH {
            // Netty reads the 8-byte field as a signed long.
            let signed = raw as i64;
            if signed < 0 {
                return Header::Corrupt(Corruption::NegativeLength { field: signed });
            }
            i128::from(signed)
        } else {
            i128::from(raw)
        };
        let header_end = end as i128;
        let frame_length = value + i128::from(self.length_adjustment) + header_end;
        if frame_length < header_end {
            return Header::Corrupt(Corruption::ShorterThanHeader {
                frame_length: i64::try_from(frame_length).unwrap_or(i64::MIN),
                header_end: end,
            });
        }
        // Positive and at most i64::MAX + i64::MAX + usize::MAX, which always fits in u64 after the clamp.
        Header::Length(u64::try_from(frame_length).unwrap_or(u64::MAX))
    }
}
