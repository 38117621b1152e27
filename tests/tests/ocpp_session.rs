//! OCPP-J end to end: a real tokio-tungstenite client against the whole gateway ([`chargegate::app::App`]) on
//! loopback — the `/ocpp/{chargerId}` route the default assembly serves, REST commands, the bus and `/metrics`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chargegate::pipeline::charger_registry::hash_secret;
use chargegate_codec::event::EventBody;
use chargegate_e2e::{http, metric_value, TestGateway, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CHARGER: &str = "CP-E2E-1";
const PASSWORD: &[u8] = b"0123456789abcdef";

async fn connect(
    addr: SocketAddr,
    id: &str,
    protocol: &str,
    password: Option<&[u8]>,
) -> Result<Client, WsError> {
    let mut request = format!("ws://{addr}/ocpp/{id}")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(protocol).unwrap(),
    );
    if let Some(password) = password {
        use base64::Engine;
        let mut plain = format!("{id}:").into_bytes();
        plain.extend_from_slice(password);
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(plain)
        );
        headers.insert("Authorization", HeaderValue::from_str(&value).unwrap());
    }
    let (client, response) = connect_async(request).await?;
    assert_eq!(
        response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok()),
        Some(protocol)
    );
    Ok(client)
}

async fn next_json(client: &mut Client) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, client.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no WebSocket error");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn call(client: &mut Client, id: &str, action: &str, payload: Value) -> Value {
    let text = json!([2, id, action, payload]).to_string();
    client.send(Message::text(text)).await.unwrap();
    next_json(client).await
}

async fn boot(client: &mut Client) -> Value {
    call(
        client,
        "boot",
        "BootNotification",
        json!({"chargePointVendor": "Acme", "chargePointModel": "X1"}),
    )
    .await
}

fn http_status(error: WsError) -> u16 {
    match error {
        WsError::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_j_charger_boots_reports_and_answers_rest_commands_one_call_at_a_time() {
    let mut gw = TestGateway::start(|_| {}).await;
    let mut cp = connect(gw.http(), CHARGER, "ocpp1.6", None).await.unwrap();

    let booted = boot(&mut cp).await;
    assert_eq!(booted[0], 3);
    assert_eq!(booted[2]["status"], "Accepted");
    assert_eq!(
        booted[2]["interval"], 60,
        "the configured heartbeat interval"
    );
    let online = gw.event_of(CHARGER, "online").await;
    assert_eq!(online.protocol, "ocpp/1.6");

    let beat = call(&mut cp, "2", "Heartbeat", json!({})).await;
    assert!(
        beat[2]["currentTime"].as_str().unwrap().ends_with('Z'),
        "{beat}"
    );
    gw.event_of(CHARGER, "heartbeat").await;

    let status = call(
        &mut cp,
        "3",
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    assert_eq!(status, json!([3, "3", {}]));
    assert_eq!(gw.event_of(CHARGER, "status").await.connector, Some(1));

    let meter = call(
        &mut cp,
        "4",
        "MeterValues",
        json!({"connectorId": 1, "meterValue": [{"timestamp": "2026-01-02T03:04:05Z", "sampledValue": [
            {"value": "12345", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"}
        ]}]}),
    )
    .await;
    assert_eq!(meter, json!([3, "4", {}]));
    let event = gw.event_of(CHARGER, "meter").await;
    let EventBody::Meter(m) = &event.body else {
        unreachable!()
    };
    assert_eq!(m.energy_kwh, Some(12.345));
    assert_eq!(m.power_kw, Some(7.4));

    // RemoteStartTransaction via REST; a second command waits until the first CALL is answered.
    let first = tokio::spawn(http::command(
        gw.http(),
        CHARGER,
        json!({"id": "c1", "command": "start", "args": {"connector": 1, "id_tag": "TAG1"}}),
    ));
    let remote_start = next_json(&mut cp).await;
    assert_eq!(remote_start[0], 2);
    assert_eq!(remote_start[2], "RemoteStartTransaction");
    assert_eq!(remote_start[3], json!({"connectorId": 1, "idTag": "TAG1"}));
    let second = tokio::spawn(http::command(
        gw.http(),
        CHARGER,
        json!({"id": "c2", "command": "reset", "args": {"hard": false}}),
    ));
    let held = tokio::time::timeout(Duration::from_millis(500), cp.next()).await;
    assert!(
        held.is_err(),
        "a second CALL went out while one was outstanding: {held:?}"
    );
    let id = remote_start[1].as_str().unwrap().to_owned();
    cp.send(Message::text(
        json!([3, id, {"status": "Accepted"}]).to_string(),
    ))
    .await
    .unwrap();
    let (status, result) = first.await.unwrap();
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["command_id"], "c1");
    assert_eq!(result["status"], "accepted");

    let reset = next_json(&mut cp).await;
    assert_eq!(reset[2], "Reset");
    let id = reset[1].as_str().unwrap().to_owned();
    cp.send(Message::text(
        json!([3, id, {"status": "Rejected"}]).to_string(),
    ))
    .await
    .unwrap();
    let (_, result) = second.await.unwrap();
    assert_eq!(result["command_id"], "c2");
    assert_eq!(result["status"], "rejected");

    let text = gw.metrics_text().await;
    for series in [
        r#"chargegate_frames_in_total{protocol="ocpp",type="BootNotification"}"#,
        r#"chargegate_frames_in_total{protocol="ocpp",type="MeterValues"}"#,
        r#"chargegate_frames_out_total{protocol="ocpp",type="command"}"#,
    ] {
        assert!(
            metric_value(&text, series).is_some_and(|v| v >= 1.0),
            "{series}\n{text}"
        );
    }

    cp.close(None).await.unwrap();
    let offline = gw.event_of(CHARGER, "offline").await;
    let EventBody::Offline(o) = &offline.body else {
        unreachable!()
    };
    assert_eq!(o.reason, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_an_ocpp_2_0_1_session_carry_its_version() {
    let mut gw = TestGateway::start(|_| {}).await;
    let mut cp = connect(gw.http(), "CP-201", "ocpp2.0.1", None)
        .await
        .unwrap();
    let booted = call(
        &mut cp,
        "1",
        "BootNotification",
        json!({"reason": "PowerUp", "chargingStation": {"model": "X2", "vendorName": "Acme"}}),
    )
    .await;
    assert_eq!(booted[2]["status"], "Accepted", "{booted}");
    let beat = call(&mut cp, "2", "Heartbeat", json!({})).await;
    assert_eq!(beat[0], 3);
    for kind in ["online", "heartbeat"] {
        let event = gw.event_of("CP-201", kind).await;
        assert_eq!(event.protocol, "ocpp/2.0.1", "{kind}");
    }
    let (status, body) = http::request(gw.http(), "GET", "/api/v1/chargers/CP-201", None).await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["protocol"], "ocpp/2.0.1", "{info}");
}

fn registry_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "chargegate-e2e-ocpp-{name}-{}.csv",
        std::process::id()
    ));
    let text = format!(
        "id,station,protocol,secret\n{CHARGER},station-3,ocpp,{}\n",
        hash_secret(PASSWORD, b"salt-salt-salt-1")
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_registry_a_wrong_password_is_401_an_unknown_charger_404_and_metrics_count_both() {
    let path = registry_file("auth");
    let mut gw = TestGateway::start(|c| c.registry_file = Some(path.clone())).await;

    let wrong = connect(gw.http(), CHARGER, "ocpp1.6", Some(b"wrong-password"))
        .await
        .unwrap_err();
    assert_eq!(http_status(wrong), 401);
    let unknown = connect(gw.http(), "CP-NOBODY", "ocpp1.6", Some(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(http_status(unknown), 404);

    let mut cp = connect(gw.http(), CHARGER, "ocpp1.6", Some(PASSWORD))
        .await
        .unwrap();
    assert_eq!(boot(&mut cp).await[2]["status"], "Accepted");
    gw.event_of(CHARGER, "online").await;
    let (_, body) = http::request(
        gw.http(),
        "GET",
        &format!("/api/v1/chargers/{CHARGER}"),
        None,
    )
    .await;
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["station"], "station-3");

    let text = gw.metrics_text().await;
    for reason in ["unknown_charger", "bad_credential"] {
        let series =
            format!(r#"chargegate_auth_failures_total{{protocol="ocpp",reason="{reason}"}}"#);
        assert_eq!(metric_value(&text, &series), Some(1.0), "{series}\n{text}");
    }
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_that_never_boots_is_closed_at_the_deadline_and_counted() {
    let gw = TestGateway::start(|c| c.limits.auth_deadline_secs = 1).await;
    let mut cp = connect(gw.http(), "CP-SILENT", "ocpp1.6", None)
        .await
        .unwrap();
    // The deadline is 1 s, checked every second: closed well within 10 s.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match cp.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the silent charger was not closed");
    let series = r#"chargegate_auth_failures_total{protocol="ocpp",reason="login_deadline"}"#;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = gw.metrics_text().await;
        if metric_value(&text, series) == Some(1.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} not counted\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_an_ocpp_j_charger_goes_offline_with_reason_shutdown() {
    let mut gw = TestGateway::start(|_| {}).await;
    let mut cp = connect(gw.http(), "CP-STOP", "ocpp1.6", None)
        .await
        .unwrap();
    assert_eq!(boot(&mut cp).await[2]["status"], "Accepted");
    gw.event_of("CP-STOP", "online").await;
    gw.shutdown();
    let offline = gw.event_of("CP-STOP", "offline").await;
    let EventBody::Offline(o) = &offline.body else {
        unreachable!()
    };
    assert_eq!(o.reason, "shutdown");
}
