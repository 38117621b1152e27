//! Segment files: `{first_seq:020}.seg`, an 8-byte header (`CGSPOOL1`), then records back to back.
//!
//! Names are zero-padded decimal so they sort by first sequence number both as strings and as numbers. Within a
//! segment, sequence numbers are consecutive from the name's number; this lets the in-memory index be a plain
//! vector of record offsets. [`scan`] rebuilds that index after a restart and truncates a torn tail.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tracing::warn;

use super::error::SpoolError;
use super::record::{Next, RecordReader};

/// Magic and format version at the start of every segment.
pub const SEGMENT_MAGIC: &[u8; 8] = b"CGSPOOL1";
/// Bytes of the segment header.
pub const SEGMENT_HEADER_BYTES: u64 = SEGMENT_MAGIC.len() as u64;
/// File-name suffix of segments.
const SEGMENT_SUFFIX: &str = ".seg";
/// Digits in a segment name: enough for any `u64`.
const NAME_DIGITS: usize = 20;

/// File name of the segment whose first record is `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:0NAME_DIGITS$}{SEGMENT_SUFFIX}")
}

/// The first sequence number encoded in a segment file name, or `None` if the name is not a segment's.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != NAME_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What the spool knows about one segment file: its records' offsets, its size, and whether it has unsynced data.
#[derive(Debug)]
pub struct Segment {
    /// Sequence number of the first record (and of the file name).
    pub first_seq: u64,
    /// Path of the file.
    pub path: PathBuf,
    /// Byte offset of each record; record `i` has sequence number `first_seq + i`.
    pub offsets: Vec<u32>,
    /// File size in bytes (header included).
    pub size: u64,
    /// Written since its last fsync.
    pub dirty: bool,
}

impl Segment {
    /// Sequence number of the last record, if any.
    pub fn last_seq(&self) -> Option<u64> {
        let n = self.offsets.len() as u64;
        n.checked_sub(1).map(|i| self.first_seq + i)
    }

    /// Sequence number the next record appended here must have.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.offsets.len() as u64
    }

    /// Records in this segment with a sequence number above `acked`.
    pub fn unacked(&self, acked: u64) -> u64 {
        match self.last_seq() {
            Some(last) if last > acked => last - acked.max(self.first_seq.saturating_sub(1)),
            _ => 0,
        }
    }

    /// Byte offset of record `seq`, if this segment holds it.
    pub fn offset_of(&self, seq: u64) -> Option<u64> {
        let i = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.offsets.get(i).map(|&o| u64::from(o))
    }
}

/// Outcome of scanning a segment at start-up.
#[derive(Debug)]
pub enum Scanned {
    /// The file held no whole record (for example a crash right after it was created) and was deleted.
    Removed,
    /// The segment, with `truncated` bytes of torn tail cut off.
    Kept {
        /// The recovered segment.
        segment: Segment,
        /// Bytes removed from the end of the file.
        truncated: u64,
    },
}

/// Opens the segment at `path` (named for `first_seq`), indexes its records and truncates a torn tail.
///
/// A file shorter than the header, or with no whole record, is deleted. A file with a foreign header is
/// [`SpoolError::Corrupt`]: it is not ours to cut. Everything else that does not parse ends the segment there.
pub fn scan(path: &Path, first_seq: u64) -> Result<Scanned, SpoolError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(SpoolError::io("open segment", path))?;
    let file_len = file
        .metadata()
        .map_err(SpoolError::io("stat segment", path))?
        .len();
    if file_len < SEGMENT_HEADER_BYTES {
        warn!(path = %path.display(), file_len, error_code = "spool_torn_tail",
            "spool: deleting a segment shorter than its header (torn creation)");
        drop(file);
        std::fs::remove_file(path).map_err(SpoolError::io("remove segment", path))?;
        return Ok(Scanned::Removed);
    }
    let mut reader = BufReader::new(&mut file);
    let mut magic = [0u8; SEGMENT_MAGIC.len()];
    std::io::Read::read_exact(&mut reader, &mut magic)
        .map_err(SpoolError::io("read segment", path))?;
    if &magic != SEGMENT_MAGIC {
        return Err(SpoolError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "segment header is not CGSPOOL1",
        });
    }
    let mut records = RecordReader::new(reader, file_len - SEGMENT_HEADER_BYTES);
    let mut offsets = Vec::new();
    let mut offset = SEGMENT_HEADER_BYTES;
    let torn = loop {
        let next = records
            .next_record()
            .map_err(SpoolError::io("read segment", path))?;
        match next {
            Next::End => break None,
            Next::Torn(reason) => break Some(reason),
            Next::Record(record, len) => {
                if record.seq != first_seq + offsets.len() as u64 {
                    break Some("sequence number out of order");
                }
                let Ok(at) = u32::try_from(offset) else {
                    break Some("record beyond the largest segment size");
                };
                offsets.push(at);
                offset += len;
            }
        }
    };
    drop(records);
    let truncated = file_len - offset;
    if offsets.is_empty() {
        warn!(path = %path.display(), file_len, reason = torn.unwrap_or("no records"),
            error_code = "spool_torn_tail", "spool: deleting a segment without a whole record");
        drop(file);
        std::fs::remove_file(path).map_err(SpoolError::io("remove segment", path))?;
        return Ok(Scanned::Removed);
    }
    if let Some(reason) = torn {
        warn!(path = %path.display(), offset, dropped_bytes = truncated, reason,
            error_code = "spool_torn_tail", "spool: truncating a torn tail");
        file.set_len(offset)
            .map_err(SpoolError::io("truncate segment", path))?;
    }
    Ok(Scanned::Kept {
        segment: Segment {
            first_seq,
            path: path.to_path_buf(),
            offsets,
            size: offset,
            dirty: torn.is_some(),
        },
        truncated,
    })
}

/// Creates a new, empty segment file for `first_seq` in `dir`, header written, positioned at its end.
pub fn create(dir: &Path, first_seq: u64) -> Result<(Segment, File), SpoolError> {
    let path = dir.join(segment_name(first_seq));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(SpoolError::io("create segment", &path))?;
    std::io::Write::write_all(&mut file, SEGMENT_MAGIC)
        .map_err(SpoolError::io("write segment", &path))?;
    let segment = Segment {
        first_seq,
        path,
        offsets: Vec::new(),
        size: SEGMENT_HEADER_BYTES,
        dirty: true,
    };
    Ok((segment, file))
}

/// Opens an existing segment for appending at its recovered end.
pub fn reopen(segment: &Segment) -> Result<File, SpoolError> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(&segment.path)
        .map_err(SpoolError::io("open segment", &segment.path))?;
    file.seek(SeekFrom::Start(segment.size))
        .map_err(SpoolError::io("seek segment", &segment.path))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_first_seq_and_parse_back() {
        let names: Vec<String> = [1u64, 9, 10, 1_000_000, u64::MAX]
            .iter()
            .map(|&s| segment_name(s))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names);
        for (name, seq) in names.iter().zip([1u64, 9, 10, 1_000_000, u64::MAX]) {
            assert_eq!(parse_segment_name(name), Some(seq));
        }
    }

    #[test]
    fn foreign_names_are_not_segments() {
        for name in [
            "ack.ckpt",
            "1.seg",
            "0000000000000000000x.seg",
            "00000000000000000001.seg.tmp",
            "99999999999999999999.seg",
        ] {
            assert_eq!(parse_segment_name(name), None, "{name}");
        }
    }

    #[test]
    fn unacked_counts_only_records_above_the_ack() {
        let seg = Segment {
            first_seq: 10,
            path: PathBuf::new(),
            offsets: vec![8, 30, 60],
            size: 90,
            dirty: false,
        };
        assert_eq!(seg.unacked(0), 3);
        assert_eq!(seg.unacked(10), 2);
        assert_eq!(seg.unacked(12), 0);
        assert_eq!(seg.offset_of(11), Some(30));
        assert_eq!(seg.offset_of(13), None);
        assert_eq!(seg.offset_of(9), None);
    }
}
