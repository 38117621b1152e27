//! OCPP-like JSON over raw TCP: a binary envelope declared as data whose payload is one OCPP-J array.
//!
//! Some chargers speak OCPP's JSON messages over a plain TCP socket inside a vendor envelope (a start marker, a
//! length field, a CRC). An [`Envelope`] describes such an envelope with the generic framing layer's
//! [`FrameSpec`] plus the fixed `header` bytes that sit between the marker and the length field, so a vendor's
//! envelope is a few lines of TOML and no Rust. Frame layout:
//!
//! ```text
//! marker | header | length field | OCPP-J JSON text | CRC
//! ```
//!
//! Two presets ship: [`Envelope::ocpp_tcp`] (the default, codec `ocpp-tcp`) and [`Envelope::ocpp_tcp_alt`]
//! (codec `ocpp-tcp-alt`), which differs from it in every parameter. `docs/protocols/ocpp-tcp.md` walks through
//! both in hex. Framing, resync and CRC checking are the [`FrameDecoder`]'s, exactly as for YKC.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::frame::{
    ByteOrder, ConfigError, CrcAlgorithm, CrcSpec, EncodeError, FrameDecoder, FrameSpec,
    LengthFieldConfig,
};
use crate::plugin::Detect;

/// Codec name of the default preset.
pub const OCPP_TCP: &str = "ocpp-tcp";
/// Codec name of the second preset.
pub const OCPP_TCP_ALT: &str = "ocpp-tcp-alt";
/// The preset names, in registration order.
pub const PRESET_NAMES: [&str; 2] = [OCPP_TCP, OCPP_TCP_ALT];

/// `ocpp-tcp` start marker: ASCII `OC`.
const DEFAULT_MARKER: [u8; 2] = *b"OC";
/// `ocpp-tcp`: the length field follows the marker.
const DEFAULT_LENGTH_OFFSET: usize = 2;
/// `ocpp-tcp`: 2-byte length.
const DEFAULT_LENGTH_WIDTH: usize = 2;
/// `ocpp-tcp`: the length counts the JSON only; the 2-byte CRC follows it (Netty adjustment +2).
const DEFAULT_LENGTH_ADJUSTMENT: i64 = 2;
/// `ocpp-tcp`: 2-byte length allows 65 535 bytes of JSON + 6 bytes of envelope.
const DEFAULT_MAX_FRAME: usize = 65_541;
/// `ocpp-tcp`: the CRC covers from the length field on (the marker is not covered).
const DEFAULT_CRC_START: usize = 2;

/// `ocpp-tcp-alt` start marker.
const ALT_MARKER: [u8; 3] = [0xAB, 0xCD, 0xEF];
/// `ocpp-tcp-alt` header: one envelope-version byte between marker and length.
const ALT_HEADER: [u8; 1] = [0x01];
/// `ocpp-tcp-alt`: length at offset 4 (after marker and version).
const ALT_LENGTH_OFFSET: usize = 4;
/// `ocpp-tcp-alt`: 4-byte length.
const ALT_LENGTH_WIDTH: usize = 4;
/// `ocpp-tcp-alt`: the length counts the whole frame (Netty adjustment −(offset + width)).
const ALT_LENGTH_ADJUSTMENT: i64 = -((ALT_LENGTH_OFFSET + ALT_LENGTH_WIDTH) as i64);
/// `ocpp-tcp-alt`: at most 1 MiB per frame.
const ALT_MAX_FRAME: usize = 1024 * 1024;

/// Why an envelope declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The framing parameters themselves are invalid.
    #[error(transparent)]
    Frame(#[from] ConfigError),
    /// `header` must fill exactly the bytes between the marker and the length field.
    #[error("header has {got} bytes, but {expected} sit between the marker and the length field")]
    HeaderLength {
        /// `length_field_offset − marker length`.
        expected: usize,
        /// Bytes declared.
        got: usize,
    },
    /// The payload must be the whole frame: `initial_bytes_to_strip` must be 0.
    #[error("initial_bytes_to_strip must be 0 for an OCPP envelope")]
    Strip,
    /// The CRC must directly follow the JSON: `end_gap` must be 0.
    #[error("crc.end_gap must be 0 for an OCPP envelope")]
    EndGap,
}

impl EnvelopeError {
    /// Stable label for config errors and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EnvelopeError::Frame(_) => "frame_config",
            EnvelopeError::HeaderLength { .. } => "header_length",
            EnvelopeError::Strip => "strip",
            EnvelopeError::EndGap => "end_gap",
        }
    }
}

/// A declared OCPP-over-TCP envelope: framing plus fixed header bytes. Deserializes (validated) from TOML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEnvelope")]
pub struct Envelope {
    frame: FrameSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    header: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    frame: FrameSpec,
    #[serde(default)]
    header: Vec<u8>,
}

impl TryFrom<RawEnvelope> for Envelope {
    type Error = EnvelopeError;

    fn try_from(raw: RawEnvelope) -> Result<Self, EnvelopeError> {
        Envelope::new(raw.frame, raw.header)
    }
}

impl Envelope {
    /// An envelope from its framing and the fixed bytes between marker and length field.
    pub fn new(frame: FrameSpec, header: Vec<u8>) -> Result<Self, EnvelopeError> {
        let marker_len = frame.marker().map_or(0, <[u8]>::len);
        let expected = frame
            .length()
            .length_field_offset()
            .saturating_sub(marker_len);
        if header.len() != expected {
            return Err(EnvelopeError::HeaderLength {
                expected,
                got: header.len(),
            });
        }
        if frame.length().initial_bytes_to_strip() != 0 {
            return Err(EnvelopeError::Strip);
        }
        if frame.crc().is_some_and(|crc| crc.end_gap != 0) {
            return Err(EnvelopeError::EndGap);
        }
        Ok(Envelope { frame, header })
    }

    /// The default preset `ocpp-tcp`: `"OC" | len u16 BE (JSON bytes) | JSON | CRC-16/XMODEM BE over len..JSON`.
    pub fn ocpp_tcp() -> Self {
        let length = LengthFieldConfig::new(
            DEFAULT_MAX_FRAME,
            DEFAULT_LENGTH_OFFSET,
            DEFAULT_LENGTH_WIDTH,
            DEFAULT_LENGTH_ADJUSTMENT,
            0,
        )
        .unwrap_or_else(|_| unreachable!("preset constants are valid (tested)"))
        .with_byte_order(ByteOrder::Big);
        let frame = FrameSpec::new(length)
            .with_marker(DEFAULT_MARKER)
            .unwrap_or_else(|_| unreachable!("a two-byte marker is valid"))
            .with_crc(CrcSpec {
                algorithm: CrcAlgorithm::Crc16Xmodem,
                start: DEFAULT_CRC_START,
                end_gap: 0,
                byte_order: ByteOrder::Big,
                accept_either_order: false,
            });
        Envelope {
            frame,
            header: Vec::new(),
        }
    }

    /// The second preset `ocpp-tcp-alt`, different in every parameter: `AB CD EF | 01 | len u32 LE (whole frame)
    /// | JSON | CRC-32/ISO-HDLC LE over the whole frame before it`.
    pub fn ocpp_tcp_alt() -> Self {
        let length = LengthFieldConfig::new(
            ALT_MAX_FRAME,
            ALT_LENGTH_OFFSET,
            ALT_LENGTH_WIDTH,
            ALT_LENGTH_ADJUSTMENT,
            0,
        )
        .unwrap_or_else(|_| unreachable!("preset constants are valid (tested)"))
        .with_byte_order(ByteOrder::Little);
        let frame = FrameSpec::new(length)
            .with_marker(ALT_MARKER)
            .unwrap_or_else(|_| unreachable!("a three-byte marker is valid"))
            .with_crc(CrcSpec {
                algorithm: CrcAlgorithm::Crc32IsoHdlc,
                start: 0,
                end_gap: 0,
                byte_order: ByteOrder::Little,
                accept_either_order: false,
            });
        Envelope {
            frame,
            header: ALT_HEADER.to_vec(),
        }
    }

    /// A preset by codec name.
    pub fn preset(name: &str) -> Option<Envelope> {
        match name {
            OCPP_TCP => Some(Envelope::ocpp_tcp()),
            OCPP_TCP_ALT => Some(Envelope::ocpp_tcp_alt()),
            _ => None,
        }
    }

    /// The framing parameters.
    pub fn frame_spec(&self) -> &FrameSpec {
        &self.frame
    }

    /// A fresh stream decoder for one connection.
    pub fn decoder(&self) -> FrameDecoder {
        FrameDecoder::new(self.frame.clone())
    }

    /// Wraps one OCPP-J JSON text in the envelope.
    pub fn encode(&self, json: &[u8]) -> Result<Bytes, EncodeError> {
        let mut payload = Vec::with_capacity(self.header.len() + json.len());
        payload.extend_from_slice(&self.header);
        payload.extend_from_slice(json);
        self.frame.encode(&payload)
    }

    /// The JSON text inside a whole frame as the decoder yields it; `None` if the frame is too short to hold the
    /// envelope.
    pub fn payload<'a>(&self, frame: &'a [u8]) -> Option<&'a [u8]> {
        let start = self.frame.length().length_field_end_offset();
        let crc = self.frame.crc().map_or(0, |c| c.algorithm.width_bytes());
        let end = frame.len().checked_sub(crc)?;
        frame.get(start..end)
    }

    /// Whether a connection's first bytes start with this envelope's marker (sniffing listeners).
    pub fn detect(&self, first_bytes: &[u8]) -> Detect {
        let Some(marker) = self.frame.marker() else {
            return Detect::NoMatch;
        };
        if first_bytes.len() < marker.len() {
            if marker.starts_with(first_bytes) {
                Detect::NeedMore
            } else {
                Detect::NoMatch
            }
        } else if first_bytes.starts_with(marker) {
            Detect::Match
        } else {
            Detect::NoMatch
        }
    }
}

#[cfg(test)]
mod tests;
