//! The binary listeners beyond plain YKC, over real sockets against the assembled gateway: a GB/T 27930 CAN relay
//! (hello line, then 13-byte records) and a `sniff` listener serving YKC and OCPP-over-TCP chargers on one port.

use std::time::Duration;

use bytes::BytesMut;
use chargegate::config::SniffMode;
use chargegate_codec::event::EventBody;
use chargegate_codec::frame::FrameEvent;
use chargegate_codec::gbt27930::plugin::hello;
use chargegate_codec::gbt27930::{
    pgn, CanFrame, CanId, Ccs, Permission, RelayLayout, BMS_ADDRESS, CHARGER_ADDRESS,
};
use chargegate_codec::ocpp::envelope::Envelope;
use chargegate_e2e::{metric_value, TestGateway, YkcCharger, WAIT};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

fn relay_record(pgn: u32, source: u8, destination: u8, data: &[u8]) -> Vec<u8> {
    let id = CanId::new(6, pgn, source, destination);
    RelayLayout::InfoFirst
        .encode(&CanFrame::extended(id.to_raw(), data))
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_can_relay_says_hello_and_its_bms_traffic_reaches_the_bus() {
    let loopback = ([127, 0, 0, 1], 0).into();
    let mut gw = TestGateway::start(|c| {
        c.listeners.gbt27930_can.enabled = true;
        c.listeners.gbt27930_can.bind = Some(loopback);
    })
    .await;
    let addr = gw.app.local_addr("gbt27930_can").expect("relay listener");
    let mut relay = TcpStream::connect(addr).await.unwrap();
    relay.write_all(&hello("GBT-RELAY-1", None)).await.unwrap();
    let online = gw.event_of("GBT-RELAY-1", "online").await;
    assert_eq!(online.protocol, "gbt27930/2015");

    // BHM (BMS → charger): the highest charging voltage the battery allows, 750.0 V.
    let mut bytes = relay_record(pgn::BHM, BMS_ADDRESS, CHARGER_ADDRESS, &[0x4C, 0x1D]);
    // CCS (charger → BMS): 500.0 V, 100.0 A into the battery, 12 min.
    let mut ccs = Vec::new();
    Ccs {
        output_voltage_v: 500.0,
        output_current_a: -100.0,
        charging_time_min: 12,
        permission: Some(Permission::Permitted),
    }
    .encode(&mut ccs);
    bytes.extend(relay_record(pgn::CCS, CHARGER_ADDRESS, BMS_ADDRESS, &ccs));
    relay.write_all(&bytes).await.unwrap();

    let bms = gw.event_of("GBT-RELAY-1", "bms").await;
    assert_eq!(bms.protocol, "gbt27930/2015");
    let meter = gw.event_of("GBT-RELAY-1", "meter").await;
    let EventBody::Meter(m) = &meter.body else {
        unreachable!()
    };
    assert_eq!(m.voltage_v, Some(500.0));
    assert_eq!(m.current_a, Some(100.0), "positive into the battery");
    assert_eq!(m.power_kw, Some(50.0));

    // A bad record (DLC 9) is counted and skipped; the stream goes on.
    let mut bad = relay_record(pgn::BHM, BMS_ADDRESS, CHARGER_ADDRESS, &[0x4C, 0x1D]);
    bad[0] = 0x89;
    relay.write_all(&bad).await.unwrap();
    relay
        .write_all(&relay_record(
            pgn::BHM,
            BMS_ADDRESS,
            CHARGER_ADDRESS,
            &[0x4C, 0x1D],
        ))
        .await
        .unwrap();
    gw.event_of("GBT-RELAY-1", "bms").await;
    let text = gw.metrics_text().await;
    let series = r#"chargegate_decode_errors_total{kind="malformed",protocol="gbt27930-can"}"#;
    assert_eq!(metric_value(&text, series), Some(1.0), "{series}\n{text}");

    drop(relay);
    let offline = gw.event_of("GBT-RELAY-1", "offline").await;
    let EventBody::Offline(o) = &offline.body else {
        unreachable!()
    };
    assert_eq!(o.reason, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_does_not_say_hello_first_is_closed() {
    let loopback = ([127, 0, 0, 1], 0).into();
    let gw = TestGateway::start(|c| {
        c.listeners.gbt27930_can.enabled = true;
        c.listeners.gbt27930_can.bind = Some(loopback);
    })
    .await;
    let addr = gw.app.local_addr("gbt27930_can").expect("relay listener");
    let mut relay = TcpStream::connect(addr).await.unwrap();
    relay
        .write_all(&relay_record(
            pgn::BHM,
            BMS_ADDRESS,
            CHARGER_ADDRESS,
            &[0x4C, 0x1D],
        ))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, relay.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

/// An OCPP-over-TCP charger in the `ocpp-tcp` envelope.
struct EnvelopeCharger {
    socket: TcpStream,
    envelope: Envelope,
    decoder: chargegate_codec::frame::FrameDecoder,
    buf: BytesMut,
}

impl EnvelopeCharger {
    async fn call(&mut self, id: &str, action: &str, payload: Value) -> Value {
        let text = json!([2, id, action, payload]).to_string();
        let frame = self.envelope.encode(text.as_bytes()).unwrap();
        self.socket.write_all(&frame).await.unwrap();
        loop {
            if let Some(FrameEvent::Frame { bytes, .. }) =
                self.decoder.decode(&mut self.buf).unwrap()
            {
                return serde_json::from_slice(self.envelope.payload(&bytes).unwrap()).unwrap();
            }
            let n = tokio::time::timeout(WAIT, self.socket.read_buf(&mut self.buf))
                .await
                .expect("a reply in time")
                .unwrap();
            assert!(n > 0, "gateway closed the connection");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sniff_listener_serves_ykc_and_ocpp_tcp_chargers_on_one_port() {
    let mut gw = TestGateway::start(|c| {
        c.listeners.ykc.sniff = SniffMode::Auto;
        c.limits.auth_deadline_secs = 2;
    })
    .await;
    let port = gw.ykc();

    let mut pile = YkcCharger::connect(port, "32010200000042").await;
    pile.login_accepted().await;
    let online = gw.event_of(&pile.id(), "online").await;
    assert_eq!(online.protocol, "ykc/1.6");

    let envelope = Envelope::ocpp_tcp();
    let mut cp = EnvelopeCharger {
        socket: TcpStream::connect(port).await.unwrap(),
        decoder: envelope.decoder(),
        envelope,
        buf: BytesMut::new(),
    };
    let boot = cp
        .call(
            "1",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "TCP-SNIFF-1"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    let online = gw.event_of("TCP-SNIFF-1", "online").await;
    assert_eq!(online.protocol, "ocpp/1.6");

    // Both stay served side by side.
    pile.heartbeat().await;
    pile.expect(0x04).await;
    let beat = cp.call("2", "Heartbeat", json!({})).await;
    assert_eq!(beat[0], 3);

    // Bytes no codec recognises go to the listener's fallback (`ykc`), which never sees a login: closed at the
    // login deadline.
    let mut stranger = TcpStream::connect(port).await.unwrap();
    stranger.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(15), stranger.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ocpp_tcp_listener_serves_its_envelope_preset() {
    let loopback = ([127, 0, 0, 1], 0).into();
    let mut gw = TestGateway::start(|c| {
        c.listeners.ocpp_tcp.enabled = true;
        c.listeners.ocpp_tcp.bind = Some(loopback);
    })
    .await;
    let addr = gw.app.local_addr("ocpp_tcp").expect("ocpp_tcp listener");
    let envelope = Envelope::ocpp_tcp();
    let mut cp = EnvelopeCharger {
        socket: TcpStream::connect(addr).await.unwrap(),
        decoder: envelope.decoder(),
        envelope,
        buf: BytesMut::new(),
    };
    let boot = cp
        .call(
            "1",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "TCP-PLAIN-1"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Accepted", "{boot}");
    assert_eq!(
        gw.event_of("TCP-PLAIN-1", "online").await.protocol,
        "ocpp/1.6"
    );
    let status = cp
        .call(
            "2",
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
        )
        .await;
    assert_eq!(status, json!([3, "2", {}]));
    gw.event_of("TCP-PLAIN-1", "status").await;
}
