use super::*;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use chargegate_codec::command::Command;
use chargegate_codec::event::{CommandResultData, CommandStatus};
use tower::ServiceExt;

fn charger(id: &str, station: &str, protocol: &str, state: &str) -> ChargerInfo {
    ChargerInfo {
        id: id.into(),
        station: Some(station.into()),
        protocol: protocol.into(),
        state: state.into(),
        connected_since: None,
        last_seen: None,
        peer: None,
        worker: None,
        instance: None,
    }
}

struct Echo;
impl CommandDispatcher for Echo {
    fn dispatch(&self, _charger: String, command: Command) -> DispatchFuture {
        Box::pin(async move {
            CommandResultData {
                command_id: command.id,
                command: command.kind.name().into(),
                status: CommandStatus::Accepted,
                detail: serde_json::Value::Null,
            }
        })
    }
}

struct Never;
impl CommandDispatcher for Never {
    fn dispatch(&self, _charger: String, _command: Command) -> DispatchFuture {
        Box::pin(std::future::pending())
    }
}

fn state(token: Option<&str>, dispatcher: Arc<dyn CommandDispatcher>) -> HttpState {
    let mut config = Config::default();
    config.http.admin_token = token.map(str::to_owned);
    let directory = StaticDirectory::new(vec![
        charger("C3", "S2", "ocpp/1.6", "online"),
        charger("C1", "S1", "ykc/1.6", "online"),
        charger("C2", "S1", "ykc/1.6", "offline"),
    ]);
    let mut s = HttpState::new(
        &config,
        Metrics::new().unwrap(),
        Arc::default(),
        Arc::new(directory),
        dispatcher,
    );
    s.command_timeout = Duration::from_millis(50);
    s
}

fn app(s: HttpState, peer: &str) -> Router {
    router(s, placeholder_hooks()).layer(MockConnectInfo(peer.parse::<SocketAddr>().unwrap()))
}

async fn call(app: Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_req(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

const LOOPBACK: &str = "127.0.0.1:5000";
const REMOTE: &str = "203.0.113.9:5000";

#[tokio::test]
async fn readyz_is_503_until_listeners_are_bound_then_503_again_while_draining() {
    let s = state(None, Arc::new(Echo));
    let readiness = Arc::clone(&s.readiness);
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/readyz")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    readiness.set_ready();
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/readyz")).await.0,
        StatusCode::OK
    );
    readiness.set_draining();
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/readyz")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        call(app(s, LOOPBACK), get_req("/healthz")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_answers_in_prometheus_text_format() {
    let s = state(None, Arc::new(Echo));
    s.metrics
        .refused
        .with_label_values(&["ykc", "denied"])
        .inc();
    let (code, body) = call(app(s, REMOTE), get_req("/metrics")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        body.contains("chargegate_connections_refused_total{listener=\"ykc\",reason=\"denied\"} 1")
    );
}

#[tokio::test]
async fn without_a_token_rest_answers_loopback_and_refuses_others() {
    let s = state(None, Arc::new(Echo));
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/api/v1/chargers"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(app(s.clone(), "[::1]:5000"), get_req("/api/v1/chargers"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(app(s, REMOTE), get_req("/api/v1/chargers")).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn with_a_token_a_missing_or_wrong_bearer_gets_401() {
    let s = state(Some("s3cret"), Arc::new(Echo));
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/api/v1/chargers"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let wrong = Request::get("/api/v1/chargers")
        .header("authorization", "Bearer nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        call(app(s.clone(), LOOPBACK), wrong).await.0,
        StatusCode::UNAUTHORIZED
    );
    let right = Request::get("/api/v1/chargers")
        .header("authorization", "Bearer s3cret")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(app(s, REMOTE), right).await.0, StatusCode::OK);
}

#[tokio::test]
async fn charger_list_is_paged_and_filtered() {
    let s = state(None, Arc::new(Echo));
    let (_, body) = call(
        app(s.clone(), LOOPBACK),
        get_req("/api/v1/chargers?station=S1&limit=1&offset=1"),
    )
    .await;
    let page: ChargerPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C2"]
    );
    let (_, body) = call(
        app(s.clone(), LOOPBACK),
        get_req("/api/v1/chargers?protocol=ocpp&state=online"),
    )
    .await;
    let page: ChargerPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, "C3");
    let (code, _) = call(app(s.clone(), LOOPBACK), get_req("/api/v1/chargers/C1")).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = call(app(s, LOOPBACK), get_req("/api/v1/chargers/NOPE")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

fn command_req() -> Request<Body> {
    Request::post("/api/v1/chargers/C1/commands")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"id":"cmd-1","command":"reset","args":{"hard":false}}"#,
        ))
        .unwrap()
}

#[tokio::test]
async fn a_command_returns_the_correlated_result() {
    let (code, body) = call(app(state(None, Arc::new(Echo)), LOOPBACK), command_req()).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let r: CommandResultData = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (r.command_id.as_str(), r.status),
        ("cmd-1", CommandStatus::Accepted)
    );
}

#[tokio::test]
async fn a_command_without_answer_times_out_with_504() {
    let (code, body) = call(app(state(None, Arc::new(Never)), LOOPBACK), command_req()).await;
    assert_eq!(code, StatusCode::GATEWAY_TIMEOUT);
    let r: CommandResultData = serde_json::from_str(&body).unwrap();
    assert_eq!(r.status, CommandStatus::Timeout);
}

#[tokio::test]
async fn ocpp_and_ws_hooks_exist_but_are_not_implemented_yet() {
    let s = state(None, Arc::new(Echo));
    assert_eq!(
        call(app(s.clone(), LOOPBACK), get_req("/ocpp/CP%201"))
            .await
            .0,
        StatusCode::NOT_IMPLEMENTED
    );
    assert_eq!(
        call(app(s, LOOPBACK), get_req("/ws")).await.0,
        StatusCode::NOT_IMPLEMENTED
    );
}

#[tokio::test]
async fn accepted_http_connections_have_nagle_off() {
    // A `/ws` subscriber gets a stream of small writes; with Nagle on, each waited for the ACK of the previous one.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut accepted, _) = listener.accept().await.unwrap();
    assert!(
        !accepted.nodelay().unwrap(),
        "the kernel default is Nagle on"
    );
    no_nagle(&mut accepted);
    assert!(accepted.nodelay().unwrap());
    drop(client);
}
