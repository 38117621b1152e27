//! Events reach the broker on `{p}/{charger}/up/{kind}` with the QoS of their class; presence is retained and
//! flips to offline on disconnect and on liveness timeout — against a real Mosquitto and the embedded broker.

use std::time::Duration;

use chargegate_codec::ykc::heartbeat::Heartbeat;
use chargegate_codec::ykc::Message;
use chargegate_e2e::mqtt::{
    free_port, json, use_embedded, use_external, wait_listening, Mosquitto, Observer,
};
use chargegate_e2e::{metric_value, TestGateway, YkcCharger};
use rumqttc::QoS;

const WITHIN: Duration = Duration::from_secs(15);

/// `downgrades`: the broker delivers at min(publish QoS, subscription QoS) as MQTT 3.1.1 says (Mosquitto); rumqttd
/// 0.20 delivers at the subscription QoS, so there the gateway's own publish counter shows the heartbeat's QoS.
async fn events_and_presence(port: u16, gw: TestGateway, prefix: &str, downgrades: bool) {
    let mut obs =
        Observer::connect(port, &format!("{prefix}-obs"), &[&format!("{prefix}/#")]).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000011").await;
    let id = pile.id();
    pile.login_accepted().await;

    let online = obs
        .next_on(&format!("{prefix}/{id}/up/online"), WITHIN)
        .await;
    assert_eq!(online.qos, QoS::AtLeastOnce);
    assert!(!online.retain);
    assert_eq!(json(&online)["kind"], "online");

    let presence = obs
        .next_on(&format!("{prefix}/{id}/presence"), WITHIN)
        .await;
    let p = json(&presence);
    assert_eq!(p["state"], "online");
    assert_eq!(p["instance"], "chargegate");
    assert!(p["session"].as_str().is_some_and(|s| !s.is_empty()));

    // A platform that connects later gets the presence as a retained message.
    let mut late = Observer::connect(
        port,
        &format!("{prefix}-late"),
        &[&format!("{prefix}/+/presence")],
    )
    .await;
    let retained = late
        .next_on(&format!("{prefix}/{id}/presence"), WITHIN)
        .await;
    assert!(retained.retain, "presence is retained");

    pile.heartbeat().await;
    let hb = obs
        .next_on(&format!("{prefix}/{id}/up/heartbeat"), WITHIN)
        .await;
    if downgrades {
        assert_eq!(hb.qos, QoS::AtMostOnce, "heartbeats are QoS 0");
    } else {
        let text = gw.metrics_text().await;
        let sent = metric_value(
            &text,
            r#"chargegate_mqtt_publishes_total{qos="0",result="sent"}"#,
        );
        assert!(
            sent.is_some_and(|n| n >= 1.0),
            "heartbeats are published with QoS 0: {sent:?}"
        );
    }
    pile.realtime(400.0, 50.0, 1.5).await;
    let meter = obs
        .next_on(&format!("{prefix}/{id}/up/meter"), WITHIN)
        .await;
    assert_eq!(meter.qos, QoS::AtLeastOnce, "telemetry is QoS 1");

    // A frame with a broken CRC goes to the dead-letter topic with all its bytes.
    let mut bad = chargegate_e2e::frame(
        &Message::Heartbeat(Heartbeat {
            pile: pile.pile,
            gun: 1,
            gun_status: 0,
        }),
        [0, 9],
    )
    .to_vec();
    if let Some(last) = bad.last_mut() {
        *last ^= 0xFF;
    }
    pile.send_raw(&bad).await;
    let dead = json(&obs.next_on(&format!("{prefix}/_dead/{id}"), WITHIN).await);
    assert_eq!(dead["error"], "bad_checksum");
    assert_eq!(dead["hex"], hex::encode(&bad));
    assert_eq!(dead["code"], "A0705");

    drop(pile);
    let off = obs
        .next_on(&format!("{prefix}/{id}/presence"), WITHIN)
        .await;
    let p = json(&off);
    assert_eq!(
        (p["state"].as_str(), p["reason"].as_str()),
        (Some("offline"), Some("closed"))
    );

    // A pile that logs in and goes silent is declared offline by the liveness timeout.
    let mut quiet = YkcCharger::connect(gw.ykc(), "32010200000012").await;
    let qid = quiet.id();
    quiet.login_accepted().await;
    let p = json(
        &obs.next_on(&format!("{prefix}/{qid}/presence"), WITHIN)
            .await,
    );
    assert_eq!(p["state"], "online");
    let p = json(
        &obs.next_on(&format!("{prefix}/{qid}/presence"), WITHIN)
            .await,
    );
    assert_eq!(
        (p["state"].as_str(), p["reason"].as_str()),
        (Some("offline"), Some("liveness_timeout"))
    );
    drop(gw);
}

fn short_liveness(c: &mut chargegate::config::Config) {
    c.liveness.ykc_heartbeat_secs = 1;
    c.liveness.ykc_missed_heartbeats = 2;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ykc_events_and_presence_on_mosquitto() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let gw = TestGateway::start(|c| {
        use_external(c, port, "cgt");
        short_liveness(c);
    })
    .await;
    events_and_presence(port, gw, "cgt", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ykc_events_and_presence_on_the_embedded_broker() {
    let port = free_port();
    let gw = TestGateway::start(|c| {
        use_embedded(c, port, "cge");
        short_liveness(c);
    })
    .await;
    wait_listening(port).await;
    events_and_presence(port, gw, "cge", false).await;
}
