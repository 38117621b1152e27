//! The auth layer: nothing but a login (YKC 0x01, OCPP BootNotification) is accepted before the charger has proved
//! who it is, and the login must come within a deadline (default 10 s).
//!
//! [`AuthGate`] is the per-connection state machine in the pipeline: it lets the login frame through, holds every
//! other frame back with [`Verdict::Refuse`] (the codec's [`chargegate_codec::plugin::Refusal`] says how: YKC closes,
//! OCPP answers CALLERROR `SecurityError`) and closes at the deadline. [`Authenticator`] is the shared, async
//! decision: the charger registry file, an optional HTTP hook with a cache, or **open mode** for trials, which
//! accepts everyone and says so loudly in the log.

use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::plugin::{Credential, DecodedFrame, LoginInfo};

use super::auth_hook::CachedHook;
use super::charger_registry::ChargerRegistry;
use super::{CloseReason, Layer, Verdict};

/// Time a new connection has to log in.
pub const DEFAULT_LOGIN_DEADLINE: Duration = Duration::from_secs(10);

/// Where the login is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    /// No login frame seen yet.
    AwaitingLogin,
    /// A login frame passed; the [`Authenticator`] is deciding.
    Deciding,
    /// Logged in.
    Authenticated,
}

/// Per-connection login gate: 8 bytes, the deadline and the state packed in one word (every connection holds one
/// for life, and a separate state byte padded the gate to 16).
#[derive(Debug, Clone)]
pub struct AuthGate {
    /// The deadline (ms on the worker clock, below 2⁶²) in the low bits, the [`AuthState`] in the top two.
    packed: u64,
}

/// Where [`AuthGate::packed`] keeps the state.
const STATE_SHIFT: u32 = 62;
/// The largest deadline the gate holds (later ones are this: 146 million years of worker uptime).
const DEADLINE_MASK: u64 = (1 << STATE_SHIFT) - 1;

impl AuthState {
    fn bits(self) -> u64 {
        match self {
            AuthState::AwaitingLogin => 0,
            AuthState::Deciding => 1,
            AuthState::Authenticated => 2,
        }
    }

    fn from_bits(bits: u64) -> Self {
        match bits {
            1 => AuthState::Deciding,
            2 => AuthState::Authenticated,
            _ => AuthState::AwaitingLogin,
        }
    }
}

impl AuthGate {
    /// A gate for a connection opened at `now_ms` that must log in within `deadline`.
    pub fn new(now_ms: u64, deadline: Duration) -> Self {
        let deadline_ms = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
        AuthGate {
            packed: now_ms.saturating_add(deadline_ms).min(DEADLINE_MASK),
        }
    }

    /// Current state.
    pub fn state(&self) -> AuthState {
        AuthState::from_bits(self.packed >> STATE_SHIFT)
    }

    fn set_state(&mut self, state: AuthState) {
        self.packed = (self.packed & DEADLINE_MASK) | (state.bits() << STATE_SHIFT);
    }

    /// When the login deadline falls (for arming the worker's timing wheel).
    pub fn deadline_ms(&self) -> u64 {
        self.packed & DEADLINE_MASK
    }

    /// Records the [`Authenticator`]'s decision.
    pub fn decide(&mut self, decision: &AuthDecision) {
        self.set_state(if decision.is_accepted() {
            AuthState::Authenticated
        } else {
            AuthState::AwaitingLogin
        });
    }

    /// `Some(AuthTimeout)` once the deadline has passed without a successful login.
    pub fn expired(&self, now_ms: u64) -> Option<CloseReason> {
        (self.state() != AuthState::Authenticated && now_ms >= self.deadline_ms())
            .then_some(CloseReason::AuthTimeout)
    }
}

impl Layer for AuthGate {
    const NAME: &'static str = "auth";

    fn on_frame(&mut self, frame: &DecodedFrame, now_ms: u64) -> Verdict {
        if self.state() == AuthState::Authenticated {
            return Verdict::Pass;
        }
        if let Some(reason) = self.expired(now_ms) {
            return Verdict::Close(reason);
        }
        if frame.login.is_some() {
            self.set_state(AuthState::Deciding);
            return Verdict::Pass;
        }
        Verdict::Refuse
    }
}

/// The outcome of checking a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Accepted; the station is known when the registry names it.
    Accepted {
        /// Station from the registry.
        station: Option<String>,
    },
    /// Refused, with a stable metric label (`unknown_charger`, `bad_credential`, `wrong_protocol`, `hook_refused`,
    /// `hook_unavailable`).
    Refused(&'static str),
}

impl AuthDecision {
    /// Whether the login may proceed.
    pub fn is_accepted(&self) -> bool {
        matches!(self, AuthDecision::Accepted { .. })
    }
}

/// How logins are checked.
pub enum AuthMode {
    /// Everyone is accepted. For trials only; logged as a warning at start and on every login.
    Open,
    /// The charger registry decides.
    Registry(Arc<ChargerRegistry>),
    /// The registry must know the charger, then the hook decides.
    RegistryAndHook(Arc<ChargerRegistry>, Arc<CachedHook>),
    /// The hook alone decides.
    Hook(Arc<CachedHook>),
}

/// The shared login checker.
pub struct Authenticator {
    mode: AuthMode,
}

impl Authenticator {
    /// A checker in `mode`; open mode logs a loud warning once here.
    pub fn new(mode: AuthMode) -> Self {
        if matches!(mode, AuthMode::Open) {
            tracing::warn!(
                "AUTH OPEN MODE: every charger is accepted without credentials — for trials only, never in production"
            );
        }
        Authenticator { mode }
    }

    /// Checks a login for a charger speaking codec `protocol` (its registry name).
    pub async fn verify(&self, login: &LoginInfo, protocol: &str) -> AuthDecision {
        match &self.mode {
            AuthMode::Open => {
                tracing::warn!(charger = %login.charger_id, "accepted in AUTH OPEN MODE");
                AuthDecision::Accepted { station: None }
            }
            AuthMode::Registry(registry) => check_registry(registry, login, protocol),
            AuthMode::RegistryAndHook(registry, hook) => {
                match check_registry(registry, login, protocol) {
                    AuthDecision::Accepted { station } => match check_hook(hook, login).await {
                        AuthDecision::Accepted { .. } => AuthDecision::Accepted { station },
                        refused => refused,
                    },
                    refused => refused,
                }
            }
            AuthMode::Hook(hook) => check_hook(hook, login).await,
        }
    }
}

fn check_registry(registry: &ChargerRegistry, login: &LoginInfo, protocol: &str) -> AuthDecision {
    let Some(record) = registry.get(&login.charger_id) else {
        return AuthDecision::Refused("unknown_charger");
    };
    if !record.protocol.is_empty() && record.protocol != protocol {
        return AuthDecision::Refused("wrong_protocol");
    }
    let presented: Option<&[u8]> = match &login.credential {
        Credential::None => None,
        Credential::Secret(bytes) => Some(bytes),
        Credential::Password(password) => Some(password.as_bytes()),
    };
    let credential_ok = match (&record.secret, presented) {
        (None, _) => true,
        (Some(hash), Some(presented)) => hash.verify(presented),
        (Some(_), None) => false,
    };
    if credential_ok {
        AuthDecision::Accepted {
            station: Some(record.station.clone()),
        }
    } else {
        AuthDecision::Refused("bad_credential")
    }
}

async fn check_hook(hook: &CachedHook, login: &LoginInfo) -> AuthDecision {
    match hook.check(login).await {
        Ok(true) => AuthDecision::Accepted { station: None },
        Ok(false) => AuthDecision::Refused("hook_refused"),
        Err(error) => {
            tracing::warn!(charger = %login.charger_id, %error, "auth hook unavailable; login refused");
            AuthDecision::Refused("hook_unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::charger_registry::hash_secret;
    use super::*;

    fn frame(login: Option<LoginInfo>) -> DecodedFrame {
        let mut f = DecodedFrame::new("0x03", Bytes::from_static(b"x"), Vec::new());
        f.login = login;
        f
    }

    fn login(id: &str, credential: Credential) -> LoginInfo {
        LoginInfo {
            charger_id: id.into(),
            credential,
        }
    }

    fn registry() -> Arc<ChargerRegistry> {
        let text = format!(
            "Y1,s7,ykc,\nCP-1,s9,ocpp,{}\n",
            hash_secret(b"pw", b"salt-salt-salt-1")
        );
        Arc::new(ChargerRegistry::from_text(&text).unwrap())
    }

    #[test]
    fn frames_before_login_are_refused_per_protocol() {
        let mut gate = AuthGate::new(0, DEFAULT_LOGIN_DEADLINE);
        assert_eq!(gate.on_frame(&frame(None), 1_000), Verdict::Refuse);
    }

    #[test]
    fn the_login_frame_passes_and_after_acceptance_everything_passes() {
        let mut gate = AuthGate::new(0, DEFAULT_LOGIN_DEADLINE);
        let l = login("Y1", Credential::None);
        assert_eq!(gate.on_frame(&frame(Some(l)), 1_000), Verdict::Pass);
        assert_eq!(gate.state(), AuthState::Deciding);
        gate.decide(&AuthDecision::Accepted { station: None });
        assert_eq!(gate.on_frame(&frame(None), 60_000), Verdict::Pass);
    }

    #[test]
    fn no_login_within_the_deadline_closes_with_auth_timeout() {
        let mut gate = AuthGate::new(5_000, DEFAULT_LOGIN_DEADLINE);
        assert_eq!(gate.expired(14_999), None);
        assert_eq!(gate.expired(15_000), Some(CloseReason::AuthTimeout));
        assert_eq!(
            gate.on_frame(&frame(None), 15_000),
            Verdict::Close(CloseReason::AuthTimeout)
        );
    }

    #[tokio::test]
    async fn the_registry_accepts_known_chargers_with_the_right_secret() {
        let auth = Authenticator::new(AuthMode::Registry(registry()));
        let ok = auth
            .verify(&login("CP-1", Credential::Password("pw".into())), "ocpp")
            .await;
        assert_eq!(
            ok,
            AuthDecision::Accepted {
                station: Some("s9".into())
            }
        );
        let identity_only = auth.verify(&login("Y1", Credential::None), "ykc").await;
        assert!(identity_only.is_accepted());
    }

    #[tokio::test]
    async fn the_registry_refuses_unknown_chargers_bad_passwords_and_wrong_protocols() {
        let auth = Authenticator::new(AuthMode::Registry(registry()));
        let cases = [
            (login("nope", Credential::None), "ykc", "unknown_charger"),
            (
                login("CP-1", Credential::Password("x".into())),
                "ocpp",
                "bad_credential",
            ),
            (login("CP-1", Credential::None), "ocpp", "bad_credential"),
            (login("Y1", Credential::None), "ocpp", "wrong_protocol"),
        ];
        for (l, protocol, label) in cases {
            assert_eq!(
                auth.verify(&l, protocol).await,
                AuthDecision::Refused(label)
            );
        }
    }

    #[tokio::test]
    async fn open_mode_accepts_anyone() {
        let auth = Authenticator::new(AuthMode::Open);
        assert!(auth
            .verify(&login("whoever", Credential::None), "ykc")
            .await
            .is_accepted());
    }
}
