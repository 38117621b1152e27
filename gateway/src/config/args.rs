//! The `serve` command's flags: the common keys as explicit flags (each with its `CHARGEGATE_*` variable), plus
//! `--set` for every other key.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{env_overrides, Config, ConfigError, LogFormat, Override};

/// The listeners `--reuse-port` applies to.
const REUSE_PORT_LISTENERS: [&str; 4] = ["ykc", "ocpp_tcp", "gbt27930_can", "http"];

/// Flags of `chargegate serve`; precedence: defaults < file < `CHARGEGATE_A__B` < these flags < `--set`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); without one the built-in defaults apply.
    #[arg(short, long, env = "CHARGEGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Worker event loops (0 = one per core). Key `workers`.
    #[arg(long, env = "CHARGEGATE_WORKERS")]
    pub workers: Option<usize>,
    /// Instance name in events and presence. Key `instance`.
    #[arg(long, env = "CHARGEGATE_INSTANCE")]
    pub instance: Option<String>,
    /// YKC listener address. Key `listeners.ykc.bind`.
    #[arg(long, env = "CHARGEGATE_YKC")]
    pub ykc: Option<SocketAddr>,
    /// OCPP-over-TCP listener address. Key `listeners.ocpp_tcp.bind`.
    #[arg(long, env = "CHARGEGATE_OCPP_TCP")]
    pub ocpp_tcp: Option<SocketAddr>,
    /// GB/T 27930 CAN relay listener address. Key `listeners.gbt27930_can.bind`.
    #[arg(long, env = "CHARGEGATE_GBT_CAN")]
    pub gbt_can: Option<SocketAddr>,
    /// HTTP listener address. Key `listeners.http.bind`.
    #[arg(long, env = "CHARGEGATE_HTTP")]
    pub http: Option<SocketAddr>,
    /// External MQTT broker URL (`mqtt://host:port`); selects `mqtt.mode = "external"`. Key `mqtt.url`.
    #[arg(long, env = "CHARGEGATE_MQTT")]
    pub mqtt: Option<String>,
    /// Bearer token for the REST API. Key `http.admin_token`.
    #[arg(long, env = "CHARGEGATE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Charger registry file. Key `registry_file`.
    #[arg(long, env = "CHARGEGATE_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Log format, `text` or `json`. Key `log.format`.
    #[arg(long, env = "CHARGEGATE_LOG_FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Log filter such as `info` or `chargegate=debug`. Key `log.level`.
    #[arg(long, env = "CHARGEGATE_LOG")]
    pub log_level: Option<String>,
    /// Seconds to drain connections at shutdown. Key `shutdown.drain_secs`.
    #[arg(long, env = "CHARGEGATE_DRAIN_SECS")]
    pub drain_secs: Option<u64>,
    /// Set SO_REUSEPORT on every listener so several gateway processes share its ports (the kernel spreads
    /// accepts). Keys `listeners.*.reuse_port`.
    #[arg(long, env = "CHARGEGATE_REUSE_PORT")]
    pub reuse_port: bool,
    /// Any key: `--set limits.high_water_mark=262144` (repeatable; applied last).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl ServeArgs {
    /// The overrides these flags and `env` stand for, lowest precedence first.
    pub fn overrides(
        &self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<Override>, ConfigError> {
        let mut out = env_overrides(env)?;
        let addr = |a: &SocketAddr| toml::Value::String(a.to_string());
        let flags: [(&str, &str, Option<toml::Value>); 12] = [
            (
                "--workers",
                "workers",
                self.workers.map(|w| toml::Value::Integer(w as i64)),
            ),
            (
                "--instance",
                "instance",
                self.instance.clone().map(toml::Value::String),
            ),
            ("--ykc", "listeners.ykc.bind", self.ykc.as_ref().map(addr)),
            (
                "--ocpp-tcp",
                "listeners.ocpp_tcp.bind",
                self.ocpp_tcp.as_ref().map(addr),
            ),
            (
                "--gbt-can",
                "listeners.gbt27930_can.bind",
                self.gbt_can.as_ref().map(addr),
            ),
            (
                "--http",
                "listeners.http.bind",
                self.http.as_ref().map(addr),
            ),
            (
                "--mqtt",
                "mqtt.url",
                self.mqtt.clone().map(toml::Value::String),
            ),
            (
                "--admin-token",
                "http.admin_token",
                self.admin_token.clone().map(toml::Value::String),
            ),
            (
                "--registry",
                "registry_file",
                self.registry
                    .as_ref()
                    .map(|p| toml::Value::String(p.display().to_string())),
            ),
            (
                "--log-format",
                "log.format",
                self.log_format.clone().map(toml::Value::String),
            ),
            (
                "--log-level",
                "log.level",
                self.log_level.clone().map(toml::Value::String),
            ),
            (
                "--drain-secs",
                "shutdown.drain_secs",
                self.drain_secs.map(|s| toml::Value::Integer(s as i64)),
            ),
        ];
        for (flag, key, value) in flags {
            if let Some(v) = value {
                out.push(Override::typed(flag, key, v));
            }
        }
        if self.reuse_port {
            for listener in REUSE_PORT_LISTENERS {
                let key = format!("listeners.{listener}.reuse_port");
                out.push(Override::typed("--reuse-port", &key, true));
            }
        }
        if self.mqtt.is_some() {
            out.push(Override::typed("--mqtt", "mqtt.mode", "external"));
        }
        for spec in &self.set {
            out.push(Override::parse_set(spec)?);
        }
        Ok(out)
    }

    /// Loads the configuration these flags describe, reading the process environment.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let overrides = self.overrides(std::env::vars())?;
        Config::load(self.config.as_deref(), &overrides)
    }

    /// The log format asked for on the command line, if any.
    pub fn log_format(&self) -> Option<LogFormat> {
        match self.log_format.as_deref() {
            Some("json") => Some(LogFormat::Json),
            Some("text") => Some(LogFormat::Text),
            _ => None,
        }
    }
}
