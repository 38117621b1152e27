//! The patched rumqttc writes several queued publishes per flush (`mqtt.request_batch`, default 128) — but only as
//! many as the QoS 1 window allows. With a window of 3 and a burst of 2,000 QoS 1 meter events from a YKC pile over
//! TCP, every event reaches the platform exactly once and in the order the charger sent it (Mosquitto keeps one
//! publisher's order), and the gateway counts every one acknowledged: the batch never overruns the window or
//! reuses a packet id still in flight.

use std::time::Duration;

use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::{metric_value, TestGateway, YkcCharger};
use rumqttc::QoS;

const EVENTS: usize = 2_000;
const WINDOW: u16 = 3;
const WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_through_a_small_window_arrives_complete_and_in_order() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let gw = TestGateway::start(|c| {
        use_external(c, port, "cgb");
        c.mqtt.inflight = WINDOW;
        c.mqtt.qos.telemetry = 1;
        c.limits.rate_frames_per_sec = 1_000_000;
        c.limits.rate_bytes_per_sec = 1 << 30;
    })
    .await;
    let mut obs = Observer::connect(port, "cgb-platform", &["cgb/+/up/meter"]).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000041").await;
    let id = pile.id();
    pile.login_accepted().await;

    for i in 0..EVENTS {
        pile.realtime(400.0, 50.0, i as f64 / 1000.0).await;
    }
    let meter = format!("cgb/{id}/up/meter");
    let mut seen = Vec::with_capacity(EVENTS);
    tokio::time::timeout(WITHIN, async {
        while seen.len() < EVENTS {
            let p = obs.rx.recv().await.expect("observer alive");
            if p.topic == meter {
                assert_eq!(p.qos, QoS::AtLeastOnce);
                let kwh = json(&p)["data"]["energy_kwh"].as_f64().expect("energy");
                seen.push((kwh * 1000.0).round() as usize);
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} of {EVENTS} meter events arrived", seen.len()));
    let expected: Vec<usize> = (0..EVENTS).collect();
    assert_eq!(seen, expected, "every event once, in the charger's order");

    let text = gw.metrics_text().await;
    let acked = metric_value(
        &text,
        r#"chargegate_mqtt_publishes_total{qos="1",result="acked"}"#,
    );
    assert!(
        acked.is_some_and(|n| n >= EVENTS as f64),
        "every meter event acknowledged by the broker: {acked:?}"
    );
    drop(gw);
}
