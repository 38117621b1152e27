//! The hub's indexes: station → subscribers and charger → subscribers, plus each subscriber's own list so that a
//! closed subscriber is removed from every index in one call. A leaked map once took a service down; the
//! `chargegate_ws_index_entries{index}` gauge shows the totals so a test (and an operator) can see them return to 0.

use std::collections::{HashMap, HashSet};

use super::protocol::Selection;

/// Subscriber id, unique per hub.
pub type SubscriberId = u64;

/// Both indexes and the reverse map.
#[derive(Debug, Default)]
pub struct SubscriptionIndex {
    stations: HashMap<String, HashSet<SubscriberId>>,
    chargers: HashMap<String, HashSet<SubscriberId>>,
    by_subscriber: HashMap<SubscriberId, Selection>,
}

/// Entries per index (one per (name, subscriber) pair).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexSizes {
    /// Station index entries.
    pub stations: usize,
    /// Charger index entries.
    pub chargers: usize,
}

fn add(map: &mut HashMap<String, HashSet<SubscriberId>>, name: &str, id: SubscriberId) -> bool {
    map.entry(name.to_owned()).or_default().insert(id)
}

fn remove(map: &mut HashMap<String, HashSet<SubscriberId>>, name: &str, id: SubscriberId) -> bool {
    let Some(set) = map.get_mut(name) else {
        return false;
    };
    let removed = set.remove(&id);
    if set.is_empty() {
        map.remove(name);
    }
    removed
}

impl SubscriptionIndex {
    /// Subscriptions `id` holds (stations plus chargers).
    pub fn count_of(&self, id: SubscriberId) -> usize {
        self.by_subscriber.get(&id).map_or(0, Selection::len)
    }

    /// How many subscriptions `id` would hold after adding `sel` (names it already holds are not counted twice).
    pub fn count_after(&self, id: SubscriberId, sel: &Selection) -> usize {
        let held = self.by_subscriber.get(&id);
        let new_st: HashSet<&String> = sel
            .stations
            .iter()
            .filter(|s| !held.is_some_and(|h| h.stations.contains(s)))
            .collect();
        let new_ch: HashSet<&String> = sel
            .chargers
            .iter()
            .filter(|c| !held.is_some_and(|h| h.chargers.contains(c)))
            .collect();
        self.count_of(id) + new_st.len() + new_ch.len()
    }

    /// Adds `sel` for `id`.
    pub fn subscribe(&mut self, id: SubscriberId, sel: &Selection) {
        let held = self.by_subscriber.entry(id).or_default();
        for s in &sel.stations {
            if add(&mut self.stations, s, id) {
                held.stations.push(s.clone());
            }
        }
        for c in &sel.chargers {
            if add(&mut self.chargers, c, id) {
                held.chargers.push(c.clone());
            }
        }
    }

    /// Removes `sel` for `id`.
    pub fn unsubscribe(&mut self, id: SubscriberId, sel: &Selection) {
        for s in &sel.stations {
            remove(&mut self.stations, s, id);
        }
        for c in &sel.chargers {
            remove(&mut self.chargers, c, id);
        }
        if let Some(held) = self.by_subscriber.get_mut(&id) {
            held.stations.retain(|s| !sel.stations.contains(s));
            held.chargers.retain(|c| !sel.chargers.contains(c));
            if held.is_empty() {
                self.by_subscriber.remove(&id);
            }
        }
    }

    /// Removes `id` from every index.
    pub fn remove_subscriber(&mut self, id: SubscriberId) {
        if let Some(held) = self.by_subscriber.remove(&id) {
            for s in &held.stations {
                remove(&mut self.stations, s, id);
            }
            for c in &held.chargers {
                remove(&mut self.chargers, c, id);
            }
        }
    }

    /// Subscribers of `charger` or of its `station`, each once, in `out` (cleared first).
    pub fn recipients(&self, charger: &str, station: Option<&str>, out: &mut Vec<SubscriberId>) {
        out.clear();
        if let Some(set) = self.chargers.get(charger) {
            out.extend(set.iter().copied());
        }
        if let Some(set) = station.and_then(|s| self.stations.get(s)) {
            out.extend(set.iter().copied());
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Entries per index.
    pub fn sizes(&self) -> IndexSizes {
        IndexSizes {
            stations: self.stations.values().map(HashSet::len).sum(),
            chargers: self.chargers.values().map(HashSet::len).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(st: &[&str], ch: &[&str]) -> Selection {
        Selection {
            stations: st.iter().map(|s| s.to_string()).collect(),
            chargers: ch.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn recipients_come_from_both_indexes_once() {
        let mut ix = SubscriptionIndex::default();
        ix.subscribe(1, &sel(&["s1"], &["c1"]));
        ix.subscribe(2, &sel(&["s2"], &[]));
        let mut out = Vec::new();
        ix.recipients("c1", Some("s1"), &mut out);
        assert_eq!(out, vec![1]);
        ix.recipients("c7", Some("s2"), &mut out);
        assert_eq!(out, vec![2]);
        ix.recipients("c7", None, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn removing_a_subscriber_empties_every_index() {
        let mut ix = SubscriptionIndex::default();
        ix.subscribe(1, &sel(&["s1", "s2"], &["c1"]));
        ix.subscribe(1, &sel(&["s1"], &[]));
        assert_eq!(
            ix.sizes(),
            IndexSizes {
                stations: 2,
                chargers: 1
            }
        );
        assert_eq!(ix.count_after(1, &sel(&["s1", "s3"], &[])), 4);
        ix.unsubscribe(1, &sel(&["s2"], &[]));
        assert_eq!(
            ix.sizes(),
            IndexSizes {
                stations: 1,
                chargers: 1
            }
        );
        ix.remove_subscriber(1);
        assert_eq!(ix.sizes(), IndexSizes::default());
        assert_eq!(ix.count_of(1), 0);
    }
}
