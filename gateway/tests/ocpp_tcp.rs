//! A charger speaking OCPP-like JSON over raw TCP (both envelope presets) through `run_connection`.

mod ocpp_support;

use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::frame::FrameEvent;
use chargegate_codec::ocpp::envelope::{Envelope, OCPP_TCP, OCPP_TCP_ALT};
use ocpp_support::{gateway, NOW, TCP_CHARGER};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

struct Charger {
    socket: TcpStream,
    envelope: Envelope,
    decoder: chargegate_codec::frame::FrameDecoder,
    buf: BytesMut,
}

impl Charger {
    async fn connect(addr: std::net::SocketAddr, envelope: Envelope) -> Self {
        Charger {
            socket: TcpStream::connect(addr).await.unwrap(),
            decoder: envelope.decoder(),
            envelope,
            buf: BytesMut::new(),
        }
    }

    async fn call(&mut self, id: &str, action: &str, payload: Value) -> Value {
        let text = json!([2, id, action, payload]).to_string();
        let frame = self.envelope.encode(text.as_bytes()).unwrap();
        self.socket.write_all(&frame).await.unwrap();
        self.next().await
    }

    async fn next(&mut self) -> Value {
        loop {
            if let Some(FrameEvent::Frame { bytes, .. }) =
                self.decoder.decode(&mut self.buf).unwrap()
            {
                return serde_json::from_slice(self.envelope.payload(&bytes).unwrap()).unwrap();
            }
            let n =
                tokio::time::timeout(Duration::from_secs(5), self.socket.read_buf(&mut self.buf))
                    .await
                    .expect("a reply within 5 s")
                    .unwrap();
            assert!(n > 0, "gateway closed the connection");
        }
    }
}

async fn boots_and_heartbeats(codec: &'static str) {
    let mut gw = gateway(true).await;
    let addr = gw.raw_tcp_listener(codec).await;
    let mut cp = Charger::connect(addr, Envelope::preset(codec).unwrap()).await;

    let early = cp.call("0", "Heartbeat", json!({})).await;
    assert_eq!(early[0], 4);
    assert_eq!(
        early[2], "SecurityError",
        "{codec}: a CALL before the boot is refused"
    );

    let boot = cp
        .call(
            "1",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": TCP_CHARGER}),
        )
        .await;
    assert_eq!(
        boot,
        json!([3, "1", {"status": "Accepted", "currentTime": NOW, "interval": 300}])
    );
    let online = gw.event("online").await;
    assert_eq!(online.charger, TCP_CHARGER);
    assert!(
        gw.sessions.get(TCP_CHARGER).is_some(),
        "the charger is in the session registry"
    );

    let beat = cp.call("2", "Heartbeat", json!({})).await;
    assert_eq!(beat, json!([3, "2", {"currentTime": NOW}]));
    assert_eq!(gw.event("heartbeat").await.charger, TCP_CHARGER);

    // A schema violation gets the CALLERROR the spec names, and the stream goes on.
    let bad = cp
        .call("3", "StatusNotification", json!({"connectorId": 1}))
        .await;
    assert_eq!(bad[0], 4);
    assert_eq!(bad[2], "OccurenceConstraintViolation");
    let beat = cp.call("4", "Heartbeat", json!({})).await;
    assert_eq!(beat[0], 3);
}

#[tokio::test]
async fn a_raw_tcp_charger_with_the_ocpp_tcp_preset_boots_and_heartbeats() {
    boots_and_heartbeats(OCPP_TCP).await;
}

#[tokio::test]
async fn a_raw_tcp_charger_with_the_second_preset_boots_and_heartbeats() {
    boots_and_heartbeats(OCPP_TCP_ALT).await;
}

#[tokio::test]
async fn an_unknown_raw_tcp_charger_gets_a_rejected_boot_and_is_closed() {
    let gw = gateway(true).await;
    let addr = gw.raw_tcp_listener(OCPP_TCP).await;
    let mut cp = Charger::connect(addr, Envelope::ocpp_tcp()).await;
    let boot = cp
        .call(
            "1",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "STRANGER"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Rejected");
    let mut rest = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), cp.socket.read(&mut rest))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "the connection is closed after the rejection");
}
