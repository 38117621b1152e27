//! The disk spool: a bounded, append-only queue of events kept while the MQTT broker is unreachable, replayed in
//! order after it returns.
//!
//! How it fits: the MQTT sink appends each event it cannot publish ([`Spool::append`]), replays from
//! [`Spool::first_unacked`] with [`Spool::read_from`] once connected, and calls [`Spool::ack_through`] when the
//! broker has acknowledged a batch. A billing event is acknowledged to the charger only after its record is durable:
//! the sink calls [`Spool::sync`] (or waits until [`Spool::synced_through`] reaches the record's seq).
//!
//! On disk (see `docs/decisions/0007-spool-segments-and-fsync.md`): a directory of segment files named by their
//! first sequence number ([`segment`]), each a header and CRC-framed records ([`record`]), plus an ack checkpoint
//! ([`checkpoint`]). Space is freed one whole segment at a time once every record in it is acknowledged. At
//! [`Spool::open`] the segments are scanned in order and a torn tail is truncated, so a crash loses at most what the
//! fsync policy allows ([`FsyncPolicy`]) and never makes the spool unreadable.
//!
//! All I/O is blocking `std::fs`; the caller runs the spool on its own thread or in `spawn_blocking`.

mod checkpoint;
mod config;
mod error;
mod record;
mod segment;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Instant;

use tracing::{info, warn};

pub use config::{
    FsyncPolicy, SpoolConfig, DEFAULT_SPOOL_CRITICAL_RESERVE_BYTES, DEFAULT_SPOOL_DIR,
    DEFAULT_SPOOL_FSYNC_INTERVAL_MS, DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_SEGMENT_BYTES,
    MAX_SPOOL_SEGMENT_BYTES,
};
pub use error::SpoolError;
pub use record::{RecordClass, RECORD_HEADER_BYTES};
pub use segment::SEGMENT_HEADER_BYTES;

use record::{Next, RecordReader};
use segment::{Scanned, Segment};

/// Counters since [`Spool::open`], for Prometheus (the MQTT sink owns the metric registration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Records appended, telemetry.
    pub appended_telemetry: u64,
    /// Records appended, critical.
    pub appended_critical: u64,
    /// Telemetry records refused because the spool reached the critical reserve.
    pub refused_telemetry: u64,
    /// Critical records refused because the spool reached `max_bytes`.
    pub refused_critical: u64,
    /// fsync rounds performed (automatic and explicit).
    pub fsyncs: u64,
    /// Segment files deleted after their records were acknowledged.
    pub segments_deleted: u64,
}

/// What [`Spool::open`] found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments kept.
    pub segments: usize,
    /// Unacknowledged records found (they will be replayed).
    pub records: u64,
    /// Segments that had a torn tail cut off, or held no whole record and were deleted.
    pub torn_segments: usize,
    /// Bytes removed from torn tails.
    pub truncated_bytes: u64,
    /// Acknowledged position read from the checkpoint (`0` = none).
    pub acked: u64,
}

/// The segment being appended to and its open file.
struct Active {
    file: File,
}

/// A bounded disk queue of records with sequence numbers that rise across restarts. See the module docs.
pub struct Spool {
    config: SpoolConfig,
    /// Segments in sequence order; the last one is the append target when `active` is set.
    segments: VecDeque<Segment>,
    active: Option<Active>,
    /// Sequence number the next append gets (starts at 1).
    next_seq: u64,
    /// Every record with seq ≤ `acked` has been delivered (`0` = none).
    acked: u64,
    /// Highest seq known durable (or delivered).
    synced: Option<u64>,
    /// Sum of segment file sizes.
    bytes: u64,
    /// A segment was created or deleted since the directory was last fsynced.
    dir_dirty: bool,
    last_sync: Instant,
    stats: SpoolStats,
    recovery: RecoveryReport,
    /// Reused encode buffer.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.config.dir)
            .field("segments", &self.segments.len())
            .field("next_seq", &self.next_seq)
            .field("acked", &self.acked)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Spool {
    /// Opens (creating if needed) the spool in `config.dir` and recovers what a previous run left: segments are
    /// scanned in order, torn tails truncated with a warning, fully acknowledged segments deleted, and the result
    /// fsynced so [`Spool::synced_through`] starts at the last recovered record.
    pub fn open(config: SpoolConfig) -> Result<Spool, SpoolError> {
        config.validate()?;
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(SpoolError::io("create directory", &dir))?;
        checkpoint::remove_stale_tmp(&dir)?;
        let acked = checkpoint::load(&dir)?;

        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(SpoolError::io("list directory", &dir))? {
            let entry = entry.map_err(SpoolError::io("list directory", &dir))?;
            let name = entry.file_name();
            match name.to_str().and_then(segment::parse_segment_name) {
                Some(first_seq) => names.push(first_seq),
                None if name.to_str().is_some_and(|n| n.ends_with(".seg")) => {
                    warn!(file = ?name, dir = %dir.display(), error_code = "spool_foreign_file",
                        "spool: ignoring a .seg file whose name is not a sequence number");
                }
                None => {}
            }
        }
        names.sort_unstable();

        let mut report = RecoveryReport {
            acked,
            ..RecoveryReport::default()
        };
        let mut segments: VecDeque<Segment> = VecDeque::new();
        let mut next_seq = acked.saturating_add(1).max(1);
        let mut dir_dirty = false;
        for first_seq in names {
            let path = dir.join(segment::segment_name(first_seq));
            if let Some(prev) = segments.back() {
                if first_seq < prev.next_seq() {
                    return Err(SpoolError::Corrupt {
                        path,
                        offset: 0,
                        reason: "segment overlaps the sequence numbers of the one before it",
                    });
                }
            }
            next_seq = next_seq.max(first_seq);
            match segment::scan(&path, first_seq)? {
                Scanned::Removed => {
                    report.torn_segments += 1;
                    dir_dirty = true;
                }
                Scanned::Kept { segment, truncated } => {
                    if truncated > 0 {
                        report.torn_segments += 1;
                        report.truncated_bytes += truncated;
                    }
                    next_seq = next_seq.max(segment.next_seq());
                    if segment.last_seq().is_some_and(|last| last <= acked) {
                        // Acknowledged before a crash that came between the checkpoint and the delete.
                        std::fs::remove_file(&segment.path)
                            .map_err(SpoolError::io("remove segment", &segment.path))?;
                        dir_dirty = true;
                    } else {
                        segments.push_back(segment);
                    }
                }
            }
        }

        let active = match segments.back() {
            Some(last) if last.size < config.segment_bytes => Some(Active {
                file: segment::reopen(last)?,
            }),
            _ => None,
        };
        report.segments = segments.len();
        report.records = segments.iter().map(|s| s.unacked(acked)).sum();
        let bytes = segments.iter().map(|s| s.size).sum();
        for s in segments.iter_mut() {
            s.dirty = true; // a crashed run may have left them only in the page cache
        }
        let mut spool = Spool {
            config,
            segments,
            active,
            next_seq,
            acked,
            synced: None,
            bytes,
            dir_dirty: true,
            last_sync: Instant::now(),
            stats: SpoolStats::default(),
            recovery: report,
            scratch: Vec::new(),
        };
        spool.sync()?;
        spool.stats.fsyncs = 0;
        let r = &spool.recovery;
        info!(dir = %dir.display(), segments = r.segments, records = r.records, acked = r.acked,
            torn_segments = r.torn_segments, truncated_bytes = r.truncated_bytes, next_seq = spool.next_seq,
            bytes = spool.bytes, fsync = %spool.config.fsync, removed_files = dir_dirty, "spool opened");
        Ok(spool)
    }

    /// Appends one record and returns its sequence number (monotonic across restarts while the checkpoint survives).
    ///
    /// Refused with [`SpoolError::Full`] when the record would take the spool over its class limit, and with
    /// [`SpoolError::TooLarge`] when it cannot fit in one segment. The data is written to the file at once (a
    /// process crash does not lose it); whether it is fsynced before returning depends on [`FsyncPolicy`].
    pub fn append(&mut self, payload: &[u8], class: RecordClass) -> Result<u64, SpoolError> {
        let max_payload = self.config.max_payload_bytes();
        if payload.len() as u64 > max_payload {
            return Err(SpoolError::TooLarge {
                len: payload.len(),
                max: max_payload,
            });
        }
        let frame = record::frame_len(payload.len());
        let seq = self.next_seq;
        let rolls = match (&self.active, self.segments.back()) {
            (Some(_), Some(seg)) => {
                seg.next_seq() != seq || seg.size + frame > self.config.segment_bytes
            }
            _ => true,
        };
        let needed = frame + if rolls { SEGMENT_HEADER_BYTES } else { 0 };
        let limit = match class {
            RecordClass::Telemetry => self.config.max_bytes - self.config.critical_reserve_bytes,
            RecordClass::Critical => self.config.max_bytes,
        };
        if self.bytes + needed > limit {
            match class {
                RecordClass::Telemetry => self.stats.refused_telemetry += 1,
                RecordClass::Critical => self.stats.refused_critical += 1,
            }
            return Err(SpoolError::Full {
                class,
                needed,
                bytes: self.bytes,
                limit,
            });
        }
        if rolls {
            self.roll(seq)?;
        }
        self.scratch.clear();
        record::encode(&mut self.scratch, seq, class, payload);
        let (Some(active), Some(seg)) = (self.active.as_mut(), self.segments.back_mut()) else {
            return Err(SpoolError::Corrupt {
                path: self.config.dir.clone(),
                offset: 0,
                reason: "no active segment after roll-over",
            });
        };
        let offset = u32::try_from(seg.size).map_err(|_| SpoolError::Corrupt {
            path: seg.path.clone(),
            offset: seg.size,
            reason: "segment beyond the largest segment size",
        })?;
        if let Err(source) = active.file.write_all(&self.scratch) {
            // Cut off whatever part of the record reached the file, and in any case start a new segment next time,
            // so a partial record can only ever be a segment's torn tail.
            let _ = active.file.set_len(seg.size);
            self.active = None;
            return Err(SpoolError::Io {
                op: "write segment",
                path: seg.path.clone(),
                source,
            });
        }
        seg.offsets.push(offset);
        seg.size += frame;
        seg.dirty = true;
        self.bytes += frame;
        self.next_seq += 1;
        match class {
            RecordClass::Telemetry => self.stats.appended_telemetry += 1,
            RecordClass::Critical => self.stats.appended_critical += 1,
        }
        match self.config.fsync {
            FsyncPolicy::Always => self.sync()?,
            FsyncPolicy::Interval(every) if self.last_sync.elapsed() >= every => self.sync()?,
            FsyncPolicy::Interval(_) | FsyncPolicy::Never => {}
        }
        Ok(seq)
    }

    /// Seals the current segment and starts a new one whose first record will be `seq`.
    fn roll(&mut self, seq: u64) -> Result<(), SpoolError> {
        self.active = None;
        let (segment, file) = segment::create(&self.config.dir, seq)?;
        self.bytes += segment.size;
        self.segments.push_back(segment);
        self.active = Some(Active { file });
        self.dir_dirty = true;
        Ok(())
    }

    /// fsyncs every record written so far (all segments with unsynced data, and the directory if segments were
    /// created or deleted). Always forces, whatever the policy; a no-op when nothing is pending.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        let last_written = self.next_seq.checked_sub(1).filter(|&s| s > 0);
        let active_first = self
            .active
            .as_ref()
            .and(self.segments.back())
            .map(|s| s.first_seq);
        let mut did_work = false;
        for seg in self.segments.iter_mut().filter(|s| s.dirty) {
            let result = match (&self.active, active_first) {
                (Some(active), Some(first)) if first == seg.first_seq => active.file.sync_data(),
                _ => File::open(&seg.path).and_then(|f| f.sync_data()),
            };
            result.map_err(SpoolError::io("fsync segment", &seg.path))?;
            seg.dirty = false;
            did_work = true;
        }
        if self.dir_dirty {
            checkpoint::sync_dir(&self.config.dir)?;
            self.dir_dirty = false;
            did_work = true;
        }
        if did_work {
            self.stats.fsyncs += 1;
        }
        self.synced = last_written;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Runs [`Spool::sync`] if the policy is `Interval` and the interval has passed with unsynced data; returns
    /// whether it synced. The owner calls this on a timer so a quiet spool's last records become durable too.
    pub fn sync_if_due(&mut self) -> Result<bool, SpoolError> {
        match self.config.fsync {
            FsyncPolicy::Interval(every)
                if self.has_unsynced() && self.last_sync.elapsed() >= every =>
            {
                self.sync()?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn has_unsynced(&self) -> bool {
        self.dir_dirty || self.segments.iter().any(|s| s.dirty)
    }

    /// Highest sequence number known durable: every record up to it is fsynced or already acknowledged.
    /// `None` before the first record.
    pub fn synced_through(&self) -> Option<u64> {
        self.synced
    }

    /// Up to `max_records` unacknowledged records with seq ≥ `seq`, in order, as `(seq, payload)`.
    ///
    /// Acknowledged records are skipped even while their segment is still on disk. The records are read back from
    /// the files and their CRC checked again; a mismatch is [`SpoolError::Corrupt`].
    pub fn read_from(
        &self,
        seq: u64,
        max_records: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, SpoolError> {
        let mut out = Vec::new();
        let mut want = seq.max(self.acked.saturating_add(1));
        for seg in &self.segments {
            if out.len() >= max_records {
                break;
            }
            let Some(last) = seg.last_seq() else { continue };
            if last < want {
                continue;
            }
            want = want.max(seg.first_seq);
            let Some(offset) = seg.offset_of(want) else {
                continue;
            };
            let path = &seg.path;
            let mut file = File::open(path).map_err(SpoolError::io("open segment", path))?;
            file.seek(SeekFrom::Start(offset))
                .map_err(SpoolError::io("seek segment", path))?;
            let mut reader =
                RecordReader::new(BufReader::new(file), seg.size.saturating_sub(offset));
            while out.len() < max_records && want <= last {
                let corrupt = |reason| SpoolError::Corrupt {
                    path: path.clone(),
                    offset,
                    reason,
                };
                match reader
                    .next_record()
                    .map_err(SpoolError::io("read segment", path))?
                {
                    Next::Record(r, _) if r.seq == want => out.push((r.seq, r.payload)),
                    Next::Record(..) => {
                        return Err(corrupt("record sequence number changed on disk"))
                    }
                    Next::End => return Err(corrupt("segment shorter than when it was written")),
                    Next::Torn(reason) => return Err(corrupt(reason)),
                }
                want += 1;
            }
        }
        Ok(out)
    }

    /// Marks every record with seq ≤ `seq` as delivered: the checkpoint is rewritten (fsynced under
    /// `FsyncPolicy::Always`), then every segment whose records are all delivered is deleted.
    ///
    /// Call it per delivered batch, not per record: each call that moves the position rewrites the checkpoint file.
    /// A `seq` beyond the last appended record is clamped to it; a `seq` at or below the current position is a no-op.
    pub fn ack_through(&mut self, seq: u64) -> Result<(), SpoolError> {
        let seq = seq.min(self.next_seq.saturating_sub(1));
        if seq <= self.acked {
            return Ok(());
        }
        let durable = self.config.fsync == FsyncPolicy::Always;
        checkpoint::store(&self.config.dir, seq, durable)?;
        self.acked = seq;
        while let Some(front) = self.segments.front() {
            if front.last_seq().is_none_or(|last| last > seq) {
                break;
            }
            if self.segments.len() == 1 {
                self.active = None;
            }
            std::fs::remove_file(&front.path)
                .map_err(SpoolError::io("remove segment", &front.path))?;
            self.bytes -= front.size;
            self.segments.pop_front();
            self.stats.segments_deleted += 1;
            self.dir_dirty = true;
        }
        self.synced = Some(self.synced.map_or(seq, |s| s.max(seq)));
        if durable && self.dir_dirty {
            checkpoint::sync_dir(&self.config.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Sequence number of the oldest record not yet acknowledged, or `None` when everything is delivered.
    pub fn first_unacked(&self) -> Option<u64> {
        self.segments
            .iter()
            .find(|s| s.last_seq().is_some_and(|last| last > self.acked))
            .map(|s| s.first_seq.max(self.acked + 1))
    }

    /// Records not yet acknowledged.
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|s| s.unacked(self.acked)).sum()
    }

    /// Whether every record has been acknowledged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes on disk in segment files (acknowledged records in a partly delivered segment still count).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Segment files on disk.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Highest acknowledged sequence number (`0` = none).
    pub fn acked_through(&self) -> u64 {
        self.acked
    }

    /// Sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The configuration the spool was opened with.
    pub fn config(&self) -> &SpoolConfig {
        &self.config
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// Counters since open.
    pub fn stats(&self) -> &SpoolStats {
        &self.stats
    }

    /// What [`Spool::open`] recovered.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }
}

#[cfg(test)]
mod tests;
