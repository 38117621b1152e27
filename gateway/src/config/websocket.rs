//! `[websocket]`: the dashboard push hub at `/ws` — token secret, batching window, ping/pong, per-subscriber
//! queue water marks and message limits. [`WebSocket::hub_config`] turns it into the hub's settings.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ws::HubConfig;

/// Default telemetry batching window, milliseconds (the brief: 1–5 s; 1 s by default).
pub const DEFAULT_WS_BATCH_WINDOW_MS: u64 = 1000;
/// Default ping interval, seconds.
pub const DEFAULT_WS_PING_INTERVAL_SECS: u64 = 30;
/// Default pongs a subscriber may miss before it is closed.
pub const DEFAULT_WS_MISSED_PONGS: u32 = 2;
/// Default largest client message (and frame), bytes.
pub const DEFAULT_WS_MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Default queued entries per subscriber below which telemetry is queued one by one again.
pub const DEFAULT_WS_QUEUE_LOW_WATER: usize = 256;
/// Default queued entries per subscriber above which telemetry is coalesced to the latest value per charger.
pub const DEFAULT_WS_QUEUE_HIGH_WATER: usize = 1024;
/// Default queued entries per subscriber above which it is closed with 1008.
pub const DEFAULT_WS_QUEUE_HARD_LIMIT: usize = 8192;
/// Default largest number of connected subscribers.
pub const DEFAULT_WS_MAX_SUBSCRIBERS: usize = 10_000;
/// Default largest number of stations plus chargers one subscriber may subscribe to.
pub const DEFAULT_WS_MAX_SUBSCRIPTIONS: usize = 1000;

/// `[websocket]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocket {
    /// Serve the hub at `/ws` (it also needs `token_secret_file`; without one `/ws` answers 501).
    pub enabled: bool,
    /// File holding the HMAC-SHA256 secret that signs subscriber tokens (`chargegate token create`).
    pub token_secret_file: Option<PathBuf>,
    /// Telemetry (meter, BMS) batching window, milliseconds; 0 sends each event as soon as possible.
    pub batch_window_ms: u64,
    /// Seconds between pings.
    pub ping_interval_secs: u64,
    /// Pongs a subscriber may miss before it is closed.
    pub missed_pongs: u32,
    /// Largest client message (and frame), bytes; larger ones close the subscriber with 1009.
    pub max_message_bytes: usize,
    /// Queue entries below which telemetry is no longer coalesced.
    pub queue_low_water: usize,
    /// Queue entries above which telemetry is coalesced to the latest value per charger (alarms kept).
    pub queue_high_water: usize,
    /// Queue entries above which the subscriber is closed with 1008.
    pub queue_hard_limit: usize,
    /// Largest number of connected subscribers; more are refused with 503 before the upgrade.
    pub max_subscribers: usize,
    /// Largest number of stations plus chargers one subscriber may hold.
    pub max_subscriptions: usize,
}

impl Default for WebSocket {
    fn default() -> Self {
        WebSocket {
            enabled: true,
            token_secret_file: None,
            batch_window_ms: DEFAULT_WS_BATCH_WINDOW_MS,
            ping_interval_secs: DEFAULT_WS_PING_INTERVAL_SECS,
            missed_pongs: DEFAULT_WS_MISSED_PONGS,
            max_message_bytes: DEFAULT_WS_MAX_MESSAGE_BYTES,
            queue_low_water: DEFAULT_WS_QUEUE_LOW_WATER,
            queue_high_water: DEFAULT_WS_QUEUE_HIGH_WATER,
            queue_hard_limit: DEFAULT_WS_QUEUE_HARD_LIMIT,
            max_subscribers: DEFAULT_WS_MAX_SUBSCRIBERS,
            max_subscriptions: DEFAULT_WS_MAX_SUBSCRIPTIONS,
        }
    }
}

impl WebSocket {
    /// The hub's settings; subscriber commands wait `command_timeout` (the REST one). The secret is read
    /// separately, see [`crate::ws::TokenSecret::load`].
    pub fn hub_config(&self, command_timeout: Duration) -> HubConfig {
        HubConfig {
            batch_window: Duration::from_millis(self.batch_window_ms),
            ping_interval: Duration::from_secs(self.ping_interval_secs),
            missed_pongs: self.missed_pongs,
            max_message_bytes: self.max_message_bytes,
            low_water: self.queue_low_water,
            high_water: self.queue_high_water,
            hard_limit: self.queue_hard_limit,
            max_subscribers: self.max_subscribers,
            max_subscriptions: self.max_subscriptions,
            command_timeout,
        }
    }

    /// The first inconsistent key and why, for the config checker.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        for (key, value) in [
            ("websocket.ping_interval_secs", self.ping_interval_secs),
            ("websocket.missed_pongs", u64::from(self.missed_pongs)),
            ("websocket.max_message_bytes", self.max_message_bytes as u64),
            ("websocket.queue_hard_limit", self.queue_hard_limit as u64),
            ("websocket.max_subscribers", self.max_subscribers as u64),
            ("websocket.max_subscriptions", self.max_subscriptions as u64),
        ] {
            if value == 0 {
                return Some((key, "must be greater than 0".to_owned()));
            }
        }
        if !(self.queue_low_water <= self.queue_high_water
            && self.queue_high_water < self.queue_hard_limit)
        {
            return Some((
                "websocket.queue_high_water",
                format!(
                    "water marks must satisfy low ({}) <= high ({}) < hard limit ({})",
                    self.queue_low_water, self.queue_high_water, self.queue_hard_limit
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_consistent_and_batch_per_second() {
        let ws = WebSocket::default();
        assert_eq!(ws.problem(), None);
        assert_eq!(
            ws.hub_config(Duration::from_secs(30)).batch_window,
            Duration::from_secs(1)
        );
        assert_eq!(
            ws.hub_config(Duration::from_secs(30)).ping_interval,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn a_zero_window_is_allowed_and_means_no_batching() {
        let ws: WebSocket = toml::from_str("batch_window_ms = 0").unwrap();
        assert_eq!(ws.problem(), None);
        assert!(ws
            .hub_config(Duration::from_secs(30))
            .batch_window
            .is_zero());
    }

    #[test]
    fn water_marks_out_of_order_are_named() {
        let ws: WebSocket = toml::from_str("queue_high_water = 10\nqueue_hard_limit = 10").unwrap();
        let (key, _) = ws.problem().unwrap();
        assert_eq!(key, "websocket.queue_high_water");
    }
}
