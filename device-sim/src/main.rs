//! `device-sim`: plays EV chargers against a gateway.
//!
//! `device-sim run --target 127.0.0.1:8768 --chargers 100 --duration 30s` — see `docs/device-sim.md`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chargegate_codec::ykc::PileNumber;
use clap::{Parser, Subcommand, ValueEnum};
use device_sim::charger::{self, ChargerConfig};
use device_sim::report::Counters;
use tokio_util::sync::CancellationToken;

/// Plays YKC chargers against a Chargegate gateway and reports what it saw.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run N chargers for a while, then print a report.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Gateway YKC listener.
    #[arg(long, default_value = "127.0.0.1:8768")]
    target: std::net::SocketAddr,
    /// Number of chargers.
    #[arg(long, default_value_t = 10)]
    chargers: u64,
    /// How long to run (`30s`, `2m`, or seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Heartbeat period (`10s` per the YKC spec).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    heartbeat: Duration,
    /// New connections per second.
    #[arg(long, default_value_t = 1000)]
    ramp: u64,
    /// Pile number of the first charger; the others count up from it (14 digits).
    #[arg(long, default_value = "32010200000000")]
    pile_base: u64,
    /// How long to wait for any reply.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    reply_timeout: Duration,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    report: ReportFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

/// The largest 14-digit pile number.
const MAX_PILE: u64 = 99_999_999_999_999;

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (use 30s, 2m, 500ms)"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("unknown unit in {s:?} (use s, m or ms)")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Command::Run(args) = Cli::parse().command;
    anyhow::ensure!(
        args.pile_base + args.chargers <= MAX_PILE,
        "pile numbers beyond 14 digits"
    );
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let pace = Duration::from_secs(1) / u32::try_from(args.ramp.max(1)).unwrap_or(u32::MAX);
    let started = tokio::time::Instant::now();
    let end = started + args.duration;
    for i in 0..args.chargers {
        if tokio::time::Instant::now() >= end {
            break;
        }
        let pile = PileNumber::from_digits(&format!("{:014}", args.pile_base + i))
            .context("pile number")?;
        let cfg = ChargerConfig {
            target: args.target,
            pile,
            heartbeat: args.heartbeat,
            first_beat: charger::stagger(&pile, args.heartbeat),
            reply_timeout: args.reply_timeout,
        };
        tasks.spawn(charger::run(cfg, counters.clone(), stop.clone()));
        tokio::time::sleep(pace).await;
    }
    tokio::time::sleep_until(end).await;
    stop.cancel();
    while tasks.join_next().await.is_some() {}
    let report = counters.snapshot();
    match args.report {
        ReportFormat::Text => println!("{report}"),
        ReportFormat::Json => println!("{}", serde_json::to_string(&report)?),
    }
    Ok(())
}
