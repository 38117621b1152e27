//! Spool settings: where the segments live, how big the spool and each segment may grow, how much room is kept for
//! billing records, and when data is forced to disk.
//!
//! The struct is serde-ready so the MQTT section of the configuration can embed it (for example as
//! `[mqtt.spool]`); every field has a named default.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::SpoolError;
use super::record::RECORD_HEADER_BYTES;
use super::segment::SEGMENT_HEADER_BYTES;

/// Default spool directory, relative to the working directory.
pub const DEFAULT_SPOOL_DIR: &str = "spool";
/// Default total size of all segment files, bytes (256 MiB).
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Default size at which a segment is sealed and a new one started, bytes (8 MiB).
pub const DEFAULT_SPOOL_SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Default room at the top of the spool that only critical (billing) records may use, bytes (16 MiB).
pub const DEFAULT_SPOOL_CRITICAL_RESERVE_BYTES: u64 = 16 * 1024 * 1024;
/// Default fsync interval, milliseconds.
pub const DEFAULT_SPOOL_FSYNC_INTERVAL_MS: u64 = 100;
/// Largest accepted `segment_bytes`: record offsets inside a segment are kept as `u32`.
pub const MAX_SPOOL_SEGMENT_BYTES: u64 = u32::MAX as u64;

/// When appended records are forced to disk (`fsync`). `sync()` always forces, whatever the policy.
///
/// Serde form: `"always"`, `"never"`, `"interval"` (every 100 ms) or `{ interval_ms = N }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync after every append: nothing acknowledged is lost on power failure; slowest.
    Always,
    /// fsync on the first append after the interval has passed (and on `sync_if_due`): a power failure loses at most
    /// the last interval of records that were not explicitly synced.
    Interval(Duration),
    /// Never fsync on its own; the kernel writes back when it likes (typically within 30 s). A process crash loses
    /// nothing, a power failure loses whatever was not explicitly synced.
    Never,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_millis(DEFAULT_SPOOL_FSYNC_INTERVAL_MS))
    }
}

impl fmt::Display for FsyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsyncPolicy::Always => f.write_str("always"),
            FsyncPolicy::Interval(d) => write!(f, "interval {} ms", d.as_millis()),
            FsyncPolicy::Never => f.write_str("never"),
        }
    }
}

/// The two serde shapes of [`FsyncPolicy`]: a word, or a table with the interval.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FsyncRepr {
    Word(String),
    Interval {
        #[serde(rename = "interval_ms")]
        interval_ms: u64,
    },
}

impl Serialize for FsyncPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let repr = match self {
            FsyncPolicy::Always => FsyncRepr::Word("always".into()),
            FsyncPolicy::Never => FsyncRepr::Word("never".into()),
            FsyncPolicy::Interval(d) => FsyncRepr::Interval {
                interval_ms: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            },
        };
        repr.serialize(s)
    }
}

impl<'de> Deserialize<'de> for FsyncPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match FsyncRepr::deserialize(d)? {
            FsyncRepr::Word(w) => match w.as_str() {
                "always" => Ok(FsyncPolicy::Always),
                "never" => Ok(FsyncPolicy::Never),
                "interval" => Ok(FsyncPolicy::default()),
                other => Err(D::Error::custom(format!(
                    "unknown fsync policy `{other}`: use \"always\", \"never\", \"interval\" or {{ interval_ms = N }}"
                ))),
            },
            FsyncRepr::Interval { interval_ms: 0 } => Err(D::Error::custom(
                "fsync interval_ms must be above 0 (use \"always\" to fsync every append)",
            )),
            FsyncRepr::Interval { interval_ms } => Ok(FsyncPolicy::Interval(Duration::from_millis(interval_ms))),
        }
    }
}

/// Where and how big the disk spool is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Directory holding the segment files and the ack checkpoint; created if missing. One spool per directory.
    pub dir: PathBuf,
    /// Upper bound on the sum of segment file sizes, bytes.
    pub max_bytes: u64,
    /// A segment is sealed once it reaches this size, bytes; acknowledged data is freed one whole segment at a time.
    pub segment_bytes: u64,
    /// The top of the spool kept for critical (billing) records: telemetry is refused above
    /// `max_bytes - critical_reserve_bytes`.
    pub critical_reserve_bytes: u64,
    /// When appends are forced to disk.
    pub fsync: FsyncPolicy,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            dir: PathBuf::from(DEFAULT_SPOOL_DIR),
            max_bytes: DEFAULT_SPOOL_MAX_BYTES,
            segment_bytes: DEFAULT_SPOOL_SEGMENT_BYTES,
            critical_reserve_bytes: DEFAULT_SPOOL_CRITICAL_RESERVE_BYTES,
            fsync: FsyncPolicy::default(),
        }
    }
}

impl SpoolConfig {
    /// Checks that the numbers can work together: a segment holds at least one small record, the reserve leaves room
    /// for telemetry, and a segment fits in the spool.
    pub fn validate(&self) -> Result<(), SpoolError> {
        let invalid = |field, reason: String| Err(SpoolError::InvalidConfig { field, reason });
        let smallest = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 1;
        if self.dir.as_os_str().is_empty() {
            return invalid("dir", "must not be empty".into());
        }
        if self.segment_bytes < smallest || self.segment_bytes > MAX_SPOOL_SEGMENT_BYTES {
            return invalid(
                "segment_bytes",
                format!(
                    "{} is outside {smallest}..={MAX_SPOOL_SEGMENT_BYTES}",
                    self.segment_bytes
                ),
            );
        }
        if self.max_bytes < self.segment_bytes {
            return invalid(
                "max_bytes",
                format!(
                    "{} is below segment_bytes {}",
                    self.max_bytes, self.segment_bytes
                ),
            );
        }
        if self.critical_reserve_bytes >= self.max_bytes {
            return invalid(
                "critical_reserve_bytes",
                format!(
                    "{} leaves no room for telemetry under max_bytes {}",
                    self.critical_reserve_bytes, self.max_bytes
                ),
            );
        }
        if self.fsync == FsyncPolicy::Interval(Duration::ZERO) {
            return invalid("fsync", "interval must be above 0 (use \"always\")".into());
        }
        Ok(())
    }

    /// Largest payload one record may carry: a record never spans segments.
    pub fn max_payload_bytes(&self) -> u64 {
        self.segment_bytes
            .saturating_sub(SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES)
            .min(u64::from(u32::MAX))
    }
}
