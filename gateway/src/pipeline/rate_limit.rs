//! The rate-limit layer: a token bucket per connection for frames per second and bytes per second.
//!
//! A frame that finds either bucket empty is dropped and counted; a connection that keeps hitting the limit for
//! `abuse_windows` consecutive one-second windows is closed with reason `rate_limit`. Arithmetic is in integer
//! milli-tokens so refills are exact and nothing can overflow.

use std::sync::{Mutex, PoisonError};

use chargegate_codec::plugin::DecodedFrame;

use super::{CloseReason, Layer, Verdict};

/// One abuse-accounting window.
const WINDOW_MS: u64 = 1_000;
/// Tokens are kept in thousandths so a refill per millisecond is exact.
const MILLI: u64 = 1_000;

/// Limits for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sustained frames per second.
    pub frames_per_sec: u32,
    /// Burst of frames allowed above the rate.
    pub frame_burst: u32,
    /// Sustained bytes per second.
    pub bytes_per_sec: u32,
    /// Burst of bytes allowed above the rate.
    pub byte_burst: u32,
    /// Consecutive windows with drops that close the connection; 0 never closes.
    pub abuse_windows: u32,
}

impl Default for RateLimitConfig {
    /// A charger sends a few frames per second at most; these limits leave a wide margin.
    fn default() -> Self {
        RateLimitConfig {
            frames_per_sec: 50,
            frame_burst: 100,
            bytes_per_sec: 64 * 1024,
            byte_burst: 128 * 1024,
            abuse_windows: 10,
        }
    }
}

/// A token bucket refilled continuously at a rate up to a burst. The rate and burst are read from the config at
/// each refill rather than copied into every connection's buckets, and the time of the last refill is the
/// limiter's (both buckets refill together): an idle connection keeps only the tokens.
#[derive(Debug, Clone)]
struct TokenBucket {
    milli_tokens: u64,
}

impl TokenBucket {
    fn new(burst: u32) -> Self {
        TokenBucket {
            milli_tokens: capacity(burst),
        }
    }

    fn refill(&mut self, rate_per_sec: u32, burst: u32, elapsed_ms: u64) {
        // rate tokens/s = rate milli-tokens/ms.
        let added = elapsed_ms.saturating_mul(u64::from(rate_per_sec));
        self.milli_tokens = self.milli_tokens.saturating_add(added).min(capacity(burst));
    }

    fn has(&self, tokens: u64) -> bool {
        self.milli_tokens >= tokens.saturating_mul(MILLI)
    }

    fn take(&mut self, tokens: u64) {
        self.milli_tokens = self
            .milli_tokens
            .saturating_sub(tokens.saturating_mul(MILLI));
    }
}

/// Per-connection rate limiter (56 bytes: every connection holds one for life).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    /// Shared by every limiter with the same limits (see [`intern`]): a pointer, not a 20 B copy each.
    config: &'static RateLimitConfig,
    frames: TokenBucket,
    bytes: TokenBucket,
    /// When both buckets were last refilled.
    last_ms: u64,
    window_start_ms: u64,
    abusive_windows: u32,
    /// Frames dropped so far, saturating (for metrics).
    dropped: u32,
    /// Whether the current window dropped a frame.
    dropped_in_window: bool,
}

impl RateLimiter {
    /// A limiter with full buckets at `now_ms`.
    pub fn new(config: RateLimitConfig, now_ms: u64) -> Self {
        RateLimiter {
            config: intern(config),
            frames: TokenBucket::new(config.frame_burst),
            bytes: TokenBucket::new(config.byte_burst),
            last_ms: now_ms,
            window_start_ms: now_ms,
            abusive_windows: 0,
            dropped: 0,
            dropped_in_window: false,
        }
    }

    /// Frames dropped so far (for metrics).
    pub fn dropped(&self) -> u64 {
        u64::from(self.dropped)
    }

    /// Accounts one frame of `len` bytes.
    pub fn check(&mut self, len: usize, now_ms: u64) -> Verdict {
        self.roll_window(now_ms);
        let c = *self.config;
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        self.frames.refill(c.frames_per_sec, c.frame_burst, elapsed);
        self.bytes.refill(c.bytes_per_sec, c.byte_burst, elapsed);
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if self.frames.has(1) && self.bytes.has(len) {
            self.frames.take(1);
            self.bytes.take(len);
            return Verdict::Pass;
        }
        self.dropped = self.dropped.saturating_add(1);
        self.dropped_in_window = true;
        if self.config.abuse_windows > 0 && self.abusive_windows + 1 >= self.config.abuse_windows {
            return Verdict::Close(CloseReason::RateLimit);
        }
        Verdict::Drop("rate_limit")
    }

    fn roll_window(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.window_start_ms);
        if elapsed < WINDOW_MS {
            return;
        }
        let whole_windows = elapsed / WINDOW_MS;
        // A window with drops extends the streak only if it is the one right before the current window.
        if self.dropped_in_window && whole_windows == 1 {
            self.abusive_windows = self.abusive_windows.saturating_add(1);
        } else {
            self.abusive_windows = 0;
        }
        self.dropped_in_window = false;
        self.window_start_ms = self
            .window_start_ms
            .saturating_add(whole_windows.saturating_mul(WINDOW_MS));
    }
}

/// The one shared copy of `config`. A process sees a handful of distinct limits (one per listener setting, a few
/// more in tests), so each distinct value is allocated once, for the life of the process, and never freed: the
/// memory is bounded by the number of distinct configurations, not by connections.
fn intern(config: RateLimitConfig) -> &'static RateLimitConfig {
    static INTERNED: Mutex<Vec<&'static RateLimitConfig>> = Mutex::new(Vec::new());
    let mut interned = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = interned.iter().find(|c| ***c == config) {
        return found;
    }
    let leaked: &'static RateLimitConfig = Box::leak(Box::new(config));
    interned.push(leaked);
    leaked
}

/// A bucket's capacity in milli-tokens (at least one token).
fn capacity(burst: u32) -> u64 {
    u64::from(burst.max(1)).saturating_mul(MILLI)
}

impl Layer for RateLimiter {
    const NAME: &'static str = "rate_limit";

    fn on_frame(&mut self, frame: &DecodedFrame, now_ms: u64) -> Verdict {
        self.check(frame.raw.len(), now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(frames_per_sec: u32, burst: u32) -> RateLimitConfig {
        RateLimitConfig {
            frames_per_sec,
            frame_burst: burst,
            bytes_per_sec: 1_000_000,
            byte_burst: 1_000_000,
            abuse_windows: 3,
        }
    }

    #[test]
    fn frames_beyond_the_burst_are_dropped_and_counted() {
        let mut limiter = RateLimiter::new(config(10, 5), 0);
        let verdicts: Vec<_> = (0..7).map(|_| limiter.check(10, 0)).collect();
        assert!(verdicts[..5].iter().all(|v| *v == Verdict::Pass));
        assert_eq!(verdicts[5], Verdict::Drop("rate_limit"));
        assert_eq!(limiter.dropped(), 2);
    }

    #[test]
    fn tokens_refill_at_the_configured_rate() {
        let mut limiter = RateLimiter::new(config(10, 1), 0);
        assert_eq!(limiter.check(1, 0), Verdict::Pass);
        assert_eq!(limiter.check(1, 50), Verdict::Drop("rate_limit"));
        // 10 frames/s = one every 100 ms.
        assert_eq!(limiter.check(1, 100), Verdict::Pass);
    }

    #[test]
    fn the_byte_budget_limits_large_frames() {
        let mut limiter = RateLimiter::new(
            RateLimitConfig {
                bytes_per_sec: 100,
                byte_burst: 100,
                ..config(1000, 1000)
            },
            0,
        );
        assert_eq!(limiter.check(80, 0), Verdict::Pass);
        assert_eq!(limiter.check(80, 0), Verdict::Drop("rate_limit"));
    }

    #[test]
    fn sustained_abuse_closes_the_connection() {
        let mut limiter = RateLimiter::new(config(1, 1), 0);
        let mut last = Verdict::Pass;
        'outer: for second in 0..10u64 {
            for _ in 0..5 {
                last = limiter.check(1, second * 1_000);
                if matches!(last, Verdict::Close(_)) {
                    break 'outer;
                }
            }
        }
        assert_eq!(last, Verdict::Close(CloseReason::RateLimit));
    }

    #[test]
    fn a_quiet_window_forgives_earlier_bursts() {
        let mut limiter = RateLimiter::new(config(1, 1), 0);
        for second in [0u64, 1, 3, 4, 6, 7] {
            for _ in 0..3 {
                assert_ne!(
                    limiter.check(1, second * 1_000),
                    Verdict::Close(CloseReason::RateLimit)
                );
            }
        }
    }
}
