//! OCPP security profiles 1 and 2: the charger's HTTP Basic credentials on the WebSocket upgrade.
//!
//! The user name is the charge-point identity of the URL; the password is the `AuthorizationKey`, 16–20 bytes that
//! may be **any** bytes (not UTF-8, `:` included). So the header is split on the known identity prefix `<id>:`,
//! never on the first colon, and the password stays bytes (OCPP-J 1.6 §6.2.2; `ocpp-rpc` does the same).

use base64::Engine;

/// The `Basic ` scheme prefix (the scheme name is case-insensitive).
const SCHEME: &str = "basic";
/// `AuthorizationKey` bounds in bytes (security whitepaper A00.FR.203–205).
pub const AUTHORIZATION_KEY_LEN: std::ops::RangeInclusive<usize> = 16..=20;

/// Why a Basic-auth header does not carry credentials for an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BasicAuthError {
    /// Not the `Basic` scheme.
    #[error("authorization scheme is not Basic")]
    NotBasic,
    /// The credentials are not valid base64.
    #[error("credentials are not base64")]
    NotBase64,
    /// The user name is not the identity of the URL.
    #[error("user name does not match the charge point identity")]
    WrongUser,
    /// An `AuthorizationKey` in hex of the wrong form or size.
    #[error("authorization key must be 32 to 40 hex digits (16 to 20 bytes)")]
    BadKey,
}

/// The password bytes of an `Authorization` header value for `identity`.
pub fn password_for(header_value: &str, identity: &str) -> Result<Vec<u8>, BasicAuthError> {
    let (scheme, credentials) = header_value
        .trim()
        .split_once(' ')
        .ok_or(BasicAuthError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(BasicAuthError::NotBasic);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .map_err(|_| BasicAuthError::NotBase64)?;
    let prefix_len = identity.len() + 1;
    match (decoded.get(..identity.len()), decoded.get(identity.len())) {
        (Some(user), Some(b':')) if user == identity.as_bytes() => {
            Ok(decoded.get(prefix_len..).unwrap_or_default().to_vec())
        }
        _ => Err(BasicAuthError::WrongUser),
    }
}

/// An `AuthorizationKey` as set over OCPP (hex text) → the bytes the charger uses as its password.
pub fn authorization_key_from_hex(hex_text: &str) -> Result<Vec<u8>, BasicAuthError> {
    let digits = hex_text.as_bytes();
    if digits.len() % 2 != 0 || !AUTHORIZATION_KEY_LEN.contains(&(digits.len() / 2)) {
        return Err(BasicAuthError::BadKey);
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or(BasicAuthError::BadKey)
        })
        .collect()
}

/// The header value a charger sends for `identity` and `password` (for tests and simulators).
pub fn header_value(identity: &str, password: &[u8]) -> String {
    let mut raw = Vec::with_capacity(identity.len() + 1 + password.len());
    raw.extend_from_slice(identity.as_bytes());
    raw.push(b':');
    raw.extend_from_slice(password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OCPP-J 1.6 §6.2.2 worked example: identity `AL1000`, AuthorizationKey
    /// `0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF` → `Authorization: Basic QUwxMDAwOgABAgMEBQYH////////////////`.
    const SPEC_HEADER: &str = "Basic QUwxMDAwOgABAgMEBQYH////////////////";
    const SPEC_KEY_HEX: &str = "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF";

    #[test]
    fn the_spec_example_header_yields_the_20_raw_key_bytes() {
        let key = authorization_key_from_hex(SPEC_KEY_HEX).unwrap();
        assert_eq!(key.len(), 20);
        assert_eq!(password_for(SPEC_HEADER, "AL1000").unwrap(), key);
        assert_eq!(header_value("AL1000", &key), SPEC_HEADER);
    }

    #[test]
    fn the_user_must_be_the_url_identity() {
        assert_eq!(
            password_for(SPEC_HEADER, "AL1001"),
            Err(BasicAuthError::WrongUser)
        );
        assert_eq!(
            password_for(SPEC_HEADER, "AL100"),
            Err(BasicAuthError::WrongUser)
        );
    }

    #[test]
    fn a_colon_inside_the_password_is_kept() {
        let header = header_value("CP:1", b"pa:ss");
        assert_eq!(password_for(&header, "CP:1").unwrap(), b"pa:ss");
    }

    #[test]
    fn other_schemes_and_bad_base64_are_refused() {
        assert_eq!(
            password_for("Bearer abc", "AL1000"),
            Err(BasicAuthError::NotBasic)
        );
        assert_eq!(
            password_for("Basic ***", "AL1000"),
            Err(BasicAuthError::NotBase64)
        );
        assert_eq!(
            authorization_key_from_hex("00"),
            Err(BasicAuthError::BadKey)
        );
    }
}
