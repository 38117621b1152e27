//! What the framing decoders yield: good frames and every bad-frame outcome, as items, plus running counters.
//!
//! `tokio_util`'s `Framed` ends the stream on the first `Err`, so an outcome the connection should survive
//! (a too-long frame, a CRC error, line noise) is an item here. The caller counts it, dead-letters it, or closes
//! the connection — that decision belongs to a later layer, as in Netty.

use bytes::Bytes;

/// How a frame's CRC was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcMatch {
    /// The envelope has no CRC.
    Unchecked,
    /// The CRC matched in the envelope's wire byte order.
    InOrder,
    /// The CRC matched only with its bytes reversed (accepted because the envelope allows either order).
    Swapped,
}

/// Why a header could not start a frame (Netty's `CorruptedFrameException` cases, plus one for the CRC layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// An 8-byte length field holds a negative value.
    NegativeLength {
        /// The signed field value.
        field: i64,
    },
    /// The adjusted frame length ends before the length field does.
    ShorterThanHeader {
        /// Adjusted frame length `F`.
        frame_length: i64,
        /// End of the length field `O + L`.
        header_end: usize,
    },
    /// The frame is shorter than the bytes to strip from it.
    ShorterThanStrip {
        /// Adjusted frame length `F`.
        frame_length: u64,
        /// `initial_bytes_to_strip`.
        strip: usize,
    },
    /// The frame is too short to hold its CRC field and covered range.
    ShorterThanCrc {
        /// Adjusted frame length `F`.
        frame_length: u64,
        /// Smallest frame length the CRC layout allows.
        needed: usize,
    },
}

impl Corruption {
    /// Stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Corruption::NegativeLength { .. } => "negative_length",
            Corruption::ShorterThanHeader { .. } => "shorter_than_header",
            Corruption::ShorterThanStrip { .. } => "shorter_than_strip",
            Corruption::ShorterThanCrc { .. } => "shorter_than_crc",
        }
    }
}

/// One outcome of a framing decoder. Exactly one item per frame, bad or good, plus [`FrameEvent::Garbage`] for
/// each run of bytes skipped while looking for a start marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    /// A good frame, with `initial_bytes_to_strip` bytes removed from its front; a zero-copy slice of the read
    /// buffer.
    Frame {
        /// The frame bytes.
        bytes: Bytes,
        /// How its CRC matched.
        crc: CrcMatch,
    },
    /// A frame longer than `max_frame_length` (Netty's `TooLongFrameException`); its bytes are skipped.
    TooLong {
        /// Announced whole-frame length `F`.
        frame_length: u64,
        /// The configured maximum.
        max_frame_length: usize,
    },
    /// A header that cannot start a frame; `skipped` bytes were dropped to move on.
    Corrupted {
        /// What was wrong.
        corruption: Corruption,
        /// Bytes dropped (Netty: the header, or the frame when it is shorter than the strip; with a start marker:
        /// the marker only).
        skipped: usize,
    },
    /// A frame whose CRC matched in no accepted order. `bytes` is the whole frame as framed by its length field,
    /// kept for a dead-letter topic.
    CrcMismatch {
        /// The rejected frame, unstripped.
        bytes: Bytes,
        /// CRC computed over the covered range.
        computed: u32,
        /// CRC read from the frame in the envelope's wire order.
        received: u32,
    },
    /// Bytes skipped before a start marker (line noise, or the rest of a rejected frame); reported once per run,
    /// when the next marker (or the end of the stream) is reached.
    Garbage {
        /// Number of bytes skipped.
        skipped: usize,
    },
    /// The stream ended inside a frame; the buffered bytes were dropped.
    Truncated {
        /// Number of bytes dropped.
        dropped: usize,
    },
}

impl FrameEvent {
    /// The frame bytes if this is a good frame.
    pub fn frame(&self) -> Option<&Bytes> {
        match self {
            FrameEvent::Frame { bytes, .. } => Some(bytes),
            _ => None,
        }
    }

    /// Stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameEvent::Frame { .. } => "frame",
            FrameEvent::TooLong { .. } => "too_long",
            FrameEvent::Corrupted { .. } => "corrupted",
            FrameEvent::CrcMismatch { .. } => "crc_mismatch",
            FrameEvent::Garbage { .. } => "garbage",
            FrameEvent::Truncated { .. } => "truncated",
        }
    }
}

/// Running counters of a decoder since it was created, for metrics; read with `stats()`. Each saturates at
/// `u32::MAX`: a server keeps one decoder per connection, and 32-bit counters keep YKC's connection state in a
/// 96 B allocator chunk instead of 128.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Good frames emitted (including those with a swapped CRC).
    pub frames: u32,
    /// Bytes skipped while looking for a start marker (counted as they are skipped).
    pub garbage_bytes: u32,
    /// Frames rejected because the CRC matched in no accepted order.
    pub crc_errors: u32,
    /// Good frames whose CRC matched only in swapped byte order.
    pub swapped_crc: u32,
    /// Frames longer than `max_frame_length`.
    pub too_long: u32,
    /// Headers that could not start a frame.
    pub corrupted: u32,
    /// Streams that ended inside a frame.
    pub truncated: u32,
}
