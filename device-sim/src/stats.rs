//! Fleet-wide counters shared by every simulated charger, and the summary printed at the end of a run.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters updated by every charger task (relaxed atomics: they are only read once the run is over).
#[derive(Debug, Default)]
pub struct Stats {
    /// TCP connections established.
    pub connections_up: AtomicU64,
    /// TCP connections that could not be established (refused, timed out).
    pub connections_failed: AtomicU64,
    /// Logins answered by a successful 0x02.
    pub logins_accepted: AtomicU64,
    /// Logins answered by a refusing 0x02, or not answered in time.
    pub logins_failed: AtomicU64,
    /// Frames written to the gateway.
    pub frames_sent: AtomicU64,
    /// Requests (0x01, 0x03) whose reply arrived and matched.
    pub frames_answered: AtomicU64,
    /// Replies that did not match their request: bad CRC or framing, wrong type, pile, gun or sequence echo.
    pub reply_mismatches: AtomicU64,
    /// Requests still unanswered when their reply timeout expired or the run ended.
    pub replies_missing: AtomicU64,
    /// Connections the gateway closed before the run ended.
    pub disconnects: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The end-of-run report, one JSON object with `--report json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Chargers simulated.
    pub chargers: u64,
    /// Run duration, milliseconds.
    pub duration_ms: u64,
    /// See [`Stats::connections_up`].
    pub connections_up: u64,
    /// See [`Stats::connections_failed`].
    pub connections_failed: u64,
    /// See [`Stats::logins_accepted`].
    pub logins_accepted: u64,
    /// See [`Stats::logins_failed`].
    pub logins_failed: u64,
    /// See [`Stats::frames_sent`].
    pub frames_sent: u64,
    /// See [`Stats::frames_answered`].
    pub frames_answered: u64,
    /// See [`Stats::reply_mismatches`].
    pub reply_mismatches: u64,
    /// See [`Stats::replies_missing`].
    pub replies_missing: u64,
    /// See [`Stats::disconnects`].
    pub disconnects: u64,
}

impl Stats {
    /// A snapshot of the counters.
    pub fn summary(&self, chargers: u64, duration_ms: u64) -> Summary {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Summary {
            chargers,
            duration_ms,
            connections_up: get(&self.connections_up),
            connections_failed: get(&self.connections_failed),
            logins_accepted: get(&self.logins_accepted),
            logins_failed: get(&self.logins_failed),
            frames_sent: get(&self.frames_sent),
            frames_answered: get(&self.frames_answered),
            reply_mismatches: get(&self.reply_mismatches),
            replies_missing: get(&self.replies_missing),
            disconnects: get(&self.disconnects),
        }
    }
}

impl Summary {
    /// True when every charger connected and logged in and every request got a matching reply.
    pub fn is_clean(&self) -> bool {
        self.connections_failed == 0
            && self.logins_failed == 0
            && self.reply_mismatches == 0
            && self.replies_missing == 0
            && self.disconnects == 0
    }

    /// The human-readable report, a few aligned lines.
    pub fn human(&self) -> String {
        format!(
            "device-sim: {chargers} chargers for {secs:.1} s\n\
             connections  up {up}, failed {failed}, closed by peer {disc}\n\
             logins       accepted {la}, failed {lf}\n\
             frames       sent {sent}, answered {ans}, mismatched {mis}, unanswered {miss}\n\
             verdict      {verdict}",
            chargers = self.chargers,
            secs = self.duration_ms as f64 / 1000.0,
            up = self.connections_up,
            failed = self.connections_failed,
            disc = self.disconnects,
            la = self.logins_accepted,
            lf = self.logins_failed,
            sent = self.frames_sent,
            ans = self.frames_answered,
            mis = self.reply_mismatches,
            miss = self.replies_missing,
            verdict = if self.is_clean() { "clean" } else { "PROBLEMS" },
        )
    }
}
