//! [`EventView`]: an event as borrowed parts, for sinks that only render it.
//!
//! Why: a gateway whose sinks all render events straight away (the JSON-lines sink) has no use for an owned
//! [`Event`]; stamping one per observation cost a shared charger id's two reference-count operations, an id
//! composed into the event and several moves of the ~300-byte event (~10 % of a connection worker at 150k 0x13
//! frames/s). A view borrows the observation's body and the connection's names, and its id stays as its parts
//! until it is rendered. [`EventView::to_event`] makes the owned event when a sink needs one.

use super::{Event, EventBody, EventId, SharedStr, EVENT_SCHEMA_VERSION};

/// An event's id as a view holds it.
#[derive(Debug, Clone, Copy)]
pub enum IdView<'a> {
    /// An id already made.
    Id(&'a EventId),
    /// The parts of an id not made yet, after the view's instance name: rendered as [`EventId::compose`] would
    /// make it from `gw`, `conn` and `seq`.
    Parts {
        /// The connection number (rendered in hex).
        conn: u64,
        /// The event's sequence number on the connection.
        seq: u64,
    },
}

/// An event as borrowed parts: the fields of [`Event`], each by reference. Renders the same JSON as the event it
/// stands for ([`EventView::write_json`]).
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    /// Schema version, [`EVENT_SCHEMA_VERSION`].
    pub v: u8,
    /// The event id.
    pub id: IdView<'a>,
    /// When the gateway received the frame, Unix epoch milliseconds (UTC).
    pub ts: u64,
    /// Charger id.
    pub charger: &'a str,
    /// Connector number, 1-based, absent for the charger as a whole.
    pub connector: Option<u16>,
    /// Protocol and version the charger spoke.
    pub protocol: &'a str,
    /// The kind and its data.
    pub body: &'a EventBody,
    /// Name of the gateway instance that received the frame.
    pub gw: &'a str,
    /// `charger`, `protocol` and `gw` are known to need no JSON escaping ([`plain_names`], found once per
    /// connection instead of once per event); `false` makes the renderer check them.
    pub names_plain: bool,
}

/// Whether none of a connection's names needs JSON escaping (no `"`, `\` or control character): what
/// [`EventView::names_plain`] records, checked when the names are set rather than for every event.
pub fn plain_names(charger: &str, protocol: &str, gw: &str) -> bool {
    [charger, protocol, gw]
        .iter()
        .all(|s| !super::json::needs_escape(s.as_bytes()))
}

impl<'a> EventView<'a> {
    /// A view of an observation's body stamped like [`Event::stamp`] stamps it: the connector 0 (the charger as
    /// a whole) left out, the id kept as its parts. `names_plain` as [`plain_names`] of the three names.
    #[allow(clippy::too_many_arguments)]
    pub fn stamped(
        body: &'a EventBody,
        charger: &'a str,
        connector: Option<u16>,
        id: IdView<'a>,
        ts: u64,
        protocol: &'a str,
        gw: &'a str,
        names_plain: bool,
    ) -> Self {
        EventView {
            v: EVENT_SCHEMA_VERSION,
            id,
            ts,
            charger,
            connector: connector.filter(|c| *c != 0),
            protocol,
            body,
            gw,
            names_plain,
        }
    }

    /// The owned event this view stands for (copies the text, clones the body).
    pub fn to_event(&self) -> Event {
        Event {
            v: self.v,
            id: match self.id {
                IdView::Id(id) => id.clone(),
                IdView::Parts { conn, seq } => EventId::compose(self.gw, conn, seq),
            },
            ts: self.ts,
            charger: SharedStr::from(self.charger),
            connector: self.connector,
            protocol: SharedStr::from(self.protocol),
            body: self.body.clone(),
            gw: SharedStr::from(self.gw),
        }
    }
}

impl Event {
    /// The event as a view.
    pub fn view(&self) -> EventView<'_> {
        EventView {
            v: self.v,
            id: IdView::Id(&self.id),
            ts: self.ts,
            charger: &self.charger,
            connector: self.connector,
            protocol: &self.protocol,
            body: &self.body,
            gw: &self.gw,
            names_plain: false,
        }
    }
}
