//! Errors at the plug-in seam: per-frame rejections (the stream goes on) and connection-fatal errors.

use thiserror::Error;

/// Why one frame was rejected. Cheap and non-allocating: it is built on the decode hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The frame's checksum did not match its content.
    #[error("bad checksum: expected {expected:#06x}, got {got:#06x}")]
    BadChecksum {
        /// Checksum computed over the frame.
        expected: u32,
        /// Checksum carried by the frame.
        got: u32,
    },
    /// The body length does not fit the message type.
    #[error("frame type {frame_type:#04x}: body of {got} bytes, expected {expected}")]
    BodyLength {
        /// Message type code.
        frame_type: u16,
        /// Length the type requires.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// A message type this codec does not know.
    #[error("unknown frame type {frame_type:#04x}")]
    UnknownType {
        /// Message type code.
        frame_type: u16,
    },
    /// A field holds a value outside its domain.
    #[error("malformed field `{field}` at byte {offset}")]
    Malformed {
        /// Field name as the protocol document calls it.
        field: &'static str,
        /// Byte offset of the field within the frame.
        offset: usize,
    },
    /// The declared frame length exceeds the listener's maximum; the frame was discarded.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    TooLong {
        /// Declared length.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// Bytes before a start marker were skipped to resynchronise.
    #[error("skipped {skipped} bytes to the next start marker")]
    Resync {
        /// Bytes skipped.
        skipped: usize,
    },
}

impl FrameError {
    /// Stable metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::BadChecksum { .. } => "bad_checksum",
            FrameError::BodyLength { .. } => "body_length",
            FrameError::UnknownType { .. } => "unknown_type",
            FrameError::Malformed { .. } => "malformed",
            FrameError::TooLong { .. } => "too_long",
            FrameError::Resync { .. } => "resync",
        }
    }
}

/// Errors that end a connection or refuse a command.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PluginError {
    /// The byte stream cannot be resynchronised.
    #[error("stream corrupt: {0}")]
    Corrupt(FrameError),
    /// The protocol cannot express this command.
    #[error("command `{command}` is not supported by this protocol")]
    Unsupported {
        /// Normalized command name.
        command: &'static str,
    },
    /// A command argument cannot be encoded.
    #[error("argument `{field}` cannot be encoded: {reason}")]
    BadArgument {
        /// Argument name.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A deferred reply whose context the codec does not recognise.
    #[error("deferred reply context is malformed")]
    BadReplyContext,
}

impl PluginError {
    /// Stable metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Corrupt(e) => e.kind(),
            PluginError::Unsupported { .. } => "unsupported",
            PluginError::BadArgument { .. } => "bad_argument",
            PluginError::BadReplyContext => "bad_reply_context",
        }
    }
}
