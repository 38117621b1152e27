//! [`FrameSpec`]: a declarative frame envelope — optional start marker, Netty length field, optional CRC — that a
//! vendor can write in TOML, and that both decodes ([`crate::frame::FrameDecoder`]) and builds frames.
//!
//! Layout: `marker | header bytes | length field | rest … | CRC`. The marker sits at offset 0; the CRC field is
//! always the last `width` bytes of the frame and covers `frame[start .. F − width − end_gap)`.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::config::{ByteOrder, LengthFieldConfig};
use super::crc::CrcAlgorithm;
use super::error::{ConfigError, EncodeError};
use super::event::{Corruption, CrcMatch};

/// Where a frame's CRC is, what it covers and how it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrcSpec {
    /// The algorithm, by catalogue name (`"CRC-16/MODBUS"`).
    pub algorithm: CrcAlgorithm,
    /// First covered byte, counted from the frame start (YKC: 2, after marker and length byte).
    #[serde(default)]
    pub start: usize,
    /// Bytes between the end of the covered range and the CRC field (usually 0).
    #[serde(default)]
    pub end_gap: usize,
    /// Byte order of the CRC field as the spec sends it (YKC: little, low byte first).
    #[serde(default)]
    pub byte_order: ByteOrder,
    /// Also accept the CRC with its bytes reversed (and count it), for senders that get the order wrong.
    #[serde(default)]
    pub accept_either_order: bool,
}

/// Result of checking a buffered frame's CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrcCheck {
    /// The CRC matched (or there is none).
    Match(CrcMatch),
    /// It matched in no accepted order.
    Mismatch {
        /// Computed over the covered range.
        computed: u32,
        /// Read from the frame in spec order.
        received: u32,
    },
    /// The frame cannot hold the CRC layout.
    Corrupt(Corruption),
}

impl CrcSpec {
    /// Smallest frame that holds the covered range start, the gap and the CRC field.
    pub fn min_frame_length(&self) -> usize {
        self.start
            .saturating_add(self.end_gap)
            .saturating_add(self.algorithm.width_bytes())
    }

    /// Checks the CRC of a whole `frame`.
    pub(crate) fn check(&self, frame: &[u8]) -> CrcCheck {
        let too_short = CrcCheck::Corrupt(Corruption::ShorterThanCrc {
            frame_length: frame.len() as u64,
            needed: self.min_frame_length(),
        });
        if frame.len() < self.min_frame_length() {
            return too_short;
        }
        let crc_at = frame.len().saturating_sub(self.algorithm.width_bytes());
        let covered_end = crc_at.saturating_sub(self.end_gap);
        let (Some(covered), Some(field)) =
            (frame.get(self.start..covered_end), frame.get(crc_at..))
        else {
            return too_short;
        };
        let computed = self.algorithm.checksum(covered);
        // At most 4 bytes, so the read never truncates.
        let received = self.byte_order.read_uint(field) as u32;
        if computed == received {
            return CrcCheck::Match(CrcMatch::InOrder);
        }
        let swapped = self.swapped_order().read_uint(field) as u32;
        if self.accept_either_order && computed == swapped {
            return CrcCheck::Match(CrcMatch::Swapped);
        }
        CrcCheck::Mismatch { computed, received }
    }

    fn swapped_order(&self) -> ByteOrder {
        match self.byte_order {
            ByteOrder::Big => ByteOrder::Little,
            ByteOrder::Little => ByteOrder::Big,
        }
    }
}

/// A frame envelope: optional start marker, length field, optional CRC. Deserializes (validated) from TOML or JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawFrameSpec")]
pub struct FrameSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<Vec<u8>>,
    length: LengthFieldConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    crc: Option<CrcSpec>,
}

/// The unchecked, deserialized shape of [`FrameSpec`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrameSpec {
    #[serde(default)]
    marker: Option<Vec<u8>>,
    length: LengthFieldConfig,
    #[serde(default)]
    crc: Option<CrcSpec>,
}

impl TryFrom<RawFrameSpec> for FrameSpec {
    type Error = ConfigError;

    fn try_from(raw: RawFrameSpec) -> Result<Self, ConfigError> {
        let spec = FrameSpec::new(raw.length);
        let spec = match raw.marker {
            Some(marker) => spec.with_marker(marker)?,
            None => spec,
        };
        Ok(match raw.crc {
            Some(crc) => spec.with_crc(crc),
            None => spec,
        })
    }
}

impl FrameSpec {
    /// An envelope framed by `length` alone: no marker, no CRC (the same framing as [`LengthFieldConfig`]).
    pub fn new(length: LengthFieldConfig) -> Self {
        FrameSpec {
            marker: None,
            length,
            crc: None,
        }
    }

    /// Same envelope with a start marker at offset 0. Refuses an empty marker or one running into the length field.
    pub fn with_marker(mut self, marker: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let marker = marker.into();
        if marker.is_empty() {
            return Err(ConfigError::EmptyMarker);
        }
        if marker.len() > self.length.length_field_offset() {
            return Err(ConfigError::MarkerOverlapsLength {
                marker_len: marker.len(),
                offset: self.length.length_field_offset(),
            });
        }
        self.marker = Some(marker);
        Ok(self)
    }

    /// Same envelope with a CRC at the frame end.
    pub fn with_crc(mut self, crc: CrcSpec) -> Self {
        self.crc = Some(crc);
        self
    }

    /// The start marker, if any.
    pub fn marker(&self) -> Option<&[u8]> {
        self.marker.as_deref()
    }

    /// The length-field parameters.
    pub fn length(&self) -> &LengthFieldConfig {
        &self.length
    }

    /// The CRC layout, if any.
    pub fn crc(&self) -> Option<&CrcSpec> {
        self.crc.as_ref()
    }

    /// With a CRC, the shortest frame that holds it: the covered range's start, and the CRC field (with its gap)
    /// *after* the length field — a CRC field overlapping the header is no frame. `None` without a CRC.
    pub fn min_crc_frame_length(&self) -> Option<usize> {
        let crc = self.crc.as_ref()?;
        let after_header = self
            .length
            .length_field_end_offset()
            .saturating_add(crc.end_gap)
            .saturating_add(crc.algorithm.width_bytes());
        Some(crc.min_frame_length().max(after_header))
    }

    /// Builds a frame around `payload` = every byte after the marker except the length field and the CRC: the
    /// first `length_field_offset − marker.len()` payload bytes go before the length field, the rest after it. The
    /// length field and CRC (spec byte order) are computed.
    pub fn encode(&self, payload: &[u8]) -> Result<Bytes, EncodeError> {
        let mut dst = BytesMut::new();
        self.encode_into(payload, &mut dst)?;
        Ok(dst.freeze())
    }

    /// As [`Self::encode`], appending to `dst`.
    pub fn encode_into(&self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        let marker = self.marker.as_deref().unwrap_or_default();
        let offset = self.length.length_field_offset();
        let width = self.length.length_field_length();
        let crc_width = self.crc.map_or(0, |crc| crc.algorithm.width_bytes());
        let before_len = offset.saturating_sub(marker.len());
        let (Some(before), Some(after)) = (payload.get(..before_len), payload.get(before_len..))
        else {
            return Err(EncodeError::PayloadTooShort {
                needed: before_len,
                got: payload.len(),
            });
        };
        let frame_length =
            self.length.length_field_end_offset() as u128 + after.len() as u128 + crc_width as u128;
        let max = self.length.max_frame_length();
        let frame_length = usize::try_from(frame_length)
            .ok()
            .filter(|f| *f <= max)
            .ok_or(EncodeError::TooLong {
                frame_length: usize::try_from(frame_length).unwrap_or(usize::MAX),
                max,
            })?;
        // Invert F = field + A + E.
        let field = frame_length as i128
            - i128::from(self.length.length_adjustment())
            - self.length.length_field_end_offset() as i128;
        let value = field_value(field, width)?;
        if let Some(min) = self.min_crc_frame_length() {
            if frame_length < min {
                return Err(EncodeError::PayloadTooShort {
                    needed: payload.len().saturating_add(min - frame_length),
                    got: payload.len(),
                });
            }
        }

        let start = dst.len();
        dst.reserve(frame_length);
        dst.put_slice(marker);
        dst.put_slice(before);
        self.length.byte_order().write_uint(value, width, dst);
        dst.put_slice(after);
        if let Some(crc) = &self.crc {
            let frame = dst.get(start..).unwrap_or_default();
            let covered_end = frame.len().saturating_sub(crc.end_gap);
            let covered = frame.get(crc.start..covered_end).unwrap_or_default();
            let value = crc.algorithm.checksum(covered);
            crc.byte_order.write_uint(u64::from(value), crc_width, dst);
        }
        Ok(())
    }
}

/// Checks that `field` fits a length field of `width` bytes (8 bytes: signed, as Netty reads it).
pub(crate) fn field_value(field: i128, width: usize) -> Result<u64, EncodeError> {
    if field < 0 {
        return Err(EncodeError::NegativeLength { length: field });
    }
    let limit: i128 = if width >= std::mem::size_of::<i64>() {
        i128::from(i64::MAX)
    } else {
        (1i128 << (u8::BITS as usize * width)) - 1
    };
    if field > limit {
        return Err(EncodeError::LengthDoesNotFit {
            length: field,
            field_length: width,
        });
    }
    // 0 <= field <= i64::MAX.
    Ok(u64::try_from(field).unwrap_or(0))
}
