//! Overrides on top of the file: `--set key.path=value`, the explicit CLI flags, and `CHARGEGATE_<A>__<B>`
//! environment variables, all applied as edits to the TOML tree before it is typed.
//!
//! Rule: the environment variable for key `a.b_c.d` is `CHARGEGATE_A__B_C__D` — upper case, sections joined by a
//! double underscore. A value is read as a TOML value when it parses as one (`42`, `true`, `["10.0.0.0/8"]`,
//! `"quoted"`), otherwise as a plain string (`0.0.0.0:8768`).

use super::ConfigError;

/// Prefix of every Chargegate environment variable.
pub const ENV_PREFIX: &str = "CHARGEGATE_";
/// Separator between key path segments in an environment variable name.
pub const ENV_SEPARATOR: &str = "__";

/// One override: a dotted key path and the value to put there.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Where the override came from, for error messages (`--set a.b=1`, `CHARGEGATE_A__B`).
    pub origin: String,
    /// Key path segments.
    pub path: Vec<String>,
    /// The value.
    pub value: toml::Value,
}

impl Override {
    /// Parses `key.path=value` as given to `--set`.
    pub fn parse_set(spec: &str) -> Result<Override, ConfigError> {
        let (key, raw) = spec
            .split_once('=')
            .ok_or_else(|| ConfigError::BadOverride {
                spec: spec.to_owned(),
                message: "expected key.path=value".to_owned(),
            })?;
        Override::new(format!("--set {spec}"), key.trim(), raw.trim())
    }

    /// An override of `key` (dotted) with a raw value read as described in the module docs.
    pub fn new(origin: String, key: &str, raw: &str) -> Result<Override, ConfigError> {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(ConfigError::BadOverride {
                spec: origin,
                message: format!("`{key}` is not a dotted key path"),
            });
        }
        Ok(Override {
            origin,
            path,
            value: parse_value(raw),
        })
    }

    /// An override with an already typed value (used by the explicit CLI flags).
    pub fn typed(origin: &str, key: &str, value: impl Into<toml::Value>) -> Override {
        Override {
            origin: origin.to_owned(),
            path: key.split('.').map(str::to_owned).collect(),
            value: value.into(),
        }
    }

    /// Writes the value into `table`, creating intermediate tables.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::BadOverride {
            spec: self.origin.clone(),
            message,
        };
        let Some((last, parents)) = self.path.split_last() else {
            return Err(bad("empty key".to_owned()));
        };
        let mut current = table;
        for part in parents {
            let entry = current
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            current = match entry {
                toml::Value::Table(t) => t,
                _ => return Err(bad(format!("`{part}` is not a section"))),
            };
        }
        current.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

/// Overrides from `CHARGEGATE_<SECTION>__<KEY>` variables among `vars`, sorted by name so the result is stable.
/// Variables without the double underscore are the explicit flags' own and are skipped here.
pub fn env_overrides(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Override>, ConfigError> {
    let mut out = Vec::new();
    let mut vars: Vec<_> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains(ENV_SEPARATOR))
        .collect();
    vars.sort();
    for (name, value) in vars {
        let rest = name.get(ENV_PREFIX.len()..).unwrap_or_default();
        let key = rest
            .split(ENV_SEPARATOR)
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        out.push(Override::new(name.clone(), &key, &value)?);
    }
    Ok(out)
}
