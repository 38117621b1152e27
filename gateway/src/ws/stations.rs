//! Which station a charger belongs to: the charger registry file first (it knows chargers that are offline),
//! then the live session's metadata.

use std::sync::Arc;

use crate::pipeline::charger_registry::ChargerRegistry;
use crate::session::SessionRegistry;

/// Resolves a charger id to its station.
pub trait StationLookup: Send + Sync + 'static {
    /// The station of `charger`, if known.
    fn station_of(&self, charger: &str) -> Option<String>;
}

/// The gateway's lookup: registry file, then sessions.
pub struct RegistryStations {
    registry: Option<Arc<ChargerRegistry>>,
    sessions: Arc<SessionRegistry>,
}

impl RegistryStations {
    /// A lookup over the optional registry file and the live sessions.
    pub fn new(registry: Option<Arc<ChargerRegistry>>, sessions: Arc<SessionRegistry>) -> Self {
        RegistryStations { registry, sessions }
    }
}

impl StationLookup for RegistryStations {
    fn station_of(&self, charger: &str) -> Option<String> {
        if let Some(record) = self.registry.as_ref().and_then(|r| r.get(charger)) {
            return Some(record.station.clone());
        }
        self.sessions.get(charger)?.meta.station.clone()
    }
}
