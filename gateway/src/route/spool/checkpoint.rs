//! The ack checkpoint: one small file, `ack.ckpt`, holding the highest sequence number delivered upstream.
//!
//! Segments are freed whole, so a partly delivered segment stays on disk; the checkpoint is what keeps its delivered
//! records from being replayed after a restart, and what keeps sequence numbers rising once every segment is gone.
//! It is written to `ack.ckpt.tmp` and renamed over the old one, so a reader sees the old or the new value, never a
//! mix. A missing or damaged checkpoint is not fatal: it means "nothing acknowledged", i.e. duplicates on replay,
//! which QoS 1 consumers already tolerate.
//!
//! Layout: `CGSPACK1` (8 bytes), acked seq (u64 LE), CRC-32/ISO-HDLC of the first 16 bytes (u32 LE).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crc::{Crc, CRC_32_ISO_HDLC};
use tracing::warn;

use super::error::SpoolError;

/// File name of the checkpoint inside the spool directory.
pub const CHECKPOINT_FILE: &str = "ack.ckpt";
/// Temporary name the checkpoint is written under before the rename.
pub const CHECKPOINT_TMP_FILE: &str = "ack.ckpt.tmp";
const MAGIC: &[u8; 8] = b"CGSPACK1";
const LEN: usize = 8 + 8 + 4;
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

fn encode(acked: u64) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    let mut body = [0u8; 16];
    body[..8].copy_from_slice(MAGIC);
    body[8..].copy_from_slice(&acked.to_le_bytes());
    out[..16].copy_from_slice(&body);
    out[16..].copy_from_slice(&CRC32.checksum(&body).to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<u64> {
    let body = bytes.get(..16)?;
    let crc = bytes.get(16..LEN)?;
    if bytes.len() != LEN || body.get(..8)? != MAGIC || CRC32.checksum(body).to_le_bytes() != crc {
        return None;
    }
    Some(u64::from_le_bytes(body.get(8..16)?.try_into().ok()?))
}

/// Reads the checkpoint in `dir`: `0` when there is none or it is damaged (with a warning).
pub fn load(dir: &Path) -> Result<u64, SpoolError> {
    let path = dir.join(CHECKPOINT_FILE);
    match fs::read(&path) {
        Ok(bytes) => Ok(decode(&bytes).unwrap_or_else(|| {
            warn!(path = %path.display(), len = bytes.len(), error_code = "spool_bad_checkpoint",
                "spool: ignoring a damaged ack checkpoint; delivered records may be replayed again");
            0
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(SpoolError::io("read checkpoint", path)(e)),
    }
}

/// Writes `acked` atomically (temp file + rename); with `durable`, fsyncs the file and the directory too.
pub fn store(dir: &Path, acked: u64, durable: bool) -> Result<(), SpoolError> {
    let tmp: PathBuf = dir.join(CHECKPOINT_TMP_FILE);
    let path = dir.join(CHECKPOINT_FILE);
    let mut file = File::create(&tmp).map_err(SpoolError::io("create checkpoint", &tmp))?;
    file.write_all(&encode(acked))
        .map_err(SpoolError::io("write checkpoint", &tmp))?;
    if durable {
        file.sync_data()
            .map_err(SpoolError::io("fsync checkpoint", &tmp))?;
    }
    drop(file);
    fs::rename(&tmp, &path).map_err(SpoolError::io("rename checkpoint", &path))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a temporary checkpoint left by a crash between write and rename.
pub fn remove_stale_tmp(dir: &Path) -> Result<(), SpoolError> {
    let tmp = dir.join(CHECKPOINT_TMP_FILE);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(SpoolError::io("remove checkpoint tmp", tmp)(e))
        }
        _ => Ok(()),
    }
}

/// fsyncs a directory so that file creations, renames and deletions in it survive a power failure.
pub fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SpoolError::io("fsync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_and_survives_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), 0);
        store(dir.path(), 41, true).unwrap();
        store(dir.path(), 42, false).unwrap();
        assert_eq!(load(dir.path()).unwrap(), 42);
        assert!(!dir.path().join(CHECKPOINT_TMP_FILE).exists());
    }

    #[test]
    fn a_damaged_checkpoint_reads_as_nothing_acked() {
        let dir = tempfile::tempdir().unwrap();
        for bytes in [&b""[..], b"CGSPACK1", &[0xFF; 40][..]] {
            fs::write(dir.path().join(CHECKPOINT_FILE), bytes).unwrap();
            assert_eq!(load(dir.path()).unwrap(), 0);
        }
        let mut good = encode(7);
        good[9] ^= 0x10;
        fs::write(dir.path().join(CHECKPOINT_FILE), good).unwrap();
        assert_eq!(load(dir.path()).unwrap(), 0);
    }
}
