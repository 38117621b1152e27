//! A YKC pile's everyday life through a running gateway: login, heartbeat, real-time data on the bus, and a
//! remote start sent over REST whose correlated result comes back to the REST caller.

use chargegate_codec::event::EventBody;
use chargegate_codec::ykc::{CrcOrder, Message};
use chargegate_e2e::{http, metric_value, TestGateway, YkcCharger};
use serde_json::json;

const PILE: &str = "32010200000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pile_logs_in_heartbeats_reports_and_takes_a_remote_start_over_rest() {
    let mut gw = TestGateway::start(|_| {}).await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;

    pile.login().await;
    let reply = pile.expect(0x02).await;
    // The test charger's stream decoder only yields frames whose CRC-16/MODBUS checks, in the spec's byte order.
    assert_eq!(reply.frame.crc_order, CrcOrder::Spec);
    assert!(matches!(reply.message, Message::LoginReply(r) if r.is_success()));
    let online = gw.event_of(PILE, "online").await;
    assert_eq!(online.protocol, "ykc/1.6");

    pile.heartbeat().await;
    let hb = pile.expect(0x04).await;
    assert!(matches!(hb.message, Message::HeartbeatReply(r) if r.pile == pile.pile));

    pile.realtime(380.0, 50.0, 12.5).await;
    let meter = gw.event_of(PILE, "meter").await;
    let EventBody::Meter(m) = &meter.body else {
        unreachable!()
    };
    assert_eq!(meter.connector, Some(1));
    assert_eq!(m.voltage_v, Some(380.0));
    assert_eq!(m.current_a, Some(50.0));
    assert_eq!(m.energy_kwh, Some(12.5));

    let (status, list) = http::request(gw.http(), "GET", "/api/v1/chargers", None).await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], PILE);

    let rest = tokio::spawn(http::command(
        gw.http(),
        PILE,
        json!({"id": "cmd-1", "command": "start", "args": {"connector": 1}}),
    ));
    let start = pile.expect(0x34).await;
    let sent = pile.accept_remote_start(&start).await;
    let (status, result) = rest.await.unwrap();
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["command_id"], "cmd-1");
    assert_eq!(result["status"], "accepted");
    let serial = sent.serial.to_string();
    assert_eq!(result["detail"]["transaction_id"], serial.as_str());
    assert!(
        serial.starts_with(&format!("{PILE}01")),
        "generated serial = pile + gun + time + counter: {serial}"
    );

    let text = gw.metrics_text().await;
    for (series, value) in [
        (r#"chargegate_connections{listener="ykc",worker="0"}"#, 1.0),
        (
            r#"chargegate_frames_in_total{protocol="ykc",type="0x01"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_in_total{protocol="ykc",type="0x03"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_in_total{protocol="ykc",type="0x13"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_in_total{protocol="ykc",type="0x33"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_out_total{protocol="ykc",type="login_reply"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_out_total{protocol="ykc",type="reply"}"#,
            1.0,
        ),
        (
            r#"chargegate_frames_out_total{protocol="ykc",type="command"}"#,
            1.0,
        ),
        (
            r#"chargegate_command_latency_seconds_count{command="start",protocol="ykc"}"#,
            1.0,
        ),
    ] {
        assert_eq!(metric_value(&text, series), Some(value), "{series}\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_with_a_bad_crc_is_counted_and_the_connection_goes_on() {
    let gw = TestGateway::start(|_| {}).await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    // id S36-badcrc — DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §8.5: the CRC as printed.
    pile.send_raw(&hex::decode("680C000300363201020000000101C1A9").unwrap())
        .await;
    pile.heartbeat().await;
    pile.expect(0x04).await;
    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_decode_errors_total{kind="bad_checksum",protocol="ykc"}"#
        ),
        Some(1.0),
        "{text}"
    );
}
