//! The HTTP listener over a real socket: health, metrics and the REST API's admin rule.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_without_a_token_answers_a_loopback_client() {
    let gw = start(loopback_config()).await;
    let http = gw.local_addr("http").unwrap();
    let (code, body) = get(http, "/api/v1/chargers").await;
    assert_eq!(code, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total"], 0);
    assert_eq!(get(http, "/api/v1/chargers/nobody").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_with_a_token_refuses_a_missing_or_wrong_bearer_with_401() {
    let mut c = loopback_config();
    c.http.admin_token = Some("t0ken".into());
    let gw = start(c).await;
    let http = gw.local_addr("http").unwrap();
    assert_eq!(get(http, "/api/v1/chargers").await.0, 401);
    assert_eq!(http_get_with(http, "Bearer wrong").await, 401);
    assert_eq!(http_get_with(http, "Bearer t0ken").await, 200);
    assert_eq!(get(http, "/healthz").await.0, 200, "health needs no token");
}

async fn http_get_with(addr: std::net::SocketAddr, authorization: &str) -> u16 {
    http(
        addr,
        "GET",
        "/api/v1/chargers",
        &[("Authorization", authorization)],
        "",
    )
    .await
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_to_a_gateway_without_sessions_answers_offline() {
    let gw = start(loopback_config()).await;
    let body = r#"{"id":"c-1","command":"reset","args":{"hard":true}}"#;
    let (code, reply) = http(
        gw.local_addr("http").unwrap(),
        "POST",
        "/api/v1/chargers/CP1/commands",
        &[("Content-Type", "application/json")],
        body,
    )
    .await;
    assert_eq!(code, 200, "{reply}");
    let r: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        (r["command_id"].as_str(), r["status"].as_str()),
        (Some("c-1"), Some("offline"))
    );
}
