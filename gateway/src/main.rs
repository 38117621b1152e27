//! The `chargegate` binary.

use clap::{Parser, Subcommand};

/// Chargegate: a protocol gateway for EV chargers.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => println!("chargegate {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
