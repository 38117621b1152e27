//! The command line's value syntax: targets, protocol mix, rates, duration ranges, source-address ranges and fault
//! rates. Pure parsing, so the binary and the tests agree on every spelling.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::fault::FaultKind;

/// A value on the command line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct SpecError {
    /// Which flag value.
    pub what: &'static str,
    /// What was wrong, with the offending text.
    pub detail: String,
}

fn err(what: &'static str, detail: impl Into<String>) -> SpecError {
    SpecError {
        what,
        detail: detail.into(),
    }
}

/// The protocols a simulated charger can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// YKC 1.6 over TCP.
    Ykc,
    /// OCPP 1.6J over WebSocket.
    OcppWs,
    /// OCPP 1.6 JSON over raw TCP in the `ocpp-tcp` envelope.
    OcppTcp,
    /// GB/T 27930 CAN frames in 13-byte relay records over TCP.
    Gbt,
}

impl Protocol {
    /// Every protocol, in the order the mix lists them.
    pub const ALL: [Protocol; 4] = [
        Protocol::Ykc,
        Protocol::OcppWs,
        Protocol::OcppTcp,
        Protocol::Gbt,
    ];

    /// The name used in `--target` and `--mix`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ykc => "ykc",
            Protocol::OcppWs => "ocpp-ws",
            Protocol::OcppTcp => "ocpp-tcp",
            Protocol::Gbt => "gbt",
        }
    }

    fn parse(s: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Where each protocol's chargers connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// YKC listener.
    pub ykc: Option<SocketAddr>,
    /// OCPP-J WebSocket base URL, e.g. `ws://127.0.0.1:8080/ocpp` (the charger id is appended).
    pub ocpp_ws: Option<String>,
    /// OCPP-over-TCP listener.
    pub ocpp_tcp: Option<SocketAddr>,
    /// GB/T CAN relay listener.
    pub gbt: Option<SocketAddr>,
}

impl Targets {
    /// Whether a target is set for `p`.
    pub fn has(&self, p: Protocol) -> bool {
        match p {
            Protocol::Ykc => self.ykc.is_some(),
            Protocol::OcppWs => self.ocpp_ws.is_some(),
            Protocol::OcppTcp => self.ocpp_tcp.is_some(),
            Protocol::Gbt => self.gbt.is_some(),
        }
    }
}

fn socket_addr(what: &'static str, s: &str) -> Result<SocketAddr, SpecError> {
    s.to_socket_addrs()
        .map_err(|e| err(what, format!("{s:?}: {e}")))?
        .next()
        .ok_or_else(|| err(what, format!("{s:?} resolves to nothing")))
}

/// `ykc=HOST:PORT,ocpp-ws=ws://HOST:PORT/ocpp,ocpp-tcp=HOST:PORT,gbt=HOST:PORT`; a bare `HOST:PORT` means YKC.
pub fn parse_targets(s: &str) -> Result<Targets, SpecError> {
    const WHAT: &str = "--target";
    let mut t = Targets::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (proto, value) = match part.split_once('=') {
            Some((k, v)) => (
                Protocol::parse(k).ok_or_else(|| err(WHAT, format!("unknown protocol {k:?}")))?,
                v,
            ),
            None => (Protocol::Ykc, part),
        };
        match proto {
            Protocol::Ykc => t.ykc = Some(socket_addr(WHAT, value)?),
            Protocol::OcppTcp => t.ocpp_tcp = Some(socket_addr(WHAT, value)?),
            Protocol::Gbt => t.gbt = Some(socket_addr(WHAT, value)?),
            Protocol::OcppWs => {
                if !value.starts_with("ws://") {
                    return Err(err(
                        WHAT,
                        format!("ocpp-ws wants ws://HOST:PORT/PATH, got {value:?}"),
                    ));
                }
                t.ocpp_ws = Some(value.trim_end_matches('/').to_owned());
            }
        }
    }
    Ok(t)
}

/// Protocol weights from `--mix ykc:70,ocpp-ws:20,ocpp-tcp:10,gbt:0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    weights: BTreeMap<Protocol, u32>,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            weights: BTreeMap::from([(Protocol::Ykc, 100)]),
        }
    }
}

impl Mix {
    /// The weight of `p` (0 when absent).
    pub fn weight(&self, p: Protocol) -> u32 {
        self.weights.get(&p).copied().unwrap_or(0)
    }

    /// Sum of the weights.
    pub fn total(&self) -> u32 {
        self.weights.values().sum()
    }

    /// How many of `n` chargers speak `p` under [`MixAssigner`] (exact, not sampled).
    pub fn count(&self, p: Protocol, n: u64) -> u64 {
        let mut a = MixAssigner::new(self.clone());
        (0..n).filter(|_| a.assign() == Some(p)).count() as u64
    }
}

/// `ykc:70,ocpp-ws:20,…`.
pub fn parse_mix(s: &str) -> Result<Mix, SpecError> {
    const WHAT: &str = "--mix";
    let mut weights = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| err(WHAT, format!("{part:?} is not PROTOCOL:WEIGHT")))?;
        let p = Protocol::parse(k).ok_or_else(|| err(WHAT, format!("unknown protocol {k:?}")))?;
        let w: u32 = v
            .parse()
            .map_err(|_| err(WHAT, format!("weight {v:?} is not a number")))?;
        weights.insert(p, w);
    }
    let mix = Mix { weights };
    if mix.total() == 0 {
        return Err(err(WHAT, "all weights are zero"));
    }
    Ok(mix)
}

/// Hands out protocols in exact proportion to the weights (largest deficit first), so small fleets match the mix.
#[derive(Debug, Clone)]
pub struct MixAssigner {
    mix: Mix,
    given: BTreeMap<Protocol, u64>,
    n: u64,
}

impl MixAssigner {
    /// A fresh assigner.
    pub fn new(mix: Mix) -> Self {
        MixAssigner {
            mix,
            given: BTreeMap::new(),
            n: 0,
        }
    }

    /// The protocol of the next charger; `None` only if every weight is zero.
    pub fn assign(&mut self) -> Option<Protocol> {
        self.n += 1;
        let total = f64::from(self.mix.total().max(1));
        let n = self.n as f64;
        let pick = Protocol::ALL
            .into_iter()
            .filter(|p| self.mix.weight(*p) > 0)
            .max_by(|a, b| {
                let deficit = |p: &Protocol| {
                    f64::from(self.mix.weight(*p)) * n / total
                        - self.given.get(p).copied().unwrap_or(0) as f64
                };
                deficit(a).total_cmp(&deficit(b))
            })?;
        *self.given.entry(pick).or_insert(0) += 1;
        Some(pick)
    }
}

/// A duration: `30s`, `2m`, `500ms`, `1h`, or bare seconds.
pub fn parse_duration(s: &str) -> Result<Duration, SpecError> {
    const WHAT: &str = "duration";
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: f64 = digits
        .parse()
        .map_err(|_| err(WHAT, format!("{s:?} (use 30s, 2m, 500ms)")))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(err(
                WHAT,
                format!("unknown unit in {s:?} (use ms, s, m, h)"),
            ))
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|e| err(WHAT, format!("{s:?}: {e}")))
}

/// A range of durations `LOW-HIGH` (`30s-45s`) or a single duration; values are drawn uniformly from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    /// Lower bound.
    pub low: Duration,
    /// Upper bound (≥ `low`).
    pub high: Duration,
}

impl DurationRange {
    /// The range `[low, high]`.
    pub fn new(low: Duration, high: Duration) -> Self {
        DurationRange {
            low: low.min(high),
            high: high.max(low),
        }
    }

    /// A point in the range, `unit` in `[0, 1)`.
    pub fn at(&self, unit: f64) -> Duration {
        self.low + (self.high - self.low).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// `30s-45s` or `10s`.
pub fn parse_duration_range(s: &str) -> Result<DurationRange, SpecError> {
    match s.split_once('-') {
        Some((a, b)) => Ok(DurationRange::new(parse_duration(a)?, parse_duration(b)?)),
        None => {
            let d = parse_duration(s)?;
            Ok(DurationRange::new(d, d))
        }
    }
}

/// A rate per second: `5000/s`, `300/m` or a bare number (per second).
pub fn parse_rate(s: &str) -> Result<f64, SpecError> {
    const WHAT: &str = "rate";
    let (n, per) = match s.split_once('/') {
        Some((n, unit)) => (n, parse_duration(&format!("1{unit}"))?),
        None => (s, Duration::from_secs(1)),
    };
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| err(WHAT, format!("{s:?} (use 5000/s)")))?;
    if !(n.is_finite() && n >= 0.0) {
        return Err(err(WHAT, format!("{s:?} must be ≥ 0")));
    }
    Ok(n / per.as_secs_f64())
}

/// The addresses of `--source-addrs`, in order. A newtype rather than a bare `Vec`: clap's derive reads a `Vec`
/// field as "one value per occurrence" and then panics when the parser hands back the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceAddrList(pub Vec<Ipv4Addr>);

impl SourceAddrList {
    /// The comma list `parse_source_addrs` reads back, for handing a slice to a worker process.
    pub fn to_arg(&self) -> String {
        self.0
            .iter()
            .map(Ipv4Addr::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `127.0.0.2-127.0.0.9`, a single address, or a comma list of either.
pub fn parse_source_addrs(s: &str) -> Result<SourceAddrList, SpecError> {
    const WHAT: &str = "--source-addrs";
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let ip = |t: &str| {
            t.trim()
                .parse::<Ipv4Addr>()
                .map_err(|_| err(WHAT, format!("{t:?} is not an IPv4 address")))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (u32::from(ip(a)?), u32::from(ip(b)?));
                if b < a || b - a > 65_535 {
                    return Err(err(WHAT, format!("bad range {part:?}")));
                }
                out.extend((a..=b).map(Ipv4Addr::from));
            }
            None => out.push(ip(part)?),
        }
    }
    Ok(SourceAddrList(out))
}

/// `garbage:0.01,bad-crc:0.01,…`: each fault's probability (see [`FaultKind`] for what each rate applies to).
pub fn parse_faults(s: &str) -> Result<BTreeMap<FaultKind, f64>, SpecError> {
    const WHAT: &str = "--fault";
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once(':').unwrap_or((part, "1"));
        let kind = FaultKind::parse(k).ok_or_else(|| err(WHAT, format!("unknown fault {k:?}")))?;
        let p: f64 = v
            .parse()
            .map_err(|_| err(WHAT, format!("rate {v:?} is not a number")))?;
        if !(0.0..=1.0).contains(&p) {
            return Err(err(WHAT, format!("rate {v:?} must be within 0..1")));
        }
        out.insert(kind, p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_bare_address_is_ykc() {
        let t = parse_targets("127.0.0.1:8768").unwrap();
        assert_eq!(t.ykc, Some("127.0.0.1:8768".parse().unwrap()));
        let t = parse_targets("ykc=127.0.0.1:1,ocpp-ws=ws://127.0.0.1:8080/ocpp/,ocpp-tcp=127.0.0.1:2,gbt=127.0.0.1:3")
            .unwrap();
        assert_eq!(t.ocpp_ws.as_deref(), Some("ws://127.0.0.1:8080/ocpp"));
        assert!(t.has(Protocol::Gbt) && t.has(Protocol::OcppTcp));
        assert!(parse_targets("mqtt=1.2.3.4:5").is_err());
    }

    #[test]
    fn mix_is_exact_for_small_fleets() {
        let m = parse_mix("ykc:70,ocpp-ws:20,ocpp-tcp:10,gbt:0").unwrap();
        assert_eq!(m.count(Protocol::Ykc, 10), 7);
        assert_eq!(m.count(Protocol::OcppWs, 10), 2);
        assert_eq!(m.count(Protocol::OcppTcp, 10), 1);
        assert_eq!(m.count(Protocol::Gbt, 10), 0);
        assert!(parse_mix("ykc:0").is_err());
    }

    #[test]
    fn durations_rates_ranges_addresses() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        let r = parse_duration_range("30s-45s").unwrap();
        assert_eq!(r.at(0.5), Duration::from_millis(37_500));
        assert_eq!(parse_rate("5000/s").unwrap(), 5000.0);
        assert_eq!(parse_rate("120/m").unwrap(), 2.0);
        let a = parse_source_addrs("127.0.0.2-127.0.0.4").unwrap();
        assert_eq!(a.0.len(), 3);
        assert_eq!(a.to_arg(), "127.0.0.2,127.0.0.3,127.0.0.4");
        assert_eq!(parse_source_addrs(&a.to_arg()).unwrap(), a);
        let f = parse_faults("garbage:0.01,never-login:0.5").unwrap();
        assert_eq!(f.get(&FaultKind::NeverLogin), Some(&0.5));
        assert!(parse_faults("garbage:2").is_err());
    }
}
