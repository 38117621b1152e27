//! Test support shared by the gateway's integration tests: a loopback config on port 0, a started gateway, a tiny
//! HTTP/1.1 client for asserting on responses, and polling helpers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chargegate::config::Config;
use chargegate::metrics::Metrics;
use chargegate::server::{Gateway, GatewayParts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// How long a test waits for something asynchronous before failing.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The default configuration with every listener on 127.0.0.1, port 0, and two workers.
pub fn loopback_config() -> Config {
    let mut c = Config::default();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    for l in [
        &mut c.listeners.ykc,
        &mut c.listeners.ocpp_tcp,
        &mut c.listeners.gbt27930_can,
        &mut c.listeners.http,
    ] {
        l.bind = Some(any);
    }
    c.workers = 2;
    c.shutdown.drain_secs = 2;
    c
}

/// Starts a gateway with `parts` (built around a fresh metrics registry by the caller).
pub async fn start_with(config: Config, parts: GatewayParts) -> Gateway {
    Gateway::start(config, parts, CancellationToken::new())
        .await
        .expect("gateway starts")
}

/// Starts a gateway with the default parts.
pub async fn start(config: Config) -> Gateway {
    start_with(config, GatewayParts::with_metrics(Metrics::new().unwrap())).await
}

/// Polls `f` until it is true or [`PATIENCE`] runs out.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// True when the server closed the connection (EOF or reset) without sending anything.
/// Connects to `addr` and reports whether the server refused the connection at accept: refusals are closed with
/// a RST, which may already fail the `connect` itself (`ECONNRESET` once the handshake completed) or the first read.
pub async fn refused_at_connect(addr: SocketAddr) -> bool {
    match TcpStream::connect(addr).await {
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(mut s) => closed_by_server(&mut s).await,
    }
}

pub async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(PATIENCE, stream.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// A one-shot HTTP/1.1 request; returns the status code and body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, &[], "").await
}
