//! An OCPP-J 1.6 charger (a real tokio-tungstenite client) against the `/ocpp/{chargerId}` route on loopback.

mod ocpp_support;

use std::time::Duration;

use chargegate_codec::command::{Command, CommandKind, ResetArgs, StartArgs};
use chargegate_codec::event::{CommandStatus, EventBody};
use futures_util::{SinkExt, StreamExt};
use ocpp_support::{basic, gateway, CHARGER, NOW, PASSWORD};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    path: &str,
    protocols: &str,
    auth: Option<String>,
) -> Result<(Client, Option<String>), WsError> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(protocols).unwrap(),
    );
    if let Some(auth) = auth {
        request
            .headers_mut()
            .insert("Authorization", HeaderValue::from_str(&auth).unwrap());
    }
    let (client, response) = connect_async(request).await?;
    let protocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    Ok((client, protocol))
}

async fn next_json(client: &mut Client) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("a message within 5 s")
            .unwrap()
            .unwrap();
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

fn status_of(http_error: WsError) -> StatusCode {
    match http_error {
        WsError::Http(response) => response.status(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_charger_boots_heartbeats_reports_and_answers_commands_one_call_at_a_time() {
    let mut gw = gateway(true).await;
    let (mut cp, protocol) = connect(
        gw.http,
        "/ocpp/CP-1",
        "ocpp1.6",
        Some(basic(CHARGER, PASSWORD)),
    )
    .await
    .unwrap();
    assert_eq!(protocol.as_deref(), Some("ocpp1.6"));

    // Anything before BootNotification is refused with SecurityError.
    let early = call(&mut cp, "0", "Heartbeat", json!({})).await;
    assert_eq!(early[0], 4);
    assert_eq!(early[1], "0");
    assert_eq!(early[2], "SecurityError");

    let boot = call(
        &mut cp,
        "1",
        "BootNotification",
        json!({"chargePointVendor": "Acme", "chargePointModel": "X1"}),
    )
    .await;
    assert_eq!(
        boot,
        json!([3, "1", {"status": "Accepted", "currentTime": NOW, "interval": 300}])
    );
    let online = gw.event("online").await;
    assert_eq!(online.charger, CHARGER);
    assert_eq!(online.protocol, "ocpp/1.6");

    let beat = call(&mut cp, "2", "Heartbeat", json!({})).await;
    assert_eq!(beat, json!([3, "2", {"currentTime": NOW}]));
    gw.event("heartbeat").await;

    let status = call(
        &mut cp,
        "3",
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    assert_eq!(status, json!([3, "3", {}]));
    let event = gw.event("status").await;
    assert_eq!(event.connector, Some(1));

    let meter = call(
        &mut cp,
        "4",
        "MeterValues",
        json!({"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [
            {"value": "12345", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"}
        ]}]}),
    )
    .await;
    assert_eq!(meter, json!([3, "4", {}]));
    let event = gw.event("meter").await;
    let EventBody::Meter(m) = event.body else {
        unreachable!()
    };
    assert_eq!(m.energy_kwh, Some(12.345));
    assert_eq!(m.power_kw, Some(7.4));

    // Two commands at once: the second CALL is held until the first is answered.
    let start = Command {
        id: "c1".into(),
        kind: CommandKind::Start(StartArgs {
            connector: 1,
            id_tag: Some("TAG1".into()),
            ..Default::default()
        }),
    };
    let reset = Command {
        id: "c2".into(),
        kind: CommandKind::Reset(ResetArgs { hard: false }),
    };
    let d1 = gw.dispatcher.clone();
    let first =
        tokio::spawn(async move { d1.dispatch(CHARGER, start, Duration::from_secs(5)).await });
    let remote_start = next_json(&mut cp).await;
    assert_eq!(remote_start[0], 2);
    assert_eq!(remote_start[2], "RemoteStartTransaction");
    assert_eq!(remote_start[3], json!({"connectorId": 1, "idTag": "TAG1"}));
    let d2 = gw.dispatcher.clone();
    let second =
        tokio::spawn(async move { d2.dispatch(CHARGER, reset, Duration::from_secs(5)).await });
    let held = tokio::time::timeout(Duration::from_millis(300), cp.next()).await;
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
    let result = first.await.unwrap();
    assert_eq!(result.status, CommandStatus::Accepted);
    assert_eq!(result.command_id, "c1");

    let reset_call = next_json(&mut cp).await;
    assert_eq!(reset_call[2], "Reset");
    assert_ne!(
        reset_call[1], remote_start[1],
        "every CALL gets a fresh message id"
    );
    let id = reset_call[1].as_str().unwrap().to_owned();
    cp.send(Message::text(
        json!([3, id, {"status": "Rejected"}]).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(second.await.unwrap().status, CommandStatus::Rejected);

    cp.close(None).await.unwrap();
    let offline = gw.event("offline").await;
    assert_eq!(offline.charger, CHARGER);
}

#[tokio::test]
async fn start_and_stop_transaction_get_a_gateway_id_and_the_stop_is_acknowledged_after_upstream() {
    let mut gw = gateway(false).await;
    let (mut cp, _) = connect(gw.http, "/ocpp/CP%209", "ocpp1.6", None)
        .await
        .unwrap();
    call(
        &mut cp,
        "1",
        "BootNotification",
        json!({"chargePointVendor": "A", "chargePointModel": "B"}),
    )
    .await;
    assert_eq!(
        gw.event("online").await.charger,
        "CP 9",
        "the id is percent-decoded"
    );
    let started = call(
        &mut cp,
        "2",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "T", "meterStart": 1000, "timestamp": NOW}),
    )
    .await;
    assert_eq!(started[2]["transactionId"], 1);
    assert_eq!(started[2]["idTagInfo"]["status"], "Accepted");
    let stopped = call(
        &mut cp,
        "3",
        "StopTransaction",
        json!({"transactionId": 1, "idTag": "T", "meterStop": 5000, "timestamp": NOW}),
    )
    .await;
    assert_eq!(
        stopped,
        json!([3, "3", {"idTagInfo": {"status": "Accepted"}}])
    );
    let bill = gw.event("transaction").await;
    assert_eq!(bill.charger, "CP 9");
}

#[tokio::test]
async fn a_bad_password_is_refused_with_401_before_the_upgrade() {
    let gw = gateway(true).await;
    let err = connect(
        gw.http,
        "/ocpp/CP-1",
        "ocpp1.6",
        Some(basic(CHARGER, b"wrong-password!!")),
    )
    .await
    .unwrap_err();
    assert_eq!(status_of(err), StatusCode::UNAUTHORIZED);
    let err = connect(gw.http, "/ocpp/CP-1", "ocpp1.6", None)
        .await
        .unwrap_err();
    assert_eq!(status_of(err), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_charger_is_refused_with_404_before_the_upgrade() {
    let gw = gateway(true).await;
    let err = connect(
        gw.http,
        "/ocpp/NOPE",
        "ocpp1.6",
        Some(basic("NOPE", PASSWORD)),
    )
    .await
    .unwrap_err();
    assert_eq!(status_of(err), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ids_with_a_slash_plus_or_hash_are_refused() {
    let gw = gateway(false).await;
    for path in ["/ocpp/a%2Fb", "/ocpp/a+b", "/ocpp/a%23b"] {
        let err = connect(gw.http, path, "ocpp1.6", None).await.unwrap_err();
        assert_eq!(status_of(err), StatusCode::BAD_REQUEST, "{path}");
    }
}

#[tokio::test]
async fn with_no_common_subprotocol_the_handshake_completes_without_the_header_then_closes() {
    // A raw HTTP client: tungstenite's own client refuses a 101 without the subprotocol it asked for.
    let gw = gateway(false).await;
    let mut socket = TcpStream::connect(gw.http).await.unwrap();
    let request = "GET /ocpp/CP-1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Protocol: ocpp1.5\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    let head_end = loop {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the handshake completed");
        received.extend_from_slice(&buf[..n]);
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(!head.contains("sec-websocket-protocol"), "{head}");
    // Then the server closes: a Close frame (opcode 0x8) or EOF.
    let mut rest = received[head_end..].to_vec();
    if rest.is_empty() {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        rest.extend_from_slice(&buf[..n]);
    }
    assert!(
        rest.is_empty() || rest[0] == 0x88,
        "expected a Close frame, got {rest:02x?}"
    );
}

#[tokio::test]
async fn the_servers_preference_order_picks_the_subprotocol() {
    let gw = gateway(false).await;
    let (_cp, protocol) = connect(gw.http, "/ocpp/CP-1", "ocpp2.0.1, ocpp1.6", None)
        .await
        .unwrap();
    assert_eq!(protocol.as_deref(), Some("ocpp1.6"));
}

/// id: J16-6.2.2-basic-auth-example
/// source: OCPP-J 1.6 §6.2.2 (identity AL1000, AuthorizationKey 0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF)
const SPEC_BASIC_AUTH: &str = "Basic QUwxMDAwOgABAgMEBQYH////////////////";

#[test]
fn the_specs_basic_auth_example_decodes_to_the_twenty_raw_key_bytes() {
    let password = chargegate::http::ocpp_ws::basic_password(SPEC_BASIC_AUTH, "AL1000").unwrap();
    let mut key = vec![0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
    key.extend_from_slice(&[0xFF; 12]);
    assert_eq!(password, key);
    assert_eq!(
        chargegate::http::ocpp_ws::basic_password(SPEC_BASIC_AUTH, "AL100"),
        None,
        "the user name must equal the URL identity"
    );
}
