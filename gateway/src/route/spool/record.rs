//! One spooled record on disk: a fixed header (CRC, length, sequence number, class) followed by the payload.
//!
//! ```text
//! offset  size  field
//! 0       4     crc      CRC-32/ISO-HDLC (zlib) of bytes 4.. of the record, little-endian
//! 4       4     len      payload length, u32 little-endian
//! 8       8     seq      sequence number, u64 little-endian
//! 16      1     class    0 = telemetry, 1 = critical
//! 17      len   payload
//! ```
//!
//! The reader never trusts a length from disk: it checks it against the bytes left in the file before allocating,
//! and any short, bad-CRC or unknown-class record ends the readable part of a segment (a torn tail).

use std::io::{self, Read};

use crc::{Crc, Table, CRC_32_ISO_HDLC};

/// CRC-32 (zlib) with slice-by-16 tables: the fast variant measured in `notes/rust-stack.md`.
const CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

/// Bytes before the payload of every record.
pub const RECORD_HEADER_BYTES: u64 = 17;
/// Header size as a `usize` for buffer arithmetic.
const HEADER: usize = RECORD_HEADER_BYTES as usize;

/// Whether a record may be refused when the spool is nearly full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordClass {
    /// Telemetry, heartbeats, status: refused (and counted by the caller) once the spool reaches the critical reserve.
    Telemetry,
    /// Billing and command results: may use the reserve; refused only at `max_bytes`.
    Critical,
}

impl RecordClass {
    /// Stable short name, a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordClass::Telemetry => "telemetry",
            RecordClass::Critical => "critical",
        }
    }

    fn to_byte(self) -> u8 {
        match self {
            RecordClass::Telemetry => 0,
            RecordClass::Critical => 1,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(RecordClass::Telemetry),
            1 => Some(RecordClass::Critical),
            _ => None,
        }
    }
}

/// Bytes a record with `payload_len` bytes of payload takes on disk.
pub fn frame_len(payload_len: usize) -> u64 {
    RECORD_HEADER_BYTES + payload_len as u64
}

/// Appends the encoded record to `out`. The caller has checked that `payload.len()` fits in a `u32`.
pub fn encode(out: &mut Vec<u8>, seq: u64, class: RecordClass, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(class.to_byte());
    out.extend_from_slice(payload);
    let crc = CRC32.checksum(out.get(start + 4..).unwrap_or_default());
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&crc.to_le_bytes());
    }
}

/// A record read back from a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sequence number.
    pub seq: u64,
    /// Class it was appended with.
    pub class: RecordClass,
    /// The payload.
    pub payload: Vec<u8>,
}

/// What the next bytes of a segment hold.
#[derive(Debug)]
pub enum Next {
    /// A whole record with a good CRC; `len` is its size on disk.
    Record(Record, u64),
    /// The readable part ended exactly at a record boundary.
    End,
    /// The bytes from here on are not a whole valid record; the reason says why.
    Torn(&'static str),
}

/// Reads records one after another from a reader positioned at a record boundary, knowing how many bytes are left.
pub struct RecordReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> RecordReader<R> {
    /// Wraps `inner`, which has `remaining` bytes left before the end of the file.
    pub fn new(inner: R, remaining: u64) -> Self {
        RecordReader { inner, remaining }
    }

    /// Reads the next record. I/O errors are returned as such; bad content is `Next::Torn`, never a panic.
    pub fn next_record(&mut self) -> io::Result<Next> {
        if self.remaining == 0 {
            return Ok(Next::End);
        }
        if self.remaining < RECORD_HEADER_BYTES {
            return Ok(Next::Torn("partial record header"));
        }
        let mut header = [0u8; HEADER];
        self.inner.read_exact(&mut header)?;
        let [c0, c1, c2, c3, l0, l1, l2, l3, s0, s1, s2, s3, s4, s5, s6, s7, class] = header;
        let crc = u32::from_le_bytes([c0, c1, c2, c3]);
        let len = u32::from_le_bytes([l0, l1, l2, l3]);
        let seq = u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]);
        let total = frame_len(len as usize);
        if total > self.remaining {
            return Ok(Next::Torn("record longer than the bytes left in the file"));
        }
        let Some(class) = RecordClass::from_byte(class) else {
            return Ok(Next::Torn("unknown record class"));
        };
        let mut payload = vec![0u8; len as usize];
        self.inner.read_exact(&mut payload)?;
        let mut digest = CRC32.digest();
        digest.update(header.get(4..).unwrap_or_default());
        digest.update(&payload);
        if digest.finalize() != crc {
            return Ok(Next::Torn("record CRC mismatch"));
        }
        self.remaining -= total;
        Ok(Next::Record(
            Record {
                seq,
                class,
                payload,
            },
            total,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (Vec<Record>, Option<&'static str>) {
        let mut reader = RecordReader::new(bytes, bytes.len() as u64);
        let mut out = Vec::new();
        loop {
            match reader.next_record().unwrap() {
                Next::Record(r, _) => out.push(r),
                Next::End => return (out, None),
                Next::Torn(why) => return (out, Some(why)),
            }
        }
    }

    #[test]
    fn crc32_is_the_zlib_variant() {
        // Check value from the CRC catalogue (CRC-32/ISO-HDLC of "123456789").
        assert_eq!(CRC32.checksum(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_round_trip_in_order() {
        let mut buf = Vec::new();
        encode(&mut buf, 7, RecordClass::Telemetry, b"meter");
        encode(&mut buf, 8, RecordClass::Critical, b"");
        assert_eq!(buf.len() as u64, frame_len(5) + frame_len(0));
        let (records, torn) = read_all(&buf);
        assert_eq!(torn, None);
        assert_eq!(
            records,
            vec![
                Record {
                    seq: 7,
                    class: RecordClass::Telemetry,
                    payload: b"meter".to_vec()
                },
                Record {
                    seq: 8,
                    class: RecordClass::Critical,
                    payload: Vec::new()
                },
            ]
        );
    }

    #[test]
    fn a_flipped_payload_bit_is_a_crc_mismatch() {
        let mut buf = Vec::new();
        encode(&mut buf, 1, RecordClass::Critical, b"bill");
        if let Some(last) = buf.last_mut() {
            *last ^= 1;
        }
        assert_eq!(read_all(&buf), (Vec::new(), Some("record CRC mismatch")));
    }

    #[test]
    fn a_huge_length_is_refused_before_allocating() {
        let mut buf = Vec::new();
        encode(&mut buf, 1, RecordClass::Critical, b"x");
        buf[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            read_all(&buf).1,
            Some("record longer than the bytes left in the file")
        );
    }
}
