//! The normalize layer: stamps a frame's observations into [`Event`]s with an id, a timestamp, the connection's
//! charger id, the codec's protocol label and the gateway instance name.
//!
//! Event ids are `{gw}-{connection id in hex}-{sequence}`: unique per instance without randomness or coordination,
//! which is all consumers need to deduplicate QoS 1 redeliveries.

use std::sync::{Arc, OnceLock};

use chargegate_codec::event::{
    plain_names, Event, EventId, EventView, IdView, Observation, SharedStr,
};

/// Per-connection event stamper.
#[derive(Debug, Clone)]
pub struct Normalizer {
    /// The instance name, interned at start-up ([`chargegate_codec::event::interned`]): events carry it without
    /// a reference count that every worker and sink thread would bump.
    gw: &'static str,
    protocol: &'static str,
    conn_id: u64,
    /// The session metadata's own id once logged in (one allocation per charger, not a copy per holder); before
    /// login one empty id shared by every connection.
    charger: Arc<str>,
    seq: u64,
    /// The three names need no JSON escaping ([`plain_names`]): checked when they change, not per event.
    names_plain: bool,
}

/// The empty id of a connection before login, shared: an `Arc::from("")` per connection would be an allocation each.
fn no_charger() -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from("")))
}

impl Normalizer {
    /// A stamper for connection `conn_id` speaking `protocol`, on gateway instance `gw`.
    pub fn new(gw: &'static str, protocol: &'static str, conn_id: u64) -> Self {
        Normalizer {
            gw,
            protocol,
            conn_id,
            charger: no_charger(),
            seq: 0,
            names_plain: plain_names("", protocol, gw),
        }
    }

    /// Sets the connection's identity once the login is accepted.
    pub fn set_charger(&mut self, charger: impl Into<Arc<str>>) {
        self.charger = charger.into();
        self.names_plain = plain_names(&self.charger, self.protocol, self.gw);
    }

    /// The connection's charger id (empty before login).
    pub fn charger(&self) -> &str {
        &self.charger
    }

    /// The connection's charger id as events carry it (shared, not copied).
    pub fn shared_charger(&self) -> SharedStr {
        SharedStr::Shared(Arc::clone(&self.charger))
    }

    /// Switches the protocol label (the rollout picked another codec version at login).
    pub fn set_protocol(&mut self, protocol: &'static str) {
        self.protocol = protocol;
        self.names_plain = plain_names(&self.charger, self.protocol, self.gw);
    }

    /// The protocol label events carry.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// Stamps one observation received at `ts_ms` (Unix epoch milliseconds). The event's strings are the
    /// connection's shared charger id, static labels and an id kept inside the event: no allocation.
    pub fn stamp_one(&mut self, obs: Observation, ts_ms: u64) -> Event {
        self.seq = self.seq.wrapping_add(1);
        Event::stamp(
            obs,
            EventId::compose(self.gw, self.conn_id, self.seq),
            ts_ms,
            &self.charger,
            SharedStr::Static(self.protocol),
            SharedStr::Static(self.gw),
        )
    }

    /// [`stamp_one`](Self::stamp_one) as a view: the same event (the same id, in its turn), its text borrowed from
    /// the observation and the connection, its id still its parts.
    pub fn view<'a>(&'a mut self, obs: &'a Observation, ts_ms: u64) -> EventView<'a> {
        self.seq = self.seq.wrapping_add(1);
        EventView::stamped(
            &obs.body,
            obs.charger.as_deref().unwrap_or(&self.charger),
            obs.connector,
            IdView::Parts {
                conn: self.conn_id,
                seq: self.seq,
            },
            ts_ms,
            self.protocol,
            self.gw,
            self.names_plain && obs.charger.is_none(),
        )
    }

    /// [`stamp_one`](Self::stamp_one) for each observation.
    pub fn stamp(&mut self, observations: Vec<Observation>, ts_ms: u64) -> Vec<Event> {
        observations
            .into_iter()
            .map(|obs| self.stamp_one(obs, ts_ms))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::event::{EventBody, HeartbeatData};

    use super::*;

    #[test]
    fn events_carry_unique_ids_the_connection_identity_and_the_protocol() {
        let mut n = Normalizer::new("gw1", "ykc/1.6", 0x2a);
        n.set_charger("32010600019236");
        let hb = Observation {
            charger: None,
            connector: Some(1),
            body: EventBody::Heartbeat(HeartbeatData::default()),
        };
        let events = n.stamp(vec![hb.clone(), hb], 1_700_000_000_000);
        assert_eq!(events[0].id, "gw1-2a-1");
        assert_eq!(events[1].id, "gw1-2a-2");
        assert_eq!(events[0].charger, "32010600019236");
        assert_eq!(events[0].protocol, "ykc/1.6");
        assert_eq!(&*events[0].gw, "gw1");
        assert_eq!(events[0].kind(), "heartbeat");
    }

    #[test]
    fn a_view_is_the_event_stamp_one_makes_in_its_turn() {
        let mut n = Normalizer::new("gw1", "ykc/1.6", 0x2a);
        n.set_charger("32010600019236");
        let own = Observation {
            charger: None,
            connector: Some(1),
            body: EventBody::Heartbeat(HeartbeatData::default()),
        };
        let other = Observation {
            charger: Some("32010600019999".into()),
            connector: Some(0),
            ..own.clone()
        };
        let first = n.stamp_one(own.clone(), 1_700_000_000_000);
        let mut seen = Vec::new();
        for obs in [&own, &other] {
            let mut line = Vec::new();
            n.view(obs, 1_700_000_000_001)
                .write_json(&mut line)
                .unwrap();
            seen.push(String::from_utf8(line).unwrap());
        }
        let last = n.stamp_one(own, 1_700_000_000_002);
        assert_eq!(first.id, "gw1-2a-1");
        assert_eq!(
            seen,
            [
                r#"{"v":1,"id":"gw1-2a-2","ts":1700000000001,"charger":"32010600019236","connector":1,"protocol":"ykc/1.6","kind":"heartbeat","data":{},"gw":"gw1"}"#,
                r#"{"v":1,"id":"gw1-2a-3","ts":1700000000001,"charger":"32010600019999","protocol":"ykc/1.6","kind":"heartbeat","data":{},"gw":"gw1"}"#,
            ]
        );
        assert_eq!(last.id, "gw1-2a-4");
    }

    #[test]
    fn a_view_escapes_a_charger_id_that_needs_it_like_the_event() {
        let mut n = Normalizer::new("gw\"1", "ykc/1.6", 0x2a);
        n.set_charger("3201\\06\"0019236");
        let obs = Observation {
            charger: None,
            connector: Some(1),
            body: EventBody::Heartbeat(HeartbeatData::default()),
        };
        let mut line = Vec::new();
        n.view(&obs, 1_700_000_000_001)
            .write_json(&mut line)
            .unwrap();
        let event = n.stamp_one(obs, 1_700_000_000_001);
        let mut expected = serde_json::to_vec(&event).unwrap();
        // The view was the first event, the stamped one the second.
        let second = br#""id":"gw\"1-2a-2""#;
        let first = br#""id":"gw\"1-2a-1""#;
        let at = expected
            .windows(second.len())
            .position(|w| w == second)
            .unwrap();
        expected.splice(at..at + second.len(), first.iter().copied());
        assert_eq!(
            String::from_utf8(line).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
