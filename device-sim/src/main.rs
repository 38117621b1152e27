//! `device-sim`: plays EV chargers against a gateway.
//!
//! `device-sim run --target 127.0.0.1:8768 --chargers 1000 --duration 30s` — every flag in `docs/device-sim.md`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use device_sim::charger::SimConfig;
use device_sim::fault::FaultPlan;
use device_sim::fleet::{self, FleetConfig};
use device_sim::report::Report;
use device_sim::spec::{self, DurationRange, Mix, Protocol, SourceAddrList, Targets};
use device_sim::{net, procs, progress};

/// Plays EV chargers against a Chargegate gateway and reports what it saw.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run N chargers for a while, then print a report.
    Run(Box<RunArgs>),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Gateway listeners: `ykc=HOST:PORT,ocpp-ws=ws://HOST:PORT/ocpp,ocpp-tcp=HOST:PORT,gbt=HOST:PORT` (a bare
    /// `HOST:PORT` means ykc).
    #[arg(long, default_value = "127.0.0.1:8768", value_parser = spec::parse_targets)]
    target: Targets,
    /// Number of chargers (across all worker processes).
    #[arg(long, default_value_t = 10)]
    chargers: u64,
    /// Protocol mix by weight: `ykc:70,ocpp-ws:20,ocpp-tcp:10,gbt:0`.
    #[arg(long, default_value = "ykc:100", value_parser = spec::parse_mix)]
    mix: Mix,
    /// New connections per second (`5000/s`).
    #[arg(long, default_value = "1000/s", value_parser = spec::parse_rate)]
    ramp: f64,
    /// How long to run, from the first connect (`60s`, `2m`).
    #[arg(long, default_value = "10s", value_parser = spec::parse_duration)]
    duration: Duration,
    /// Heartbeat period while idle, drawn per beat (`30s-45s`).
    #[arg(long, default_value = "30s-45s", value_parser = spec::parse_duration_range)]
    heartbeat_idle: DurationRange,
    /// Heartbeat period while charging, drawn per beat (`6s-10s`).
    #[arg(long, default_value = "6s-10s", value_parser = spec::parse_duration_range)]
    heartbeat_charging: DurationRange,
    /// One fixed heartbeat period for every state (sets both ranges above; the seed's flag).
    #[arg(long, value_parser = spec::parse_duration)]
    heartbeat: Option<Duration>,
    /// Fraction of chargers that plug in and charge (0–1).
    #[arg(long, default_value_t = 0.3)]
    charging_share: f64,
    /// Length of a charging session, and of the idle gap between sessions (`20s-40s`).
    #[arg(long, default_value = "20s-40s", value_parser = spec::parse_duration_range)]
    session_length: DurationRange,
    /// Telemetry period of each charging charger (0x13 + 0x23/0x25, MeterValues, BCL).
    #[arg(long, default_value = "15s", value_parser = spec::parse_duration)]
    telemetry_interval: Duration,
    /// Throughput mode: this many 0x13 frames per second in total, spread over all YKC chargers (`150000/s`).
    #[arg(long, default_value = "0/s", value_parser = spec::parse_rate)]
    load_rate: f64,
    /// Throughput mode: each charger writes the frames due in this period in one burst (`100ms`: several frames
    /// per write, so the load generator needs about one core for 150,000 frames/s; `0s`: one frame per write).
    #[arg(long, default_value = "100ms", value_parser = spec::parse_duration)]
    load_burst: Duration,
    /// Client source addresses (`127.0.0.2-127.0.0.9`), bound with IP_BIND_ADDRESS_NO_PORT; with several worker
    /// processes each gets its own share of them.
    #[arg(long, value_parser = spec::parse_source_addrs)]
    source_addrs: Option<SourceAddrList>,
    /// Worker processes: a number, or `auto` (at most 19,000 sockets per process).
    #[arg(long, default_value = "1")]
    procs: String,
    /// Faults at a rate: `garbage:0.01,bad-crc:0.01,split:0.1,coalesce:0.1,slowloris:0.001,silent:0.01,
    /// disconnect-storm:0.001,never-login:0.01`.
    #[arg(long, value_parser = spec::parse_faults)]
    fault: Option<std::collections::BTreeMap<device_sim::fault::FaultKind, f64>>,
    /// End-to-end latency from `mqtt://HOST:PORT/PREFIX` or `ws://HOST:PORT/ws?token=…`.
    #[arg(long)]
    observe: Option<String>,
    /// Number of the first charger (YKC pile number, OCPP identity; 14 digits); the others count up.
    #[arg(long, default_value_t = 32_010_200_000_000)]
    pile_base: u64,
    /// How long to wait for a reply or a connect.
    #[arg(long, default_value = "5s", value_parser = spec::parse_duration)]
    reply_timeout: Duration,
    /// Reconnect backoff: first delay up to LOW, doubling up to HIGH, full jitter (`1s-60s`).
    #[arg(long, default_value = "1s-60s", value_parser = spec::parse_duration_range)]
    backoff: DurationRange,
    /// PRNG seed (jitter, faults, which chargers charge).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    report: ReportFormat,
    /// Also write the JSON report to this file.
    #[arg(long)]
    report_file: Option<PathBuf>,
    /// Show a live progress line on stderr (ignored when stderr is not a terminal).
    #[arg(long)]
    progress: bool,
    /// Internal: index of this worker's first charger.
    #[arg(long, default_value_t = 0, hide = true)]
    first_index: u64,
    /// Internal: run as a worker of a multi-process run (adds histograms to the JSON report).
    #[arg(long, hide = true)]
    worker: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
}

/// The largest 14-digit number.
const MAX_PILE: u64 = 99_999_999_999_999;

fn main() -> anyhow::Result<()> {
    let Command::Run(args) = Cli::parse().command;
    let limit = net::raise_fd_limit();
    let procs = match args.procs.as_str() {
        "auto" => procs::auto(args.chargers),
        n => n
            .parse::<usize>()
            .context("--procs wants a number or auto")?
            .max(1),
    };
    anyhow::ensure!(
        args.pile_base + args.first_index + args.chargers <= MAX_PILE,
        "charger numbers beyond 14 digits"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.charging_share),
        "--charging-share must be within 0..1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("runtime")?;
    let report = if procs > 1 && !args.worker {
        let exe = std::env::current_exe().context("own executable")?;
        let all: Vec<String> = std::env::args().skip(1).collect();
        let shared = procs::shared_args(&all);
        runtime.block_on(procs::run_workers(
            &exe,
            &shared,
            args.chargers,
            procs,
            args.ramp,
            args.load_rate,
            &args.source_addrs.clone().unwrap_or_default(),
        ))?
    } else {
        if limit > 0 && args.chargers + 64 > limit {
            eprintln!(
                "device-sim: {} chargers but the open-file limit is {limit}; use --procs auto",
                args.chargers
            );
        }
        runtime.block_on(fleet::run(fleet_config(&args)))?
    };
    write_report(&args, &report)
}

fn fleet_config(args: &RunArgs) -> FleetConfig {
    let ykc = args.mix.count(Protocol::Ykc, args.chargers);
    let load_interval = (args.load_rate > 0.0 && ykc > 0)
        .then(|| Duration::from_secs_f64(ykc as f64 / args.load_rate));
    let sim = SimConfig {
        targets: args.target.clone(),
        heartbeat_idle: args
            .heartbeat
            .map_or(args.heartbeat_idle, |d| DurationRange::new(d, d)),
        heartbeat_charging: args
            .heartbeat
            .map_or(args.heartbeat_charging, |d| DurationRange::new(d, d)),
        telemetry_interval: args.telemetry_interval,
        load_interval,
        load_burst: args.load_burst,
        session_length: args.session_length,
        reply_timeout: args.reply_timeout,
        backoff: args.backoff,
        faults: FaultPlan::new(args.fault.clone().unwrap_or_default()),
        seed: args.seed,
    };
    FleetConfig {
        sim,
        chargers: args.chargers,
        pile_base: args.pile_base,
        first_index: args.first_index,
        mix: args.mix.clone(),
        charging_share: args.charging_share,
        ramp: args.ramp,
        duration: args.duration,
        source_addrs: args.source_addrs.clone().unwrap_or_default().0,
        observe: args.observe.clone(),
        progress: args.progress && progress::available(),
        with_hdr: args.worker,
    }
}

fn write_report(args: &RunArgs, report: &Report) -> anyhow::Result<()> {
    let json = serde_json::to_string(report)?;
    if let Some(path) = &args.report_file {
        std::fs::write(path, format!("{json}\n")).with_context(|| format!("{}", path.display()))?;
    }
    match args.report {
        ReportFormat::Json => println!("{json}"),
        ReportFormat::Table => print!("{report}"),
    }
    Ok(())
}
