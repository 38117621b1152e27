//! The fleet: N chargers with distinct pile numbers and spread first heartbeats, run to a shared deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::ykc::encoding::PileNumber;
use tokio::time::Instant;

use crate::charger::{run_charger, ChargerConfig};
use crate::rng::SplitMix64;
use crate::stats::{Stats, Summary};

/// Number of decimal digits in a YKC pile number (7 BCD bytes).
const PILE_DIGITS: usize = 14;

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Gateway address.
    pub target: SocketAddr,
    /// Number of chargers.
    pub chargers: u64,
    /// How long the chargers stay connected.
    pub duration: Duration,
    /// Heartbeat interval.
    pub heartbeat: Duration,
    /// 0x13 interval, if any.
    pub realtime: Option<Duration>,
    /// Reply timeout per request.
    pub reply_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// First pile number; charger `i` uses `pile_base + i`.
    pub pile_base: u64,
    /// Seed for the heartbeat phase offsets.
    pub seed: u64,
}

/// The pile number of charger `index`: `base + index` as 14 BCD digits, `None` past 99999999999999.
pub fn pile_number(base: u64, index: u64) -> Option<PileNumber> {
    let n = base.checked_add(index)?;
    let digits = format!("{n:0width$}", width = PILE_DIGITS);
    if digits.len() != PILE_DIGITS {
        return None;
    }
    PileNumber::from_digits(&digits)
}

/// Runs the fleet and returns the summary; errors only on an impossible configuration (pile numbers overflow).
pub async fn run(config: &RunConfig) -> anyhow::Result<Summary> {
    let stats = Arc::new(Stats::default());
    let start = Instant::now();
    let deadline = start + config.duration;
    let mut rng = SplitMix64::new(config.seed);
    let interval_ms = u64::try_from(config.heartbeat.as_millis()).unwrap_or(u64::MAX);
    let mut tasks = Vec::new();
    for index in 0..config.chargers {
        let pile = pile_number(config.pile_base, index).ok_or_else(|| {
            anyhow::anyhow!(
                "pile number {} + {index} does not fit 14 digits",
                config.pile_base
            )
        })?;
        let charger = ChargerConfig {
            target: config.target,
            pile,
            heartbeat: config.heartbeat,
            first_beat: Duration::from_millis(rng.below(interval_ms)),
            realtime: config.realtime,
            reply_timeout: config.reply_timeout,
            connect_timeout: config.connect_timeout,
        };
        let stats = Arc::clone(&stats);
        tasks.push(tokio::spawn(async move {
            // Failures are already counted in `stats`; the reason matters only to a single-charger caller.
            let _ = run_charger(&charger, &stats, deadline).await;
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(stats.summary(config.chargers, elapsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pile_numbers_are_distinct_fourteen_digit_bcd() {
        assert_eq!(
            pile_number(32_010_600_000_000, 5).unwrap().0,
            [0x32, 0x01, 0x06, 0, 0, 0, 0x05]
        );
        assert_eq!(pile_number(0, 1).unwrap().0, [0, 0, 0, 0, 0, 0, 1]);
        assert!(pile_number(99_999_999_999_999, 1).is_none());
    }
}
