//! OCPP-like JSON over raw TCP: an OCPP-J array (`[2,"id","Action",{…}]`) inside a vendor's binary envelope —
//! start marker, length field, CRC — declared in config, so a new brand's envelope needs no Rust.
//!
//! An [`EnvelopeSpec`] is a [`FrameSpec`] (the same Netty-exact length field, marker resync and CRC options the YKC
//! framing uses) plus the fixed header bytes between the marker and the length field. The JSON is everything after
//! the length field up to the CRC. [`EnvelopeDecoder`] yields each JSON payload or a rejected frame with its bytes;
//! the OCPP layer ([`super::rpc`]) takes it from there. `docs/protocols/ocpp-tcp.md` has hex examples of both
//! presets and how to declare your own.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::Decoder;

use crate::frame::{
    ByteOrder, ConfigError, CrcAlgorithm, CrcMatch, CrcSpec, EncodeError, FrameDecoder, FrameError,
    FrameEvent, FrameSpec, FrameStats, LengthFieldConfig,
};

/// Largest envelope the presets accept, header and CRC included; OCPP messages are rarely above a few KiB.
pub const PRESET_MAX_FRAME_LEN: usize = 16 * 1024;

/// A declared envelope: its framing, and the fixed bytes it writes between the marker and the length field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSpec {
    /// Codec name the listener refers to (`ocpp-tcp`).
    pub name: String,
    /// Marker, length field and CRC.
    pub framing: FrameSpec,
    /// Bytes between the marker and the length field (a version byte, say); written as is, not checked on input.
    #[serde(default)]
    pub header: Vec<u8>,
}

impl EnvelopeSpec {
    /// The default preset `ocpp-tcp`: marker `0xAA`; a 2-byte big-endian length at offset 1 counting the JSON bytes;
    /// CRC-16/MODBUS over length field and JSON, low byte first.
    pub fn ocpp_tcp() -> Self {
        let length = LengthFieldConfig::new(PRESET_MAX_FRAME_LEN, 1, 2, 2, 0)
            .expect("preset constants are valid");
        let framing = FrameSpec::new(length)
            .with_marker([0xAA])
            .expect("one-byte marker")
            .with_crc(CrcSpec {
                algorithm: CrcAlgorithm::Crc16Modbus,
                start: 1,
                end_gap: 0,
                byte_order: ByteOrder::Little,
                accept_either_order: false,
            });
        EnvelopeSpec {
            name: "ocpp-tcp".into(),
            framing,
            header: Vec::new(),
        }
    }

    /// A second preset, `ocpp-tcp-alt`, that differs in every parameter: marker `5A A5`; a version byte `01`; a
    /// 4-byte **little-endian** length at offset 3 counting the **whole frame** (adjustment −7); CRC-32/ISO-HDLC over
    /// the whole frame from the marker on, **big-endian**, the swapped order accepted.
    pub fn ocpp_tcp_alt() -> Self {
        let length = LengthFieldConfig::new(PRESET_MAX_FRAME_LEN, 3, 4, -7, 0)
            .expect("preset constants are valid")
            .with_byte_order(ByteOrder::Little);
        let framing = FrameSpec::new(length)
            .with_marker([0x5A, 0xA5])
            .expect("two-byte marker")
            .with_crc(CrcSpec {
                algorithm: CrcAlgorithm::Crc32IsoHdlc,
                start: 0,
                end_gap: 0,
                byte_order: ByteOrder::Big,
                accept_either_order: true,
            });
        EnvelopeSpec {
            name: "ocpp-tcp-alt".into(),
            framing,
            header: vec![0x01],
        }
    }

    /// The built-in presets by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "ocpp-tcp" => Some(Self::ocpp_tcp()),
            "ocpp-tcp-alt" => Some(Self::ocpp_tcp_alt()),
            _ => None,
        }
    }

    /// Checks that the header fills exactly the space between marker and length field.
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        let marker = self.framing.marker().map_or(0, <[u8]>::len);
        let gap = self
            .framing
            .length()
            .length_field_offset()
            .checked_sub(marker);
        if gap != Some(self.header.len()) {
            return Err(EnvelopeError::HeaderSize {
                expected: gap.unwrap_or(0),
                got: self.header.len(),
            });
        }
        if self.framing.length().initial_bytes_to_strip() != 0 {
            return Err(EnvelopeError::Strip);
        }
        Ok(())
    }

    /// Wraps one OCPP-J message (its JSON text) in the envelope.
    pub fn encode(&self, json: &str) -> Result<Bytes, EnvelopeError> {
        let mut payload = Vec::with_capacity(self.header.len() + json.len());
        payload.extend_from_slice(&self.header);
        payload.extend_from_slice(json.as_bytes());
        Ok(self.framing.encode(&payload)?)
    }

    /// The JSON inside a whole frame as the decoder emits it.
    fn payload(&self, frame: &Bytes) -> Option<Bytes> {
        let start = self.framing.length().length_field_end_offset();
        let crc = self.framing.crc().map_or(0, |c| c.algorithm.width_bytes());
        let end = frame.len().checked_sub(crc)?;
        (start <= end).then(|| frame.slice(start..end))
    }
}

/// A declaration or encoding that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The header does not fill the gap between marker and length field.
    #[error("header must be {expected} bytes (between marker and length field), got {got}")]
    HeaderSize {
        /// Gap size.
        expected: usize,
        /// Header size.
        got: usize,
    },
    /// Envelopes keep the whole frame (`initial_bytes_to_strip = 0`) so the CRC can be located.
    #[error("initial_bytes_to_strip must be 0 for an OCPP envelope")]
    Strip,
    /// The framing refused the message.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The framing declaration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One outcome of [`EnvelopeDecoder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeItem {
    /// The JSON text of one OCPP-J message (UTF-8 checked), and whether its CRC came in swapped order.
    Message {
        /// The JSON, a slice of the frame.
        json: Bytes,
        /// CRC match.
        crc: CrcMatch,
    },
    /// A refused frame, with its bytes for the dead-letter topic; the stream goes on.
    Rejected {
        /// Stable kind: `crc_mismatch`, `too_long`, `corrupted`, `not_utf8`, `truncated`.
        kind: &'static str,
        /// The frame's bytes (empty when nothing was kept).
        bytes: Bytes,
    },
    /// Bytes skipped while looking for the marker.
    Skipped(usize),
}

impl EnvelopeItem {
    /// The JSON text, for a message.
    pub fn json(&self) -> Option<&str> {
        match self {
            EnvelopeItem::Message { json, .. } => std::str::from_utf8(json).ok(),
            _ => None,
        }
    }
}

/// Cuts a byte stream into OCPP-J messages by a declared envelope; a `tokio_util` [`Decoder`] whose items never
/// end the stream.
#[derive(Debug)]
pub struct EnvelopeDecoder {
    spec: EnvelopeSpec,
    framer: FrameDecoder,
}

impl EnvelopeDecoder {
    /// A decoder for `spec` (validated).
    pub fn new(spec: EnvelopeSpec) -> Result<Self, EnvelopeError> {
        spec.validate()?;
        let framer = FrameDecoder::new(spec.framing.clone());
        Ok(EnvelopeDecoder { spec, framer })
    }

    /// Framing counters.
    pub fn stats(&self) -> FrameStats {
        self.framer.stats()
    }

    fn convert(&self, event: FrameEvent) -> EnvelopeItem {
        match event {
            FrameEvent::Frame { bytes, crc } => match self.spec.payload(&bytes) {
                Some(json) if std::str::from_utf8(&json).is_ok() => {
                    EnvelopeItem::Message { json, crc }
                }
                _ => EnvelopeItem::Rejected {
                    kind: "not_utf8",
                    bytes,
                },
            },
            FrameEvent::CrcMismatch { bytes, .. } => EnvelopeItem::Rejected {
                kind: "crc_mismatch",
                bytes,
            },
            FrameEvent::Garbage { skipped } => EnvelopeItem::Skipped(skipped),
            other => EnvelopeItem::Rejected {
                kind: other.kind(),
                bytes: Bytes::new(),
            },
        }
    }
}

impl Decoder for EnvelopeDecoder {
    type Item = EnvelopeItem;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<EnvelopeItem>, FrameError> {
        Ok(self.framer.decode(src)?.map(|e| self.convert(e)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<EnvelopeItem>, FrameError> {
        Ok(self.framer.decode_eof(src)?.map(|e| self.convert(e)))
    }
}
