//! The charger registry file: which chargers may connect, their station, protocol and hashed secret.
//!
//! Format (CSV, one charger per line, `#` starts a comment, the header line is optional):
//!
//! ```text
//! id,station,protocol,secret
//! 32010600019236,station-7,ykc,
//! CP-0042,station-9,ocpp,sha256$5f1e…$9a0c…
//! ```
//!
//! `secret` is empty (identity only: the allow-list decides) or `sha256$<salt hex>$<digest hex>` with
//! `digest = SHA-256(salt ‖ secret)`, as [`hash_secret`] writes it; plain secrets are never stored. The file is
//! read whole and swapped in atomically by [`ChargerRegistry::reload`] (the SIGHUP handler), so a bad file leaves
//! the previous one in force.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

/// Prefix of the only hash scheme written today.
const SCHEME_SHA256: &str = "sha256";

/// One registered charger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargerRecord {
    /// Charger id.
    pub id: String,
    /// Station it belongs to.
    pub station: String,
    /// Codec name it must speak (`ykc`, `ocpp`, …); empty = any.
    pub protocol: String,
    /// Salted hash of its secret or password; `None` = identity only.
    pub secret: Option<SecretHash>,
}

/// A salted SHA-256 of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash {
    salt: Vec<u8>,
    digest: [u8; 32],
}

impl SecretHash {
    /// Whether `secret` hashes to this value (constant-time comparison).
    pub fn verify(&self, secret: &[u8]) -> bool {
        let digest = digest(&self.salt, secret);
        digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    fn parse(text: &str) -> Option<SecretHash> {
        let mut parts = text.split('$');
        if parts.next()? != SCHEME_SHA256 {
            return None;
        }
        let salt = hex::decode(parts.next()?).ok()?;
        let digest = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(SecretHash { salt, digest })
    }
}

fn digest(salt: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(secret);
    hasher.finalize().into()
}

/// The registry line value for `secret` with `salt` (use at least 16 random bytes of salt per charger).
pub fn hash_secret(secret: &[u8], salt: &[u8]) -> String {
    format!(
        "{SCHEME_SHA256}${}${}",
        hex::encode(salt),
        hex::encode(digest(salt, secret))
    )
}

/// Why a registry file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("cannot read charger registry {path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("charger registry line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

type Records = HashMap<String, Arc<ChargerRecord>>;

/// The chargers allowed to connect, reloadable without a restart.
#[derive(Debug, Default)]
pub struct ChargerRegistry {
    path: Option<PathBuf>,
    records: RwLock<Arc<Records>>,
}

impl ChargerRegistry {
    /// Loads the registry file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let registry = ChargerRegistry {
            path: Some(path.as_ref().to_owned()),
            records: RwLock::default(),
        };
        registry.reload()?;
        Ok(registry)
    }

    /// A registry parsed from text (tests, embedded configs); [`ChargerRegistry::reload`] is a no-op for it.
    pub fn from_text(text: &str) -> Result<Self, RegistryError> {
        Ok(ChargerRegistry {
            path: None,
            records: RwLock::new(Arc::new(parse(text)?)),
        })
    }

    /// Re-reads the file and swaps it in; on error the previous contents stay in force. Returns the charger count.
    pub fn reload(&self) -> Result<usize, RegistryError> {
        let Some(path) = &self.path else {
            return Ok(self.len());
        };
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
            path: path.clone(),
            source,
        })?;
        let records = parse(&text)?;
        let count = records.len();
        *self.records.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(records);
        Ok(count)
    }

    /// Registered chargers.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// No chargers registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record for `id`, if registered.
    pub fn get(&self, id: &str) -> Option<Arc<ChargerRecord>> {
        self.snapshot().get(id).cloned()
    }

    fn snapshot(&self) -> Arc<Records> {
        self.records
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn parse(text: &str) -> Result<Records, RegistryError> {
    let mut records = Records::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with("id,") {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [id, station, protocol, secret] = fields[..] else {
            return Err(RegistryError::Line {
                line: line_no,
                reason: "expected 4 columns: id,station,protocol,secret",
            });
        };
        if id.is_empty() {
            return Err(RegistryError::Line {
                line: line_no,
                reason: "empty charger id",
            });
        }
        let secret = if secret.is_empty() {
            None
        } else {
            Some(SecretHash::parse(secret).ok_or(RegistryError::Line {
                line: line_no,
                reason: "secret must be sha256$<salt hex>$<64 hex digits>",
            })?)
        };
        let record = ChargerRecord {
            id: id.to_owned(),
            station: station.to_owned(),
            protocol: protocol.to_owned(),
            secret,
        };
        if records.insert(id.to_owned(), Arc::new(record)).is_some() {
            return Err(RegistryError::Line {
                line: line_no,
                reason: "duplicate charger id",
            });
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        format!(
            "# chargers\nid,station,protocol,secret\n32010600019236,s7,ykc,\nCP-1,s9,ocpp,{}\n",
            hash_secret(b"hunter2", b"0123456789abcdef")
        )
    }

    #[test]
    fn registered_chargers_are_found_with_their_station_and_protocol() {
        let r = ChargerRegistry::from_text(&sample()).unwrap();
        assert_eq!(r.len(), 2);
        let ykc = r.get("32010600019236").unwrap();
        assert_eq!((ykc.station.as_str(), ykc.protocol.as_str()), ("s7", "ykc"));
        assert!(ykc.secret.is_none());
        assert!(r.get("unknown").is_none());
    }

    #[test]
    fn secrets_are_stored_hashed_and_verified() {
        let r = ChargerRegistry::from_text(&sample()).unwrap();
        let hash = r.get("CP-1").unwrap().secret.clone().unwrap();
        assert!(hash.verify(b"hunter2"));
        assert!(!hash.verify(b"hunter3"));
        assert!(!sample().contains("hunter2"));
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let err = ChargerRegistry::from_text("id,station,protocol,secret\nA,s,ykc\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = ChargerRegistry::from_text("A,s,ykc,plain-text-secret\n").unwrap_err();
        assert!(err.to_string().contains("sha256$"), "{err}");
    }

    #[test]
    fn reload_picks_up_changes_and_keeps_the_old_file_on_error() {
        let dir = std::env::temp_dir().join(format!("chargegate-reg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chargers.csv");
        std::fs::write(&path, "A,s,ykc,\n").unwrap();
        let r = ChargerRegistry::load(&path).unwrap();
        assert!(r.get("B").is_none());
        std::fs::write(&path, "A,s,ykc,\nB,s,ykc,\n").unwrap();
        assert_eq!(r.reload().unwrap(), 2);
        assert!(r.get("B").is_some());
        std::fs::write(&path, "broken line\n").unwrap();
        assert!(r.reload().is_err());
        assert_eq!(r.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
