//! One subscriber's outbound queue with water marks. Pure data: the hub pushes, the subscriber's writer takes.
//!
//! Two lanes: *immediate* (alarms, status, online/offline, sessions, transactions, command results, acks) sent
//! as soon as the writer wakes, and *telemetry* (meter, BMS, heartbeat, raw) sent once per batching window.
//! Depth is the number of entries in both lanes. Above the high water mark telemetry is coalesced to the latest
//! value per (charger, connector, kind) — immediate entries are never coalesced or dropped — until the depth
//! falls to the low water mark. A push that would take the depth past the hard limit is refused: the caller
//! closes the subscriber.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chargegate_codec::event::{Event, EventBody, SharedStr};

/// Which lane an event takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Pushed at once.
    Immediate,
    /// Batched per window, coalescable.
    Telemetry,
}

/// The lane of `event`: meter, BMS, heartbeat and raw frames are telemetry, everything else immediate.
pub fn lane(event: &Event) -> Lane {
    match event.body {
        EventBody::Meter(_) | EventBody::Bms(_) | EventBody::Heartbeat(_) | EventBody::Raw(_) => {
            Lane::Telemetry
        }
        _ => Lane::Immediate,
    }
}

/// An entry of the immediate lane.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// An event.
    Event(Arc<Event>),
    /// A protocol reply (ack, error, command result), already serialized.
    Reply(String),
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Appended.
    Queued,
    /// Replaced an older telemetry value of the same charger, connector and kind.
    Coalesced,
    /// Refused: the queue is at its hard limit.
    OverLimit,
}

/// Water marks of a queue, in entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaterMarks {
    /// Coalescing stops at or below this depth.
    pub low: usize,
    /// Coalescing starts above this depth.
    pub high: usize,
    /// No push beyond this depth.
    pub hard: usize,
}

/// Coalescing key: charger, connector, kind (the charger id shared with the event, not copied).
type Key = (SharedStr, Option<u16>, &'static str);

fn key(e: &Event) -> Key {
    (e.charger.clone(), e.connector, e.kind())
}

/// The queue.
#[derive(Debug)]
pub struct SubscriberQueue {
    marks: WaterMarks,
    immediate: VecDeque<Outgoing>,
    telemetry: Vec<Arc<Event>>,
    /// Position of each key's value in `telemetry`; maintained only while coalescing.
    positions: HashMap<Key, usize>,
    coalescing: bool,
}

impl SubscriberQueue {
    /// An empty queue with `marks`.
    pub fn new(marks: WaterMarks) -> Self {
        SubscriberQueue {
            marks,
            immediate: VecDeque::new(),
            telemetry: Vec::new(),
            positions: HashMap::new(),
            coalescing: false,
        }
    }

    /// Entries in both lanes.
    pub fn depth(&self) -> usize {
        self.immediate.len() + self.telemetry.len()
    }

    /// Whether telemetry is being coalesced (the depth went above the high mark and not yet back to the low).
    pub fn coalescing(&self) -> bool {
        self.coalescing
    }

    /// Whether immediate entries wait.
    pub fn has_immediate(&self) -> bool {
        !self.immediate.is_empty()
    }

    /// Whether telemetry waits for the next window.
    pub fn has_telemetry(&self) -> bool {
        !self.telemetry.is_empty()
    }

    /// Queues an event in its lane.
    pub fn push_event(&mut self, event: Arc<Event>) -> Pushed {
        match lane(&event) {
            Lane::Immediate => self.push_immediate(Outgoing::Event(event)),
            Lane::Telemetry => self.push_telemetry(event),
        }
    }

    /// Queues a reply in the immediate lane.
    pub fn push_reply(&mut self, text: String) -> Pushed {
        self.push_immediate(Outgoing::Reply(text))
    }

    fn push_immediate(&mut self, item: Outgoing) -> Pushed {
        if self.depth() >= self.marks.hard {
            return Pushed::OverLimit;
        }
        self.immediate.push_back(item);
        self.after_growth();
        Pushed::Queued
    }

    fn push_telemetry(&mut self, event: Arc<Event>) -> Pushed {
        if self.coalescing {
            let k = key(&event);
            if let Some(slot) = self
                .positions
                .get(&k)
                .and_then(|&i| self.telemetry.get_mut(i))
            {
                *slot = event;
                return Pushed::Coalesced;
            }
            if self.depth() >= self.marks.hard {
                return Pushed::OverLimit;
            }
            self.positions.insert(k, self.telemetry.len());
            self.telemetry.push(event);
            return Pushed::Queued;
        }
        if self.depth() >= self.marks.hard {
            return Pushed::OverLimit;
        }
        self.telemetry.push(event);
        self.after_growth();
        Pushed::Queued
    }

    fn after_growth(&mut self) {
        if !self.coalescing && self.depth() > self.marks.high {
            self.start_coalescing();
        }
    }

    /// Keeps the latest telemetry value per key, in the order of those latest values.
    fn start_coalescing(&mut self) {
        self.coalescing = true;
        let mut latest: HashMap<Key, usize> = HashMap::new();
        for (i, e) in self.telemetry.iter().enumerate() {
            latest.insert(key(e), i);
        }
        let mut keep: Vec<(usize, Key)> = latest.into_iter().map(|(k, i)| (i, k)).collect();
        keep.sort_unstable_by_key(|(i, _)| *i);
        let old = std::mem::take(&mut self.telemetry);
        self.positions.clear();
        for (i, k) in keep {
            if let Some(e) = old.get(i) {
                self.positions.insert(k, self.telemetry.len());
                self.telemetry.push(Arc::clone(e));
            }
        }
    }

    fn after_take(&mut self) {
        if self.coalescing && self.depth() <= self.marks.low {
            self.coalescing = false;
            self.positions.clear();
        }
    }

    /// Takes every immediate entry, oldest first.
    pub fn take_immediate(&mut self) -> Vec<Outgoing> {
        let out = self.immediate.drain(..).collect();
        self.after_take();
        out
    }

    /// Takes the window's telemetry, oldest first.
    pub fn take_telemetry(&mut self) -> Vec<Arc<Event>> {
        let out = std::mem::take(&mut self.telemetry);
        self.positions.clear();
        if self.coalescing {
            // Positions are rebuilt as new values arrive.
            self.after_take();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegate_codec::event::{AlarmData, MeterData, Observation};

    fn ev(charger: &str, body: EventBody) -> Arc<Event> {
        let obs = Observation::connector(charger, 1, body);
        Arc::new(Event::stamp(obs, "id", 0, charger, "ykc/1.6", "gw"))
    }

    fn meter(charger: &str, kwh: f64) -> Arc<Event> {
        ev(
            charger,
            EventBody::Meter(MeterData {
                energy_kwh: Some(kwh),
                ..Default::default()
            }),
        )
    }

    fn alarm(charger: &str) -> Arc<Event> {
        ev(
            charger,
            EventBody::Alarm(AlarmData {
                code: "x".into(),
                severity: "major".into(),
                text: "t".into(),
                active: true,
            }),
        )
    }

    const MARKS: WaterMarks = WaterMarks {
        low: 2,
        high: 4,
        hard: 8,
    };

    #[test]
    fn alarms_are_immediate_and_meters_are_telemetry() {
        let mut q = SubscriberQueue::new(MARKS);
        q.push_event(alarm("a"));
        q.push_event(meter("a", 1.0));
        assert!(q.has_immediate() && q.has_telemetry());
        assert_eq!(q.take_immediate().len(), 1);
        assert_eq!(q.take_telemetry().len(), 1);
        assert_eq!(q.depth(), 0);
    }

    #[test]
    fn above_high_telemetry_keeps_the_latest_value_per_charger() {
        let mut q = SubscriberQueue::new(MARKS);
        for i in 0..5 {
            q.push_event(meter("a", f64::from(i)));
        }
        assert!(q.coalescing());
        assert_eq!(q.push_event(meter("a", 9.0)), Pushed::Coalesced);
        assert_eq!(q.push_event(meter("b", 1.0)), Pushed::Queued);
        let t = q.take_telemetry();
        assert_eq!(t.len(), 2);
        let EventBody::Meter(m) = &t[0].body else {
            panic!()
        };
        assert_eq!(m.energy_kwh, Some(9.0));
        assert!(!q.coalescing(), "back below the low mark");
    }

    #[test]
    fn alarms_are_kept_until_the_hard_limit_refuses_the_next() {
        let mut q = SubscriberQueue::new(MARKS);
        for _ in 0..8 {
            assert_eq!(q.push_event(alarm("a")), Pushed::Queued);
        }
        assert_eq!(q.push_event(alarm("a")), Pushed::OverLimit);
        assert_eq!(q.push_reply("{}".into()), Pushed::OverLimit);
        assert_eq!(q.take_immediate().len(), 8);
    }
}
