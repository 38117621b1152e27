//! Subscriber tokens: HMAC-SHA256-signed claims, `base64url(json claims) "." base64url(mac)` (no padding).
//!
//! The MAC covers the first part's ASCII exactly as sent, so nothing is re-serialized before checking, and it is
//! compared in constant time (`hmac`'s `verify_slice`). A token is never logged: errors name only their kind.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted, characters: bounds the work an unauthenticated client can cause.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Shortest secret accepted, bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Who holds it (a dashboard, a user); logged on connect.
    pub sub: String,
    /// Stations whose chargers it may watch.
    #[serde(default)]
    pub stations: Vec<String>,
    /// Further chargers it may watch (and command, with `may_command`).
    #[serde(default)]
    pub chargers: Vec<String>,
    /// Whether it may send commands to the chargers it covers.
    #[serde(default)]
    pub may_command: bool,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

impl Claims {
    /// Whether the token names `station`.
    pub fn covers_station(&self, station: &str) -> bool {
        self.stations.iter().any(|s| s == station)
    }

    /// Whether the token covers `charger`, directly or through its `station`.
    pub fn covers_charger(&self, charger: &str, station: Option<&str>) -> bool {
        self.chargers.iter().any(|c| c == charger)
            || station.is_some_and(|s| self.covers_station(s))
    }

    /// Whether the token has expired at `now` (Unix seconds).
    pub fn expired_at(&self, now: u64) -> bool {
        now >= self.exp
    }
}

/// Why a token or a secret was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("token too long")]
    TooLong,
    /// Not two base64url parts separated by one dot.
    #[error("token malformed")]
    Malformed,
    /// The MAC does not match the claims.
    #[error("token signature invalid")]
    BadSignature,
    /// Signed, but the claims are not the expected JSON.
    #[error("token claims invalid")]
    BadClaims,
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("token secret shorter than {MIN_SECRET_LEN} bytes")]
    WeakSecret,
    /// The secret file could not be read.
    #[error("token secret file {path}: {message}")]
    SecretFile {
        /// The file.
        path: String,
        /// The I/O error.
        message: String,
    },
}

impl TokenError {
    /// Stable short name, a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenError::TooLong => "too_long",
            TokenError::Malformed => "malformed",
            TokenError::BadSignature => "bad_signature",
            TokenError::BadClaims => "bad_claims",
            TokenError::Expired => "expired",
            TokenError::WeakSecret => "weak_secret",
            TokenError::SecretFile { .. } => "secret_file",
        }
    }

    /// Error code in the house scheme (party, scene 07 = subscriber auth, case).
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::TooLong => "D0701",
            TokenError::Malformed => "D0702",
            TokenError::BadSignature => "D0703",
            TokenError::BadClaims => "D0704",
            TokenError::Expired => "D0705",
            TokenError::WeakSecret | TokenError::SecretFile { .. } => "B0706",
        }
    }
}

/// The HMAC key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct TokenSecret(Vec<u8>);

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

impl TokenSecret {
    /// A secret from raw bytes; at least [`MIN_SECRET_LEN`] of them.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, TokenError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(TokenError::WeakSecret);
        }
        Ok(TokenSecret(bytes))
    }

    /// Reads the secret file; one trailing newline (and surrounding whitespace) is not part of the secret.
    pub fn load(path: &Path) -> Result<Self, TokenError> {
        let bytes = std::fs::read(path).map_err(|e| TokenError::SecretFile {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::new(bytes.trim_ascii().to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// Signs `claims` into a token.
    pub fn sign(&self, claims: &Claims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// Checks the MAC and decodes the claims, without looking at the expiry.
    pub fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        if tag.contains('.') {
            return Err(TokenError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::BadClaims)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::BadClaims)
    }

    /// Checks the MAC, decodes the claims and refuses them if expired at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let claims = self.verify_signature(token)?;
        if claims.expired_at(now) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Now, Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TokenSecret {
        TokenSecret::new(b"0123456789abcdef0123".to_vec()).unwrap()
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "dash".into(),
            stations: vec!["s1".into()],
            chargers: vec!["c9".into()],
            may_command: true,
            exp,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let t = secret().sign(&claims(1000));
        assert_eq!(secret().verify(&t, 999).unwrap(), claims(1000));
        assert_eq!(secret().verify(&t, 1000), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_or_a_changed_claim_is_a_bad_signature() {
        let t = secret().sign(&claims(1000));
        let other = TokenSecret::new(b"another secret of enough length".to_vec()).unwrap();
        assert_eq!(other.verify(&t, 1), Err(TokenError::BadSignature));
        let (_, tag) = t.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(u64::MAX)).unwrap());
        assert_eq!(
            secret().verify(&format!("{forged}.{tag}"), 1),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for t in ["", ".", "a", "a.b.c", "abc.!!!", "x.", ".x"] {
            let e = secret().verify(t, 0).unwrap_err();
            assert!(
                matches!(e, TokenError::Malformed | TokenError::BadSignature),
                "{t}: {e:?}"
            );
        }
        assert_eq!(
            secret().verify(&"a".repeat(MAX_TOKEN_LEN + 1), 0),
            Err(TokenError::TooLong)
        );
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert_eq!(
            TokenSecret::new(b"short".to_vec()).unwrap_err(),
            TokenError::WeakSecret
        );
        assert_eq!(format!("{:?}", secret()), "TokenSecret(..)");
    }

    #[test]
    fn coverage_is_by_station_or_by_charger() {
        let c = claims(1);
        assert!(c.covers_station("s1") && !c.covers_station("s2"));
        assert!(c.covers_charger("c9", None));
        assert!(c.covers_charger("c1", Some("s1")));
        assert!(!c.covers_charger("c1", Some("s2")));
        assert!(!c.covers_charger("c1", None));
    }
}
