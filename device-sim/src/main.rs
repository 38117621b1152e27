//! `device-sim`: plays EV chargers against a Chargegate gateway. See `docs/device-sim.md`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use device_sim::duration::parse_duration;
use device_sim::{run, RunConfig};

/// Default first pile number (a Nanjing-style prefix, then a counter).
const DEFAULT_PILE_BASE: u64 = 32_010_600_000_000;

/// Command line.
#[derive(Debug, Parser)]
#[command(version, about = "Plays EV chargers against a Chargegate gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Report format.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Report {
    /// A few human-readable lines.
    Human,
    /// One JSON object.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run N YKC chargers: login, heartbeats (and optional 0x13 real-time data), checking every reply.
    Run {
        /// Gateway YKC listener.
        #[arg(long, default_value = "127.0.0.1:8768")]
        target: SocketAddr,
        /// Number of chargers.
        #[arg(long, default_value_t = 1)]
        chargers: u64,
        /// How long the chargers stay connected (`10s`, `2m`, `500ms`).
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
        /// Heartbeat interval.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        heartbeat: Duration,
        /// Send 0x13 real-time data at this interval.
        #[arg(long, value_parser = parse_duration)]
        realtime: Option<Duration>,
        /// How long a reply may take before it counts as missing.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        reply_timeout: Duration,
        /// How long a TCP connect may take.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        connect_timeout: Duration,
        /// First pile number (14 digits); charger i uses base + i.
        #[arg(long, default_value_t = DEFAULT_PILE_BASE)]
        pile_base: u64,
        /// Seed for the heartbeat offsets (default: the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        report: Report,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let Command::Run {
        target,
        chargers,
        duration,
        heartbeat,
        realtime,
        reply_timeout,
        connect_timeout,
        pile_base,
        seed,
        report,
    } = Cli::parse().command;
    let seed = seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default()
    });
    let summary = run(&RunConfig {
        target,
        chargers,
        duration,
        heartbeat,
        realtime,
        reply_timeout,
        connect_timeout,
        pile_base,
        seed,
    })
    .await?;
    match report {
        Report::Human => println!("{}", summary.human()),
        Report::Json => println!("{}", serde_json::to_string(&summary)?),
    }
    Ok(if summary.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
