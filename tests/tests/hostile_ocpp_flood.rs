//! An OCPP-J 1.6 charger (a real tokio-tungstenite client) flooding CALLs without waiting for answers, beside the
//! control YKC charger of the hostile-client suite. `App::start` does not serve `/ocpp/{id}` on this branch yet, so
//! the test builds the route the way `gateway/tests/ocpp_ws.rs` does, on the running gateway's session registry
//! and metrics registry (so the counter is read from the gateway's `/metrics` over HTTP).
//!
//! Limit: `limits.rate_frames_per_sec` / `rate_burst_secs` and `limits.rate_abuse_close_secs` (here 50/s, burst 50,
//! cut after 2 s of excess). Asserted: the WebSocket is closed, `chargegate_connections_closed_total{protocol="ocpp",
//! reason="rate_limit"}` = 1, the `connection cut … A0202` log line, far fewer answers than CALLs, the control
//! charger's p99 bound and the RSS growth.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chargegate::app::MetricsObserver;
use chargegate::http::ocpp_ws::{ocpp_routes, OcppRouteContext, OcppWsConfig, FIRST_WS_CONN_ID};
use chargegate::pipeline::auth::{AuthMode, Authenticator};
use chargegate::pipeline::connection::{ConnectionConfig, ConnectionContext};
use chargegate::pipeline::liveness::{run_wheel, SharedWheel, WorkerClock};
use chargegate::pipeline::rate_limit::RateLimitConfig;
use chargegate::pipeline::route::ChannelRouter;
use chargegate::pipeline::timing_wheel::{TimingWheel, DEFAULT_SLOTS};
use chargegate_codec::ocpp::plugin::register_defaults;
use chargegate_codec::ocpp::session::{SessionConfig, WallClock};
use chargegate_codec::plugin::CodecRegistry;
use chargegate_e2e::hostile::{idle_p99, latency_bound, p99, rss_kib, ControlCharger, LogCapture};
use chargegate_e2e::{metric_value, TestGateway};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const CONTROL: &str = "32010200000001";
const CALLS: usize = 5_000;

/// Serves `/ocpp/{id}` on loopback over the running gateway's sessions and metrics; returns its address.
async fn ocpp_route(gw: &TestGateway) -> std::net::SocketAddr {
    let codecs = Arc::new(CodecRegistry::new());
    let clock: WallClock = Arc::new(|| "2026-01-01T00:00:00Z".to_owned());
    register_defaults(&codecs, &SessionConfig::default(), &clock);
    let (router, mut events) = ChannelRouter::new(1024);
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let wheel: SharedWheel = Arc::new(Mutex::new(TimingWheel::new(
        Duration::from_millis(100),
        DEFAULT_SLOTS,
    )));
    let worker_clock = WorkerClock::start();
    tokio::spawn(run_wheel(wheel.clone(), worker_clock));
    let config = ConnectionConfig {
        rate: RateLimitConfig {
            frames_per_sec: 50,
            frame_burst: 50,
            bytes_per_sec: 64 * 1024,
            byte_burst: 64 * 1024,
            abuse_windows: 2,
        },
        ..ConnectionConfig::default()
    };
    let ctx = ConnectionContext {
        codec_name: "ocpp",
        codecs,
        sessions: gw.app.sessions().clone(),
        auth: Arc::new(Authenticator::new(AuthMode::Open)),
        router: Arc::new(router),
        wheel,
        clock: worker_clock,
        config,
        observer: Arc::new(MetricsObserver::new(&gw.metrics, "ocpp")),
        shutdown: tokio_util::sync::CancellationToken::new(),
    };
    let routes = ocpp_routes(OcppRouteContext {
        connection: ctx,
        registry: None,
        config: OcppWsConfig::default(),
        conn_ids: Arc::new(AtomicU64::new(FIRST_WS_CONN_ID)),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, routes).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_charger_flooding_calls_is_throttled_then_cut() {
    let logs = LogCapture::global();
    let gw = TestGateway::start(|c| c.limits.auth_deadline_secs = 5).await;
    let ocpp = ocpp_route(&gw).await;

    let idle = idle_p99(gw.ykc(), CONTROL, Duration::from_secs(1)).await;
    let rss_before = rss_kib();
    let control = ControlCharger::start(gw.ykc(), CONTROL).await;
    let started = Instant::now();

    let mut request = format!("ws://{ocpp}/ocpp/FLOOD-1")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("ocpp1.6"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let boot = json!([2, "boot", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X1"}]);
    tx.send(Message::text(boot.to_string())).await.unwrap();
    let reader = tokio::spawn(async move {
        let mut answers = 0usize;
        // Until the gateway closes the WebSocket (bounded: 15 s).
        let _ = tokio::time::timeout(Duration::from_secs(15), async {
            while let Some(Ok(msg)) = rx.next().await {
                match msg {
                    Message::Text(_) => answers += 1,
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        })
        .await;
        answers
    });
    let mut sent = 0usize;
    for i in 0..CALLS {
        let call = json!([2, format!("hb-{i}"), "Heartbeat", {}]).to_string();
        if tx.send(Message::text(call)).await.is_err() {
            break;
        }
        sent += 1;
        if i % 500 == 499 {
            // 5,000 CALLs over ~5 s, never waiting for an answer.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let answers = reader.await.unwrap();
    let took = started.elapsed();

    let samples = control.finish().await;
    let during = p99(&samples);
    let bound = latency_bound(idle);
    let rss_after = rss_kib();
    println!(
        "OCPP CALL flood: {sent} CALLs sent, {answers} answered, cut after {took:.1?}; control heartbeat p99 idle \
         {idle:.2?}, during {during:.2?} ({} samples, bound {bound:.2?}); RSS {rss_before} KiB → {rss_after} KiB",
        samples.len()
    );
    assert!(
        took < Duration::from_secs(15),
        "the flooding charger was not cut"
    );
    assert!(
        answers < sent / 2,
        "{answers} of {sent} CALLs answered: not throttled"
    );
    assert!(during <= bound, "control p99 {during:?} above {bound:?}");
    assert!(rss_after.saturating_sub(rss_before) <= 64 * 1024);
    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ocpp",reason="rate_limit"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        logs.has_line(&["connection cut", "rate_limit", "A0202"]),
        "{}",
        logs.text()
    );
    assert!(!logs.text().contains("panicked"));
}
