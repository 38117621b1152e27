//! Gradual rollout of a codec version: pin per charger, or send `hash(chargerId) % 1000 < N` chargers to the
//! candidate version.
//!
//! The hash is 64-bit FNV-1a over the charger id's UTF-8 bytes (offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`): stable across processes, platforms and releases, so a charger stays in its bucket through
//! restarts and on every gateway instance. Raising N only ever adds chargers to the candidate; N = 0 is an instant
//! rollback.

use std::collections::HashMap;

/// Number of rollout buckets; `per_mille` counts buckets out of this many.
pub const ROLLOUT_BUCKETS: u64 = 1000;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The charger's rollout bucket, `fnv1a64(charger_id) % 1000`.
pub fn rollout_bucket(charger_id: &str) -> u16 {
    let hash = charger_id.as_bytes().iter().fold(FNV_OFFSET_BASIS, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    });
    // The remainder is below 1000, so it always fits.
    u16::try_from(hash % ROLLOUT_BUCKETS).unwrap_or(0)
}

/// Which version of one codec name each charger gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollout {
    /// The version everyone gets unless pinned or in the candidate's buckets.
    pub stable: String,
    /// The version being rolled out, if any.
    pub candidate: Option<String>,
    /// Buckets (out of [`ROLLOUT_BUCKETS`]) that get the candidate: 0 = none, 1000 = all.
    pub per_mille: u16,
    /// Per-charger pins, which win over the buckets.
    pub pins: HashMap<String, String>,
}

impl Rollout {
    /// Everyone on `stable`.
    pub fn stable(version: impl Into<String>) -> Self {
        Rollout {
            stable: version.into(),
            ..Default::default()
        }
    }

    /// The version `charger_id` should speak.
    pub fn version_for(&self, charger_id: &str) -> &str {
        if let Some(pinned) = self.pins.get(charger_id) {
            return pinned;
        }
        match &self.candidate {
            Some(candidate) if rollout_bucket(charger_id) < self.per_mille => candidate,
            _ => &self.stable,
        }
    }

    /// Every version this rollout names, for validation against the registry.
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.stable.as_str())
            .chain(self.candidate.as_deref())
            .chain(self.pins.values().map(String::as_str))
    }
}
