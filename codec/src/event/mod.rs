//! The normalized event model: one shape for every charger brand.
//!
//! A codec turns a decoded message into one or more [`Observation`]s — what the charger said, in SI units with
//! scales applied — and the gateway stamps each with an id, a timestamp and its own instance name to make an
//! [`Event`], the versioned JSON document a backend consumes (`docs/events.md` is the contract). Keeping the
//! stamping out of the codec keeps this crate free of clocks and randomness.

mod body;
mod json;
mod meter;
mod session;
mod status;

pub use body::{
    AlarmData, AuthorizeData, CommandResultData, CommandStatus, EventBody, HeartbeatData,
    OfflineData, OnlineData, RawData, StatusNoticeData,
};
pub use meter::{MeterData, PhaseReading, Reading};
pub use session::{SessionStartedData, SessionStoppedData, TariffTier, TransactionData};
pub use status::{ConnectorStatus, StatusData};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Version of the event JSON schema; bumped only for incompatible changes.
pub const EVENT_SCHEMA_VERSION: u8 = 1;

/// What one decoded message says about a charger, before the gateway stamps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Charger id as the message names it (YKC pile number, OCPP identity); `None` when the message carries none
    /// and the connection's identity applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charger: Option<String>,
    /// Connector (gun) number, 1-based; `None` or 0 means the charger as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
    /// The kind and its data.
    #[serde(flatten)]
    pub body: EventBody,
}

impl Observation {
    /// An observation about the charger as a whole.
    pub fn charger(charger: impl Into<String>, body: EventBody) -> Self {
        Observation {
            charger: Some(charger.into()),
            connector: None,
            body,
        }
    }

    /// An observation about one connector.
    pub fn connector(charger: impl Into<String>, connector: u16, body: EventBody) -> Self {
        Observation {
            charger: Some(charger.into()),
            connector: Some(connector),
            body,
        }
    }
}

/// A normalized event as published upstream: `{"v":1,"id":…,"ts":…,"charger":…,"connector":…,"protocol":…,
/// "kind":…,"data":{…},"gw":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Schema version, [`EVENT_SCHEMA_VERSION`].
    pub v: u8,
    /// Unique event id, assigned by the gateway; consumers deduplicate QoS 1 redeliveries by it.
    pub id: String,
    /// When the gateway received the frame, Unix epoch milliseconds (UTC).
    pub ts: u64,
    /// Charger id.
    pub charger: String,
    /// Connector number, 1-based, absent for the charger as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
    /// Protocol and version the charger spoke, such as `ykc/1.6`, `ocpp/1.6`, `gbt27930/2015`.
    pub protocol: String,
    /// The kind (`"kind"`) and its data (`"data"`).
    #[serde(flatten)]
    pub body: EventBody,
    /// Name of the gateway instance that received the frame. Shared, not copied: every event of an instance
    /// carries the same name, and a copy per event was an allocation on the connection worker and a cross-thread
    /// free in the sink.
    #[serde(with = "shared_str")]
    pub gw: Arc<str>,
}

/// Serde for an `Arc<str>` field as a plain JSON string (serde's own impl needs its `rc` feature workspace-wide).
mod shared_str {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    /// As a string.
    pub fn serialize<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    /// From a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(d).map(Arc::from)
    }
}

impl Event {
    /// Stamps an observation into an event. `fallback_charger` is the connection's identity, used when the
    /// message itself names no charger; `gw` is the instance name (pass a clone of a shared `Arc<str>` to avoid
    /// copying it).
    pub fn stamp(
        obs: Observation,
        id: impl Into<String>,
        ts: u64,
        fallback_charger: &str,
        protocol: &str,
        gw: impl Into<Arc<str>>,
    ) -> Event {
        Event {
            v: EVENT_SCHEMA_VERSION,
            id: id.into(),
            ts,
            charger: obs.charger.unwrap_or_else(|| fallback_charger.to_owned()),
            connector: obs.connector.filter(|c| *c != 0),
            protocol: protocol.to_owned(),
            body: obs.body,
            gw: gw.into(),
        }
    }

    /// The event kind as its wire name, e.g. `"meter"`; used in topic names and metric labels.
    pub fn kind(&self) -> &'static str {
        self.body.kind()
    }
}

#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod tests;
