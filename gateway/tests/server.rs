//! The boss/worker server over real loopback sockets: listeners bind, admission refuses and counts, accepts spread
//! round-robin over workers, PROXY headers yield the real client, and shutdown stops accepting and drains.

mod support;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chargegate::config::ProxyProtocol;
use chargegate::metrics::Metrics;
use chargegate::server::{Connection, FnHandler, GatewayParts, LocalFuture, WorkerCtx};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn refused(m: &Metrics, listener: &str, reason: &str) -> u64 {
    m.refused.with_label_values(&[listener, reason]).get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_file_binds_every_default_listener_and_is_ready() {
    let gw = start(loopback_config()).await;
    for name in ["ykc", "ocpp_tcp", "gbt27930_can", "http"] {
        let addr = gw
            .local_addr(name)
            .unwrap_or_else(|| panic!("{name} bound"));
        assert_ne!(addr.port(), 0);
        TcpStream::connect(addr).await.unwrap();
    }
    let http = gw.local_addr("http").unwrap();
    assert_eq!(get(http, "/readyz").await.0, 200);
    assert_eq!(get(http, "/healthz").await.0, 200);
    let (code, body) = get(http, "/metrics").await;
    assert_eq!(code, 200);
    assert!(body.contains("chargegate_listeners_bound 3"), "{body}");
    gw.shutdown_token().cancel();
    gw.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ip_cap_refuses_the_extra_connection_and_counts_it() {
    let mut c = loopback_config();
    c.listeners.ykc.max_connections_per_ip = 2;
    let gw = start(c).await;
    let addr = gw.local_addr("ykc").unwrap();
    let _a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    assert!(refused_at_connect(addr).await);
    assert_eq!(refused(gw.metrics(), "ykc", "max_connections_per_ip"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_cap_refuses_beyond_max_connections_and_frees_slots_on_close() {
    let mut c = loopback_config();
    c.listeners.ocpp_tcp.max_connections = 1;
    let gw = start(c).await;
    let addr = gw.local_addr("ocpp_tcp").unwrap();
    let first = TcpStream::connect(addr).await.unwrap();
    let m = gw.metrics().clone();
    eventually("first connection open", || {
        m.connections.with_label_values(&["ocpp_tcp", "0"]).get() == 1
    })
    .await;
    assert!(refused_at_connect(addr).await);
    assert_eq!(refused(&m, "ocpp_tcp", "max_connections"), 1);
    drop(first);
    eventually("slot freed", || {
        m.connections.with_label_values(&["ocpp_tcp", "0"]).get() == 0
    })
    .await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(b"x").await.unwrap();
    eventually("third accepted", || {
        m.accepted.with_label_values(&["ocpp_tcp", "1"]).get() == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_network_is_refused_and_counted() {
    let mut c = loopback_config();
    c.listeners.gbt27930_can.deny = vec!["127.0.0.0/8".parse().unwrap()];
    let gw = start(c).await;
    assert!(refused_at_connect(gw.local_addr("gbt27930_can").unwrap()).await);
    assert_eq!(refused(gw.metrics(), "gbt27930_can", "denied"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_round_robin_over_the_workers() {
    let mut c = loopback_config();
    c.workers = 3;
    let gw = start(c).await;
    let addr = gw.local_addr("ykc").unwrap();
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let m = gw.metrics().clone();
    for w in ["0", "1", "2"] {
        let gauge = m.connections.with_label_values(&["ykc", w]);
        eventually("two connections per worker", || gauge.get() == 2).await;
        assert_eq!(m.accepted.with_label_values(&["ykc", w]).get(), 2);
    }
    let (_, body) = get(gw.local_addr("http").unwrap(), "/metrics").await;
    assert!(
        body.contains("chargegate_connections{listener=\"ykc\",worker=\"2\"} 2"),
        "{body}"
    );
}

/// A handler that answers `"<peer> <first bytes>\n"`: what the pipeline would see.
fn echo_peer() -> GatewayParts {
    let mut parts = GatewayParts::with_metrics(Metrics::new().unwrap());
    let handler = FnHandler(|mut conn: Connection, _ctx: Rc<WorkerCtx>| -> LocalFuture {
        Box::pin(async move {
            let mut first = conn.preread.to_vec();
            if first.is_empty() {
                let mut buf = [0u8; 64];
                let n = conn.stream.read(&mut buf).await.unwrap_or(0);
                first.extend_from_slice(&buf[..n]);
            }
            let reply = format!("{} {}\n", conn.peer, String::from_utf8_lossy(&first));
            let _ = conn.stream.write_all(reply.as_bytes()).await;
        })
    });
    parts.handler = Box::new(move |_, _| Arc::new(handler));
    parts
}

async fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(PATIENCE, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v1_header_yields_the_real_client_address() {
    let mut c = loopback_config();
    c.listeners.ykc.proxy_protocol = ProxyProtocol::V1;
    let gw = start_with(c, echo_peer()).await;
    let reply = exchange(
        gw.local_addr("ykc").unwrap(),
        b"PROXY TCP4 203.0.113.7 192.0.2.1 51000 8768\r\nhello",
    )
    .await;
    assert_eq!(reply, "203.0.113.7:51000 hello\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v2_header_yields_the_real_client_address() {
    let mut c = loopback_config();
    c.listeners.ykc.proxy_protocol = ProxyProtocol::Any;
    let gw = start_with(c, echo_peer()).await;
    let mut bytes =
        hex::decode("0d0a0d0a000d0a515549540a2111000ccb007107c0000201c7382240").unwrap();
    bytes.extend_from_slice(b"hello");
    let reply = exchange(gw.local_addr("ykc").unwrap(), &bytes).await;
    assert_eq!(reply, "203.0.113.7:51000 hello\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_expecting_proxy_refuses_a_bare_client_and_counts_it() {
    let mut c = loopback_config();
    c.listeners.ykc.proxy_protocol = ProxyProtocol::V2;
    let gw = start_with(c, echo_peer()).await;
    let mut s = TcpStream::connect(gw.local_addr("ykc").unwrap())
        .await
        .unwrap();
    s.write_all(&[0x68, 0x22, 0x00]).await.unwrap();
    assert!(closed_by_server(&mut s).await);
    assert_eq!(refused(gw.metrics(), "ykc", "proxy_header"), 1);
}

/// A handler that says `bye` when shutdown begins, like a pipeline emitting `offline{reason: shutdown}`.
fn polite() -> GatewayParts {
    let mut parts = GatewayParts::with_metrics(Metrics::new().unwrap());
    let handler = FnHandler(|mut conn: Connection, ctx: Rc<WorkerCtx>| -> LocalFuture {
        Box::pin(async move {
            let mut buf = [0u8; 16];
            tokio::select! {
                _ = ctx.shutdown.cancelled() => { let _ = conn.stream.write_all(b"bye").await; }
                _ = conn.stream.read(&mut buf) => {}
            }
        })
    });
    parts.handler = Box::new(move |_, _| Arc::new(handler));
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_drains_open_connections() {
    let gw = start_with(loopback_config(), polite()).await;
    let addr = gw.local_addr("ykc").unwrap();
    let http = gw.local_addr("http").unwrap();
    let mut open = TcpStream::connect(addr).await.unwrap();
    let m = gw.metrics().clone();
    eventually("connection on a worker", || {
        m.accepted.with_label_values(&["ykc", "0"]).get() == 1
    })
    .await;
    let token = gw.shutdown_token();
    let started = Instant::now();
    let done = tokio::spawn(gw.wait());
    token.cancel();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, open.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out, b"bye");
    tokio::time::timeout(PATIENCE, done).await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drained before the deadline"
    );
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
    assert!(TcpStream::connect(http).await.is_err(), "http closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_ignores_shutdown_is_dropped_at_the_drain_deadline() {
    let mut c = loopback_config();
    c.shutdown.drain_secs = 1;
    let mut parts = GatewayParts::with_metrics(Metrics::new().unwrap());
    let stubborn = FnHandler(|conn: Connection, _ctx: Rc<WorkerCtx>| -> LocalFuture {
        Box::pin(async move {
            let _keep = conn;
            std::future::pending::<()>().await;
        })
    });
    parts.handler = Box::new(move |_, _| Arc::new(stubborn));
    let gw = start_with(c, parts).await;
    let mut s = TcpStream::connect(gw.local_addr("ykc").unwrap())
        .await
        .unwrap();
    let m = gw.metrics().clone();
    eventually("connection on a worker", || {
        m.accepted.with_label_values(&["ykc", "0"]).get() == 1
    })
    .await;
    let started = Instant::now();
    gw.shutdown_token().cancel();
    gw.wait().await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(closed_by_server(&mut s).await);
}
