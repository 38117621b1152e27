//! Connection lifetimes through a running gateway: the login deadline, liveness timeouts, takeover by a second
//! login, and a command that waits for its charger to come back. Timeouts are shortened by configuration.

use std::time::{Duration, Instant};

use chargegate_codec::event::EventBody;
use chargegate_e2e::{http, metric_value, TestGateway, YkcCharger, WAIT};
use serde_json::json;

const PILE: &str = "32010200000002";
/// The wheel tick the tests configure.
const TICK: Duration = Duration::from_millis(100);
/// Scheduling slack on a shared test machine.
const SLACK: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_logs_in_is_closed_at_the_deadline() {
    let gw = TestGateway::start(|c| c.limits.auth_deadline_secs = 1).await;
    let started = Instant::now();
    let mut silent = YkcCharger::connect(gw.ykc(), PILE).await;
    silent
        .expect_closed(Duration::from_secs(1) + TICK + SLACK)
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed too early"
    );
    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_auth_failures_total{protocol="ykc",reason="login_deadline"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_before_login_closes_the_connection() {
    let gw = TestGateway::start(|_| {}).await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.heartbeat().await;
    pile.expect_closed(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_charger_goes_offline_within_its_timeout_and_one_tick() {
    let mut gw = TestGateway::start(|c| {
        c.liveness.ykc_heartbeat_secs = 1;
        c.liveness.ykc_missed_heartbeats = 1;
    })
    .await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    let last_frame = Instant::now();
    let offline = gw
        .event(Duration::from_secs(1) + TICK + SLACK, |e| {
            e.charger == PILE && e.kind() == "offline"
        })
        .await;
    let silence = last_frame.elapsed();
    assert!(
        silence >= Duration::from_millis(900),
        "offline after {silence:?}"
    );
    let EventBody::Offline(o) = &offline.body else {
        unreachable!()
    };
    assert_eq!(o.reason, "liveness_timeout");
    pile.expect_closed(WAIT).await;
    let text = gw.metrics_text().await;
    assert_eq!(
        metric_value(
            &text,
            r#"chargegate_liveness_timeouts_total{protocol="ykc"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_charger_online_past_its_timeout() {
    let gw = TestGateway::start(|c| {
        c.liveness.ykc_heartbeat_secs = 1;
        c.liveness.ykc_missed_heartbeats = 1;
    })
    .await;
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        pile.heartbeat().await;
        pile.expect(0x04).await;
    }
    assert_eq!(gw.app.sessions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_with_the_same_id_takes_over_and_closes_the_first_socket() {
    let gw = TestGateway::start(|_| {}).await;
    let mut first = YkcCharger::connect(gw.ykc(), PILE).await;
    first.login_accepted().await;
    let mut second = YkcCharger::connect(gw.ykc(), PILE).await;
    second.login_accepted().await;
    first.expect_closed(WAIT).await;
    second.heartbeat().await;
    second.expect(0x04).await;
    assert_eq!(gw.app.sessions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_to_an_offline_charger_is_delivered_after_it_reconnects() {
    let gw = TestGateway::start(|_| {}).await;
    let rest = tokio::spawn(http::command(
        gw.http(),
        PILE,
        json!({"id": "late-1", "command": "start", "args": {"connector": 1}}),
    ));
    tokio::time::timeout(WAIT, async {
        while gw.app.sessions().pending().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the command waits in the pending queue");
    let mut pile = YkcCharger::connect(gw.ykc(), PILE).await;
    pile.login_accepted().await;
    let start = pile.expect(0x34).await;
    pile.accept_remote_start(&start).await;
    let (status, result) = rest.await.unwrap();
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["command_id"], "late-1");
    assert_eq!(result["status"], "accepted");
}
