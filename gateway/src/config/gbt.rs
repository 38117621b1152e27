//! `[gbt27930]`: settings of the GB/T 27930 CAN relay codec (`gbt27930-can`).

use std::time::Duration;

use chargegate_codec::gbt27930::plugin::{GbtSettings, MonotonicMs};
use chargegate_codec::gbt27930::RelayLayout;
use serde::{Deserialize, Serialize};

/// Byte layout of the relay's 13-byte records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelayLayoutName {
    /// Info byte, 4-byte id, 8 data bytes (USR-CANET200, Ebyte E810-DTU, GCAN-212).
    #[default]
    InfoFirst,
    /// 4-byte id, 8 data bytes, DLC last (ADFweb HD67644).
    IdFirst,
}

/// `[gbt27930]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Gbt27930 {
    /// Record layout of the relays.
    pub relay_layout: RelayLayoutName,
    /// Silence allowed on a relay connection while no charging session runs, seconds.
    pub idle_timeout_secs: u64,
    /// Silence allowed while charging (the BMS talks every 50–250 ms), seconds.
    pub charging_timeout_secs: u64,
}

impl Default for Gbt27930 {
    fn default() -> Self {
        Gbt27930 {
            relay_layout: RelayLayoutName::InfoFirst,
            idle_timeout_secs: chargegate_codec::gbt27930::plugin::DEFAULT_IDLE_TIMEOUT.as_secs(),
            charging_timeout_secs: chargegate_codec::gbt27930::plugin::DEFAULT_CHARGING_TIMEOUT
                .as_secs(),
        }
    }
}

impl Gbt27930 {
    /// The codec settings, with `clock` for the J1939 transfer timers.
    pub fn settings(&self, clock: MonotonicMs) -> GbtSettings {
        let mut s = GbtSettings::new(clock);
        s.layout = match self.relay_layout {
            RelayLayoutName::InfoFirst => RelayLayout::InfoFirst,
            RelayLayoutName::IdFirst => RelayLayout::IdFirst,
        };
        s.idle_timeout = Duration::from_secs(self.idle_timeout_secs);
        s.charging_timeout = Duration::from_secs(self.charging_timeout_secs);
        s
    }
}
