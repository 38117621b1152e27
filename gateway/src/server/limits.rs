//! Admission at accept time: the CIDR allow/deny filter, the total and per-IP connection caps (a permit that gives
//! its slot back when the connection ends), the accept-rate token bucket, and one such bucket per peer address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// Why a connection was closed at accept; the string is the `reason` label of `connections_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds `max_connections`.
    TotalCap,
    /// The peer address holds `max_connections_per_ip`.
    PerIpCap,
    /// The peer is outside `allow` or inside `deny`.
    Denied,
    /// The PROXY protocol header was missing, malformed or late.
    ProxyHeader,
    /// The TLS handshake failed or was late (including a missing or untrusted client certificate).
    TlsHandshake,
    /// The peer address connected faster than `accept_rate_per_ip` / `accept_burst_per_ip`.
    IpAcceptRate,
}

impl Refusal {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::TotalCap => "max_connections",
            Refusal::PerIpCap => "max_connections_per_ip",
            Refusal::Denied => "denied",
            Refusal::ProxyHeader => "proxy_header",
            Refusal::TlsHandshake => "tls_handshake",
            Refusal::IpAcceptRate => "ip_accept_rate",
        }
    }

    /// Error code in the brief's scheme (B: the gateway's own capacity; A: the peer; scene 05 = connection).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::TotalCap => "B0501",
            Refusal::PerIpCap => "A0502",
            Refusal::Denied => "A0503",
            Refusal::ProxyHeader => "A0504",
            Refusal::TlsHandshake => "A0505",
            Refusal::IpAcceptRate => "A0506",
        }
    }
}

/// CIDR allow/deny rules; deny wins, an empty allow list allows everyone.
#[derive(Debug, Clone, Default)]
pub struct PeerFilter {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl PeerFilter {
    /// A filter from the listener's lists.
    pub fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> Self {
        PeerFilter { allow, deny }
    }

    /// Whether `ip` may connect. IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) are judged as IPv4.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.deny.iter().any(|n| n.contains(&ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|n| n.contains(&ip))
    }
}

/// Connection counts of one listener: a total and one per peer IP.
#[derive(Debug)]
pub struct ConnectionLimiter {
    max_total: usize,
    max_per_ip: usize,
    total: AtomicUsize,
    /// Keyed by [`peer_key`]: an IPv4 peer and its IPv4-mapped IPv6 form are one peer, as in [`PeerFilter`].
    per_ip: Mutex<HashMap<PeerKey, usize>>,
}

/// A peer address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form): what a permit keeps for life, 16 B instead of
/// an `IpAddr`'s 17 (which padded every permit to 32 B).
type PeerKey = [u8; 16];

fn peer_key(ip: IpAddr) -> PeerKey {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl ConnectionLimiter {
    /// A limiter; `max_per_ip == 0` means no per-IP cap.
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(ConnectionLimiter {
            max_total,
            max_per_ip,
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    /// Connections currently held.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Takes a slot for `ip`, or says which cap is full. Only the acceptor acquires, so check-then-add is exact.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, Refusal> {
        if self.total.load(Ordering::Acquire) >= self.max_total {
            return Err(Refusal::TotalCap);
        }
        let ip = peer_key(ip);
        if self.max_per_ip > 0 {
            let mut map = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            let n = map.entry(ip).or_insert(0);
            if *n >= self.max_per_ip {
                return Err(Refusal::PerIpCap);
            }
            *n += 1;
        }
        self.total.fetch_add(1, Ordering::AcqRel);
        Ok(ConnPermit {
            limiter: Arc::clone(self),
            ip,
        })
    }

    fn release(&self, ip: PeerKey) {
        self.total.fetch_sub(1, Ordering::AcqRel);
        if self.max_per_ip > 0 {
            let mut map = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = map.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}

/// A held connection slot; dropping it (when the connection ends, on any worker) frees the slot.
#[derive(Debug)]
pub struct ConnPermit {
    limiter: Arc<ConnectionLimiter>,
    ip: PeerKey,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        self.limiter.release(self.ip);
    }
}

/// Token bucket for accepts: `rate` per second, up to `burst` at once; `rate == 0` disables it.
#[derive(Debug)]
pub struct AcceptBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl AcceptBucket {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32, now: Instant) -> Self {
        AcceptBucket {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last: now,
        }
    }

    /// Takes one token, or returns how long to wait for the next one (the caller sleeps and asks again).
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }

    /// Whether the bucket would be full at `now` (a peer that has been quiet that long is as good as new).
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.rate >= self.burst
    }
}

/// Addresses the per-IP accept rate tracks at most; beyond it quiet addresses are forgotten first, then all.
pub const MAX_TRACKED_IPS: usize = 65_536;

/// One accept token bucket per peer address, so a connect storm from one address is refused while others are
/// served. The map is bounded: when it holds [`MAX_TRACKED_IPS`] addresses, those whose bucket has refilled are
/// dropped (they are indistinguishable from new ones); if that frees nothing — an attacker rotating through more
/// addresses than the map holds — the map is cleared, which fails open for those addresses (the listener's total
/// cap and global accept rate still apply). Owned by the acceptor task, so it needs no lock.
#[derive(Debug)]
pub struct IpAcceptRate {
    rate: u32,
    burst: u32,
    capacity: usize,
    buckets: HashMap<IpAddr, AcceptBucket>,
}

impl IpAcceptRate {
    /// `rate` accepts a second per address, `burst` at once; `rate == 0` admits everyone and tracks nothing.
    pub fn new(rate: u32, burst: u32, capacity: usize) -> Self {
        IpAcceptRate {
            rate,
            burst,
            capacity: capacity.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Whether `ip` may connect now; takes one of its tokens if so. IPv4-mapped IPv6 peers count as IPv4.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate == 0 {
            return true;
        }
        let ip = ip.to_canonical();
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= self.capacity {
            self.buckets.retain(|_, b| !b.is_full(now));
            if self.buckets.len() >= self.capacity {
                self.buckets.clear();
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        self.buckets
            .entry(ip)
            .or_insert_with(|| AcceptBucket::new(rate, burst, now))
            .take(now)
            .is_none()
    }

    /// Addresses currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn deny_wins_over_allow() {
        let f = PeerFilter::new(
            vec!["10.0.0.0/8".parse().unwrap()],
            vec!["10.1.0.0/16".parse().unwrap()],
        );
        assert!(f.allows(ip("10.2.3.4")));
        assert!(!f.allows(ip("10.1.3.4")));
        assert!(!f.allows(ip("192.168.1.1")));
        assert!(f.allows(ip("::ffff:10.2.3.4")));
    }

    #[test]
    fn empty_rules_allow_everyone() {
        assert!(PeerFilter::default().allows(ip("203.0.113.9")));
    }

    #[test]
    fn per_ip_cap_counts_each_address_and_frees_on_drop() {
        let l = ConnectionLimiter::new(10, 2);
        let a1 = l.try_acquire(ip("10.0.0.1")).unwrap();
        let _a2 = l.try_acquire(ip("10.0.0.1")).unwrap();
        assert_eq!(
            l.try_acquire(ip("10.0.0.1")).unwrap_err(),
            Refusal::PerIpCap
        );
        let _b = l.try_acquire(ip("10.0.0.2")).unwrap();
        drop(a1);
        assert!(l.try_acquire(ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn total_cap_refuses_beyond_max() {
        let l = ConnectionLimiter::new(1, 0);
        let _a = l.try_acquire(ip("10.0.0.1")).unwrap();
        assert_eq!(
            l.try_acquire(ip("10.0.0.2")).unwrap_err(),
            Refusal::TotalCap
        );
        assert_eq!(l.total(), 1);
    }

    #[test]
    fn accept_bucket_allows_a_burst_then_paces() {
        let t0 = Instant::now();
        let mut b = AcceptBucket::new(10, 2, t0);
        assert!(b.take(t0).is_none());
        assert!(b.take(t0).is_none());
        let wait = b.take(t0).unwrap();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(b.take(t0 + Duration::from_millis(100)).is_none());
    }

    #[test]
    fn per_ip_accept_rate_throttles_one_address_and_not_another() {
        let t0 = Instant::now();
        let mut r = IpAcceptRate::new(10, 3, 1024);
        assert!((0..3).all(|_| r.admit(ip("127.0.0.3"), t0)));
        assert!(!r.admit(ip("127.0.0.3"), t0));
        assert!(!r.admit(ip("::ffff:127.0.0.3"), t0));
        assert!(r.admit(ip("127.0.0.2"), t0));
        assert!(r.admit(ip("127.0.0.3"), t0 + Duration::from_millis(100)));
    }

    #[test]
    fn per_ip_accept_rate_map_stays_bounded() {
        let t0 = Instant::now();
        let mut r = IpAcceptRate::new(1, 1, 4);
        for i in 0..100u8 {
            r.admit(IpAddr::from([10, 0, 0, i]), t0);
            assert!(r.tracked() <= 4);
        }
        // Quiet addresses (bucket refilled) are dropped first; a busy one is kept.
        let mut r = IpAcceptRate::new(1, 1, 2);
        r.admit(ip("10.0.0.1"), t0);
        let later = t0 + Duration::from_secs(2);
        r.admit(ip("10.0.0.2"), later);
        r.admit(ip("10.0.0.3"), later);
        assert_eq!(r.tracked(), 2);
        assert!(!r.admit(ip("10.0.0.2"), later), "10.0.0.2 was kept");
    }

    #[test]
    fn zero_per_ip_rate_tracks_nothing() {
        let mut r = IpAcceptRate::new(0, 0, 4);
        let t0 = Instant::now();
        assert!((0..1000).all(|_| r.admit(ip("10.0.0.1"), t0)));
        assert_eq!(r.tracked(), 0);
    }

    #[test]
    fn zero_rate_never_waits() {
        let t0 = Instant::now();
        let mut b = AcceptBucket::new(0, 0, t0);
        assert!((0..1000).all(|_| b.take(t0).is_none()));
    }
}
