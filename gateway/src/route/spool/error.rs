//! The spool's error type: which limit was hit, which file failed, or where the bytes on disk stopped making sense.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::record::RecordClass;

/// Why a spool operation failed.
///
/// `kind()` gives a stable short name for logs and metric labels; the variants carry the numbers an operator needs.
#[derive(Debug, Error)]
pub enum SpoolError {
    /// The record does not fit under the class's byte limit: telemetry stops at `max_bytes - critical_reserve_bytes`,
    /// critical records at `max_bytes`. The caller drops telemetry (and counts it) and does not acknowledge a bill.
    #[error("spool full for {class:?}: {bytes} bytes used + {needed} needed > limit {limit}")]
    Full {
        /// Class of the refused record.
        class: RecordClass,
        /// Bytes the record would add on disk (frame, plus a segment header if it opens a segment).
        needed: u64,
        /// Bytes the spool holds now.
        bytes: u64,
        /// The limit for this class.
        limit: u64,
    },
    /// The payload cannot fit in one segment (a record never spans segments).
    #[error("record of {len} bytes exceeds the largest payload a segment holds ({max} bytes)")]
    TooLarge {
        /// Payload length.
        len: usize,
        /// Largest payload accepted with the configured `segment_bytes`.
        max: u64,
    },
    /// A file-system call failed.
    #[error("spool {op} failed on {}: {source}", path.display())]
    Io {
        /// What was being done (`"open"`, `"write"`, `"fsync"`, …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A file's content is not what the spool wrote and cannot be repaired by truncating a torn tail (wrong segment
    /// header, overlapping segments, or a record that changed after it was recovered).
    #[error("spool file {} corrupt at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The configuration cannot work (for example a reserve larger than the spool).
    #[error("invalid spool configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The configuration key.
        field: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

impl SpoolError {
    /// Stable short name, a metric label and the error code in logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SpoolError::Full { .. } => "spool_full",
            SpoolError::TooLarge { .. } => "spool_record_too_large",
            SpoolError::Io { .. } => "spool_io",
            SpoolError::Corrupt { .. } => "spool_corrupt",
            SpoolError::InvalidConfig { .. } => "spool_invalid_config",
        }
    }

    /// Builds an [`SpoolError::Io`] for `op` on `path`; used with `map_err`.
    pub(super) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> SpoolError {
        let path = path.into();
        move |source| SpoolError::Io { op, path, source }
    }
}
