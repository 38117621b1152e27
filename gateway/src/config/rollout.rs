//! `[rollout.<codec>]`: which registered version of a codec each charger speaks — a stable version, a candidate
//! for `hash(chargerId) % 1000 < per_mille` chargers, and per-charger pins. Re-read on SIGHUP, so setting
//! `per_mille = 0` and reloading moves every charger back at its next login.

use std::collections::{BTreeMap, HashMap};

use chargegate_codec::plugin::Rollout;
use serde::{Deserialize, Serialize};

/// One codec's rollout plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutConfig {
    /// The version everyone gets unless pinned or in the candidate's buckets.
    pub stable: String,
    /// The version being rolled out.
    pub candidate: Option<String>,
    /// Buckets out of 1000 that get the candidate: 0 = none (rollback), 1000 = all.
    pub per_mille: u16,
    /// Charger id → version, winning over the buckets.
    pub pins: BTreeMap<String, String>,
}

impl RolloutConfig {
    /// The registry's plan.
    pub fn plan(&self) -> Rollout {
        Rollout {
            stable: self.stable.clone(),
            candidate: self.candidate.clone(),
            per_mille: self.per_mille,
            pins: self
                .pins
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        }
    }
}
