//! Nothing lost: the broker is stopped for 10 s while 10,000 QoS 1 meter events flow from a YKC pile over TCP
//! (the real charger path, rate limits raised) into the disk spool (a temporary `mqtt.spool.dir`). Every event id arrives once the broker is back (duplicates are
//! allowed by QoS 1 and counted), and a transaction record sent during the outage is acknowledged (0x40) only
//! once the spool holds the bill — never before.

use std::collections::HashMap;
use std::time::Duration;

use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::{metric_value, TestGateway, YkcCharger};

const TOTAL: usize = 10_000;
const BEFORE: usize = 3_000;
const DURING: usize = 4_000;
const OUTAGE: Duration = Duration::from_secs(10);
const SERIAL: &str = "32010200000031012508211200000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_ten_second_broker_outage() {
    let mut broker = Mosquitto::start().await;
    let port = broker.port;
    let spool = tempfile::tempdir().unwrap();
    let dir = spool.path().to_owned();
    let mut gw = TestGateway::start(|c| {
        use_external(c, port, "cgo");
        c.mqtt.spool.dir = Some(dir);
        // The gateway reconnects after the observer has resubscribed, so the replay is seen.
        c.mqtt.reconnect_ms = 2_000;
        c.limits.rate_frames_per_sec = 1_000_000;
        c.limits.rate_bytes_per_sec = 1 << 30;
    })
    .await;
    // The test's own bus subscriber is drained so it never holds up billing events.
    let (_keep, dummy) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut gw.events, dummy);
    tokio::spawn(async move { while events.recv().await.is_some() {} });

    // The platform's consumer has a persistent session on a broker with persistence: whatever the broker
    // acknowledged reaches it, so a missing id can only have been lost by the gateway.
    let mut obs = Observer::connect_with(port, "cgo-platform", &["cgo/+/up/+"], false).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000031").await;
    let id = pile.id();
    pile.login_accepted().await;
    obs.next_on(&format!("cgo/{id}/up/online"), Duration::from_secs(15))
        .await;

    for i in 0..BEFORE {
        pile.realtime(400.0, 50.0, i as f64 / 1000.0).await;
    }
    // Real traffic first: the platform has every pre-outage event before the broker goes down.
    let meter = format!("cgo/{id}/up/meter");
    let mut ids: HashMap<String, usize> = HashMap::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while ids.len() < BEFORE {
            let p = obs.rx.recv().await.expect("observer alive");
            if p.topic == meter {
                *ids.entry(json(&p)["id"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
        }
    })
    .await
    .expect("the pre-outage events reached the platform");
    let subacks = obs.subacks.load(std::sync::atomic::Ordering::SeqCst);
    broker.stop();
    let stopped = tokio::time::Instant::now();
    let pace = OUTAGE.mul_f64(0.8) / (DURING as u32 / 100);
    for i in 0..DURING {
        pile.realtime(400.0, 50.0, (BEFORE + i) as f64 / 1000.0)
            .await;
        if i % 100 == 99 {
            tokio::time::sleep(pace).await;
        }
        if i == DURING / 2 {
            pile.transaction(SERIAL, 21.5).await;
            let ack = pile.expect(0x40).await;
            assert!(
                stopped.elapsed() < OUTAGE,
                "the bill was acknowledged during the outage"
            );
            let text = gw.metrics_text().await;
            let spooled = metric_value(
                &text,
                r#"chargegate_mqtt_publishes_total{qos="1",result="spooled"}"#,
            );
            assert!(
                spooled.is_some_and(|n| n >= 1.0),
                "0x40 only after the bill was spooled: {spooled:?}"
            );
            drop(ack);
        }
    }
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    broker.restart().await;
    obs.resubscribed(subacks).await;
    for i in 0..TOTAL - BEFORE - DURING {
        pile.realtime(400.0, 50.0, (BEFORE + DURING + i) as f64 / 1000.0)
            .await;
    }

    let mut bill = false;
    let mut seen = std::collections::BTreeSet::<usize>::new();
    let transaction = format!("cgo/{id}/up/transaction");
    let collected = tokio::time::timeout(Duration::from_secs(45), async {
        while ids.len() < TOTAL || !bill {
            let p = obs.rx.recv().await.expect("observer alive");
            if p.topic == meter {
                let e = json(&p);
                *ids.entry(e["id"].as_str().unwrap_or_default().to_owned())
                    .or_default() += 1;
                if let Some(kwh) = e["data"]["energy_kwh"].as_f64() {
                    seen.insert((kwh * 1000.0).round() as usize);
                }
            } else if p.topic == transaction {
                bill = true;
            }
        }
    })
    .await;
    let duplicates: usize = ids.values().map(|n| n - 1).sum();
    println!(
        "distinct meter events {} of {TOTAL}, duplicates {duplicates}, bill seen {bill}",
        ids.len()
    );
    if collected.is_err() {
        let missing: Vec<usize> = (BEFORE..TOTAL).filter(|i| !seen.contains(i)).collect();
        println!(
            "missing frame indices: first {:?}, last {:?}, count {}",
            missing.first(),
            missing.last(),
            missing.len()
        );
        let text = gw.metrics_text().await;
        for line in text
            .lines()
            .filter(|l| l.starts_with("chargegate_mqtt_publishes_total"))
        {
            println!("{line}");
        }
    }
    assert!(
        collected.is_ok(),
        "only {} of {TOTAL} event ids arrived (bill seen: {bill})",
        ids.len()
    );
    drop(gw);
}
