//! Counters shared by every simulated charger, and the end-of-run report.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Live counters; chargers bump them as they go.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections attempted.
    pub connect_attempts: AtomicU64,
    /// Connections established.
    pub connected: AtomicU64,
    /// Connections that failed to open.
    pub connect_failed: AtomicU64,
    /// Logins the gateway accepted.
    pub logged_in: AtomicU64,
    /// Logins the gateway refused.
    pub login_refused: AtomicU64,
    /// Frames sent.
    pub frames_sent: AtomicU64,
    /// Frames that were answered by the expected reply.
    pub frames_answered: AtomicU64,
    /// Replies that did not check out (bad CRC, wrong type, sequence not echoed, wrong pile).
    pub reply_mismatches: AtomicU64,
    /// Connections the gateway closed, or that timed out waiting for a reply.
    pub disconnects: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A snapshot for the report.
    pub fn snapshot(&self) -> Report {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Report {
            connect_attempts: get(&self.connect_attempts),
            connected: get(&self.connected),
            connect_failed: get(&self.connect_failed),
            logged_in: get(&self.logged_in),
            login_refused: get(&self.login_refused),
            frames_sent: get(&self.frames_sent),
            frames_answered: get(&self.frames_answered),
            reply_mismatches: get(&self.reply_mismatches),
            disconnects: get(&self.disconnects),
        }
    }
}

/// What a run did, as printed at the end (a table, or one JSON object with `--report json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Connections attempted.
    pub connect_attempts: u64,
    /// Connections established.
    pub connected: u64,
    /// Connections that failed to open.
    pub connect_failed: u64,
    /// Logins accepted.
    pub logged_in: u64,
    /// Logins refused.
    pub login_refused: u64,
    /// Frames sent.
    pub frames_sent: u64,
    /// Frames answered as expected.
    pub frames_answered: u64,
    /// Replies that did not check out.
    pub reply_mismatches: u64,
    /// Connections lost.
    pub disconnects: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "connections  attempted {:>8}  up {:>8}  failed {:>8}",
            self.connect_attempts, self.connected, self.connect_failed
        )?;
        writeln!(
            f,
            "logins       accepted  {:>8}  refused {:>5}",
            self.logged_in, self.login_refused
        )?;
        writeln!(
            f,
            "frames       sent      {:>8}  answered {:>4}  mismatched {}",
            self.frames_sent, self.frames_answered, self.reply_mismatches
        )?;
        write!(f, "disconnects  {:>8}", self.disconnects)
    }
}
