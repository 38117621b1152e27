//! The MQTT command round trip through the embedded broker (rumqttd, the default) stays in the millisecond range:
//! `{p}/{charger}/down` → the pile answers → `{p}/{charger}/reply`, one command at a time, 50 times.
//!
//! Before the rumqttd patch (gateway/vendor/rumqttd/CHARGEGATE-PATCH.md) the broker's sockets kept Nagle on and
//! every round trip waited for a delayed ACK: ~44 ms each (p50 44.0 ms, p99 45.9 ms in `device-sim/bench/latency`).
//! The bound here is wide on purpose (a loaded debug build still fits easily; a 40 ms stall per round trip does not).

use std::time::{Duration, Instant};

use chargegate_e2e::mqtt::{free_port, json, use_embedded, wait_listening, Observer};
use chargegate_e2e::{TestGateway, YkcCharger};
use rumqttc::QoS;

const WITHIN: Duration = Duration::from_secs(15);
const ROUND_TRIPS: usize = 50;
/// Median bound: a Nagle stall makes every round trip ≥ 40 ms.
const MEDIAN_BOUND: Duration = Duration::from_millis(20);
/// p90 bound: lets a few round trips lose the CPU on a shared box, still far below a stall on most of them.
const P90_BOUND: Duration = Duration::from_millis(35);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_commands_through_the_embedded_broker_round_trip_without_nagle_stalls() {
    let port = free_port();
    let gw = TestGateway::start(|c| use_embedded(c, port, "cgl")).await;
    wait_listening(port).await;
    let mut obs = Observer::connect(port, "cgl-platform", &["cgl/+/reply", "cgl/+/presence"]).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000031").await;
    let id = pile.id();
    pile.login_accepted().await;
    // Once presence is out, the gateway's session (and its subscriptions) are live.
    obs.next_on(&format!("cgl/{id}/presence"), WITHIN).await;

    let mut rtts = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS {
        let command_id = format!("lat-{i}");
        let command =
            serde_json::json!({"id": command_id, "command": "start", "args": {"connector": 1}});
        let sent = Instant::now();
        obs.client
            .publish(
                format!("cgl/{id}/down"),
                QoS::AtLeastOnce,
                false,
                command.to_string(),
            )
            .await
            .unwrap();
        let start = pile.expect(0x34).await;
        pile.accept_remote_start(&start).await;
        let reply = obs.next_on(&format!("cgl/{id}/reply"), WITHIN).await;
        rtts.push(sent.elapsed());
        let r = json(&reply);
        assert_eq!(r["id"], command_id.as_str());
        assert_eq!(r["status"], "accepted");
    }
    rtts.sort();
    let at = |q: f64| rtts[((rtts.len() as f64 * q).ceil() as usize).clamp(1, rtts.len()) - 1];
    let (p50, p90, p99) = (at(0.5), at(0.9), at(0.99));
    eprintln!("MQTT command round trip via the embedded broker over {ROUND_TRIPS}: p50 {p50:?}, p90 {p90:?}, p99 {p99:?}");
    assert!(
        p50 < MEDIAN_BOUND,
        "median round trip {p50:?} (p90 {p90:?}, p99 {p99:?}): Nagle stalls?"
    );
    assert!(
        p90 < P90_BOUND,
        "p90 round trip {p90:?} (p50 {p50:?}, p99 {p99:?})"
    );
    drop(gw);
}
