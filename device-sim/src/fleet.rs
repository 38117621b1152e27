//! A fleet in one process: plans N chargers (protocol by the mix, which ones charge, which carry a fault), spawns
//! one task each at the ramp rate, fires disconnect storms, shows a progress line, and stops them at the end.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::charger::{self, ChargerPlan, Sim, SimConfig};
use crate::fault::FaultKind;
use crate::net::SourceAddrs;
use crate::report::{Counters, Report};
use crate::rng::Rng;
use crate::spec::{Mix, MixAssigner, Protocol};

/// How often the progress line refreshes.
const PROGRESS_TICK: Duration = Duration::from_millis(500);
/// How long stopping chargers may take before the report is written anyway.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Index offset of the plan PRNG stream (separate from the chargers' own streams).
const PLAN_STREAM: u64 = u64::MAX / 2;

/// Everything one process's run needs.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Shared charger settings.
    pub sim: SimConfig,
    /// Chargers in this process.
    pub chargers: u64,
    /// Number of the first charger; the others count up.
    pub pile_base: u64,
    /// Index of the first charger in the whole run (worker processes take slices).
    pub first_index: u64,
    /// Protocol mix.
    pub mix: Mix,
    /// Fraction of chargers that plug in and charge.
    pub charging_share: f64,
    /// New connections per second.
    pub ramp: f64,
    /// Run length, from the first connect.
    pub duration: Duration,
    /// Source addresses for client sockets.
    pub source_addrs: Vec<std::net::Ipv4Addr>,
    /// `--observe` URL.
    pub observe: Option<String>,
    /// Show the progress line on stderr.
    pub progress: bool,
    /// Put serialized histograms in the report (worker processes).
    pub with_hdr: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The mix asks for a protocol without a target.
    #[error("--mix gives {0} chargers a share but --target has no {0} address")]
    NoTarget(&'static str),
    /// `--observe` is malformed.
    #[error(transparent)]
    Observe(#[from] crate::observe::ObserveError),
}

/// Runs the fleet and returns its report.
pub async fn run(cfg: FleetConfig) -> Result<Report, FleetError> {
    for p in Protocol::ALL {
        if cfg.mix.weight(p) > 0 && !cfg.sim.targets.has(p) {
            return Err(FleetError::NoTarget(p.name()));
        }
    }
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    let observed = match &cfg.observe {
        Some(url) => Some(crate::observe::start(url, Arc::clone(&counters), stop.clone()).await?),
        None => None,
    };
    let (storm_tx, storm_rx) = watch::channel(0u64);
    let sim = Arc::new(Sim {
        cfg: cfg.sim.clone(),
        counters: Arc::clone(&counters),
        stop: stop.clone(),
        sources: SourceAddrs::new(cfg.source_addrs.clone()),
        storm: storm_rx,
        observed,
    });
    let started = Instant::now();
    let end = started + cfg.duration;
    let progress = cfg.progress.then(|| {
        crate::progress::spawn(
            Arc::clone(&counters),
            cfg.chargers,
            PROGRESS_TICK,
            stop.clone(),
        )
    });
    let storm_rate = cfg.sim.faults.rate(FaultKind::DisconnectStorm);
    if storm_rate > 0.0 {
        let (counters, stop, seed) = (Arc::clone(&counters), stop.clone(), cfg.sim.seed);
        tokio::spawn(async move {
            let mut rng = Rng::new(seed, PLAN_STREAM - 1);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => if rng.chance(storm_rate) {
                        charger::count_storm(&counters);
                        storm_tx.send_modify(|n| *n += 1);
                    },
                }
            }
        });
    }

    let mut tasks = tokio::task::JoinSet::new();
    let mut assign = MixAssigner::new(cfg.mix.clone());
    // Skip the assignments of earlier slices so a worker's chargers follow the whole run's mix.
    for _ in 0..cfg.first_index {
        assign.assign();
    }
    let pace = if cfg.ramp > 0.0 {
        Duration::from_secs_f64(1.0 / cfg.ramp)
    } else {
        Duration::ZERO
    };
    let mut next_spawn = Instant::now();
    for i in 0..cfg.chargers {
        if Instant::now() >= end {
            break;
        }
        let index = cfg.first_index + i;
        let Some(protocol) = assign.assign() else {
            break;
        };
        let mut rng = Rng::new(cfg.sim.seed, PLAN_STREAM + index);
        let plan = ChargerPlan {
            index,
            number: cfg.pile_base + index,
            protocol,
            charging: rng.chance(cfg.charging_share),
            fault: cfg.sim.faults.charger_fault(&mut rng),
        };
        tasks.spawn(charger::run(plan, Arc::clone(&sim)));
        next_spawn += pace;
        if next_spawn > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(next_spawn) => {}
                _ = tokio::time::sleep_until(end) => break,
            }
        }
    }
    tokio::time::sleep_until(end).await;
    let elapsed = started.elapsed();
    // Read "up" before the stop tears the connections down.
    let up = Counters::get(&counters.up);
    stop.cancel();
    let _ = tokio::time::timeout(STOP_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    if let Some(p) = progress {
        let _ = p.await;
    }
    let mut report = counters.report(cfg.chargers, elapsed, cfg.with_hdr);
    report.connections.up = up;
    Ok(report)
}
