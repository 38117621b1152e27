//! The normalized event model: one shape for every charger brand.
//!
//! A codec turns a decoded message into one or more [`Observation`]s — what the charger said, in SI units with
//! scales applied — and the gateway stamps each with an id, a timestamp and its own instance name to make an
//! [`Event`], the versioned JSON document a backend consumes (`docs/events.md` is the contract). Keeping the
//! stamping out of the codec keeps this crate free of clocks and randomness.

mod body;
mod fixed;
mod json;
mod meter;
mod session;
mod status;
mod text;
mod view;

pub use body::{
    AlarmData, AuthorizeData, CommandResultData, CommandStatus, EventBody, HeartbeatData,
    OfflineData, OnlineData, RawData, StatusNoticeData,
};
pub use meter::{MeterData, PhaseReading, Reading};
pub use session::{SessionStartedData, SessionStoppedData, TariffTier, TransactionData};
pub use status::{ConnectorStatus, StatusData};
pub use text::{interned, EventId, SharedStr};
pub use view::{plain_names, EventView, IdView};

use serde::{Deserialize, Serialize};

/// Version of the event JSON schema; bumped only for incompatible changes.
pub const EVENT_SCHEMA_VERSION: u8 = 1;

/// What one decoded message says about a charger, before the gateway stamps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Charger id as the message names it (YKC pile number, OCPP identity); `None` when the message carries none
    /// or names the connection's own charger, whose identity then applies (and is shared, not copied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charger: Option<SharedStr>,
    /// Connector (gun) number, 1-based; `None` or 0 means the charger as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
    /// The kind and its data.
    #[serde(flatten)]
    pub body: EventBody,
}

impl Observation {
    /// A placeholder (an empty heartbeat about the connection's own charger): what is left where an observation
    /// was taken out of a list.
    pub fn empty() -> Self {
        Observation {
            charger: None,
            connector: None,
            body: EventBody::Heartbeat(HeartbeatData::default()),
        }
    }

    /// An observation about the charger as a whole.
    pub fn charger(charger: impl Into<SharedStr>, body: EventBody) -> Self {
        Observation {
            charger: Some(charger.into()),
            connector: None,
            body,
        }
    }

    /// An observation about one connector.
    pub fn connector(charger: impl Into<SharedStr>, connector: u16, body: EventBody) -> Self {
        Observation {
            charger: Some(charger.into()),
            connector: Some(connector),
            body,
        }
    }

    /// An observation about one connector of the connection's own charger (the identity it logged in with).
    pub fn own_connector(connector: u16, body: EventBody) -> Self {
        Observation {
            charger: None,
            connector: Some(connector),
            body,
        }
    }
}

/// A normalized event as published upstream: `{"v":1,"id":…,"ts":…,"charger":…,"connector":…,"protocol":…,
/// "kind":…,"data":{…},"gw":…}`.
///
/// The strings are [`EventId`] and [`SharedStr`], not `String`: a gateway stamps hundreds of thousands of events a
/// second on its connection workers and renders them on a sink thread, and a `String` per field was an allocation
/// there and a cross-thread free here (`docs/decisions/0018-allocation-free-events.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Schema version, [`EVENT_SCHEMA_VERSION`].
    pub v: u8,
    /// Unique event id, assigned by the gateway; consumers deduplicate QoS 1 redeliveries by it.
    pub id: EventId,
    /// When the gateway received the frame, Unix epoch milliseconds (UTC).
    pub ts: u64,
    /// Charger id (shared with the connection that received it).
    pub charger: SharedStr,
    /// Connector number, 1-based, absent for the charger as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<u16>,
    /// Protocol and version the charger spoke, such as `ykc/1.6`, `ocpp/1.6`, `gbt27930/2015`.
    pub protocol: SharedStr,
    /// The kind (`"kind"`) and its data (`"data"`).
    #[serde(flatten)]
    pub body: EventBody,
    /// Name of the gateway instance that received the frame.
    pub gw: SharedStr,
}

impl Event {
    /// Stamps an observation into an event. `fallback_charger` is the connection's identity, used when the
    /// observation names no charger.
    pub fn stamp(
        obs: Observation,
        id: impl Into<EventId>,
        ts: u64,
        fallback_charger: impl Into<SharedStr>,
        protocol: impl Into<SharedStr>,
        gw: impl Into<SharedStr>,
    ) -> Event {
        Event {
            v: EVENT_SCHEMA_VERSION,
            id: id.into(),
            ts,
            charger: obs.charger.unwrap_or_else(|| fallback_charger.into()),
            connector: obs.connector.filter(|c| *c != 0),
            protocol: protocol.into(),
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
