//! A command published on `{p}/{charger}/down` reaches the charger through the dispatcher REST uses, and its
//! correlated result arrives on `{p}/{charger}/reply`.

use std::time::Duration;

use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::{TestGateway, YkcCharger};
use rumqttc::QoS;

const WITHIN: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_from_mqtt_reaches_the_pile_and_its_result_comes_back() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let gw = TestGateway::start(|c| use_external(c, port, "cgc")).await;
    let mut obs = Observer::connect(port, "cgc-platform", &["cgc/+/reply", "cgc/+/presence"]).await;
    let mut pile = YkcCharger::connect(gw.ykc(), "32010200000021").await;
    let id = pile.id();
    pile.login_accepted().await;
    // Once presence is out, the gateway's session (and its subscriptions) are live.
    obs.next_on(&format!("cgc/{id}/presence"), WITHIN).await;

    let command = serde_json::json!({"id": "mq-1", "command": "start", "args": {"connector": 1}});
    obs.client
        .publish(
            format!("cgc/{id}/down"),
            QoS::AtLeastOnce,
            false,
            command.to_string(),
        )
        .await
        .unwrap();
    let start = pile.expect(0x34).await;
    pile.accept_remote_start(&start).await;

    let reply = obs.next_on(&format!("cgc/{id}/reply"), WITHIN).await;
    assert_eq!(reply.qos, QoS::AtLeastOnce);
    let r = json(&reply);
    assert_eq!(r["id"], "mq-1");
    assert_eq!(r["command"], "start");
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["charger"], id.as_str());

    // Garbage on the down topic is answered, not ignored.
    obs.client
        .publish(
            format!("cgc/{id}/down"),
            QoS::AtLeastOnce,
            false,
            "{not json",
        )
        .await
        .unwrap();
    let r = json(&obs.next_on(&format!("cgc/{id}/reply"), WITHIN).await);
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["detail"]["error"], "bad_command");
    drop(gw);
}
