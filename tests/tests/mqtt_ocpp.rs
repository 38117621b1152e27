//! OCPP chargers over MQTT, end to end: a real OCPP-J 1.6 client (tokio-tungstenite) on `App::start`'s
//! `/ocpp/{id}` route and a real Mosquitto — (a) in the chargegate layout (events, presence, commands on
//! `{p}/{id}/down`), (b) in EMQX's OCPP-gateway layout (`ocpp/cp/{id}`, `ocpp/cp/{id}/Reply`, `ocpp/cs/{id}`).

use std::net::SocketAddr;
use std::time::Duration;

use chargegate::config::TopicLayout;
use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::TestGateway;
use futures_util::{SinkExt, StreamExt};
use rumqttc::QoS;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WITHIN: Duration = Duration::from_secs(15);

/// An OCPP-J 1.6 charger on the gateway's `/ocpp/{id}` route.
async fn charger(addr: SocketAddr, id: &str) -> Client {
    let mut request = format!("ws://{addr}/ocpp/{id}")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("ocpp1.6"),
    );
    connect_async(request).await.unwrap().0
}

/// The next OCPP-J message the gateway sends.
async fn next_json(client: &mut Client) -> Value {
    loop {
        let msg = tokio::time::timeout(WITHIN, client.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no WebSocket error");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn send(client: &mut Client, message: Value) {
    client
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// Sends a CALL and returns the gateway's answer.
async fn call(client: &mut Client, id: &str, action: &str, payload: Value) -> Value {
    send(client, json!([2, id, action, payload])).await;
    next_json(client).await
}

/// BootNotification, StatusNotification and MeterValues, each answered by the gateway.
async fn report(cp: &mut Client) {
    let boot = call(
        cp,
        "m1",
        "BootNotification",
        json!({"chargePointVendor": "Acme", "chargePointModel": "X1"}),
    )
    .await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    let status = call(
        cp,
        "m2",
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    assert_eq!(status, json!([3, "m2", {}]));
    let meter = call(
        cp,
        "m3",
        "MeterValues",
        json!({"connectorId": 1, "meterValue": [{"timestamp": "2026-01-02T03:04:05Z", "sampledValue": [
            {"value": "12345", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        ]}]}),
    )
    .await;
    assert_eq!(meter, json!([3, "m3", {}]));
}

/// Waits for the CALL the gateway sends the charger and answers it with `payload`; returns the CALL.
async fn answer_call(cp: &mut Client, payload: Value) -> Value {
    let call = next_json(cp).await;
    assert_eq!(call[0], 2, "a CALL: {call}");
    send(cp, json!([3, call[1].clone(), payload])).await;
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocpp_charger_in_the_chargegate_layout_reports_goes_offline_and_takes_commands() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let gw = TestGateway::start(|c| use_external(c, port, "cgo")).await;
    let mut obs = Observer::connect(port, "cgo-platform", &["cgo/#"]).await;
    let id = "CP-MQ-1";
    let mut cp = charger(gw.http(), id).await;
    report(&mut cp).await;

    let online = obs.next_on(&format!("cgo/{id}/up/online"), WITHIN).await;
    assert_eq!(online.qos, QoS::AtLeastOnce);
    assert_eq!(json(&online)["protocol"], "ocpp/1.6");
    let presence = obs.next_on(&format!("cgo/{id}/presence"), WITHIN).await;
    assert_eq!(json(&presence)["state"], "online");
    let status = obs.next_on(&format!("cgo/{id}/up/status"), WITHIN).await;
    assert_eq!(status.qos, QoS::AtLeastOnce);
    assert_eq!(json(&status)["connector"], 1);
    let meter = obs.next_on(&format!("cgo/{id}/up/meter"), WITHIN).await;
    assert_eq!(meter.qos, QoS::AtLeastOnce, "telemetry is QoS 1");

    // A platform that connects later sees the retained presence.
    let mut late = Observer::connect(port, "cgo-late", &["cgo/+/presence"]).await;
    let retained = late.next_on(&format!("cgo/{id}/presence"), WITHIN).await;
    assert!(retained.retain, "presence is retained");
    assert_eq!(json(&retained)["state"], "online");

    // A command on `down` reaches the charger as a CALL; its answer comes back on `reply`.
    let command = json!({"id": "mq-reset", "command": "reset", "args": {"hard": false}});
    obs.client
        .publish(
            format!("cgo/{id}/down"),
            QoS::AtLeastOnce,
            false,
            command.to_string(),
        )
        .await
        .unwrap();
    let sent = answer_call(&mut cp, json!({"status": "Accepted"})).await;
    assert_eq!(sent[2], "Reset");
    assert_eq!(sent[3], json!({"type": "Soft"}));
    let reply = obs.next_on(&format!("cgo/{id}/reply"), WITHIN).await;
    assert_eq!(reply.qos, QoS::AtLeastOnce);
    let r = json(&reply);
    assert_eq!(r["id"], "mq-reset");
    assert_eq!(r["command"], "reset");
    assert_eq!(r["status"], "accepted");
    // The chargegate layout publishes nothing under the EMQX mount point.
    assert!(
        obs.rx
            .try_recv()
            .map_or(true, |p| !p.topic.starts_with("ocpp/")),
        "no EMQX topics in the chargegate layout"
    );

    // Disconnecting flips the retained presence to offline.
    cp.close(None).await.unwrap();
    // (A live subscriber gets it with the retain flag cleared, as MQTT 3.1.1 says; a new one gets it retained.)
    obs.next_where(WITHIN, |p| {
        p.topic == format!("cgo/{id}/presence") && json(p)["state"] == "offline"
    })
    .await;
    let mut later = Observer::connect(port, "cgo-later", &["cgo/+/presence"]).await;
    let retained = later.next_on(&format!("cgo/{id}/presence"), WITHIN).await;
    assert!(retained.retain);
    assert_eq!(json(&retained)["state"], "offline");
    drop(gw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_emqx_layout_calls_go_to_ocpp_cp_and_a_backend_call_on_ocpp_cs_is_answered_on_reply()
{
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let gw = TestGateway::start(|c| {
        use_external(c, port, "cge");
        c.mqtt.layout = TopicLayout::EmqxOcpp;
    })
    .await;
    let mut backend = Observer::connect(port, "cge-backend", &["ocpp/cp/#"]).await;
    let id = "CP-EMQX-1";
    let mut cp = charger(gw.http(), id).await;
    report(&mut cp).await;

    // The charger's CALLs, in order, in EMQX's shape.
    let up = format!("ocpp/cp/{id}");
    let boot = json(&backend.next_on(&up, WITHIN).await);
    assert_eq!(boot["MessageTypeId"], 2);
    assert_eq!(boot["Id"], "m1");
    assert_eq!(boot["Action"], "BootNotification");
    assert_eq!(boot["Payload"]["chargePointVendor"], "Acme");
    let status = backend.next_on(&up, WITHIN).await;
    assert_eq!(status.qos, QoS::AtLeastOnce);
    assert_eq!(
        json(&status),
        json!({"MessageTypeId": 2, "Id": "m2", "Action": "StatusNotification",
               "Payload": {"connectorId": 1, "errorCode": "NoError", "status": "Available"}})
    );
    let meter = json(&backend.next_on(&up, WITHIN).await);
    assert_eq!(meter["Action"], "MeterValues");
    assert_eq!(
        meter["Payload"]["meterValue"][0]["sampledValue"][0]["value"],
        "12345"
    );

    // Presence stays in the chargegate layout (retained; once it is out, the gateway's subscriptions are live).
    let mut presence = Observer::connect(port, "cge-presence", &["cge/+/presence"]).await;
    let online = presence
        .next_on(&format!("cge/{id}/presence"), WITHIN)
        .await;
    assert_eq!(json(&online)["state"], "online");

    // A backend CALL on ocpp/cs/{id} reaches the charger under the backend's Id …
    let down = json!({"MessageTypeId": 2, "Id": "emqx-42", "Action": "ChangeConfiguration",
                      "Payload": {"key": "HeartbeatInterval", "value": "120"}});
    backend
        .client
        .publish(
            format!("ocpp/cs/{id}"),
            QoS::AtLeastOnce,
            false,
            down.to_string(),
        )
        .await
        .unwrap();
    let sent = answer_call(&mut cp, json!({"status": "Accepted"})).await;
    assert_eq!(
        sent,
        json!([2, "emqx-42", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}])
    );
    // … and its CALLRESULT comes back on ocpp/cp/{id}/Reply.
    let reply = backend
        .next_on(&format!("ocpp/cp/{id}/Reply"), WITHIN)
        .await;
    assert_eq!(reply.qos, QoS::AtLeastOnce);
    assert_eq!(
        json(&reply),
        json!({"MessageTypeId": 3, "Id": "emqx-42", "Payload": {"status": "Accepted"}})
    );

    // A charger's CALLERROR comes back on the same Reply topic as MessageTypeId 4.
    let down = json!({"MessageTypeId": 2, "Id": "emqx-43", "Action": "Reset", "Payload": {"type": "Hard"}});
    backend
        .client
        .publish(
            format!("ocpp/cs/{id}"),
            QoS::AtLeastOnce,
            false,
            down.to_string(),
        )
        .await
        .unwrap();
    let call = next_json(&mut cp).await;
    assert_eq!(call[1], "emqx-43");
    send(
        &mut cp,
        json!([4, "emqx-43", "NotImplemented", "no resets here", {}]),
    )
    .await;
    let reply = json(
        &backend
            .next_on(&format!("ocpp/cp/{id}/Reply"), WITHIN)
            .await,
    );
    assert_eq!(
        reply,
        json!({"MessageTypeId": 4, "Id": "emqx-43", "ErrorCode": "NotImplemented",
               "ErrorDescription": "no resets here", "ErrorDetails": {}})
    );

    // An unknown action never reaches the charger; the backend gets a CALLERROR.
    let down = json!({"MessageTypeId": 2, "Id": "emqx-44", "Action": "Teleport", "Payload": {}});
    backend
        .client
        .publish(
            format!("ocpp/cs/{id}"),
            QoS::AtLeastOnce,
            false,
            down.to_string(),
        )
        .await
        .unwrap();
    let reply = json(
        &backend
            .next_on(&format!("ocpp/cp/{id}/Reply"), WITHIN)
            .await,
    );
    assert_eq!(reply["MessageTypeId"], 4);
    assert_eq!(reply["Id"], "emqx-44");
    assert_eq!(reply["ErrorCode"], "GenericError");
    drop(gw);
}
