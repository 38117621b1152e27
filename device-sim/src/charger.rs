//! What every simulated charger shares whatever its protocol: its plan (id, protocol, whether it charges, its
//! behaviour fault), the run's settings and counters, the reconnect loop with exponential backoff and jitter, and
//! the frame writer that injects frame faults.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::fault::{self, ChargerFault, FaultKind, FaultPlan, FrameFault};
use crate::net::SourceAddrs;
use crate::observe::Observed;
use crate::report::{Counters, FailReason};
use crate::rng::Rng;
use crate::spec::{DurationRange, Protocol, Targets};

/// Pause between the two halves of a `split` frame.
const SPLIT_PAUSE: Duration = Duration::from_millis(5);
/// Reconnect delay after a `disconnect-storm`: uniform in `[0, STORM_RECONNECT)`.
const STORM_RECONNECT: Duration = Duration::from_secs(1);

/// The settings every charger of a run shares.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where each protocol connects.
    pub targets: Targets,
    /// Heartbeat period while idle, drawn per beat.
    pub heartbeat_idle: DurationRange,
    /// Heartbeat period while charging, drawn per beat.
    pub heartbeat_charging: DurationRange,
    /// Telemetry period of a charging charger.
    pub telemetry_interval: Duration,
    /// Throughput mode: every YKC charger sends one 0x13 per this period, whatever its state.
    pub load_interval: Option<Duration>,
    /// Throughput mode: a charger writes the frames due in this period as one burst (several frames per `write`,
    /// as a busy charger's frames coalesce in TCP anyway); `Duration::ZERO` sends each frame on its own.
    pub load_burst: Duration,
    /// Length of a charging session, and of the idle gap between two sessions.
    pub session_length: DurationRange,
    /// How long to wait for a reply (and for a connect).
    pub reply_timeout: Duration,
    /// Reconnect backoff: first delay up to `low`, doubling up to `high`, full jitter.
    pub backoff: DurationRange,
    /// Fault rates.
    pub faults: FaultPlan,
    /// Seed of every charger's PRNG.
    pub seed: u64,
}

/// The run-wide context of every charger.
pub struct Sim {
    /// Settings.
    pub cfg: SimConfig,
    /// Counters and histograms.
    pub counters: Arc<Counters>,
    /// Cancelled at the end of the run.
    pub stop: CancellationToken,
    /// Source addresses for client sockets.
    pub sources: SourceAddrs,
    /// Bumped when a `disconnect-storm` fires.
    pub storm: watch::Receiver<u64>,
    /// End-to-end latency matching, with `--observe`.
    pub observed: Option<Arc<Observed>>,
}

/// One charger's identity and life plan.
#[derive(Debug, Clone, Copy)]
pub struct ChargerPlan {
    /// Index in the run (seeds its PRNG).
    pub index: u64,
    /// Its number: the YKC pile number, and the OCPP identity as 14 digits.
    pub number: u64,
    /// Its protocol.
    pub protocol: Protocol,
    /// Whether it plugs in and charges.
    pub charging: bool,
    /// Its behaviour fault, if any.
    pub fault: Option<ChargerFault>,
}

impl ChargerPlan {
    /// The 14-digit id string (YKC pile, OCPP identity).
    pub fn id(&self) -> String {
        format!("{:014}", self.number)
    }
}

/// How one connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The run is over.
    Stopped,
    /// A disconnect storm dropped it.
    Storm,
    /// It failed or was closed.
    Failed(FailReason),
}

/// The outcome of one connection: how it ended and whether it got as far as a login.
#[derive(Debug, Clone, Copy)]
pub struct SessionEnd {
    /// Whether the login succeeded (resets the backoff).
    pub logged_in: bool,
    /// How it ended.
    pub end: End,
}

impl SessionEnd {
    /// Ended before logging in.
    pub fn before_login(end: End) -> Self {
        SessionEnd {
            logged_in: false,
            end,
        }
    }

    /// Ended after logging in.
    pub fn after_login(end: End) -> Self {
        SessionEnd {
            logged_in: true,
            end,
        }
    }
}

/// Counts a connection as up while it lives.
pub struct UpGuard<'a>(&'a Counters);

impl<'a> UpGuard<'a> {
    /// Counts a successful login.
    pub fn new(counters: &'a Counters) -> Self {
        Counters::bump(&counters.established);
        Counters::bump(&counters.up);
        UpGuard(counters)
    }
}

impl Drop for UpGuard<'_> {
    fn drop(&mut self) {
        self.0.up.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs one charger until the run stops: connect, speak its protocol, and reconnect with exponential backoff and
/// full jitter after every loss (or within a second after a disconnect storm).
pub async fn run(plan: ChargerPlan, sim: Arc<Sim>) {
    let mut rng = Rng::new(sim.cfg.seed, plan.index);
    let mut storm = sim.storm.clone();
    storm.mark_unchanged();
    let mut attempt: u32 = 0;
    loop {
        if sim.stop.is_cancelled() {
            return;
        }
        Counters::bump(&sim.counters.attempted);
        if attempt > 0 {
            Counters::bump(&sim.counters.reconnects);
        }
        let outcome = match plan.protocol {
            Protocol::Ykc => crate::ykc::session(&plan, &sim, &mut rng, &mut storm).await,
            Protocol::OcppWs | Protocol::OcppTcp => {
                crate::ocpp::session(&plan, &sim, &mut rng, &mut storm).await
            }
            Protocol::Gbt => crate::gbt::session(&plan, &sim, &mut rng, &mut storm).await,
        };
        let wait = match outcome.end {
            End::Stopped => return,
            End::Storm => STORM_RECONNECT.mul_f64(rng.unit()),
            End::Failed(reason) => {
                sim.counters.fail(reason);
                if outcome.logged_in {
                    attempt = 0;
                }
                let cap = sim
                    .cfg
                    .backoff
                    .low
                    .saturating_mul(1u32 << attempt.min(16))
                    .min(sim.cfg.backoff.high);
                cap.mul_f64(rng.unit())
            }
        };
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = sim.stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The next heartbeat period, drawn from `range`.
pub fn period(range: &DurationRange, rng: &mut Rng) -> Duration {
    range.at(rng.unit())
}

/// A point in time no charger event reaches: the "never" of a disarmed timer.
pub fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// When a charger that `plan`s to charge first plugs in: a random share of one session length, so a fleet's
/// sessions are spread out; never for an idle charger.
pub fn first_plug(plan: &ChargerPlan, cfg: &SimConfig, rng: &mut Rng) -> Instant {
    if plan.charging {
        Instant::now() + cfg.session_length.at(rng.unit()).mul_f64(rng.unit())
    } else {
        far_future()
    }
}

/// When the first heartbeat goes out: uniformly within one period after login, so a fleet that reconnects at once
/// does not beat in lockstep.
pub fn first_beat(range: &DurationRange, rng: &mut Rng) -> Instant {
    Instant::now() + period(range, rng).mul_f64(rng.unit())
}

/// Draws the fault of the next frame and counts it.
pub fn draw_frame_fault(sim: &Sim, rng: &mut Rng) -> FrameFault {
    let f = sim.cfg.faults.frame_fault(rng);
    if let Some(kind) = f.kind() {
        sim.counters.fault(kind);
    }
    f
}

/// Counts a charger fault once per connection.
pub fn count_charger_fault(sim: &Sim, fault: ChargerFault) {
    sim.counters.fault(fault.kind());
}

/// Counts a disconnect storm (once per storm, by the process's storm task).
pub fn count_storm(counters: &Counters) {
    counters.fault(FaultKind::DisconnectStorm);
}

/// Writes `frame` as `how` says: with garbage before it (none of `markers`), with a corrupted CRC, in two writes,
/// or together with `extra` in one write. `extra` is written only for [`FrameFault::Coalesce`].
pub async fn write_frame<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    frame: &[u8],
    how: FrameFault,
    extra: &[u8],
    markers: &[u8],
    rng: &mut Rng,
) -> std::io::Result<()> {
    match how {
        FrameFault::None => w.write_all(frame).await,
        FrameFault::Garbage => {
            let mut buf = fault::garbage(rng, markers);
            buf.extend_from_slice(frame);
            w.write_all(&buf).await
        }
        FrameFault::BadCrc => w.write_all(&fault::corrupt_crc(frame)).await,
        FrameFault::Split => {
            let cut = frame.len() / 2;
            w.write_all(frame.get(..cut).unwrap_or(frame)).await?;
            w.flush().await?;
            tokio::time::sleep(SPLIT_PAUSE).await;
            w.write_all(frame.get(cut..).unwrap_or(&[])).await
        }
        FrameFault::Coalesce => {
            let mut buf = Vec::with_capacity(frame.len() + extra.len());
            buf.extend_from_slice(frame);
            buf.extend_from_slice(extra);
            w.write_all(&buf).await
        }
    }
}

/// Sends `bytes` one byte per `gap` (slowloris) until done, stopped, or the write fails.
pub async fn trickle<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    bytes: &[u8],
    gap: Duration,
    stop: &CancellationToken,
) -> std::io::Result<()> {
    for b in bytes {
        w.write_all(std::slice::from_ref(b)).await?;
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(gap) => {}
        }
    }
    Ok(())
}
