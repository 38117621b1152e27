//! `[auth_hook]`: an external HTTP service that decides logins, with a cache of its answers.

use serde::{Deserialize, Serialize};

/// Default time one hook request may take, milliseconds.
pub const DEFAULT_HOOK_TIMEOUT_MS: u64 = 2_000;
/// Default time a hook decision is reused, seconds.
pub const DEFAULT_HOOK_CACHE_TTL_SECS: u64 = 300;

/// `[auth_hook]`; off unless `url` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthHookConfig {
    /// `http://` URL the gateway POSTs each login to; none = no hook.
    pub url: Option<String>,
    /// Time one request may take before the login is refused as `hook_unavailable`, milliseconds.
    pub timeout_ms: u64,
    /// Time a decision (accept or refuse) is reused for the same charger and credential, seconds.
    pub cache_ttl_secs: u64,
}

impl Default for AuthHookConfig {
    fn default() -> Self {
        AuthHookConfig {
            url: None,
            timeout_ms: DEFAULT_HOOK_TIMEOUT_MS,
            cache_ttl_secs: DEFAULT_HOOK_CACHE_TTL_SECS,
        }
    }
}
