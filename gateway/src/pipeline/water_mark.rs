//! The outbound water-mark layer: Netty's `WriteBufferWaterMark` for one connection's queued bytes.
//!
//! Every write adds its size plus a fixed per-entry overhead to the pending total when it is queued, and the
//! writer releases it once the bytes reach the socket. Above the high mark (strictly) the connection turns
//! unwritable and stays so until the total falls strictly below the low mark; transitions are counted. Unlike
//! Netty, the mark is enforced, not advisory: while unwritable, non-critical writes (telemetry replies, commands)
//! are refused — a command then gets a `busy` result — while critical writes (login replies, billing acks) always
//! pass so money and identity are never lost to back-pressure.
//!
//! The gauge is shared (`Arc`) between the connection's writer and whoever queues onto it, hence atomics.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Charger links in production ran well with these (the brief §4); Netty's defaults are 32 / 64 KiB.
pub const DEFAULT_HIGH_WATER_MARK: usize = 128 * 1024;
/// See [`DEFAULT_HIGH_WATER_MARK`].
pub const DEFAULT_LOW_WATER_MARK: usize = 8 * 1024;
/// Netty's `CHANNEL_OUTBOUND_BUFFER_ENTRY_OVERHEAD`: bookkeeping cost charged per queued write.
pub const DEFAULT_ENTRY_OVERHEAD: usize = 96;

/// Marks for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaterMarkConfig {
    /// Above this many pending bytes the connection turns unwritable.
    pub high: usize,
    /// Below this many it turns writable again.
    pub low: usize,
    /// Charged per write on top of its length.
    pub entry_overhead: usize,
}

impl Default for WaterMarkConfig {
    fn default() -> Self {
        WaterMarkConfig {
            high: DEFAULT_HIGH_WATER_MARK,
            low: DEFAULT_LOW_WATER_MARK,
            entry_overhead: DEFAULT_ENTRY_OVERHEAD,
        }
    }
}

/// Whether a write may be refused under back-pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteClass {
    /// Login replies, billing acks: always queued.
    Critical,
    /// Everything else: refused while unwritable.
    Normal,
}

/// A non-critical write was refused because the connection is above its high mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("outbound queue above its high water mark ({pending} bytes pending)")]
pub struct Busy {
    /// Bytes pending when the write was refused.
    pub pending: usize,
}

/// The outbound layer's one operation: admit a write of `len` bytes or refuse it.
pub trait OutboundLayer {
    /// Admits a write (accounting it) or refuses it.
    fn admit(&self, len: usize, class: WriteClass) -> Result<(), Busy>;
}

/// Pending outbound bytes of one connection with hysteresis between the marks.
///
/// Every connection holds one for life, so it is kept to 28 bytes: the marks and counters are `u32` (a mark of
/// 4 GiB or more is taken as 4 GiB; pending bytes above that, which the marks refuse long before, saturate).
#[derive(Debug)]
pub struct OutboundGauge {
    high: u32,
    low: u32,
    entry_overhead: u32,
    pending: AtomicU32,
    transitions: AtomicU32,
    refused: AtomicU32,
    unwritable: AtomicBool,
}

/// `n` as a `u32`, saturating.
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl OutboundGauge {
    /// An empty, writable gauge. A `low` above `high` is lowered to `high`.
    pub fn new(config: WaterMarkConfig) -> Self {
        OutboundGauge {
            high: narrow(config.high),
            low: narrow(config.low.min(config.high)),
            entry_overhead: narrow(config.entry_overhead),
            pending: AtomicU32::new(0),
            transitions: AtomicU32::new(0),
            refused: AtomicU32::new(0),
            unwritable: AtomicBool::new(false),
        }
    }

    /// Bytes (with overhead) queued and not yet written.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire) as usize
    }

    /// Netty's `isWritable()`.
    pub fn is_writable(&self) -> bool {
        !self.unwritable.load(Ordering::Acquire)
    }

    /// Writable ↔ unwritable transitions so far (Netty's `channelWritabilityChanged` count), wrapping at 2³².
    pub fn transitions(&self) -> u64 {
        u64::from(self.transitions.load(Ordering::Relaxed))
    }

    /// Non-critical writes refused so far (saturating at 2³² − 1).
    pub fn refused(&self) -> u64 {
        u64::from(self.refused.load(Ordering::Relaxed))
    }

    /// The writer wrote (or dropped) a write of `len` bytes that was admitted earlier.
    pub fn release(&self, len: usize) {
        let charge = self.charge(len);
        let before = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                Some(p.saturating_sub(charge))
            })
            .unwrap_or(0);
        let after = before.saturating_sub(charge);
        if after < self.low
            && self
                .unwritable
                .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.transitions.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn charge(&self, len: usize) -> u32 {
        narrow(len).saturating_add(self.entry_overhead)
    }
}

impl OutboundLayer for OutboundGauge {
    fn admit(&self, len: usize, class: WriteClass) -> Result<(), Busy> {
        if class == WriteClass::Normal && !self.is_writable() {
            let _ = self
                .refused
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                    Some(r.saturating_add(1))
                });
            return Err(Busy {
                pending: self.pending(),
            });
        }
        let charge = self.charge(len);
        let before = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                Some(p.saturating_add(charge))
            })
            .unwrap_or(0);
        if before.saturating_add(charge) > self.high
            && self
                .unwritable
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.transitions.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(high: usize, low: usize) -> OutboundGauge {
        OutboundGauge::new(WaterMarkConfig {
            high,
            low,
            entry_overhead: 0,
        })
    }

    #[test]
    fn defaults_are_128_kib_high_and_8_kib_low() {
        let c = WaterMarkConfig::default();
        assert_eq!((c.high, c.low), (131_072, 8_192));
    }

    #[test]
    fn turns_unwritable_only_strictly_above_the_high_mark() {
        let g = gauge(100, 10);
        g.admit(100, WriteClass::Normal).unwrap();
        assert!(
            g.is_writable(),
            "exactly at the high mark is still writable"
        );
        g.admit(1, WriteClass::Normal).unwrap();
        assert!(!g.is_writable());
        assert_eq!(g.transitions(), 1);
    }

    #[test]
    fn stays_unwritable_between_the_marks_and_recovers_strictly_below_low() {
        let g = gauge(100, 10);
        g.admit(101, WriteClass::Normal).unwrap();
        g.release(91);
        assert_eq!(g.pending(), 10);
        assert!(!g.is_writable(), "at the low mark is still unwritable");
        g.release(1);
        assert!(g.is_writable());
        assert_eq!(g.transitions(), 2);
    }

    #[test]
    fn non_critical_writes_are_refused_above_the_high_mark() {
        let g = gauge(100, 10);
        g.admit(150, WriteClass::Normal).unwrap();
        assert_eq!(g.admit(5, WriteClass::Normal), Err(Busy { pending: 150 }));
        assert_eq!(g.refused(), 1);
        assert_eq!(g.pending(), 150);
    }

    #[test]
    fn critical_writes_always_pass() {
        let g = gauge(100, 10);
        g.admit(150, WriteClass::Normal).unwrap();
        assert_eq!(g.admit(5, WriteClass::Critical), Ok(()));
        assert_eq!(g.pending(), 155);
    }

    #[test]
    fn each_write_is_charged_the_entry_overhead() {
        let g = OutboundGauge::new(WaterMarkConfig::default());
        g.admit(4, WriteClass::Normal).unwrap();
        assert_eq!(g.pending(), 4 + DEFAULT_ENTRY_OVERHEAD);
        g.release(4);
        assert_eq!(g.pending(), 0);
    }
}
