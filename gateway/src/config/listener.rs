//! One listener's settings: where it binds, which codec it speaks and how it treats the sockets it accepts.
//!
//! The boss (`crate::server`) builds one acceptor per enabled listener from these values; the four built-in
//! listeners differ only in their default address and codec, so they share this struct and resolve those two
//! fields through [`ListenerDefaults`].

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Default `listen()` backlog; the kernel caps it at `net.core.somaxconn`.
pub const DEFAULT_BACKLOG: u32 = 4096;
/// Default TCP keepalive idle time before the first probe, seconds.
pub const DEFAULT_KEEPALIVE_SECS: u64 = 60;
/// Default interval between TCP keepalive probes, seconds.
pub const DEFAULT_KEEPALIVE_INTERVAL_SECS: u64 = 10;
/// Default number of unanswered keepalive probes before the kernel drops the connection.
pub const DEFAULT_KEEPALIVE_RETRIES: u32 = 3;
/// Default cap on connections held by one listener (a little under this machine's 20,000 open files).
pub const DEFAULT_MAX_CONNECTIONS: usize = 19_500;
/// Default accept rate, connections per second (0 = unlimited).
pub const DEFAULT_ACCEPT_RATE: u32 = 5_000;
/// Default accept burst, connections taken at once before the rate applies.
pub const DEFAULT_ACCEPT_BURST: u32 = 5_000;
/// Default accepts per second from one peer address (0 = unlimited): a connect storm from one address is refused
/// beyond it while other addresses are still served.
pub const DEFAULT_ACCEPT_RATE_PER_IP: u32 = 50;
/// Default accepts one peer address may take at once before `accept_rate_per_ip` applies: room for a depot of
/// chargers behind one NAT reconnecting together after a power cut.
pub const DEFAULT_ACCEPT_BURST_PER_IP: u32 = 200;
/// Default time a client has to send its PROXY protocol header, seconds.
pub const DEFAULT_PROXY_HEADER_TIMEOUT_SECS: u64 = 5;

/// How a listener picks the codec for a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SniffMode {
    /// Every connection speaks the listener's `codec`.
    #[default]
    Off,
    /// The first bytes choose among the registered binary codecs; `codec` is the fallback.
    Auto,
}

/// Whether a listener expects a PROXY protocol header (from a load balancer) before the charger's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyProtocol {
    /// No header; the socket's peer is the charger.
    #[default]
    Off,
    /// The text header (`PROXY TCP4 …\r\n`) only.
    V1,
    /// The binary header only.
    V2,
    /// Either version, told apart by the first bytes.
    Any,
}

/// TLS material for a listener; TLS is on when both `cert` and `key` are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// PEM CA bundle; when set, clients must present a certificate it signed (OCPP security profile 3).
    pub client_ca: Option<PathBuf>,
}

impl TlsConfig {
    /// True when the listener should terminate TLS.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() && self.key.is_some()
    }
}

/// One listener section, e.g. `[listeners.ykc]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenerConfig {
    /// Whether the listener is bound at all.
    pub enabled: bool,
    /// Address and port; `None` takes the listener's built-in default.
    pub bind: Option<SocketAddr>,
    /// Codec name (`ykc`, `ocpp-tcp`, `gbt27930-can`, `http`, or a plug-in's name); `None` = built-in default.
    pub codec: Option<String>,
    /// Codec selection by first bytes.
    pub sniff: SniffMode,
    /// `listen()` backlog, capped by `net.core.somaxconn`.
    pub backlog: u32,
    /// Set TCP_NODELAY on accepted sockets (small frames go out at once).
    pub nodelay: bool,
    /// Turn on TCP keepalive probes on accepted sockets.
    pub keepalive: bool,
    /// Idle seconds before the first keepalive probe.
    pub keepalive_secs: u64,
    /// Seconds between keepalive probes.
    pub keepalive_interval_secs: u64,
    /// Unanswered probes before the kernel drops the connection.
    pub keepalive_retries: u32,
    /// Connections this listener holds at most; further ones are closed at accept and counted.
    pub max_connections: usize,
    /// Connections one peer IP holds at most (0 = no cap; a station behind one 4G NAT shares an address).
    pub max_connections_per_ip: usize,
    /// Accepts per second (token bucket; 0 = unlimited); above it the acceptor waits, leaving SYNs in the backlog.
    pub accept_rate: u32,
    /// Accepts taken at once before `accept_rate` applies.
    pub accept_burst: u32,
    /// Accepts per second from one peer address (token bucket per IP; 0 = unlimited); beyond it a new connection
    /// from that address is closed at accept and counted as `ip_accept_rate`.
    pub accept_rate_per_ip: u32,
    /// Accepts one peer address may take at once before `accept_rate_per_ip` applies.
    pub accept_burst_per_ip: u32,
    /// If not empty, only peers in these networks are served.
    pub allow: Vec<IpNet>,
    /// Peers in these networks are refused (deny wins over allow).
    pub deny: Vec<IpNet>,
    /// Set SO_REUSEPORT so several gateway processes share the port (the kernel spreads accepts).
    pub reuse_port: bool,
    /// PROXY protocol header expected before the payload.
    pub proxy_protocol: ProxyProtocol,
    /// Seconds a client has to complete its PROXY header.
    pub proxy_header_timeout_secs: u64,
    /// TLS material.
    pub tls: TlsConfig,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            enabled: true,
            bind: None,
            codec: None,
            sniff: SniffMode::Off,
            backlog: DEFAULT_BACKLOG,
            nodelay: true,
            keepalive: true,
            keepalive_secs: DEFAULT_KEEPALIVE_SECS,
            keepalive_interval_secs: DEFAULT_KEEPALIVE_INTERVAL_SECS,
            keepalive_retries: DEFAULT_KEEPALIVE_RETRIES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: 0,
            accept_rate: DEFAULT_ACCEPT_RATE,
            accept_burst: DEFAULT_ACCEPT_BURST,
            accept_rate_per_ip: DEFAULT_ACCEPT_RATE_PER_IP,
            accept_burst_per_ip: DEFAULT_ACCEPT_BURST_PER_IP,
            allow: Vec::new(),
            deny: Vec::new(),
            reuse_port: false,
            proxy_protocol: ProxyProtocol::Off,
            proxy_header_timeout_secs: DEFAULT_PROXY_HEADER_TIMEOUT_SECS,
            tls: TlsConfig::default(),
        }
    }
}

/// A listener's built-in address and codec, used where its section leaves them out.
#[derive(Debug, Clone, Copy)]
pub struct ListenerDefaults {
    /// Default bind address.
    pub bind: SocketAddr,
    /// Default codec name.
    pub codec: &'static str,
}

/// A listener with its name and defaults applied: what the server binds.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedListener {
    /// Section name (`ykc`, `ocpp_tcp`, …), used as the `listener` metric label.
    pub name: String,
    /// Bind address.
    pub bind: SocketAddr,
    /// Codec name.
    pub codec: String,
    /// All other settings.
    pub settings: ListenerConfig,
}

impl ListenerConfig {
    /// Applies `defaults` to the fields this section left out.
    pub fn resolve(&self, name: &str, defaults: ListenerDefaults) -> ResolvedListener {
        ResolvedListener {
            name: name.to_owned(),
            bind: self.bind.unwrap_or(defaults.bind),
            codec: self
                .codec
                .clone()
                .unwrap_or_else(|| defaults.codec.to_owned()),
            settings: self.clone(),
        }
    }
}
