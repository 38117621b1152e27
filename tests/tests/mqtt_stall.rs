//! A broker that keeps the TCP connection but stops answering (SIGSTOP): after `mqtt.puback_timeout_secs` the
//! gateway spools what is outstanding, so a bill is still acknowledged (after the spool sync) and nothing is
//! lost once the broker resumes (SIGCONT).

use std::collections::HashSet;
use std::time::Duration;

use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::{metric_value, TestGateway, YkcCharger};

const SERIAL: &str = "32010200000051012508211200000001";
const EVENTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_broker_is_bridged_by_the_spool() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let mut gw = TestGateway::start(|c| {
        use_external(c, port, "cgs");
        c.mqtt.puback_timeout_secs = 1;
        c.mqtt.keep_alive_secs = 60;
        c.limits.rate_frames_per_sec = 1_000_000;
        c.limits.rate_bytes_per_sec = 1 << 30;
    })
    .await;
    let (_keep, dummy) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut gw.events, dummy);
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let mut obs = Observer::connect(port, "cgs-platform", &["cgs/+/up/+"]).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000051").await;
    let id = pile.id();
    pile.login_accepted().await;
    obs.next_on(&format!("cgs/{id}/up/online"), Duration::from_secs(15))
        .await;

    broker.pause();
    for i in 0..EVENTS {
        pile.realtime(400.0, 50.0, i as f64 / 1000.0).await;
    }
    pile.transaction(SERIAL, 10.0).await;
    pile.expect(0x40).await;
    let text = gw.metrics_text().await;
    let spooled = metric_value(
        &text,
        r#"chargegate_mqtt_publishes_total{qos="1",result="spooled"}"#,
    );
    assert!(
        spooled.is_some_and(|n| n >= 1.0),
        "the bill was acked via the spool: {spooled:?}"
    );
    broker.resume();

    let meter = format!("cgs/{id}/up/meter");
    let mut ids = HashSet::new();
    let mut bill = false;
    tokio::time::timeout(Duration::from_secs(30), async {
        while ids.len() < EVENTS || !bill {
            let p = obs.rx.recv().await.expect("observer alive");
            if p.topic == meter {
                ids.insert(json(&p)["id"].as_str().unwrap_or_default().to_owned());
            } else if p.topic.ends_with("/up/transaction") {
                bill = true;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} of {EVENTS} meter events, bill {bill}", ids.len()));
    drop(gw);
}
