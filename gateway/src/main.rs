//! The `chargegate` binary: `serve` runs the gateway, `check-config` validates a file. Subcommands live in one
//! enum so new ones (`decode`, `token`) slot in beside them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chargegate::app::{reload_on_sighup, App, AppOptions, HupListener};
use chargegate::cli::decode::{self, DecodeOptions, DecodeProtocol};
use chargegate::cli::token::TokenCommand;
use chargegate::config::{check_file, Config, LogFormat, ServeArgs};
use chargegate::metrics::Metrics;
use chargegate::shutdown::wait_for_signal;
use chargegate_codec::gbt27930::RelayLayout;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// With the `mimalloc` feature (off by default), mimalloc instead of the system allocator: every frame allocates a
/// handful of small objects on a worker thread (events, strings) that the sink frees on another thread, and glibc
/// malloc spent ~18 % of the gateway's CPU on that at 150k frames/s; the cost is RSS per connection
/// (docs/decisions/0012-mimalloc.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With the `jemalloc` feature (off by default, not together with `mimalloc`), jemalloc instead of the system
/// allocator: ~160 B less RSS per idle connection at 10,000 than glibc, whose chunk headers and the holes left by
/// splitting chunks for tokio's 128-byte-aligned task cells and I/O registrations cost that much
/// (docs/decisions/0019-jemalloc.md).
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Threads of the boss runtime (acceptors, HTTP, sinks); connections live on the worker threads.
const BOSS_THREADS: usize = 1;

/// Chargegate: a protocol gateway for EV chargers.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (defaults need no config file).
    Serve(Box<ServeArgs>),
    /// Validate a configuration file; names the bad key and line.
    CheckConfig {
        /// The TOML file.
        file: PathBuf,
    },
    /// Decode a capture (hex, a file, or - for stdin) and print each frame and its events as JSON.
    Decode {
        /// The protocol of the capture.
        #[arg(long, value_enum)]
        protocol: DecodeProtocol,
        /// Charger id for protocols whose frames carry none (OCPP, GB/T CAN).
        #[arg(long, default_value = "unknown")]
        charger: String,
        /// Byte layout of 13-byte CAN relay frames: info byte first, or id first.
        #[arg(long, value_enum, default_value = "info-first")]
        relay_layout: RelayLayoutArg,
        /// Envelope for `ocpp-tcp`: a preset (`ocpp-tcp`, `ocpp-tcp-alt`) or a TOML file declaring one.
        #[arg(long, default_value = "ocpp-tcp")]
        envelope: String,
        /// Hex string, file path, or `-` for standard input.
        input: String,
    },
    /// Make or check WebSocket subscriber tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the version.
    Version,
}

/// Byte layout of a 13-byte CAN-to-Ethernet relay frame.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RelayLayoutArg {
    /// Info byte, 4-byte id, 8 data bytes.
    InfoFirst,
    /// 4-byte id, info byte, 8 data bytes.
    IdFirst,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::CheckConfig { file } => Ok(check_config(&file)),
        Command::Decode {
            protocol,
            charger,
            relay_layout,
            envelope,
            input,
        } => {
            let relay_layout = match relay_layout {
                RelayLayoutArg::InfoFirst => RelayLayout::InfoFirst,
                RelayLayoutArg::IdFirst => RelayLayout::IdFirst,
            };
            let opts = DecodeOptions {
                protocol,
                charger,
                relay_layout,
                envelope,
            };
            let summary = decode::run(&opts, &input, &mut std::io::stdout().lock())?;
            if summary.errors > 0 {
                eprintln!(
                    "{} frame(s) decoded, {} refused",
                    summary.frames, summary.errors
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(cmd) => match chargegate::cli::token::run(&cmd) {
            Ok(out) => {
                println!("{out}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("token: {e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Version => {
            println!("chargegate {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match check_file(file) {
        Ok(config) => {
            println!("{}: ok", file.display());
            for l in config.listeners.resolved() {
                println!("  listener {:<14} {:<22} codec {}", l.name, l.bind, l.codec);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config, cli_format: Option<LogFormat>) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli_format.unwrap_or(config.log.format) {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.load().context("configuration")?;
    init_tracing(&config, args.log_format());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(BOSS_THREADS)
        .thread_name("chargegate-boss")
        .enable_all()
        .build()
        .context("boss runtime")?;
    runtime.block_on(async {
        let token = CancellationToken::new();
        let options = AppOptions::new(Metrics::new()?);
        // Both handlers exist before anything is served: a signal during start-up is never the default action.
        let hup = HupListener::install();
        tokio::spawn(wait_for_signal(token.clone()));
        let app = App::start(config, options, token.clone()).await?;
        tokio::spawn(reload_on_sighup(
            hup,
            app.reloader(),
            move || args.load(),
            token,
        ));
        app.wait().await;
        Ok(ExitCode::SUCCESS)
    })
}
