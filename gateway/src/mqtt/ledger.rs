//! Where publishes wait while the broker cannot take them: the [`Ledger`] the publisher appends to during an
//! outage and replays from, in order, after reconnect.
//!
//! The disk spool ([`Spool`], segment files with an fsync policy) implements it for production; with no
//! `mqtt.spool.dir` the [`MemoryLedger`] keeps the same bounds in memory — it rides out a broker outage but not a
//! gateway restart, and says so in the log at start.

use std::collections::VecDeque;

use thiserror::Error;

use crate::route::spool::{RecordClass, Spool, SpoolError};

/// Why an append was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LedgerError {
    /// No room for this class of record.
    #[error("spool full")]
    Full,
    /// The storage failed.
    #[error("spool I/O: {0}")]
    Io(String),
    /// A stored record failed its check on read-back.
    #[error("spool record corrupt: {0}")]
    Corrupt(String),
}

impl From<SpoolError> for LedgerError {
    fn from(e: SpoolError) -> Self {
        match e {
            SpoolError::Full { .. } | SpoolError::TooLarge { .. } => LedgerError::Full,
            SpoolError::Corrupt { .. } => LedgerError::Corrupt(e.to_string()),
            _ => LedgerError::Io(e.to_string()),
        }
    }
}

impl LedgerError {
    /// Stable short name (metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            LedgerError::Full => "full",
            LedgerError::Io(_) => "io",
            LedgerError::Corrupt(_) => "corrupt",
        }
    }
}

/// An ordered store of records with sequence numbers (blocking; the publisher calls it off the async workers).
pub trait Ledger: Send + 'static {
    /// Appends one record; `critical` records may use the reserve telemetry cannot.
    fn append(&mut self, record: &[u8], critical: bool) -> Result<u64, LedgerError>;
    /// Makes every appended record durable (a no-op in memory).
    fn sync(&mut self) -> Result<(), LedgerError>;
    /// Up to `max` records from sequence `from` on, in order.
    fn read_from(&mut self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, LedgerError>;
    /// Forgets every record up to and including `seq` (they reached the broker).
    fn ack_through(&mut self, seq: u64) -> Result<(), LedgerError>;
    /// The oldest record not yet acknowledged.
    fn first_unacked(&self) -> Option<u64>;
    /// Records held.
    fn len(&self) -> usize;
    /// Whether no record is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Bytes held.
    fn bytes(&self) -> u64;
    /// Whether records survive a restart.
    fn durable(&self) -> bool;
}

/// A bounded in-memory ledger with the disk spool's size rules.
#[derive(Debug)]
pub struct MemoryLedger {
    records: VecDeque<(u64, Vec<u8>)>,
    next: u64,
    bytes: u64,
    max_bytes: u64,
    reserve: u64,
}

impl MemoryLedger {
    /// At most `max_bytes`; telemetry may only use `max_bytes - reserve`.
    pub fn new(max_bytes: u64, reserve: u64) -> Self {
        MemoryLedger {
            records: VecDeque::new(),
            next: 1,
            bytes: 0,
            max_bytes,
            reserve: reserve.min(max_bytes),
        }
    }
}

impl Ledger for MemoryLedger {
    fn append(&mut self, record: &[u8], critical: bool) -> Result<u64, LedgerError> {
        let limit = if critical {
            self.max_bytes
        } else {
            self.max_bytes - self.reserve
        };
        let size = record.len() as u64;
        if self.bytes + size > limit {
            return Err(LedgerError::Full);
        }
        let seq = self.next;
        self.next += 1;
        self.bytes += size;
        self.records.push_back((seq, record.to_vec()));
        Ok(seq)
    }

    fn sync(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }

    fn read_from(&mut self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, LedgerError> {
        Ok(self
            .records
            .iter()
            .filter(|(s, _)| *s >= from)
            .take(max)
            .cloned()
            .collect())
    }

    fn ack_through(&mut self, seq: u64) -> Result<(), LedgerError> {
        while self.records.front().is_some_and(|(s, _)| *s <= seq) {
            if let Some((_, r)) = self.records.pop_front() {
                self.bytes -= r.len() as u64;
            }
        }
        Ok(())
    }

    fn first_unacked(&self) -> Option<u64> {
        self.records.front().map(|(s, _)| *s)
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn durable(&self) -> bool {
        false
    }
}

impl Ledger for Spool {
    fn append(&mut self, record: &[u8], critical: bool) -> Result<u64, LedgerError> {
        let class = if critical {
            RecordClass::Critical
        } else {
            RecordClass::Telemetry
        };
        Ok(Spool::append(self, record, class)?)
    }

    fn sync(&mut self) -> Result<(), LedgerError> {
        Ok(Spool::sync(self)?)
    }

    fn read_from(&mut self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, LedgerError> {
        Ok(Spool::read_from(self, from, max)?)
    }

    fn ack_through(&mut self, seq: u64) -> Result<(), LedgerError> {
        Ok(Spool::ack_through(self, seq)?)
    }

    fn first_unacked(&self) -> Option<u64> {
        Spool::first_unacked(self)
    }

    fn len(&self) -> usize {
        usize::try_from(Spool::len(self)).unwrap_or(usize::MAX)
    }

    fn bytes(&self) -> u64 {
        Spool::bytes(self)
    }

    fn durable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telemetry_stops_at_the_reserve_and_billing_uses_it() {
        let mut l = MemoryLedger::new(10, 4);
        assert_eq!(l.append(&[0; 6], false), Ok(1));
        assert_eq!(l.append(&[0; 1], false), Err(LedgerError::Full));
        assert_eq!(l.append(&[0; 4], true), Ok(2));
        assert_eq!(l.read_from(2, 10).unwrap().len(), 1);
        l.ack_through(1).unwrap();
        assert_eq!((l.first_unacked(), l.len(), l.bytes()), (Some(2), 1, 4));
    }
}

/// A job run on the ledger's thread.
type Job = Box<dyn FnOnce(&mut dyn Ledger) + Send>;

/// A ledger on an OS thread of its own, so its blocking I/O never stalls the async workers.
#[derive(Clone)]
pub struct LedgerThread {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl LedgerThread {
    /// Moves `ledger` onto a new thread; the thread ends when the last handle is dropped.
    pub fn spawn(mut ledger: Box<dyn Ledger>) -> std::io::Result<Self> {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("mqtt-spool".to_owned())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(ledger.as_mut());
                }
            })?;
        Ok(LedgerThread { jobs })
    }

    /// Runs `f` on the ledger and returns its result; `None` if the ledger thread is gone.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Ledger) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |l| {
            let _ = tx.send(f(l));
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }
}
