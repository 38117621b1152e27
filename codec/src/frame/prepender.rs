//! [`LengthFieldPrepender`]: Netty's `LengthFieldPrepender` as a `tokio_util` encoder — writes a length field,
//! then the payload.
//!
//! One deliberate difference: Netty writes a 4-byte length unchecked (silently truncating values over
//! `u32::MAX`); this encoder refuses them like the narrower widths.

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::Encoder;

use super::config::{ByteOrder, SUPPORTED_LENGTH_FIELD_LENGTHS};
use super::error::{ConfigError, EncodeError};
use super::spec::field_value;

/// Prepends `payload length + adjustment (+ field width if it counts itself)` to each payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPrepender")]
pub struct LengthFieldPrepender {
    length_field_length: usize,
    byte_order: ByteOrder,
    length_adjustment: i64,
    length_includes_length_field_length: bool,
}

/// The unchecked, deserialized shape of [`LengthFieldPrepender`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrepender {
    length_field_length: usize,
    #[serde(default)]
    byte_order: ByteOrder,
    #[serde(default)]
    length_adjustment: i64,
    #[serde(default)]
    length_includes_length_field_length: bool,
}

impl TryFrom<RawPrepender> for LengthFieldPrepender {
    type Error = ConfigError;

    fn try_from(raw: RawPrepender) -> Result<Self, ConfigError> {
        Ok(LengthFieldPrepender::new(raw.length_field_length)?
            .with_byte_order(raw.byte_order)
            .with_length_adjustment(raw.length_adjustment)
            .with_length_including_field(raw.length_includes_length_field_length))
    }
}

impl LengthFieldPrepender {
    /// A big-endian prepender with a `length_field_length`-byte field (1, 2, 3, 4 or 8), no adjustment, the field
    /// not counting itself (Netty's defaults).
    pub fn new(length_field_length: usize) -> Result<Self, ConfigError> {
        if !SUPPORTED_LENGTH_FIELD_LENGTHS.contains(&length_field_length) {
            return Err(ConfigError::UnsupportedLengthFieldLength {
                length: length_field_length,
            });
        }
        Ok(LengthFieldPrepender {
            length_field_length,
            byte_order: ByteOrder::Big,
            length_adjustment: 0,
            length_includes_length_field_length: false,
        })
    }

    /// Same prepender writing the field in `byte_order`.
    pub fn with_byte_order(mut self, byte_order: ByteOrder) -> Self {
        self.byte_order = byte_order;
        self
    }

    /// Same prepender adding `length_adjustment` to the written value.
    pub fn with_length_adjustment(mut self, length_adjustment: i64) -> Self {
        self.length_adjustment = length_adjustment;
        self
    }

    /// Same prepender whose value also counts the length field itself.
    pub fn with_length_including_field(mut self, includes: bool) -> Self {
        self.length_includes_length_field_length = includes;
        self
    }

    /// Writes the length field for a payload of `payload_len` bytes.
    pub fn write_header(&self, payload_len: usize, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let own = if self.length_includes_length_field_length {
            self.length_field_length
        } else {
            0
        };
        let value = payload_len as i128 + i128::from(self.length_adjustment) + own as i128;
        let value = field_value(value, self.length_field_length)?;
        self.byte_order
            .write_uint(value, self.length_field_length, dst);
        Ok(())
    }
}

impl Encoder<&[u8]> for LengthFieldPrepender {
    type Error = EncodeError;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.reserve(self.length_field_length + payload.len());
        self.write_header(payload.len(), dst)?;
        dst.put_slice(payload);
        Ok(())
    }
}

impl Encoder<Bytes> for LengthFieldPrepender {
    type Error = EncodeError;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), EncodeError> {
        Encoder::<&[u8]>::encode(self, &payload, dst)
    }
}
