//! An OCPP-J 1.6 charger (a real tokio-tungstenite client) flooding CALLs without waiting for answers, beside the
//! control YKC charger of the hostile-client suite, on the gateway's own `/ocpp/{id}` route (`App::start`, HTTP
//! listener, open mode); the counter is read from the gateway's `/metrics` over HTTP.
//!
//! Limit: `limits.rate_frames_per_sec` / `rate_burst_secs` and `limits.rate_abuse_close_secs` (here 50/s, burst
//! 1 s, cut after 2 s of excess). Asserted: the WebSocket is closed, `chargegate_connections_closed_total{protocol="ocpp",
//! reason="rate_limit"}` = 1 per run, the `connection cut … A0202` log line, far fewer answers than CALLs, and
//! (`hostile::under_attack`) the control charger's p99 within 2× idle, the RSS growth and no panic.

use std::time::{Duration, Instant};

use chargegate_e2e::hostile::{serial, under_attack, LogCapture};
use chargegate_e2e::{metric_value, TestGateway};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const CONTROL: &str = "32010200000001";
const CALLS: usize = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_charger_flooding_calls_is_throttled_then_cut() {
    let _serial = serial().await;
    let logs = LogCapture::global();
    let gw = TestGateway::start(|c| {
        c.limits.auth_deadline_secs = 5;
        c.limits.rate_frames_per_sec = 50;
        c.limits.rate_burst_secs = 1;
        c.limits.rate_abuse_close_secs = 2;
    })
    .await;
    let ocpp = gw.http();

    let runs = under_attack(gw.ykc(), CONTROL, "OCPP CALL flood", move |run| async move {
        let started = Instant::now();
        let mut request = format!("ws://{ocpp}/ocpp/FLOOD-{run}")
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
        println!("OCPP CALL flood: {sent} CALLs sent, {answers} answered, cut after {took:.1?}");
        assert!(
            took < Duration::from_secs(15),
            "the flooding charger was not cut"
        );
        assert!(
            answers < sent / 2,
            "{answers} of {sent} CALLs answered: not throttled"
        );
    })
    .await;
    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_connections_closed_total{protocol="ocpp",reason="rate_limit"}"#
        ),
        Some(f64::from(runs)),
        "{text}"
    );
    assert!(
        logs.has_line(&["connection cut", "rate_limit", "A0202"]),
        "{}",
        logs.text()
    );
}
