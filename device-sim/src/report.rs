//! Counters shared by every simulated charger, latency histograms, and the end-of-run report (a table, or one JSON
//! object whose field names are a contract with `device-sim/bench/`). Reports of several processes merge: counts
//! add, histograms merge bucket by bucket (never averaged percentiles).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::fault::FaultKind;

/// Highest latency a histogram tracks, µs (one minute).
const MAX_LATENCY_US: u64 = 60_000_000;
/// Significant figures of the histograms.
const SIGFIG: u8 = 3;

/// Why a connection failed or ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// `ECONNREFUSED`.
    Refused,
    /// `EADDRNOTAVAIL`: the source address ran out of ephemeral ports.
    AddrNotAvailable,
    /// Connect took longer than the reply timeout.
    ConnectTimeout,
    /// Any other connect error (including `EMFILE`).
    ConnectOther,
    /// The WebSocket upgrade was refused.
    Handshake,
    /// The gateway refused the login.
    LoginRefused,
    /// No login reply in time.
    LoginTimeout,
    /// The gateway closed the connection (or reset it) after login.
    ClosedByPeer,
    /// Writing failed.
    WriteError,
}

impl FailReason {
    const ALL: [FailReason; 9] = [
        FailReason::Refused,
        FailReason::AddrNotAvailable,
        FailReason::ConnectTimeout,
        FailReason::ConnectOther,
        FailReason::Handshake,
        FailReason::LoginRefused,
        FailReason::LoginTimeout,
        FailReason::ClosedByPeer,
        FailReason::WriteError,
    ];

    /// Report key.
    pub fn name(self) -> &'static str {
        match self {
            FailReason::Refused => "refused",
            FailReason::AddrNotAvailable => "addr_not_available",
            FailReason::ConnectTimeout => "connect_timeout",
            FailReason::ConnectOther => "connect_other",
            FailReason::Handshake => "handshake",
            FailReason::LoginRefused => "login_refused",
            FailReason::LoginTimeout => "login_timeout",
            FailReason::ClosedByPeer => "closed_by_peer",
            FailReason::WriteError => "write_error",
        }
    }

    /// The reason for a connect error.
    pub fn of_connect(e: &std::io::Error) -> FailReason {
        match e.kind() {
            std::io::ErrorKind::ConnectionRefused => FailReason::Refused,
            std::io::ErrorKind::AddrNotAvailable => FailReason::AddrNotAvailable,
            std::io::ErrorKind::TimedOut => FailReason::ConnectTimeout,
            _ => FailReason::ConnectOther,
        }
    }
}

/// A reply that did not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Bad CRC or unframeable bytes from the gateway.
    Crc,
    /// A reply type we were waiting for, but with a sequence number we did not send.
    Seq,
    /// A reply naming another charger (pile number or transaction serial).
    Identity,
    /// A reply of a type we were not waiting for.
    Unexpected,
    /// An expected reply that did not come within the reply timeout.
    NoReply,
    /// A reply that came after its request had been counted as `no_reply` (it is in the latency histograms too, so
    /// their max shows how late). Without this a late reply looked like one the charger never asked for.
    Late,
    /// OCPP: a CALLRESULT/CALLERROR whose message id we never sent.
    UnknownId,
    /// OCPP: a CALLERROR answering one of our CALLs.
    CallError,
    /// OCPP: text that is not an OCPP-J array.
    BadJson,
    /// A reply that says "failed" where the request was valid (e.g. a rejected transaction record).
    Refusal,
}

impl Mismatch {
    const ALL: [Mismatch; 10] = [
        Mismatch::Crc,
        Mismatch::Seq,
        Mismatch::Identity,
        Mismatch::Unexpected,
        Mismatch::NoReply,
        Mismatch::Late,
        Mismatch::UnknownId,
        Mismatch::CallError,
        Mismatch::BadJson,
        Mismatch::Refusal,
    ];

    /// Report key.
    pub fn name(self) -> &'static str {
        match self {
            Mismatch::Crc => "crc",
            Mismatch::Seq => "seq",
            Mismatch::Identity => "identity",
            Mismatch::Unexpected => "unexpected",
            Mismatch::NoReply => "no_reply",
            Mismatch::Late => "late",
            Mismatch::UnknownId => "unknown_id",
            Mismatch::CallError => "call_error",
            Mismatch::BadJson => "bad_json",
            Mismatch::Refusal => "refusal",
        }
    }
}

/// Which latency histogram a measurement lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Login sent → login reply.
    Login,
    /// Heartbeat sent → heartbeat reply.
    Heartbeat,
    /// Any other request the charger sends → its reply (billing-model check, transaction record → confirm, OCPP
    /// StatusNotification / StartTransaction / StopTransaction / MeterValues).
    Command,
    /// Telemetry frame sent → its event seen by `--observe`.
    E2e,
}

impl Latency {
    const ALL: [Latency; 4] = [
        Latency::Login,
        Latency::Heartbeat,
        Latency::Command,
        Latency::E2e,
    ];

    fn name(self) -> &'static str {
        match self {
            Latency::Login => "login",
            Latency::Heartbeat => "heartbeat",
            Latency::Command => "command",
            Latency::E2e => "e2e",
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG)
        .unwrap_or_else(|_| unreachable!("constant bounds are valid"))
}

/// Live counters; chargers bump them as they go.
#[derive(Debug)]
pub struct Counters {
    /// Connections attempted (first connects and reconnects).
    pub attempted: AtomicU64,
    /// Connections established and logged in (cumulative).
    pub established: AtomicU64,
    /// Connections up right now (logged in, not yet closed).
    pub up: AtomicU64,
    /// Reconnects after a loss.
    pub reconnects: AtomicU64,
    /// Frames sent.
    pub sent: AtomicU64,
    /// Frames answered by the expected reply.
    pub answered: AtomicU64,
    /// Telemetry frames sent (0x13/0x23/0x25, MeterValues, BCL/BCS).
    pub telemetry_sent: AtomicU64,
    /// Commands from the gateway (remote start/stop, time sync, …) answered.
    pub commands_answered: AtomicU64,
    failed: [AtomicU64; FailReason::ALL.len()],
    mismatches: [AtomicU64; Mismatch::ALL.len()],
    faults: [AtomicU64; FaultKind::ALL.len()],
    latency: [Mutex<Histogram<u64>>; Latency::ALL.len()],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            attempted: AtomicU64::new(0),
            established: AtomicU64::new(0),
            up: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            telemetry_sent: AtomicU64::new(0),
            commands_answered: AtomicU64::new(0),
            failed: Default::default(),
            mismatches: Default::default(),
            faults: Default::default(),
            latency: std::array::from_fn(|_| Mutex::new(new_histogram())),
        }
    }
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a failed or lost connection.
    pub fn fail(&self, reason: FailReason) {
        Self::bump(&self.failed[reason as usize]);
    }

    /// Counts a reply that did not check out.
    pub fn mismatch(&self, kind: Mismatch) {
        Self::bump(&self.mismatches[kind as usize]);
    }

    /// Counts an injected fault.
    pub fn fault(&self, kind: FaultKind) {
        Self::bump(&self.faults[kind.index()]);
    }

    /// Records a latency.
    pub fn latency(&self, which: Latency, d: Duration) {
        let us = u64::try_from(d.as_micros())
            .unwrap_or(MAX_LATENCY_US)
            .clamp(1, MAX_LATENCY_US);
        if let Ok(mut h) = self.latency[which as usize].lock() {
            let _ = h.record(us);
        }
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Sum of all mismatches so far (for the progress line).
    pub fn mismatch_total(&self) -> u64 {
        self.mismatches.iter().map(Self::get).sum()
    }

    /// Sum of all connection failures so far (for the progress line).
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().map(Self::get).sum()
    }

    /// The report of a run of `chargers` over `duration`; `with_hdr` adds the serialized histograms (for merging).
    pub fn report(&self, chargers: u64, duration: Duration, with_hdr: bool) -> Report {
        let nonzero = |names: &mut dyn Iterator<Item = (&'static str, u64)>| {
            names
                .filter(|(_, v)| *v > 0)
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<BTreeMap<_, _>>()
        };
        let hists: Vec<(Latency, Histogram<u64>)> = Latency::ALL
            .into_iter()
            .map(|l| {
                let h = self.latency[l as usize]
                    .lock()
                    .map(|h| h.clone())
                    .unwrap_or_else(|_| new_histogram());
                (l, h)
            })
            .collect();
        let mut report = Report {
            chargers,
            duration_s: duration.as_secs_f64(),
            connections: Connections {
                attempted: Self::get(&self.attempted),
                up: Self::get(&self.up),
                established: Self::get(&self.established),
                failed: nonzero(
                    &mut FailReason::ALL
                        .into_iter()
                        .map(|r| (r.name(), Self::get(&self.failed[r as usize]))),
                ),
                reconnects: Self::get(&self.reconnects),
            },
            frames: Frames {
                sent: Self::get(&self.sent),
                answered: Self::get(&self.answered),
                telemetry_sent: Self::get(&self.telemetry_sent),
                commands_answered: Self::get(&self.commands_answered),
            },
            mismatches: nonzero(
                &mut Mismatch::ALL
                    .into_iter()
                    .map(|m| (m.name(), Self::get(&self.mismatches[m as usize]))),
            ),
            faults: nonzero(
                &mut FaultKind::ALL
                    .into_iter()
                    .map(|f| (f.name(), Self::get(&self.faults[f.index()]))),
            ),
            latency_us: BTreeMap::new(),
            hdr: None,
        };
        for (l, h) in &hists {
            report
                .latency_us
                .insert(l.name().to_owned(), Summary::of(h));
        }
        if with_hdr {
            report.hdr = Some(
                hists
                    .iter()
                    .map(|(l, h)| (l.name().to_owned(), encode_histogram(h)))
                    .collect(),
            );
        }
        report
    }
}

fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    match V2Serializer::new().serialize(h, &mut buf) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(buf),
        Err(_) => String::new(),
    }
}

fn decode_histogram(s: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    Deserializer::new().deserialize(&mut &bytes[..]).ok()
}

/// Percentiles of one latency histogram, µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
}

impl Summary {
    fn of(h: &Histogram<u64>) -> Summary {
        if h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// `connections` in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    /// Connects attempted, reconnects included.
    pub attempted: u64,
    /// Connections up (logged in) at the end of the run.
    pub up: u64,
    /// Connections that reached "logged in", cumulative.
    #[serde(default)]
    pub established: u64,
    /// Failed or lost connections by reason.
    pub failed: BTreeMap<String, u64>,
    /// Reconnects after a loss.
    pub reconnects: u64,
}

/// `frames` in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frames {
    /// Frames sent.
    pub sent: u64,
    /// Frames answered by the expected reply.
    pub answered: u64,
    /// Telemetry frames sent (no reply expected).
    pub telemetry_sent: u64,
    /// Commands from the gateway answered.
    #[serde(default)]
    pub commands_answered: u64,
}

/// What a run did. Field names are a contract (see `docs/device-sim.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Chargers simulated.
    pub chargers: u64,
    /// Run length, seconds.
    pub duration_s: f64,
    /// Connection counts.
    pub connections: Connections,
    /// Frame counts.
    pub frames: Frames,
    /// Replies that did not check out, by kind (only kinds seen).
    pub mismatches: BTreeMap<String, u64>,
    /// Faults injected, by kind (only kinds injected).
    pub faults: BTreeMap<String, u64>,
    /// Latency percentiles by kind: `login`, `heartbeat`, `command`, `e2e`.
    pub latency_us: BTreeMap<String, Summary>,
    /// Serialized histograms (HdrHistogram V2, base64), only in worker processes' reports, for merging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<BTreeMap<String, String>>,
}

fn add_maps(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_insert(0) += v;
    }
}

impl Report {
    /// Total mismatches.
    pub fn mismatch_total(&self) -> u64 {
        self.mismatches.values().sum()
    }

    /// Merges worker reports: counts add, the duration is the longest, histograms merge from their `hdr` fields
    /// (a report without them contributes its counts only).
    pub fn merge(parts: &[Report]) -> Report {
        let mut out = Report::default();
        let mut hists: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
        for p in parts {
            out.chargers += p.chargers;
            out.duration_s = out.duration_s.max(p.duration_s);
            let c = &mut out.connections;
            c.attempted += p.connections.attempted;
            c.up += p.connections.up;
            c.established += p.connections.established;
            c.reconnects += p.connections.reconnects;
            add_maps(&mut c.failed, &p.connections.failed);
            let f = &mut out.frames;
            f.sent += p.frames.sent;
            f.answered += p.frames.answered;
            f.telemetry_sent += p.frames.telemetry_sent;
            f.commands_answered += p.frames.commands_answered;
            add_maps(&mut out.mismatches, &p.mismatches);
            add_maps(&mut out.faults, &p.faults);
            for (name, enc) in p.hdr.iter().flatten() {
                if let Some(h) = decode_histogram(enc) {
                    let into = hists.entry(name.clone()).or_insert_with(new_histogram);
                    let _ = into.add(&h);
                }
            }
        }
        for l in Latency::ALL {
            let h = hists.remove(l.name()).unwrap_or_else(new_histogram);
            out.latency_us.insert(l.name().to_owned(), Summary::of(&h));
        }
        out
    }
}

fn map_text(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".to_owned();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.connections;
        writeln!(
            f,
            "chargers     {:>10}   duration {:.1} s",
            self.chargers, self.duration_s
        )?;
        writeln!(
            f,
            "connections  attempted {:>10}  up {:>8}  established {:>8}  reconnects {}",
            c.attempted, c.up, c.established, c.reconnects
        )?;
        writeln!(f, "  failed     {}", map_text(&c.failed))?;
        writeln!(
            f,
            "frames       sent {:>12}  answered {:>10}  telemetry {:>10}  commands answered {}",
            self.frames.sent,
            self.frames.answered,
            self.frames.telemetry_sent,
            self.frames.commands_answered
        )?;
        writeln!(f, "mismatches   {}", map_text(&self.mismatches))?;
        writeln!(f, "faults       {}", map_text(&self.faults))?;
        writeln!(
            f,
            "latency µs   {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "count", "p50", "p90", "p99", "p99.9", "max"
        )?;
        for (name, s) in &self.latency_us {
            writeln!(
                f,
                "  {:<10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
                name, s.count, s.p50, s.p90, s.p99, s.p999, s.max
            )?;
        }
        Ok(())
    }
}
