//! `chargegate check-config`: parse a TOML file into [`Config`] and run the semantic checks, naming the bad key and
//! its line.
//!
//! Syntax and type errors come from `toml` with a byte span; we walk the file's spanned tree to turn that span into
//! a dotted key path and a line number. Semantic errors (water marks, port collisions, …) are found on the typed
//! [`Config`] by key path, and the same tree gives their line.

use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{Config, ResolvedListener};

/// Why a configuration was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key or a value of the wrong type.
    #[error("line {line}, column {column}: key `{key}`: {message}")]
    Syntax {
        /// Dotted key path (`listeners.ykc.backlog`), or `<document>` when the error is outside any key.
        key: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, from the TOML parser.
        message: String,
    },
    /// A well-typed value that makes no sense (low water mark above high, two listeners on one port, …).
    #[error("{}key `{key}`: {message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Invalid {
        /// Dotted key path.
        key: String,
        /// 1-based line in the file when the key came from it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A `--set` or `CHARGEGATE_…__…` override that cannot be applied.
    #[error("override `{spec}`: {message}")]
    BadOverride {
        /// The override as given.
        spec: String,
        /// What is wrong.
        message: String,
    },
    /// The overrides produced a configuration of the wrong shape.
    #[error("after overrides: {message}")]
    Override {
        /// The deserializer's message.
        message: String,
    },
}

impl ConfigError {
    /// Stable short name of the error kind, for logs and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Io { .. } => "io",
            ConfigError::Syntax { .. } => "syntax",
            ConfigError::Invalid { .. } => "invalid",
            ConfigError::BadOverride { .. } => "bad_override",
            ConfigError::Override { .. } => "override",
        }
    }

    /// The dotted key the error is about, when known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Syntax { key, .. } | ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The 1-based line in the file, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax { line, .. } => Some(*line),
            ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }
}

/// Reads and checks a configuration file.
pub fn check_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    check_str(&text)
}

/// Checks a configuration document: syntax, unknown keys, types, then the semantic rules.
pub fn check_str(text: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    validate(&config).map_err(|(key, message)| ConfigError::Invalid {
        line: line_of_key(text, &key),
        key,
        message,
    })?;
    Ok(config)
}

/// Turns a `toml` error into [`ConfigError::Syntax`] with key path, line and column.
pub(super) fn syntax_error(text: &str, err: &toml::de::Error) -> ConfigError {
    let span = err.span().unwrap_or(0..0);
    let (line, column) = line_col(text, span.start);
    let key = key_at(text, &span).unwrap_or_else(|| "<document>".to_owned());
    ConfigError::Syntax {
        key,
        line,
        column,
        message: err.message().trim().to_owned(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted path of the innermost key whose name or value covers `span`.
fn key_at(text: &str, span: &Range<usize>) -> Option<String> {
    let doc = DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    walk_to_span(doc.get_ref(), span, &mut path);
    (!path.is_empty()).then(|| path.join("."))
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(inner.start)
}

fn walk_to_span(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<String>) {
    for (k, v) in table.iter() {
        if covers(&k.span(), span) {
            path.push(k.get_ref().to_string());
            return;
        }
        if covers(&v.span(), span) {
            path.push(k.get_ref().to_string());
            walk_value(v, span, path);
            return;
        }
    }
    // A table header's span may not include its keys: look one level deeper by key spans alone.
    for (k, v) in table.iter() {
        if let DeValue::Table(inner) = v.get_ref() {
            let before = path.len();
            path.push(k.get_ref().to_string());
            walk_to_span(inner, span, path);
            if path.len() > before + 1 {
                return;
            }
            path.truncate(before);
        }
    }
}

fn walk_value(v: &Spanned<DeValue<'_>>, span: &Range<usize>, path: &mut Vec<String>) {
    match v.get_ref() {
        DeValue::Table(t) => walk_to_span(t, span, path),
        DeValue::Array(a) => {
            if let Some((i, item)) = a.iter().enumerate().find(|(_, i)| covers(&i.span(), span)) {
                path.push(i.to_string());
                walk_value(item, span, path);
            }
        }
        _ => {}
    }
}

/// 1-based line of a dotted key in the document; when the document stops short of it, the line of the deepest
/// part it does set (the section), if any.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut found = None;
    for part in key.split('.') {
        let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref() == part) else {
            break;
        };
        found = Some(line_col(text, k.span().start).0);
        match v.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found
}

/// Semantic rules on a typed configuration; the error names the key to blame.
pub(super) fn validate(c: &Config) -> Result<(), (String, String)> {
    let bad = |key: &str, msg: String| Err((key.to_owned(), msg));
    if c.limits.low_water_mark > c.limits.high_water_mark {
        return bad(
            "limits.low_water_mark",
            format!(
                "low water mark {} is above the high water mark {}",
                c.limits.low_water_mark, c.limits.high_water_mark
            ),
        );
    }
    for (key, value) in [
        (
            "limits.read_buffer_bytes",
            c.limits.read_buffer_bytes as u64,
        ),
        ("limits.max_frame_bytes", c.limits.max_frame_bytes as u64),
        ("limits.auth_deadline_secs", c.limits.auth_deadline_secs),
        ("liveness.tick_ms", c.liveness.tick_ms),
        ("liveness.wheel_slots", c.liveness.wheel_slots as u64),
        ("liveness.ykc_heartbeat_secs", c.liveness.ykc_heartbeat_secs),
        (
            "liveness.ykc_missed_heartbeats",
            u64::from(c.liveness.ykc_missed_heartbeats),
        ),
        (
            "liveness.ocpp_heartbeat_interval_secs",
            c.liveness.ocpp_heartbeat_interval_secs,
        ),
        ("sinks.queue", c.sinks.queue as u64),
        ("http.page_size", c.http.page_size as u64),
        ("http.command_timeout_secs", c.http.command_timeout_secs),
    ] {
        if value == 0 {
            return bad(key, "must be greater than 0".to_owned());
        }
    }
    for (codec, plan) in &c.rollout {
        if u64::from(plan.per_mille) > chargegate_codec::plugin::ROLLOUT_BUCKETS {
            return bad(
                &format!("rollout.{codec}.per_mille"),
                "must be between 0 and 1000".to_owned(),
            );
        }
    }
    if let Some(url) = &c.auth_hook.url {
        if !url.starts_with("http://") {
            return bad(
                "auth_hook.url",
                "must be an http:// URL (put a TLS-terminating proxy on loopback for https)"
                    .to_owned(),
            );
        }
    }
    if c.http.page_size > c.http.max_page_size {
        return bad(
            "http.page_size",
            format!("is above http.max_page_size ({})", c.http.max_page_size),
        );
    }
    if c.http.admin_token.as_deref() == Some("") {
        return bad(
            "http.admin_token",
            "is empty; leave it out to mean no token".to_owned(),
        );
    }
    if let Some(url) = &c.mqtt.url {
        if let Err(e) = crate::mqtt::settings::BrokerUrl::parse(url) {
            return bad("mqtt.url", e.to_string());
        }
    }
    if c.mqtt.spool.critical_reserve_bytes >= c.mqtt.spool.max_bytes {
        return bad(
            "mqtt.spool.critical_reserve_bytes",
            "must be below mqtt.spool.max_bytes (telemetry needs room too)".to_owned(),
        );
    }
    for (name, l) in &c.listeners.extra {
        if l.enabled && (l.bind.is_none() || l.codec.is_none()) {
            return bad(
                &format!("listeners.extra.{name}"),
                "an extra listener needs `bind` and `codec`".to_owned(),
            );
        }
    }
    if c.listeners.http.tls.enabled() {
        return bad(
            "listeners.http.tls",
            "TLS on the HTTP listener is not supported yet; terminate it in front of the gateway"
                .to_owned(),
        );
    }
    if let Some((key, message)) = c.websocket.problem() {
        return bad(key, message);
    }
    let listeners = c.listeners.resolved();
    for l in &listeners {
        validate_listener(l)?;
    }
    port_collisions(&listeners)
}

fn listener_key(l: &ResolvedListener, field: &str) -> String {
    format!("listeners.{}.{field}", l.name)
}

fn validate_listener(l: &ResolvedListener) -> Result<(), (String, String)> {
    let s = &l.settings;
    if s.backlog == 0 {
        return Err((
            listener_key(l, "backlog"),
            "must be greater than 0".to_owned(),
        ));
    }
    if s.max_connections == 0 {
        return Err((
            listener_key(l, "max_connections"),
            "must be greater than 0".to_owned(),
        ));
    }
    if s.accept_rate > 0 && s.accept_burst == 0 {
        return Err((
            listener_key(l, "accept_burst"),
            "must be at least 1 when accept_rate is set".to_owned(),
        ));
    }
    if s.accept_rate_per_ip > 0 && s.accept_burst_per_ip == 0 {
        return Err((
            listener_key(l, "accept_burst_per_ip"),
            "must be at least 1 when accept_rate_per_ip is set".to_owned(),
        ));
    }
    if s.keepalive
        && (s.keepalive_secs == 0 || s.keepalive_interval_secs == 0 || s.keepalive_retries == 0)
    {
        return Err((
            listener_key(l, "keepalive_secs"),
            "keepalive timings must be greater than 0".to_owned(),
        ));
    }
    if s.tls.cert.is_some() != s.tls.key.is_some() {
        return Err((
            listener_key(l, "tls"),
            "`cert` and `key` go together".to_owned(),
        ));
    }
    if s.tls.client_ca.is_some() && !s.tls.enabled() {
        return Err((
            listener_key(l, "tls.client_ca"),
            "needs `cert` and `key`".to_owned(),
        ));
    }
    Ok(())
}

/// Two enabled listeners may not bind the same port on overlapping addresses (port 0 = "any free port" is exempt).
fn port_collisions(listeners: &[ResolvedListener]) -> Result<(), (String, String)> {
    for (i, a) in listeners.iter().enumerate() {
        for b in listeners.iter().skip(i + 1) {
            let same_port = a.bind.port() == b.bind.port() && a.bind.port() != 0;
            let overlap = a.bind.ip() == b.bind.ip()
                || a.bind.ip().is_unspecified()
                || b.bind.ip().is_unspecified();
            if same_port && overlap && a.bind.is_ipv4() == b.bind.is_ipv4() {
                return Err((
                    listener_key(b, "bind"),
                    format!(
                        "{} collides with listener `{}` on {}",
                        b.bind, a.name, a.bind
                    ),
                ));
            }
        }
    }
    Ok(())
}
