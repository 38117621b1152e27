//! The codec registry: name (and version) → codec, with the rollout plan per name swapped atomically on reload.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Detect, Rollout, VendorCodec};

type Codecs = HashMap<&'static str, Vec<Arc<dyn VendorCodec>>>;
type Rollouts = HashMap<String, Arc<Rollout>>;

/// Every codec the gateway can serve, by name and version, and which version each charger gets.
///
/// Reads clone an `Arc` out of a short read lock, so a config reload ([`CodecRegistry::set_rollout`]) takes effect
/// for the next lookup without disturbing connections that already chose their codec.
#[derive(Default)]
pub struct CodecRegistry {
    codecs: RwLock<Codecs>,
    rollouts: RwLock<Rollouts>,
}

/// Why a rollout plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    /// The plan names a version that is not registered.
    #[error("codec `{name}` has no registered version `{version}`")]
    UnknownVersion {
        /// Codec name.
        name: String,
        /// Version the plan named.
        version: String,
    },
}

impl CodecRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a codec under its name and version; the first version registered for a name is its default until a
    /// rollout names another. Registering the same name and version again replaces it.
    pub fn register(&self, codec: Arc<dyn VendorCodec>) {
        let mut codecs = self.codecs.write().unwrap_or_else(|e| e.into_inner());
        let versions = codecs.entry(codec.name()).or_default();
        match versions.iter_mut().find(|c| c.version() == codec.version()) {
            Some(slot) => *slot = codec,
            None => versions.push(codec),
        }
    }

    /// Registered codec names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let codecs = self.codecs.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<_> = codecs.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// One exact version of a codec.
    pub fn version(&self, name: &str, version: &str) -> Option<Arc<dyn VendorCodec>> {
        let codecs = self.codecs.read().unwrap_or_else(|e| e.into_inner());
        codecs
            .get(name)?
            .iter()
            .find(|c| c.version() == version)
            .cloned()
    }

    /// The version a connection starts with before its charger id is known: the rollout's stable version, or the
    /// first registered.
    pub fn default_for(&self, name: &str) -> Option<Arc<dyn VendorCodec>> {
        match self.rollout(name) {
            Some(plan) => self.version(name, &plan.stable),
            None => {
                let codecs = self.codecs.read().unwrap_or_else(|e| e.into_inner());
                codecs.get(name)?.first().cloned()
            }
        }
    }

    /// The version `charger_id` should speak under the current rollout plan.
    pub fn select(&self, name: &str, charger_id: &str) -> Option<Arc<dyn VendorCodec>> {
        match self.rollout(name) {
            Some(plan) => self.version(name, plan.version_for(charger_id)),
            None => self.default_for(name),
        }
    }

    /// Installs a rollout plan for `name` (a config reload); every version it names must be registered.
    pub fn set_rollout(&self, name: &str, plan: Rollout) -> Result<(), RolloutError> {
        if let Some(missing) = plan.versions().find(|v| self.version(name, v).is_none()) {
            return Err(RolloutError::UnknownVersion {
                name: name.to_owned(),
                version: missing.to_owned(),
            });
        }
        let mut rollouts = self.rollouts.write().unwrap_or_else(|e| e.into_inner());
        rollouts.insert(name.to_owned(), Arc::new(plan));
        Ok(())
    }

    /// Removes the rollout plan for `name` (a reload without its section): every charger gets the first registered
    /// version again.
    pub fn clear_rollout(&self, name: &str) {
        let mut rollouts = self.rollouts.write().unwrap_or_else(|e| e.into_inner());
        rollouts.remove(name);
    }

    /// Codec names with an installed rollout plan, sorted.
    pub fn rollout_names(&self) -> Vec<String> {
        let rollouts = self.rollouts.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<_> = rollouts.keys().cloned().collect();
        names.sort_unstable();
        names
    }

    /// The current rollout plan for `name`, if one was installed.
    pub fn rollout(&self, name: &str) -> Option<Arc<Rollout>> {
        let rollouts = self.rollouts.read().unwrap_or_else(|e| e.into_inner());
        rollouts.get(name).cloned()
    }

    /// For `sniff` listeners: the first of `candidates` whose default version matches `first_bytes`.
    /// `Detect::NeedMore` if none matched yet but one might with more bytes.
    pub fn detect(
        &self,
        candidates: &[&str],
        first_bytes: &[u8],
    ) -> Result<Arc<dyn VendorCodec>, Detect> {
        let mut need_more = false;
        for codec in candidates.iter().filter_map(|n| self.default_for(n)) {
            match codec.detect(first_bytes) {
                Detect::Match => return Ok(codec),
                Detect::NeedMore => need_more = true,
                Detect::NoMatch => {}
            }
        }
        Err(if need_more {
            Detect::NeedMore
        } else {
            Detect::NoMatch
        })
    }
}
