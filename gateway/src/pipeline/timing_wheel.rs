//! A hashed timing wheel (Varghese & Lauck; Netty's `HashedWheelTimer` semantics) for liveness deadlines.
//!
//! One wheel per worker holds every connection's deadline. The wheel has a power-of-two number of slots; a deadline
//! lands in slot `tick & mask` with the number of whole revolutions (`rounds`) it must wait. Each tick visits exactly
//! one slot's list: entries with no rounds left expire, the others lose a round. Insert, touch (re-arm) and cancel
//! are O(1): entries live in a slab and form an intrusive doubly linked list per slot, and handles carry a
//! generation so a stale handle can never touch a reused entry. Time is a parameter (milliseconds on the caller's
//! monotonic clock), which keeps the wheel deterministic under test; it never expires an entry early, and at most
//! one tick late.

use std::time::Duration;

/// Netty's tick is 100 ms; liveness deadlines are seconds apart, so one second is plenty and cheaper.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);
/// Slots per wheel (Netty's default); at one-second ticks a revolution is 8.5 minutes.
pub const DEFAULT_SLOTS: usize = 512;
/// Ticks shorter than this are raised to it, as in Netty.
const MIN_TICK_MS: u64 = 1;
/// List terminator in the intrusive links.
const NIL: u32 = u32::MAX;

/// Handle to a scheduled entry; stale handles (after expiry or cancel) are ignored safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

/// Errors from [`TimingWheel::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WheelError {
    /// The slab cannot address more entries.
    #[error("timing wheel is full")]
    Full,
}

/// What one [`TimingWheel::advance`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdvanceReport {
    /// Ticks processed (one bucket each).
    pub ticks: u64,
    /// Entries visited, expired or not: the whole cost of the call.
    pub visited: u64,
    /// Entries that expired.
    pub expired: u64,
}

struct Entry<T> {
    value: Option<T>,
    generation: u32,
    rounds: u64,
    slot: u32,
    prev: u32,
    next: u32,
}

/// A single-level hashed timing wheel holding values of type `T` until their deadline.
pub struct TimingWheel<T> {
    tick_ms: u64,
    mask: u64,
    heads: Vec<u32>,
    bucket_lens: Vec<u32>,
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    next_tick: u64,
    len: usize,
}

impl<T> TimingWheel<T> {
    /// A wheel with `tick` resolution and `slots` slots (rounded up to a power of two), starting at time 0.
    pub fn new(tick: Duration, slots: usize) -> Self {
        let slots = slots.max(1).next_power_of_two();
        let tick_ms = u64::try_from(tick.as_millis())
            .unwrap_or(u64::MAX)
            .max(MIN_TICK_MS);
        TimingWheel {
            tick_ms,
            mask: (slots as u64).saturating_sub(1),
            heads: vec![NIL; slots],
            bucket_lens: vec![0; slots],
            entries: Vec::new(),
            free: Vec::new(),
            next_tick: 0,
            len: 0,
        }
    }

    /// Scheduled entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No entries scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tick length in milliseconds.
    pub fn tick_ms(&self) -> u64 {
        self.tick_ms
    }

    /// Entries in the bucket the next tick will visit (for tests and metrics).
    pub fn next_bucket_len(&self) -> usize {
        self.bucket_lens
            .get(self.slot_of(self.next_tick))
            .map_or(0, |n| *n as usize)
    }

    /// Schedules `value` to expire at `deadline_ms` (or on the next tick if that has passed). O(1).
    pub fn insert(&mut self, value: T, deadline_ms: u64) -> Result<TimerKey, WheelError> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.entries.len()).map_err(|_| WheelError::Full)?;
                if index == NIL {
                    return Err(WheelError::Full);
                }
                self.entries.push(Entry {
                    value: None,
                    generation: 0,
                    rounds: 0,
                    slot: 0,
                    prev: NIL,
                    next: NIL,
                });
                index
            }
        };
        let generation = match self.entries.get_mut(index as usize) {
            Some(entry) => {
                entry.value = Some(value);
                entry.generation
            }
            None => return Err(WheelError::Full),
        };
        self.place(index, deadline_ms);
        self.len += 1;
        Ok(TimerKey { index, generation })
    }

    /// Moves a live entry to a new deadline (a "touch"). O(1). Returns `false` for a stale key.
    ///
    /// An entry whose new deadline falls on the tick it already waits for stays where it is: a connection touches
    /// its entry once per frame, ~7 frames arrive per read at the same instant, and relinking the entry each time
    /// (two other connections' entries touched, likely cache misses) was most of the liveness layer's cost.
    pub fn reset(&mut self, key: TimerKey, deadline_ms: u64) -> bool {
        if !self.is_live(key) {
            return false;
        }
        let (slot, rounds) = self.position(deadline_ms);
        if self
            .entries
            .get(key.index as usize)
            .is_some_and(|e| e.slot as usize == slot && e.rounds == rounds)
        {
            return true;
        }
        self.unlink(key.index);
        self.place_at(key.index, slot, rounds);
        true
    }

    /// Removes a live entry and returns its value. O(1). `None` for a stale key.
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        if !self.is_live(key) {
            return None;
        }
        self.unlink(key.index);
        self.release(key.index)
    }

    /// Every scheduled value, in no particular order (the liveness wheel holds one per connection of its worker:
    /// shutdown tells each of them through it).
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| e.value.as_ref())
    }

    /// Processes every tick whose time has come (`tick × tick_ms ≤ now_ms`), one bucket per tick, pushing expired
    /// values onto `expired`.
    pub fn advance(&mut self, now_ms: u64, expired: &mut Vec<T>) -> AdvanceReport {
        let mut report = AdvanceReport::default();
        while self.next_tick.saturating_mul(self.tick_ms) <= now_ms {
            let slot = self.slot_of(self.next_tick);
            let mut cursor = self.heads.get(slot).copied().unwrap_or(NIL);
            while cursor != NIL {
                report.visited += 1;
                let Some(entry) = self.entries.get_mut(cursor as usize) else {
                    break;
                };
                let next = entry.next;
                if entry.rounds == 0 {
                    self.unlink(cursor);
                    if let Some(value) = self.release(cursor) {
                        expired.push(value);
                        report.expired += 1;
                    }
                } else {
                    entry.rounds -= 1;
                }
                cursor = next;
            }
            report.ticks += 1;
            self.next_tick = self.next_tick.saturating_add(1);
        }
        report
    }

    fn slot_of(&self, tick: u64) -> usize {
        // The mask is below the slot count, which is a usize.
        usize::try_from(tick & self.mask).unwrap_or(0)
    }

    fn is_live(&self, key: TimerKey) -> bool {
        self.entries
            .get(key.index as usize)
            .is_some_and(|e| e.generation == key.generation && e.value.is_some())
    }

    fn place(&mut self, index: u32, deadline_ms: u64) {
        let (slot, rounds) = self.position(deadline_ms);
        self.place_at(index, slot, rounds);
    }

    /// The slot and the number of whole revolutions before it fires of an entry placed now for `deadline_ms`.
    /// Two placements with the same position fire at the same tick (the wheel counts an entry's rounds down as it
    /// turns).
    fn position(&self, deadline_ms: u64) -> (usize, u64) {
        let deadline_tick = deadline_ms.div_ceil(self.tick_ms).max(self.next_tick);
        let slots = self.mask.saturating_add(1);
        let rounds = (deadline_tick - self.next_tick) / slots;
        (self.slot_of(deadline_tick), rounds)
    }

    fn place_at(&mut self, index: u32, slot: usize, rounds: u64) {
        let old_head = self.heads.get(slot).copied().unwrap_or(NIL);
        if let Some(entry) = self.entries.get_mut(index as usize) {
            entry.rounds = rounds;
            entry.slot = slot as u32;
            entry.prev = NIL;
            entry.next = old_head;
        }
        if let Some(head) = self.entries.get_mut(old_head as usize) {
            head.prev = index;
        }
        if let Some(h) = self.heads.get_mut(slot) {
            *h = index;
        }
        if let Some(n) = self.bucket_lens.get_mut(slot) {
            *n += 1;
        }
    }

    fn unlink(&mut self, index: u32) {
        let Some(entry) = self.entries.get(index as usize) else {
            return;
        };
        let (prev, next, slot) = (entry.prev, entry.next, entry.slot as usize);
        match self.entries.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => {
                if let Some(h) = self.heads.get_mut(slot) {
                    *h = next;
                }
            }
        }
        if let Some(n) = self.entries.get_mut(next as usize) {
            n.prev = prev;
        }
        if let Some(n) = self.bucket_lens.get_mut(slot) {
            *n = n.saturating_sub(1);
        }
    }

    fn release(&mut self, index: u32) -> Option<T> {
        let entry = self.entries.get_mut(index as usize)?;
        let value = entry.value.take();
        entry.generation = entry.generation.wrapping_add(1);
        entry.prev = NIL;
        entry.next = NIL;
        self.free.push(index);
        self.len = self.len.saturating_sub(1);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK_MS: u64 = 1_000;

    fn wheel() -> TimingWheel<u32> {
        TimingWheel::new(DEFAULT_TICK, DEFAULT_SLOTS)
    }

    /// Fills a wheel with `n` entries spread evenly over two revolutions, then runs one revolution of ticks and
    /// returns the largest number of entries any tick visited, asserting each tick visits exactly its bucket.
    fn max_visits_per_tick(n: u32) -> u64 {
        let mut w = wheel();
        let span = 2 * DEFAULT_SLOTS as u32;
        for i in 0..n {
            let tick = 1 + u64::from(i % span);
            w.insert(i, tick * TICK_MS).unwrap();
        }
        let mut expired = Vec::new();
        let mut max = 0;
        for tick in 0..DEFAULT_SLOTS as u64 {
            let bucket = w.next_bucket_len() as u64;
            let report = w.advance(tick * TICK_MS, &mut expired);
            assert_eq!(report.ticks, 1);
            assert_eq!(
                report.visited, bucket,
                "tick {tick} visited more than its bucket"
            );
            max = max.max(report.visited);
        }
        max
    }

    #[test]
    fn per_tick_work_is_the_bucket_not_the_number_of_entries() {
        let small = max_visits_per_tick(1_000);
        let large = max_visits_per_tick(1_000_000);
        // 1,000 entries over 512 slots: at most 2 per bucket; 1,000,000: at most 1,954 — never near N.
        assert!(small <= 2, "{small}");
        assert!(large <= 1_000_000 / DEFAULT_SLOTS as u64 + 1, "{large}");
        assert!(large < 1_000_000 / 100);
    }

    #[test]
    fn a_tick_over_an_empty_bucket_visits_nothing_even_with_a_million_entries() {
        let mut w = wheel();
        for i in 0..1_000_000 {
            w.insert(i, 100 * TICK_MS).unwrap();
        }
        let mut expired = Vec::new();
        let report = w.advance(50 * TICK_MS, &mut expired);
        assert_eq!(report.ticks, 51);
        assert_eq!(report.visited, 0);
        assert_eq!(w.len(), 1_000_000);
        let report = w.advance(100 * TICK_MS, &mut expired);
        assert_eq!(report.visited, 1_000_000);
        assert_eq!(expired.len(), 1_000_000);
        assert!(w.is_empty());
    }

    #[test]
    fn an_entry_expires_within_one_tick_after_its_deadline_never_before() {
        for deadline_ms in [0, 1, 999, 1_000, 1_001, 29_500, 600_000, 1_000_000] {
            let mut w = wheel();
            w.insert(7, deadline_ms).unwrap();
            let mut expired = Vec::new();
            let mut now = 0;
            while expired.is_empty() {
                w.advance(now, &mut expired);
                if expired.is_empty() {
                    now += 100;
                }
            }
            assert!(
                now >= deadline_ms,
                "expired early at {now} for {deadline_ms}"
            );
            assert!(
                now < deadline_ms + TICK_MS,
                "expired late at {now} for {deadline_ms}"
            );
        }
    }

    #[test]
    fn deadlines_beyond_one_revolution_wait_their_rounds() {
        let mut w = wheel();
        let far = (3 * DEFAULT_SLOTS as u64 + 5) * TICK_MS;
        w.insert(1, far).unwrap();
        let mut expired = Vec::new();
        w.advance(far - TICK_MS, &mut expired);
        assert!(expired.is_empty());
        w.advance(far, &mut expired);
        assert_eq!(expired, vec![1]);
    }

    #[test]
    fn touching_an_entry_postpones_its_expiry() {
        let mut w = wheel();
        let key = w.insert(1, 30 * TICK_MS).unwrap();
        let mut expired = Vec::new();
        w.advance(20 * TICK_MS, &mut expired);
        assert!(w.reset(key, 50 * TICK_MS));
        w.advance(40 * TICK_MS, &mut expired);
        assert!(expired.is_empty());
        w.advance(50 * TICK_MS, &mut expired);
        assert_eq!(expired, vec![1]);
    }

    #[test]
    fn touches_that_keep_the_tick_fire_with_a_freshly_placed_entry_even_rounds_later() {
        // Entry 1 is touched again and again to deadlines within its tick (what ~7 frames per read do), across
        // several revolutions; entry 2 is placed once, at the end, for the last deadline. They fire together.
        let slots = DEFAULT_SLOTS as u64;
        let mut w = wheel();
        let key = w.insert(1, (2 * slots + 3) * TICK_MS).unwrap();
        let mut expired = Vec::new();
        let mut now = 0;
        for step in 0..(slots * 3) {
            now = step * TICK_MS;
            w.advance(now, &mut expired);
            let deadline = now + (2 * slots + 3) * TICK_MS - TICK_MS / 2;
            assert!(w.reset(key, deadline));
            assert!(w.reset(key, deadline + 1));
        }
        assert!(expired.is_empty());
        let last = now + (2 * slots + 3) * TICK_MS - TICK_MS / 2 + 1;
        w.insert(2, last).unwrap();
        while expired.is_empty() {
            now += TICK_MS / 4;
            w.advance(now, &mut expired);
        }
        expired.sort_unstable();
        assert_eq!(expired, vec![1, 2]);
        assert!(now >= last && now < last + TICK_MS, "{now} for {last}");
    }

    #[test]
    fn cancel_removes_the_entry_and_stale_keys_are_ignored() {
        let mut w = wheel();
        let key = w.insert(1, 5 * TICK_MS).unwrap();
        assert_eq!(w.cancel(key), Some(1));
        assert_eq!(w.cancel(key), None);
        let reused = w.insert(2, 5 * TICK_MS).unwrap();
        assert!(
            !w.reset(key, 9 * TICK_MS),
            "stale key must not move the reused entry"
        );
        let mut expired = Vec::new();
        w.advance(5 * TICK_MS, &mut expired);
        assert_eq!(expired, vec![2]);
        assert!(!w.reset(reused, 9 * TICK_MS));
    }

    #[test]
    fn removing_from_the_middle_of_a_bucket_keeps_the_rest_linked() {
        let mut w = wheel();
        let keys: Vec<_> = (0..5).map(|i| w.insert(i, 3 * TICK_MS).unwrap()).collect();
        w.cancel(keys[2]);
        w.cancel(keys[0]);
        w.cancel(keys[4]);
        let mut expired = Vec::new();
        let report = w.advance(3 * TICK_MS, &mut expired);
        expired.sort_unstable();
        assert_eq!(expired, vec![1, 3]);
        assert_eq!(report.visited, 2);
    }
}
