//! The YKC byte-stream decoder: the generic [`crate::frame::FrameDecoder`] configured with YKC's envelope, followed
//! by the envelope and message parsers of this module.
//!
//! TCP delivers sticky and split packets; this decoder frames by the length byte, never by read boundaries. Every
//! outcome is an item — a decoded message, or a rejected frame with its bytes and error kind — so one bad frame
//! never ends the connection's stream.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::frame::{BodyCipher, CrcOrder, Frame, CRC_START, FRAME_OVERHEAD, LENGTH_OFFSET, START};
use super::message::{Decoded, Message};
use super::YkcError;
use crate::frame::{
    ByteOrder, CrcAlgorithm, CrcMatch, CrcSpec, FrameDecoder, FrameError, FrameEvent, FrameSpec,
    FrameStats, LengthFieldConfig,
};

/// Width of YKC's length field, one byte.
const LENGTH_FIELD_LEN: usize = 1;
/// The largest frame a one-byte length allows: 255 + 4.
pub const MAX_FRAME_LEN: usize = u8::MAX as usize + FRAME_OVERHEAD;
/// Netty-style adjustment: the length byte counts from the sequence field to the end of the body, and the CRC
/// (2 bytes) follows, so frame = 2 (start + length) + length + 2.
const LENGTH_ADJUSTMENT: i64 = (FRAME_OVERHEAD - LENGTH_OFFSET - LENGTH_FIELD_LEN) as i64;

/// [`frame_spec`] built once and shared by every connection's decoder.
pub fn shared_frame_spec() -> Arc<FrameSpec> {
    static SPEC: std::sync::OnceLock<Arc<FrameSpec>> = std::sync::OnceLock::new();
    Arc::clone(SPEC.get_or_init(|| Arc::new(frame_spec())))
}

/// YKC's envelope as a [`FrameSpec`]: start byte `0x68`, one length byte at offset 1, CRC-16/MODBUS over
/// `frame[2 .. len-2)`, low byte first on the wire, the field's high-byte-first order accepted.
pub fn frame_spec() -> FrameSpec {
    let length = LengthFieldConfig::new(
        MAX_FRAME_LEN,
        LENGTH_OFFSET,
        LENGTH_FIELD_LEN,
        LENGTH_ADJUSTMENT,
        0,
    )
    .expect("YKC length-field constants are valid"); // constants, checked by `frame_spec_is_valid`
    FrameSpec::new(length)
        .with_marker([START])
        .expect("a one-byte marker is valid")
        .with_crc(CrcSpec {
            algorithm: CrcAlgorithm::Crc16Modbus,
            start: CRC_START,
            end_gap: 0,
            byte_order: ByteOrder::Little,
            accept_either_order: true,
        })
}

/// One outcome of the stream decoder.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A frame that passed framing, CRC and body decoding.
    Decoded(Box<Decoded>),
    /// A frame that was refused; the stream goes on.
    Rejected(Rejected),
    /// Bytes skipped while looking for the next start byte (line noise, or the rest of a rejected frame).
    Skipped(usize),
}

/// A refused frame: why, and its bytes for the dead-letter topic (empty when nothing was kept, e.g. line noise).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Stable error kind, a metric label (`ykc_bad_crc`, `too_long`, `garbage`, `ykc_body_length`, …).
    pub kind: &'static str,
    /// Human-readable reason naming the field and offset where the codec knows them.
    pub reason: String,
    /// The rejected bytes.
    pub bytes: Bytes,
}

/// The YKC stream decoder; a `tokio_util` [`Decoder`] whose items never end the stream.
pub struct StreamDecoder {
    framer: FrameDecoder,
    cipher: Option<Arc<dyn BodyCipher>>,
}

impl std::fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("stats", &self.framer.stats())
            .finish()
    }
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamDecoder {
    /// A decoder without a body cipher: encrypted frames are rejected with `ykc_encrypted`.
    pub fn new() -> Self {
        StreamDecoder {
            framer: FrameDecoder::new(frame_spec()),
            cipher: None,
        }
    }

    /// A decoder that decrypts flagged bodies with `cipher`.
    pub fn with_cipher(cipher: Arc<dyn BodyCipher>) -> Self {
        StreamDecoder {
            framer: FrameDecoder::new(frame_spec()),
            cipher: Some(cipher),
        }
    }

    /// Framing counters: frames, garbage bytes, CRC errors, swapped-order CRCs, too-long, corrupted.
    pub fn stats(&self) -> FrameStats {
        self.framer.stats()
    }

    fn convert(&self, event: FrameEvent) -> StreamItem {
        match event {
            FrameEvent::Frame { bytes, crc } => {
                let order = if crc == CrcMatch::Swapped {
                    CrcOrder::Swapped
                } else {
                    CrcOrder::Spec
                };
                match self.decode_frame(bytes.clone(), order) {
                    Ok(decoded) => StreamItem::Decoded(Box::new(decoded)),
                    Err(e) => reject(e.kind(), e.to_string(), bytes),
                }
            }
            FrameEvent::CrcMismatch {
                bytes,
                computed,
                received,
            } => {
                let e = YkcError::BadCrc {
                    expected: computed as u16,
                    got: received as u16,
                };
                reject(e.kind(), e.to_string(), bytes)
            }
            FrameEvent::Garbage { skipped } => StreamItem::Skipped(skipped),
            other => {
                let kind = other.kind();
                reject(kind, format!("{other:?}"), Bytes::new())
            }
        }
    }

    fn decode_frame(&self, bytes: Bytes, order: CrcOrder) -> Result<Decoded, YkcError> {
        let frame = Frame::parse_prechecked(bytes, order)?;
        let message = Message::decode_with(&frame, self.cipher.as_deref())?;
        Ok(Decoded { frame, message })
    }
}

fn reject(kind: &'static str, reason: String, bytes: Bytes) -> StreamItem {
    StreamItem::Rejected(Rejected {
        kind,
        reason,
        bytes,
    })
}

impl Decoder for StreamDecoder {
    type Item = StreamItem;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<StreamItem>, FrameError> {
        Ok(self.framer.decode(src)?.map(|event| self.convert(event)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<StreamItem>, FrameError> {
        Ok(self
            .framer
            .decode_eof(src)?
            .map(|event| self.convert(event)))
    }
}

/// Decodes a whole byte buffer (a capture) into items, including what is left at its end.
pub fn decode_all(bytes: &[u8]) -> Vec<StreamItem> {
    let mut decoder = StreamDecoder::new();
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Ok(Some(item)) = decoder.decode_eof(&mut buf) {
        out.push(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_spec_is_valid() {
        let spec = frame_spec();
        assert_eq!(spec.marker(), Some(&[START][..]));
    }

    #[test]
    fn the_spec_login_reply_decodes_from_a_stream() {
        // id S1 — DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §6.2 example.
        let bytes = hex_bytes("680C000000025503141278230500DA4C");
        let items = decode_all(&bytes);
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(matches!(&items[0], StreamItem::Decoded(d) if d.frame.frame_type == 0x02));
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
