//! The liveness layer: every inbound frame moves the connection's deadline in the worker's [`TimingWheel`].
//!
//! The timeout depends on the protocol and the connection's state, as the codec's
//! [`LivenessPolicy`] says (YKC: 3 missed 10 s heartbeats = 30 s; OCPP: the granted heartbeat interval plus grace;
//! chargers beat faster while charging). The state is read from the frame's own observations (a session started,
//! a connector charging). When a deadline passes, the worker's ticker ([`run_wheel`]) tells the connection to close
//! with reason `liveness_timeout`; the connection then emits its `offline` event. A closed socket does not wait for
//! the wheel: the connection ends at once and its entry is cancelled on drop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chargegate_codec::event::{ConnectorStatus, EventBody};
use chargegate_codec::plugin::{DecodedFrame, LivenessPolicy};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::timing_wheel::{TimerKey, TimingWheel, WheelError};
use super::{CloseReason, Layer, Verdict};
use crate::session::ControlSender;

/// Whom to tell when a connection's deadline passes. Only the control queue: the wheel holds one per connection
/// (a connection id kept for a log line made each wheel entry 40 B instead of 32).
#[derive(Debug, Clone)]
pub struct LivenessTarget {
    /// The connection's control queue.
    pub control: ControlSender,
}

/// The wheel one worker shares between its connections. Only that worker's tasks touch it, so the lock is
/// uncontended; it exists because the runtime may still move tasks between threads.
pub type SharedWheel = Arc<Mutex<TimingWheel<LivenessTarget>>>;

/// A worker's wheel for a configured `tick` and `slots` (`[liveness]`): it turns at half the tick with twice the
/// slots, so one revolution spans the same time. The promise to operators is "offline within one tick of the
/// deadline"; a wheel turning at the full tick spends that whole tick on rounding a deadline up to its slot and leaves
/// nothing for the ticker's own wake-up (1–5 ms on a loaded box, measured by `device-sim/bench/liveness`). At half
/// the tick the rounding takes at most half, and the wake-up has the other half.
pub fn worker_wheel(tick: Duration, slots: usize) -> SharedWheel {
    let half = (tick / 2).max(Duration::from_millis(1));
    Arc::new(Mutex::new(TimingWheel::new(half, slots.saturating_mul(2))))
}

/// Milliseconds since a worker's start: the wheel's notion of time.
#[derive(Debug, Clone, Copy)]
pub struct WorkerClock {
    start: Instant,
}

impl WorkerClock {
    /// A clock starting now.
    pub fn start() -> Self {
        WorkerClock {
            start: Instant::now(),
        }
    }

    /// The instant time 0 stands for.
    pub fn origin(&self) -> Instant {
        self.start
    }

    /// Milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Per-connection liveness state (24 bytes: every connection holds one for life).
pub struct Liveness {
    wheel: SharedWheel,
    key: TimerKey,
    /// The policy's two timeouts in milliseconds (saturated at 2³¹ − 1, 24 days): 8 bytes instead of two
    /// `Duration`s in every connection.
    idle_ms: u32,
    /// The charging timeout in the low 31 bits, whether the connection is charging in the top bit (a separate
    /// flag padded the state to 32 bytes).
    charging: u32,
    /// The deadline the entry was last set to: the frames of one read arrive at the same instant, and a touch that
    /// would set the same deadline again skips the wheel's lock (~7 frames per read at 150k frames/s).
    deadline_ms: u64,
}

/// The top bit of [`Liveness::charging`]: the connection is charging.
const CHARGING: u32 = 1 << 31;

/// A timeout in milliseconds, saturated to 31 bits (24 days).
fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis())
        .unwrap_or(u32::MAX)
        .min(CHARGING - 1)
}

impl Liveness {
    /// Arms the connection's entry to fire at `first_deadline_ms` (the login deadline, until the first frame).
    pub fn arm(
        wheel: SharedWheel,
        target: LivenessTarget,
        policy: LivenessPolicy,
        first_deadline_ms: u64,
    ) -> Result<Self, WheelError> {
        let key = lock(&wheel).insert(target, first_deadline_ms)?;
        Ok(Liveness {
            wheel,
            key,
            idle_ms: millis(policy.idle),
            charging: millis(policy.charging),
            deadline_ms: first_deadline_ms,
        })
    }

    /// The silence allowed in the current state.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.timeout_ms()))
    }

    fn timeout_ms(&self) -> u32 {
        if self.is_charging() {
            self.charging & !CHARGING
        } else {
            self.idle_ms
        }
    }

    /// Whether the connection is charging, as far as its frames said.
    pub fn is_charging(&self) -> bool {
        self.charging & CHARGING != 0
    }

    fn set_charging(&mut self, charging: bool) {
        if charging {
            self.charging |= CHARGING;
        } else {
            self.charging &= !CHARGING;
        }
    }

    /// Moves the deadline to `now_ms + timeout`.
    pub fn touch(&mut self, now_ms: u64) {
        let deadline = now_ms.saturating_add(u64::from(self.timeout_ms()));
        if deadline != self.deadline_ms {
            self.deadline_ms = deadline;
            lock(&self.wheel).reset(self.key, deadline);
        }
    }

    fn observe(&mut self, frame: &DecodedFrame) {
        for obs in &frame.observations {
            match &obs.body {
                EventBody::SessionStarted(_) => self.set_charging(true),
                EventBody::SessionStopped(_) | EventBody::Transaction(_) => {
                    self.set_charging(false)
                }
                EventBody::Status(s) => self.set_charging(s.status == ConnectorStatus::Charging),
                _ => {}
            }
        }
    }
}

impl Layer for Liveness {
    const NAME: &'static str = "liveness";

    fn on_frame(&mut self, frame: &DecodedFrame, now_ms: u64) -> Verdict {
        self.observe(frame);
        self.touch(now_ms);
        Verdict::Pass
    }
}

impl Drop for Liveness {
    fn drop(&mut self) {
        lock(&self.wheel).cancel(self.key);
    }
}

/// Unix milliseconds now: the clock events are stamped with (the connection's and the wheel's detection time).
pub(crate) fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn lock(wheel: &SharedWheel) -> std::sync::MutexGuard<'_, TimingWheel<LivenessTarget>> {
    wheel.lock().unwrap_or_else(|e| e.into_inner())
}

/// A worker's wheel ticker: once per tick, advances the wheel and tells each expired connection to close with
/// `liveness_timeout`. Runs until every sender of the wheel is gone (never, in practice: abort it at shutdown).
pub async fn run_wheel(wheel: SharedWheel, clock: WorkerClock) {
    let tick = Duration::from_millis(lock(&wheel).tick_ms());
    // Ticks fall on the wheel's own tick boundaries (clock origin + k × tick), and a late tick does not push the
    // later ones back (`Skip`; `advance` catches up every tick due): with `Delay` each late wake-up shifted every
    // later tick, and offline detection drifted past timeout + one tick by a few ms within a minute.
    let mut interval = tokio::time::interval_at(clock.origin() + tick, tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut expired = Vec::new();
    loop {
        interval.tick().await;
        let report = lock(&wheel).advance(clock.now_ms(), &mut expired);
        if report.expired > 0 {
            tracing::debug!(
                expired = report.expired,
                visited = report.visited,
                "liveness tick"
            );
        }
        let detected_ms = wall_clock_ms();
        for target in expired.drain(..) {
            // A close request always fits the control queue, so the expiry is never lost.
            if !target.control.expire(detected_ms) {
                tracing::debug!("expired connection already gone");
            }
            // One expiry at a time: the woken connection closes before the next is told, and the yield lets the
            // worker poll its sockets in between, so a tick that expires hundreds of connections at once (a
            // never-login attack, all cut at the same login deadline) does not queue them all ahead of a live
            // charger's frame.
            tokio::task::yield_now().await;
        }
    }
}

/// Tells every connection in `wheel` to close with `reason`; returns how many were told. The wheel holds an entry
/// for every connection of its worker from setup to end, so shutdown reaches them all through their control queues
/// and no connection keeps a shutdown waiter of its own (a `CancellationToken` waiter cost ~100 B of every idle
/// connection's future).
pub fn close_all(wheel: &SharedWheel, reason: CloseReason) -> usize {
    // Collected first: the connections are told outside the wheel's lock.
    let targets: Vec<ControlSender> = lock(wheel).values().map(|t| t.control.clone()).collect();
    targets
        .iter()
        .filter(|control| control.close(reason))
        .count()
}

/// [`run_wheel`] until `shutdown` is cancelled, then [`close_all`] with reason `shutdown`. A connection set up after
/// that must see `shutdown.is_cancelled()` itself (the connection driver checks it when it starts).
pub async fn run_wheel_until(wheel: SharedWheel, clock: WorkerClock, shutdown: CancellationToken) {
    tokio::select! {
        _ = run_wheel(Arc::clone(&wheel), clock) => {}
        _ = shutdown.cancelled() => {}
    }
    let told = close_all(&wheel, CloseReason::Shutdown);
    tracing::debug!(connections = told, "shutdown: connections told to close");
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chargegate_codec::event::{Observation, SessionStartedData};

    use super::super::timing_wheel::{DEFAULT_SLOTS, DEFAULT_TICK};
    use super::*;
    use crate::session::{control_channel, ControlReceiver, SessionControl};

    const POLICY: LivenessPolicy = LivenessPolicy {
        idle: Duration::from_secs(30),
        charging: Duration::from_secs(10),
    };

    fn setup() -> (SharedWheel, ControlReceiver, Liveness) {
        let wheel: SharedWheel =
            Arc::new(Mutex::new(TimingWheel::new(DEFAULT_TICK, DEFAULT_SLOTS)));
        let (tx, rx) = control_channel(4);
        let target = LivenessTarget { control: tx };
        let live = Liveness::arm(wheel.clone(), target, POLICY, 10_000).unwrap();
        (wheel, rx, live)
    }

    fn frame(observations: Vec<Observation>) -> DecodedFrame {
        DecodedFrame::new("0x03", Bytes::new(), observations)
    }

    fn expired_at(wheel: &SharedWheel, now_ms: u64) -> usize {
        let mut out = Vec::new();
        lock(wheel).advance(now_ms, &mut out);
        out.len()
    }

    #[test]
    fn a_silent_idle_connection_expires_one_idle_timeout_after_its_last_frame() {
        let (wheel, _rx, mut live) = setup();
        live.on_frame(&frame(vec![]), 5_000);
        assert_eq!(expired_at(&wheel, 34_999), 0);
        assert_eq!(expired_at(&wheel, 35_000), 1);
    }

    #[test]
    fn a_charging_connection_gets_the_shorter_timeout() {
        let (wheel, _rx, mut live) = setup();
        let started = Observation::connector(
            "Y1",
            1,
            EventBody::SessionStarted(SessionStartedData::default()),
        );
        live.on_frame(&frame(vec![started]), 5_000);
        assert!(live.is_charging());
        assert_eq!(expired_at(&wheel, 14_999), 0);
        assert_eq!(expired_at(&wheel, 15_000), 1);
    }

    #[test]
    fn dropping_the_connection_cancels_its_entry() {
        let (wheel, _rx, live) = setup();
        drop(live);
        assert!(lock(&wheel).is_empty());
    }

    #[test]
    fn a_worker_wheel_detects_within_half_its_configured_tick_and_never_early() {
        let wheel = worker_wheel(Duration::from_millis(1000), 512);
        let mut w = lock(&wheel);
        assert_eq!(w.tick_ms(), 500);
        // A deadline just past a half-tick boundary: the worst case for rounding up.
        let (control, _rx) = control_channel(4);
        w.insert(LivenessTarget { control }, 30_001).unwrap();
        let mut expired = Vec::new();
        w.advance(30_000, &mut expired);
        assert!(expired.is_empty(), "expired before its deadline");
        w.advance(30_499, &mut expired);
        assert!(expired.is_empty(), "expired before its slot");
        w.advance(30_500, &mut expired);
        assert_eq!(
            expired.len(),
            1,
            "not detected within half the configured tick"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_worker_ticker_closes_an_expired_connection_with_liveness_timeout() {
        let (wheel, mut rx, live) = setup();
        let clock = WorkerClock::start();
        let ticker = tokio::spawn(run_wheel(wheel.clone(), clock));
        tokio::time::sleep(Duration::from_millis(9_500)).await;
        assert!(rx.try_recv().is_none(), "not before the deadline");
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        assert!(matches!(
            rx.try_recv(),
            Some(SessionControl::Expired { .. })
        ));
        ticker.abort();
        drop(live);
    }
}
