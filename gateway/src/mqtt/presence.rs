//! Presence: the retained `{p}/{charger}/presence` document, what this instance holds, and what other instances
//! announce.
//!
//! Every instance subscribes to `{p}/+/presence`. When another instance announces a *newer* online session of a
//! charger we still hold, our connection is stale (the charger reconnected through the load balancer to the
//! other instance): we close it with reason `takeover` and publish nothing for it, so the newer presence stays.
//! The last announced holder also owns the charger's offline command queue (see [`PresenceBook::owns`]).

use std::collections::HashMap;

use chargegate_codec::event::{Event, EventBody};
use serde::{Deserialize, Serialize};

/// Offline reason that never overwrites presence: a newer session holds the charger.
pub const TAKEOVER: &str = "takeover";

/// The retained presence document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// `online` or `offline`.
    pub state: String,
    /// Gateway instance that holds (or last held) the charger.
    pub instance: String,
    /// Session id: the id of the `online` event that started it.
    pub session: String,
    /// When the state began, Unix epoch milliseconds.
    pub since: u64,
    /// Why the charger went offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Presence {
    /// Whether the document says online.
    pub fn is_online(&self) -> bool {
        self.state == "online"
    }
}

#[derive(Debug, Clone)]
struct Held {
    session: String,
    since: u64,
}

/// What this instance knows about presence: its own sessions and the last holder of every charger it has seen.
#[derive(Debug)]
pub struct PresenceBook {
    instance: String,
    held: HashMap<String, Held>,
    owner: HashMap<String, String>,
}

impl PresenceBook {
    /// An empty book for `instance`.
    pub fn new(instance: &str) -> Self {
        PresenceBook {
            instance: instance.to_owned(),
            held: HashMap::new(),
            owner: HashMap::new(),
        }
    }

    /// The presence to publish for one of our own events (`online`, `offline`), or `None`.
    pub fn local(&mut self, event: &Event) -> Option<Presence> {
        match &event.body {
            EventBody::Online(_) => {
                self.held.insert(
                    event.charger.to_string(),
                    Held {
                        session: event.id.to_string(),
                        since: event.ts,
                    },
                );
                self.owner
                    .insert(event.charger.to_string(), self.instance.clone());
                Some(Presence {
                    state: "online".to_owned(),
                    instance: self.instance.clone(),
                    session: event.id.to_string(),
                    since: event.ts,
                    reason: None,
                })
            }
            EventBody::Offline(off) => {
                if off.reason == TAKEOVER {
                    // A newer session (here or elsewhere) already announced itself.
                    return None;
                }
                let held = self.held.remove(event.charger.as_str())?;
                Some(Presence {
                    state: "offline".to_owned(),
                    instance: self.instance.clone(),
                    session: held.session,
                    since: event.ts,
                    reason: Some(off.reason.clone()),
                })
            }
            _ => None,
        }
    }

    /// Records a presence seen on the broker; returns `true` when it is another instance's newer online session
    /// of a charger we still hold (our connection must close).
    pub fn remote(&mut self, charger: &str, p: &Presence) -> bool {
        if p.instance == self.instance {
            return false;
        }
        let newer = p.is_online()
            && self
                .held
                .get(charger)
                .is_some_and(|h| h.session != p.session && p.since >= h.since);
        if p.is_online() {
            self.owner.insert(charger.to_owned(), p.instance.clone());
        }
        if newer {
            self.held.remove(charger);
        }
        newer
    }

    /// Whether this instance answers for `charger` while it is offline: it was the last to hold it.
    pub fn owns(&self, charger: &str) -> bool {
        self.owner.get(charger) == Some(&self.instance)
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::event::{Observation, OfflineData, OnlineData};

    use super::*;

    fn ev(id: &str, ts: u64, body: EventBody) -> Event {
        Event::stamp(
            Observation::charger("P1", body),
            id,
            ts,
            "P1",
            "ykc/1.6",
            "a",
        )
    }

    #[test]
    fn a_newer_session_elsewhere_takes_over_and_our_offline_stays_quiet() {
        let mut a = PresenceBook::new("a");
        let on = a.local(&ev("e1", 100, EventBody::Online(OnlineData::default())));
        assert_eq!(on.as_ref().map(|p| p.state.as_str()), Some("online"));
        assert!(a.owns("P1"));
        let older = Presence {
            state: "online".into(),
            instance: "b".into(),
            session: "x".into(),
            since: 50,
            reason: None,
        };
        assert!(!a.remote("P1", &older), "an older announcement is stale");
        let newer = Presence {
            since: 200,
            ..older
        };
        assert!(a.remote("P1", &newer));
        assert!(!a.owns("P1"));
        let off = EventBody::Offline(OfflineData {
            reason: TAKEOVER.into(),
        });
        assert_eq!(a.local(&ev("e2", 300, off)), None);
    }

    #[test]
    fn offline_names_the_session_and_the_reason() {
        let mut a = PresenceBook::new("a");
        a.local(&ev("e1", 100, EventBody::Online(OnlineData::default())));
        let off = EventBody::Offline(OfflineData {
            reason: "liveness_timeout".into(),
        });
        let p = a.local(&ev("e2", 300, off)).unwrap();
        assert_eq!(
            (
                p.state.as_str(),
                p.session.as_str(),
                p.since,
                p.reason.as_deref()
            ),
            ("offline", "e1", 300, Some("liveness_timeout"))
        );
        assert!(a.owns("P1"), "the last holder keeps the offline queue");
    }
}
