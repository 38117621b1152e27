//! What the REST API reads about chargers: a [`ChargerDirectory`] (the session registry implements it) and the
//! page and filter types of `GET /api/v1/chargers`.

use serde::{Deserialize, Serialize};

/// One charger as the REST API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerInfo {
    /// Charger id.
    pub id: String,
    /// Station it belongs to, from the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// Protocol and version, e.g. `ykc/1.6`.
    pub protocol: String,
    /// `online` or `offline`.
    pub state: String,
    /// Connected since, Unix epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_since: Option<u64>,
    /// Last frame received, Unix epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
    /// Peer address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Worker the connection lives on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<usize>,
    /// Gateway instance holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Filters of the list; each set field must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChargerFilter {
    /// Station id.
    pub station: Option<String>,
    /// Protocol (prefix match, so `ocpp` matches `ocpp/1.6`).
    pub protocol: Option<String>,
    /// `online` or `offline`.
    pub state: Option<String>,
}

impl ChargerFilter {
    /// Whether `c` passes.
    pub fn matches(&self, c: &ChargerInfo) -> bool {
        self.station
            .as_ref()
            .is_none_or(|s| c.station.as_ref() == Some(s))
            && self
                .protocol
                .as_ref()
                .is_none_or(|p| c.protocol.starts_with(p.as_str()))
            && self.state.as_ref().is_none_or(|s| &c.state == s)
    }
}

/// Which slice of the (id-ordered) list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to skip.
    pub offset: usize,
    /// Items to return at most.
    pub limit: usize,
}

/// One page of chargers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerPage {
    /// Chargers matching the filter, in all pages.
    pub total: usize,
    /// Offset of the first item.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// This page.
    pub items: Vec<ChargerInfo>,
}

/// Read access to the chargers the gateway knows (connected ones and registry entries).
pub trait ChargerDirectory: Send + Sync + 'static {
    /// A page of chargers passing `filter`, ordered by id.
    fn list(&self, filter: &ChargerFilter, page: PageRequest) -> ChargerPage;
    /// One charger.
    fn get(&self, id: &str) -> Option<ChargerInfo>;
}

/// A fixed list, for tests and for a gateway started without a registry.
#[derive(Debug, Clone, Default)]
pub struct StaticDirectory {
    chargers: Vec<ChargerInfo>,
}

impl StaticDirectory {
    /// A directory of `chargers` (sorted by id here).
    pub fn new(mut chargers: Vec<ChargerInfo>) -> Self {
        chargers.sort_by(|a, b| a.id.cmp(&b.id));
        StaticDirectory { chargers }
    }
}

impl ChargerDirectory for StaticDirectory {
    fn list(&self, filter: &ChargerFilter, page: PageRequest) -> ChargerPage {
        let matching: Vec<&ChargerInfo> =
            self.chargers.iter().filter(|c| filter.matches(c)).collect();
        ChargerPage {
            total: matching.len(),
            offset: page.offset,
            limit: page.limit,
            items: matching
                .into_iter()
                .skip(page.offset)
                .take(page.limit)
                .cloned()
                .collect(),
        }
    }

    fn get(&self, id: &str) -> Option<ChargerInfo> {
        self.chargers.iter().find(|c| c.id == id).cloned()
    }
}
