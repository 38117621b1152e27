//! Two gateway instances on one Mosquitto: a command published on the broker reaches the pile on whichever
//! instance holds it (the other stays silent), and a pile that reconnects to the other instance takes over — the
//! first instance closes its old connection when it sees the newer presence.

use std::time::Duration;

use chargegate_e2e::mqtt::{json, use_external, Mosquitto, Observer};
use chargegate_e2e::{TestGateway, YkcCharger};
use rumqttc::QoS;

const WITHIN: Duration = Duration::from_secs(15);
const PILE: &str = "32010200000041";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_finds_the_holding_instance_and_a_reconnect_elsewhere_takes_over() {
    let broker = Mosquitto::start().await;
    let port = broker.port;
    let a = TestGateway::start(|c| {
        use_external(c, port, "cgi");
        c.instance = "gw-a".into();
    })
    .await;
    let b = TestGateway::start(|c| {
        use_external(c, port, "cgi");
        c.instance = "gw-b".into();
    })
    .await;
    let mut obs = Observer::connect(port, "cgi-platform", &["cgi/+/reply", "cgi/+/presence"]).await;

    let mut on_b = YkcCharger::connect(b.ykc(), PILE).await;
    on_b.login_accepted().await;
    let p = json(&obs.next_on(&format!("cgi/{PILE}/presence"), WITHIN).await);
    assert_eq!(p["instance"], "gw-b");

    let command = serde_json::json!({"id": "mi-1", "command": "start", "args": {"connector": 1}});
    obs.client
        .publish(
            format!("cgi/{PILE}/down"),
            QoS::AtLeastOnce,
            false,
            command.to_string(),
        )
        .await
        .unwrap();
    let start = on_b.expect(0x34).await;
    on_b.accept_remote_start(&start).await;
    let r = json(&obs.next_on(&format!("cgi/{PILE}/reply"), WITHIN).await);
    assert_eq!(
        (
            r["id"].as_str(),
            r["status"].as_str(),
            r["instance"].as_str()
        ),
        (Some("mi-1"), Some("accepted"), Some("gw-b"))
    );

    // The pile comes back through the load balancer on instance A: B must let go of its old connection.
    let mut on_a = YkcCharger::connect(a.ykc(), PILE).await;
    on_a.login_accepted().await;
    let p = json(
        &obs.next_where(WITHIN, |m| {
            m.topic == format!("cgi/{PILE}/presence") && json(m)["instance"] == "gw-a"
        })
        .await,
    );
    assert_eq!(p["state"], "online");
    on_b.expect_closed(WITHIN).await;
    // The retained presence still names A: B's close was a takeover and published nothing.
    let mut late = Observer::connect(port, "cgi-late", &["cgi/+/presence"]).await;
    let p = json(&late.next_on(&format!("cgi/{PILE}/presence"), WITHIN).await);
    assert_eq!(
        (p["state"].as_str(), p["instance"].as_str()),
        (Some("online"), Some("gw-a"))
    );
    drop((a, b));
}
