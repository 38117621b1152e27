//! From `[mqtt]` to rumqttc's `MqttOptions`: which broker (embedded on loopback or the `mqtt://`/`mqtts://` URL),
//! credentials, client id, keep-alive, in-flight window, packet size and TLS (rustls with the ring provider).

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use thiserror::Error;

use crate::config::{Mqtt, MqttMode};

/// Plain MQTT's port when a URL names none.
pub const MQTT_PORT: u16 = 1883;
/// MQTT over TLS's port when a URL names none.
pub const MQTTS_PORT: u16 = 8883;
/// Requests rumqttc may hold between our task and its event loop.
pub const REQUEST_CHANNEL: usize = 1024;

/// Why the MQTT settings cannot be used.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// The URL is not `mqtt://host[:port]` or `mqtts://host[:port]`.
    #[error("`{0}` is not an mqtt:// or mqtts:// URL with a host")]
    BadUrl(String),
    /// `mode = "external"` without a URL.
    #[error("mqtt.mode = \"external\" needs mqtt.url")]
    NoUrl,
    /// The CA file could not be read or holds no certificate.
    #[error("mqtt.ca_file: {0}")]
    Ca(String),
}

impl SettingsError {
    /// Stable short name (metric label, log field).
    pub fn kind(&self) -> &'static str {
        match self {
            SettingsError::BadUrl(_) => "bad_url",
            SettingsError::NoUrl => "no_url",
            SettingsError::Ca(_) => "ca_file",
        }
    }
}

/// A broker address parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `mqtts://`.
    pub tls: bool,
    /// User name from the URL's user info.
    pub username: Option<String>,
    /// Password from the URL's user info.
    pub password: Option<String>,
}

impl BrokerUrl {
    /// Parses `mqtt://[user[:pass]@]host[:port]` or `mqtts://…`.
    pub fn parse(url: &str) -> Result<BrokerUrl, SettingsError> {
        let bad = || SettingsError::BadUrl(url.to_owned());
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((n, p)) => (Some(n.to_owned()), Some(p.to_owned())),
                None => (Some(u.to_owned()), None),
            },
            None => (None, None),
        };
        let default_port = if tls { MQTTS_PORT } else { MQTT_PORT };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse().map_err(|_| bad())?)
            }
            _ => (hostport, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(bad());
        }
        Ok(BrokerUrl {
            host: host.to_owned(),
            port,
            tls,
            username,
            password,
        })
    }
}

/// The broker the sink connects to under `config` (the embedded broker's own address in embedded mode).
pub fn broker_url(config: &Mqtt) -> Result<BrokerUrl, SettingsError> {
    match config.mode {
        MqttMode::External => BrokerUrl::parse(config.url.as_deref().ok_or(SettingsError::NoUrl)?),
        MqttMode::Embedded | MqttMode::Off => Ok(BrokerUrl {
            host: config.embedded_bind.ip().to_string(),
            port: config.embedded_bind.port(),
            tls: false,
            username: None,
            password: None,
        }),
    }
}

/// The client id: `mqtt.client_id` or `chargegate-{instance}`.
pub fn client_id(config: &Mqtt, instance: &str) -> String {
    config
        .client_id
        .clone()
        .unwrap_or_else(|| format!("chargegate-{instance}"))
}

/// rumqttc options for `config`. Clean session: the sink keeps its own ledger of unacknowledged publishes.
pub fn mqtt_options(config: &Mqtt, instance: &str) -> Result<MqttOptions, SettingsError> {
    let url = broker_url(config)?;
    let mut o = MqttOptions::new(client_id(config, instance), url.host.clone(), url.port);
    o.set_keep_alive(Duration::from_secs(config.keep_alive_secs.max(1)));
    o.set_clean_session(true);
    o.set_inflight(config.inflight.max(1));
    // Our rumqttc patch (gateway/vendor/rumqttc/CHARGEGATE-PATCH.md): at high rates one `write` carries many
    // publishes; a lone publish still goes out at once.
    o.set_max_request_batch(config.request_batch.max(1));
    o.set_max_packet_size(config.max_packet_bytes, config.max_packet_bytes);
    let user = config.username.clone().or(url.username);
    let pass = config.password.clone().or(url.password);
    if let Some(user) = user {
        o.set_credentials(user, pass.unwrap_or_default());
    }
    if url.tls {
        o.set_transport(Transport::Tls(tls_config(config)?));
    }
    Ok(o)
}

fn tls_config(config: &Mqtt) -> Result<TlsConfiguration, SettingsError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    match &config.ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| SettingsError::Ca(e.to_string()))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| SettingsError::Ca(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| SettingsError::Ca(e.to_string()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A broken system certificate is skipped; the others still verify.
                let _ = roots.add(cert);
            }
        }
    }
    if roots.is_empty() {
        return Err(SettingsError::Ca("no CA certificate found".to_owned()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SettingsError::Ca(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConfiguration::Rustls(Arc::new(client)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_credentials() {
        let u = BrokerUrl::parse("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.tls), ("127.0.0.1", 1884, false));
        let u = BrokerUrl::parse("mqtts://bob:pw@broker.example").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("broker.example", MQTTS_PORT, true)
        );
        assert_eq!(u.username.as_deref(), Some("bob"));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert!(BrokerUrl::parse("http://x").is_err());
        assert!(BrokerUrl::parse("mqtt://").is_err());
        assert!(BrokerUrl::parse("mqtt://h:notaport").is_err());
    }
}
