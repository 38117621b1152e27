//! The live progress line on stderr (indicatif): connections up, frames, mismatches, failures. Off when stderr is
//! not a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::report::Counters;

/// Whether a progress line can be shown (stderr is a terminal).
pub fn available() -> bool {
    std::io::stderr().is_terminal()
}

/// Refreshes the line every `tick` until `stop`; returns the task, which clears the line when it ends.
pub fn spawn(
    counters: Arc<Counters>,
    chargers: u64,
    tick: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let bar = ProgressBar::with_draw_target(Some(chargers), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] up {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        let mut interval = tokio::time::interval(tick);
        let mut last_sent = 0u64;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {}
            }
            let sent = Counters::get(&counters.sent);
            let rate = (sent - last_sent) as f64 / tick.as_secs_f64();
            last_sent = sent;
            bar.set_position(Counters::get(&counters.up));
            bar.set_message(format!(
                "sent {sent} ({rate:.0}/s) answered {} mismatches {} failed {}",
                Counters::get(&counters.answered),
                counters.mismatch_total(),
                counters.failed_total(),
            ));
        }
        bar.finish_and_clear();
    })
}
