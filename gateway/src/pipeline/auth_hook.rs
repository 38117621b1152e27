//! The optional HTTP auth hook: an external service decides whether a charger may log in.
//!
//! The gateway only needs the [`AuthHook`] trait; the HTTP client behind it is a separate piece. [`CachedHook`]
//! puts a TTL cache in front so a fleet reconnecting at once does not hammer the service; entries are keyed by the
//! charger id and a SHA-256 of the credential, so no plain secret is held in memory longer than the login.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::plugin::{Credential, LoginInfo};
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// A boxed future, so the trait stays object-safe without extra crates.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, HookError>> + Send + 'a>>;

/// Default time a hook decision is reused.
pub const DEFAULT_HOOK_TTL: Duration = Duration::from_secs(300);

/// The hook could not decide (network error, bad answer); the login is refused and not cached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("auth hook unavailable: {0}")]
pub struct HookError(pub String);

/// An external authority that accepts or refuses a login.
pub trait AuthHook: Send + Sync {
    /// `Ok(true)` to accept the login.
    fn check<'a>(&'a self, login: &'a LoginInfo) -> HookFuture<'a>;
}

type CacheKey = (String, [u8; 32]);

/// An [`AuthHook`] with a TTL cache of its decisions.
pub struct CachedHook {
    hook: Arc<dyn AuthHook>,
    ttl: Duration,
    cache: DashMap<CacheKey, (bool, Instant)>,
}

impl CachedHook {
    /// Wraps `hook`, reusing each decision for `ttl`.
    pub fn new(hook: Arc<dyn AuthHook>, ttl: Duration) -> Self {
        CachedHook {
            hook,
            ttl,
            cache: DashMap::new(),
        }
    }

    /// The cached decision if still fresh, else the hook's (cached on success).
    pub async fn check(&self, login: &LoginInfo) -> Result<bool, HookError> {
        let key = (
            login.charger_id.clone(),
            credential_digest(&login.credential),
        );
        // Cloned out in its own statement: no map guard lives across the await below.
        let cached = self.cache.get(&key).map(|e| *e.value());
        if let Some((decision, at)) = cached {
            if at.elapsed() < self.ttl {
                return Ok(decision);
            }
        }
        let decision = self.hook.check(login).await?;
        self.cache.insert(key, (decision, Instant::now()));
        Ok(decision)
    }
}

fn credential_digest(credential: &Credential) -> [u8; 32] {
    let mut hasher = Sha256::new();
    match credential {
        Credential::None => hasher.update([0u8]),
        Credential::Secret(bytes) => {
            hasher.update([1u8]);
            hasher.update(bytes);
        }
        Credential::Password(p) => {
            hasher.update([2u8]);
            hasher.update(p.as_bytes());
        }
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting(AtomicUsize);

    impl AuthHook for Counting {
        fn check<'a>(&'a self, login: &'a LoginInfo) -> HookFuture<'a> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let ok = login.credential == Credential::Password("good".into());
            Box::pin(async move { Ok(ok) })
        }
    }

    fn login(password: &str) -> LoginInfo {
        LoginInfo {
            charger_id: "CP-1".into(),
            credential: Credential::Password(password.into()),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn decisions_are_cached_for_the_ttl_then_asked_again() {
        let hook = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = CachedHook::new(hook.clone(), Duration::from_secs(60));
        assert!(cached.check(&login("good")).await.unwrap());
        assert!(cached.check(&login("good")).await.unwrap());
        assert_eq!(hook.0.load(Ordering::SeqCst), 1);
        assert!(!cached.check(&login("bad")).await.unwrap());
        assert_eq!(hook.0.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(cached.check(&login("good")).await.unwrap());
        assert_eq!(hook.0.load(Ordering::SeqCst), 3);
    }
}
