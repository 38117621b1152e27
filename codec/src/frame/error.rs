//! Errors of the framing layer.
//!
//! Decoding never fails on bad bytes: bad frames are [`crate::frame::FrameEvent`] items so the stream goes on.
//! What is left for `Err` is small: a configuration Netty would refuse ([`ConfigError`]), a frame that cannot be
//! built ([`EncodeError`]) and I/O errors that `tokio_util`'s `Framed` hands through ([`FrameError`]).

use std::io;

use thiserror::Error;

/// A length-field or envelope configuration that cannot work, refused when it is built (or deserialized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// `max_frame_length` must be positive (Netty: `maxFrameLength must be a positive integer`).
    #[error("max_frame_length must be a positive integer, got 0")]
    ZeroMaxFrameLength,
    /// The length field must be 1, 2, 3, 4 or 8 bytes wide.
    #[error("unsupported length_field_length: {length} (expected: 1, 2, 3, 4, or 8)")]
    UnsupportedLengthFieldLength {
        /// The width asked for.
        length: usize,
    },
    /// The length field does not fit in a frame of the maximum size (Netty's `lengthFieldOffset + lengthFieldLength`
    /// check).
    #[error(
        "max_frame_length ({max}) must be equal to or greater than length_field_offset ({offset}) + \
         length_field_length ({length})"
    )]
    HeaderExceedsMax {
        /// `max_frame_length`.
        max: usize,
        /// `length_field_offset`.
        offset: usize,
        /// `length_field_length`.
        length: usize,
    },
    /// A start marker was declared but has no bytes.
    #[error("start marker is empty")]
    EmptyMarker,
    /// The start marker runs into the length field (the marker always sits at offset 0).
    #[error("start marker of {marker_len} bytes overlaps the length field at offset {offset}")]
    MarkerOverlapsLength {
        /// Marker length in bytes.
        marker_len: usize,
        /// `length_field_offset`.
        offset: usize,
    },
}

impl ConfigError {
    /// Stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::ZeroMaxFrameLength => "zero_max_frame_length",
            ConfigError::UnsupportedLengthFieldLength { .. } => "unsupported_length_field_length",
            ConfigError::HeaderExceedsMax { .. } => "header_exceeds_max",
            ConfigError::EmptyMarker => "empty_marker",
            ConfigError::MarkerOverlapsLength { .. } => "marker_overlaps_length",
        }
    }
}

/// A frame that cannot be built from the given payload.
#[derive(Debug, Error)]
pub enum EncodeError {
    /// The value to write into the length field is negative (Netty `LengthFieldPrepender`: "Adjusted frame length
    /// (..) is less than zero").
    #[error("adjusted frame length ({length}) is less than zero")]
    NegativeLength {
        /// The value that would have been written.
        length: i128,
    },
    /// The value does not fit the length field's width.
    #[error("length does not fit into a {field_length}-byte length field: {length}")]
    LengthDoesNotFit {
        /// The value that would have been written.
        length: i128,
        /// Width of the length field in bytes.
        field_length: usize,
    },
    /// The built frame would be longer than the envelope's `max_frame_length`, so its own decoder would reject it.
    #[error("frame of {frame_length} bytes exceeds max_frame_length {max}")]
    TooLong {
        /// Length of the whole frame.
        frame_length: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The payload is shorter than the header bytes that must come from it (those between the marker and the
    /// length field).
    #[error(
        "payload of {got} bytes is shorter than the {needed} header bytes before the length field"
    )]
    PayloadTooShort {
        /// Bytes the layout needs from the payload before the length field.
        needed: usize,
        /// Payload length.
        got: usize,
    },
    /// An I/O error passed through a `tokio_util` encoder.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl EncodeError {
    /// Stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EncodeError::NegativeLength { .. } => "negative_length",
            EncodeError::LengthDoesNotFit { .. } => "length_does_not_fit",
            EncodeError::TooLong { .. } => "too_long",
            EncodeError::PayloadTooShort { .. } => "payload_too_short",
            EncodeError::Io(_) => "io",
        }
    }
}

/// The `Err` of the framing decoders: only I/O errors, because every bad frame is reported as an item.
#[derive(Debug, Error)]
pub enum FrameError {
    /// An I/O error from the underlying transport, passed through by `tokio_util::codec::FramedRead`.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl FrameError {
    /// Stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::Io(_) => "io",
        }
    }
}
