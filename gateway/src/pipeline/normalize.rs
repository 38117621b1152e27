//! The normalize layer: stamps a frame's observations into [`Event`]s with an id, a timestamp, the connection's
//! charger id, the codec's protocol label and the gateway instance name.
//!
//! Event ids are `{gw}-{connection id in hex}-{sequence}`: unique per instance without randomness or coordination,
//! which is all consumers need to deduplicate QoS 1 redeliveries.

use std::sync::{Arc, OnceLock};

use chargegate_codec::event::{Event, Observation};

/// Per-connection event stamper.
#[derive(Debug, Clone)]
pub struct Normalizer {
    gw: Arc<str>,
    protocol: &'static str,
    conn_id: u64,
    /// The session metadata's own id once logged in (one allocation per charger, not a copy per holder); before
    /// login one empty id shared by every connection.
    charger: Arc<str>,
    seq: u64,
}

/// The empty id of a connection before login, shared: an `Arc::from("")` per connection would be an allocation each.
fn no_charger() -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from("")))
}

impl Normalizer {
    /// A stamper for connection `conn_id` speaking `protocol`, on gateway instance `gw`.
    pub fn new(gw: Arc<str>, protocol: &'static str, conn_id: u64) -> Self {
        Normalizer {
            gw,
            protocol,
            conn_id,
            charger: no_charger(),
            seq: 0,
        }
    }

    /// Sets the connection's identity once the login is accepted.
    pub fn set_charger(&mut self, charger: impl Into<Arc<str>>) {
        self.charger = charger.into();
    }

    /// The connection's charger id (empty before login).
    pub fn charger(&self) -> &str {
        &self.charger
    }

    /// Switches the protocol label (the rollout picked another codec version at login).
    pub fn set_protocol(&mut self, protocol: &'static str) {
        self.protocol = protocol;
    }

    /// The protocol label events carry.
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// Stamps observations received at `ts_ms` (Unix epoch milliseconds).
    pub fn stamp(&mut self, observations: Vec<Observation>, ts_ms: u64) -> Vec<Event> {
        observations
            .into_iter()
            .map(|obs| {
                self.seq = self.seq.wrapping_add(1);
                let id = event_id(&self.gw, self.conn_id, self.seq);
                Event::stamp(
                    obs,
                    id,
                    ts_ms,
                    &self.charger,
                    self.protocol,
                    Arc::clone(&self.gw),
                )
            })
            .collect()
    }
}

/// `{gw}-{conn_id in hex}-{seq}` in one right-sized allocation: this runs for every event, and `format!` with its
/// formatter machinery cost more than the rest of the stamp.
fn event_id(gw: &str, conn_id: u64, seq: u64) -> String {
    let mut hex = [0u8; 16];
    let mut at = hex.len();
    let mut rest = conn_id;
    loop {
        at -= 1;
        // Below 16: one hex digit.
        hex[at] = b"0123456789abcdef"[(rest & 0xf) as usize];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    let mut dec = itoa::Buffer::new();
    let seq = dec.format(seq);
    let mut id = String::with_capacity(gw.len() + 2 + (hex.len() - at) + seq.len());
    id.push_str(gw);
    id.push('-');
    // Hex digits are ASCII.
    id.extend(hex[at..].iter().map(|b| char::from(*b)));
    id.push('-');
    id.push_str(seq);
    id
}

#[cfg(test)]
mod tests {
    use chargegate_codec::event::{EventBody, HeartbeatData};

    use super::*;

    #[test]
    fn events_carry_unique_ids_the_connection_identity_and_the_protocol() {
        let mut n = Normalizer::new("gw1".into(), "ykc/1.6", 0x2a);
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
    fn event_ids_match_the_documented_format_at_the_extremes() {
        for (conn, seq) in [(0, 0), (0x2a, 1), (u64::MAX, u64::MAX), (0x10, 10)] {
            assert_eq!(event_id("gw-é", conn, seq), format!("gw-é-{conn:x}-{seq}"));
        }
    }
}
