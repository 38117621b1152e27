//! Configuration: one [`Config`] read from TOML, environment and command line, validated before anything binds.
//!
//! Layers, lowest first: built-in defaults (the brief's §3 — the gateway runs with no file at all), the TOML file,
//! `CHARGEGATE_<SECTION>__<KEY>` environment variables, the explicit CLI flags (each with its own `CHARGEGATE_*`
//! variable), and finally `--set key.path=value`. [`check`] turns every problem into a [`ConfigError`] naming the
//! key and, for a file, the line. `docs/configuration.md` documents every key.

mod args;
mod auth_hook;
mod check;
mod gbt;
mod listener;
mod ocpp;
mod overrides;
mod rollout;
mod sections;
mod websocket;

pub use args::ServeArgs;
pub use auth_hook::{AuthHookConfig, DEFAULT_HOOK_CACHE_TTL_SECS, DEFAULT_HOOK_TIMEOUT_MS};
pub use check::{check_file, check_str, ConfigError};
pub use gbt::{Gbt27930, RelayLayoutName};
pub use listener::{
    ListenerConfig, ListenerDefaults, ProxyProtocol, ResolvedListener, SniffMode, TlsConfig,
    DEFAULT_ACCEPT_BURST, DEFAULT_ACCEPT_BURST_PER_IP, DEFAULT_ACCEPT_RATE,
    DEFAULT_ACCEPT_RATE_PER_IP, DEFAULT_BACKLOG, DEFAULT_MAX_CONNECTIONS,
};
pub use ocpp::{Ocpp, DEFAULT_SUBPROTOCOLS};
pub use overrides::{env_overrides, Override, ENV_PREFIX, ENV_SEPARATOR};
pub use rollout::RolloutConfig;
pub use sections::*;
pub use websocket::*;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Default YKC listener.
pub const DEFAULT_YKC_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8768);
/// Default OCPP-like JSON over TCP listener.
pub const DEFAULT_OCPP_TCP_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8769);
/// Default GB/T 27930 CAN relay listener.
pub const DEFAULT_GBT_CAN_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8770);
/// Default HTTP listener (OCPP-J, `/ws`, `/metrics`, REST).
pub const DEFAULT_HTTP_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080);
/// Default instance name, used in events (`gw`) and presence topics.
pub const DEFAULT_INSTANCE: &str = "chargegate";
/// Name of the HTTP listener section; it is served by axum on the boss runtime, not by the workers.
pub const HTTP_LISTENER: &str = "http";

/// `[listeners]`: the four built-in listeners plus any extra ones for plug-in codecs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listeners {
    /// YKC over TCP (`0.0.0.0:8768`, codec `ykc`).
    pub ykc: ListenerConfig,
    /// OCPP-like JSON in a binary envelope over TCP (`0.0.0.0:8769`, codec `ocpp-tcp`).
    pub ocpp_tcp: ListenerConfig,
    /// GB/T 27930 CAN frames from CAN-to-Ethernet relays (`0.0.0.0:8770`, codec `gbt27930-can`).
    pub gbt27930_can: ListenerConfig,
    /// HTTP: OCPP-J, subscribers, metrics, REST (`0.0.0.0:8080`).
    pub http: ListenerConfig,
    /// Further listeners by name, e.g. `[listeners.extra.acme]` for a vendor codec; `bind` and `codec` required.
    pub extra: BTreeMap<String, ListenerConfig>,
}

impl Listeners {
    /// Every enabled listener with its defaults applied, the HTTP one included.
    pub fn resolved(&self) -> Vec<ResolvedListener> {
        let builtin = [
            ("ykc", &self.ykc, DEFAULT_YKC_BIND, "ykc"),
            (
                "ocpp_tcp",
                &self.ocpp_tcp,
                DEFAULT_OCPP_TCP_BIND,
                "ocpp-tcp",
            ),
            (
                "gbt27930_can",
                &self.gbt27930_can,
                DEFAULT_GBT_CAN_BIND,
                "gbt27930-can",
            ),
            (HTTP_LISTENER, &self.http, DEFAULT_HTTP_BIND, "http"),
        ];
        let mut out: Vec<ResolvedListener> = builtin
            .into_iter()
            .filter(|(_, l, _, _)| l.enabled)
            .map(|(name, l, bind, codec)| l.resolve(name, ListenerDefaults { bind, codec }))
            .collect();
        for (name, l) in self.extra.iter().filter(|(_, l)| l.enabled) {
            let defaults = ListenerDefaults {
                bind: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                codec: "",
            };
            out.push(l.resolve(&format!("extra.{name}"), defaults));
        }
        out
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// This gateway's name in events (`gw`) and presence topics; unique per process in a fleet.
    pub instance: String,
    /// Worker event loops; 0 = one per core.
    pub workers: usize,
    /// Charger registry file (ids, stations, secrets); none = open mode, which logs a warning.
    pub registry_file: Option<PathBuf>,
    /// Listeners.
    pub listeners: Listeners,
    /// Per-connection limits.
    pub limits: Limits,
    /// Liveness timing.
    pub liveness: Liveness,
    /// OCPP codecs and the OCPP-J route.
    pub ocpp: Ocpp,
    /// The GB/T 27930 CAN relay codec.
    pub gbt27930: Gbt27930,
    /// Codec version rollouts by codec name (`[rollout.ykc]`); re-read on SIGHUP.
    pub rollout: BTreeMap<String, RolloutConfig>,
    /// External HTTP auth hook.
    pub auth_hook: AuthHookConfig,
    /// MQTT.
    pub mqtt: Mqtt,
    /// Event sinks.
    pub sinks: Sinks,
    /// REST API.
    pub http: Http,
    /// Graceful shutdown.
    pub shutdown: Shutdown,
    /// Logging.
    pub log: Log,
    /// The dashboard push hub at `/ws`.
    pub websocket: WebSocket,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            instance: DEFAULT_INSTANCE.to_owned(),
            workers: 0,
            registry_file: None,
            listeners: Listeners::default(),
            limits: Limits::default(),
            liveness: Liveness::default(),
            ocpp: Ocpp::default(),
            gbt27930: Gbt27930::default(),
            rollout: BTreeMap::new(),
            auth_hook: AuthHookConfig::default(),
            mqtt: Mqtt::default(),
            sinks: Sinks::default(),
            http: Http::default(),
            shutdown: Shutdown::default(),
            log: Log::default(),
            websocket: WebSocket::default(),
        }
    }
}

impl Config {
    /// Worker count with `0` resolved to the number of cores.
    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }

    /// Builds the configuration from an optional file and overrides (lowest precedence first), then validates it.
    pub fn load(file: Option<&Path>, overrides: &[Override]) -> Result<Config, ConfigError> {
        let text = match file {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                        path: path.to_owned(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        Config::from_parts(text.as_deref(), overrides)
    }

    /// As [`Config::load`], from the file's text instead of its path.
    pub fn from_parts(text: Option<&str>, overrides: &[Override]) -> Result<Config, ConfigError> {
        if let Some(text) = text {
            // The file alone first, so its errors carry its own line numbers.
            check_str(text)?;
        }
        let mut table: toml::Table = match text {
            Some(t) => toml::from_str(t).map_err(|e| check::syntax_error(t, &e))?,
            None => toml::Table::new(),
        };
        for o in overrides {
            o.apply(&mut table)?;
        }
        let config: Config =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Override {
                    message: e.message().to_owned(),
                })?;
        check::validate(&config).map_err(|(key, message)| ConfigError::Invalid {
            key,
            line: None,
            message,
        })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
