//! Faults injected on purpose to exercise the gateway's defences, and how each one mangles traffic.
//!
//! Rates mean different things by scope: frame faults (`garbage`, `bad-crc`, `split`, `coalesce`) are drawn per
//! frame sent; charger faults (`slowloris`, `silent`, `never-login`) are drawn once per charger; `disconnect-storm`
//! is drawn once per second for the whole process and, when it fires, drops every connection at once.

use std::collections::BTreeMap;

use crate::rng::Rng;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Random bytes (never a start marker) written before a frame.
    Garbage,
    /// A frame whose CRC is wrong; no reply is expected.
    BadCrc,
    /// A frame written in two parts with a short pause between them.
    Split,
    /// A frame written in one `write()` together with an extra heartbeat.
    Coalesce,
    /// A charger that sends its login one byte per second.
    Slowloris,
    /// A charger that logs in, then never sends again.
    Silent,
    /// Every connection of the process dropped at once, reconnecting within a second.
    DisconnectStorm,
    /// A charger that connects and sends heartbeats without ever logging in.
    NeverLogin,
}

impl FaultKind {
    /// Every kind, in report order.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Garbage,
        FaultKind::BadCrc,
        FaultKind::Split,
        FaultKind::Coalesce,
        FaultKind::Slowloris,
        FaultKind::Silent,
        FaultKind::DisconnectStorm,
        FaultKind::NeverLogin,
    ];

    /// The name used in `--fault` and in the report.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Garbage => "garbage",
            FaultKind::BadCrc => "bad-crc",
            FaultKind::Split => "split",
            FaultKind::Coalesce => "coalesce",
            FaultKind::Slowloris => "slowloris",
            FaultKind::Silent => "silent",
            FaultKind::DisconnectStorm => "disconnect-storm",
            FaultKind::NeverLogin => "never-login",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Index into per-kind counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The behaviour fault a charger carries for its whole life (at most one; drawn in a fixed order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargerFault {
    /// Sends its login one byte per second.
    Slowloris,
    /// Goes quiet after logging in.
    Silent,
    /// Never logs in.
    NeverLogin,
}

impl ChargerFault {
    /// The report kind.
    pub fn kind(self) -> FaultKind {
        match self {
            ChargerFault::Slowloris => FaultKind::Slowloris,
            ChargerFault::Silent => FaultKind::Silent,
            ChargerFault::NeverLogin => FaultKind::NeverLogin,
        }
    }
}

/// The fault rates of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    rates: BTreeMap<FaultKind, f64>,
}

/// How one frame goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFault {
    /// Untouched.
    None,
    /// Garbage before it.
    Garbage,
    /// CRC corrupted.
    BadCrc,
    /// Two writes.
    Split,
    /// Shares a write with an extra heartbeat.
    Coalesce,
}

impl FrameFault {
    /// The report kind, if any.
    pub fn kind(self) -> Option<FaultKind> {
        match self {
            FrameFault::None => None,
            FrameFault::Garbage => Some(FaultKind::Garbage),
            FrameFault::BadCrc => Some(FaultKind::BadCrc),
            FrameFault::Split => Some(FaultKind::Split),
            FrameFault::Coalesce => Some(FaultKind::Coalesce),
        }
    }
}

impl FaultPlan {
    /// A plan from parsed `--fault` rates.
    pub fn new(rates: BTreeMap<FaultKind, f64>) -> Self {
        FaultPlan { rates }
    }

    /// The rate of `kind` (0 when not asked for).
    pub fn rate(&self, kind: FaultKind) -> f64 {
        self.rates.get(&kind).copied().unwrap_or(0.0)
    }

    /// Whether no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.rates.values().all(|r| *r <= 0.0)
    }

    /// The life-long fault of one charger, if it draws one.
    pub fn charger_fault(&self, rng: &mut Rng) -> Option<ChargerFault> {
        [
            ChargerFault::NeverLogin,
            ChargerFault::Slowloris,
            ChargerFault::Silent,
        ]
        .into_iter()
        .find(|f| rng.chance(self.rate(f.kind())))
    }

    /// How the next frame goes out.
    pub fn frame_fault(&self, rng: &mut Rng) -> FrameFault {
        if self.is_empty() {
            return FrameFault::None;
        }
        [
            FrameFault::Garbage,
            FrameFault::BadCrc,
            FrameFault::Split,
            FrameFault::Coalesce,
        ]
        .into_iter()
        .find(|f| f.kind().is_some_and(|k| rng.chance(self.rate(k))))
        .unwrap_or(FrameFault::None)
    }
}

/// 8–31 random bytes that contain none of `avoid` (the protocol's start markers), so the gateway must resync.
pub fn garbage(rng: &mut Rng, avoid: &[u8]) -> Vec<u8> {
    let n = 8 + rng.below(24) as usize;
    (0..n)
        .map(|_| {
            let mut b = rng.below(256) as u8;
            while avoid.contains(&b) {
                b = b.wrapping_add(1);
            }
            b
        })
        .collect()
}

/// `frame` with its last byte (part of every CRC here) flipped.
pub fn corrupt_crc(frame: &[u8]) -> Vec<u8> {
    let mut v = frame.to_vec();
    if let Some(last) = v.last_mut() {
        *last ^= 0xFF;
    }
    v
}
