//! `chargegate token create|verify`: makes and checks WebSocket subscriber tokens (see `docs/websocket.md`).
//! The token goes to standard output only; the secret is read from a file and never printed.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use thiserror::Error;

use crate::ws::token::{unix_now, Claims, TokenError, TokenSecret};

/// `chargegate token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Sign a token and print it.
    Create(CreateArgs),
    /// Check a token's signature and expiry and print its claims as JSON.
    Verify(VerifyArgs),
}

/// `chargegate token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// File holding the HMAC secret (the gateway's `websocket.token_secret_file`).
    #[arg(long)]
    pub secret_file: PathBuf,
    /// Subject: who holds the token (logged when it connects).
    #[arg(long)]
    pub sub: String,
    /// A station the token may watch (repeatable).
    #[arg(long = "station")]
    pub stations: Vec<String>,
    /// A charger the token may watch (repeatable).
    #[arg(long = "charger")]
    pub chargers: Vec<String>,
    /// Allow commands to the covered chargers.
    #[arg(long)]
    pub may_command: bool,
    /// Lifetime: `90s`, `15m`, `1h`, `7d`, or plain seconds.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: Duration,
}

/// `chargegate token verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// File holding the HMAC secret.
    #[arg(long)]
    pub secret_file: PathBuf,
    /// The token.
    pub token: String,
}

/// Why a token command failed.
#[derive(Debug, Error)]
pub enum TokenCliError {
    /// Secret or token refused.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A token must name at least one station or charger.
    #[error("a token needs at least one --station or --charger")]
    NothingCovered,
}

/// Parses a lifetime such as `30s`, `15m`, `1h`, `7d` or `3600`.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 90s, 15m, 1h, 7d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: unit must be s, m, h or d")),
    };
    n.checked_mul(mult)
        .filter(|&secs| secs > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` must be positive and not overflow"))
}

/// Runs a token command and returns what to print on standard output.
pub fn run(cmd: &TokenCommand) -> Result<String, TokenCliError> {
    match cmd {
        TokenCommand::Create(a) => {
            if a.stations.is_empty() && a.chargers.is_empty() {
                return Err(TokenCliError::NothingCovered);
            }
            let secret = TokenSecret::load(&a.secret_file)?;
            let claims = Claims {
                sub: a.sub.clone(),
                stations: a.stations.clone(),
                chargers: a.chargers.clone(),
                may_command: a.may_command,
                exp: unix_now().saturating_add(a.ttl.as_secs()),
            };
            Ok(secret.sign(&claims))
        }
        TokenCommand::Verify(a) => {
            let secret = TokenSecret::load(&a.secret_file)?;
            let claims = secret.verify(a.token.trim(), unix_now())?;
            Ok(serde_json::to_string_pretty(&claims).unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_take_units() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_ttl("42").unwrap(), Duration::from_secs(42));
        for bad in ["", "0", "1w", "h", "-1h", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
