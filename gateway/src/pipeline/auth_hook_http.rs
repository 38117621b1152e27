//! The HTTP client behind the [`AuthHook`] trait: each login (that the cache cannot answer) is POSTed as JSON to a
//! configured `http://` URL and the service answers whether the charger may log in.
//!
//! Request body: `{"charger_id": "...", "credential": {"kind": "none" | "secret" | "password", "value": "<base64>"}}`
//! (`value` absent for `none`; secrets are raw bytes, hence base64). Answers:
//!
//! | answer | decision |
//! |---|---|
//! | `200` with `{"allow": true}` | accepted |
//! | `200` with `{"allow": false}`, or `401` / `403` | refused (`hook_refused`), cached |
//! | any other status, a body that is not that JSON, a network error, no answer within `timeout` | `hook_unavailable`: refused, not cached |
//!
//! The client is hyper-util's pooled HTTP/1.1 client (hyper is already the HTTP server's engine); plain HTTP only —
//! a hook is an internal service, put it on loopback or behind a local TLS proxy.

use std::time::Duration;

use axum::http::{header, Method, Request, StatusCode, Uri};
use base64::Engine;
use bytes::Bytes;
use chargegate_codec::plugin::{Credential, LoginInfo};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use super::auth_hook::{AuthHook, HookError, HookFuture};

/// Largest answer body read from the hook.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// Why a hook URL was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookUrlError {
    /// Not a URL.
    #[error("auth hook URL `{0}` does not parse")]
    Parse(String),
    /// Not `http://`.
    #[error("auth hook URL `{0}` must start with http://")]
    Scheme(String),
}

/// An [`AuthHook`] that asks an HTTP service.
pub struct HttpAuthHook {
    client: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
    timeout: Duration,
}

#[derive(Serialize)]
struct HookRequest<'a> {
    charger_id: &'a str,
    credential: HookCredential,
}

#[derive(Serialize)]
struct HookCredential {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

#[derive(Deserialize)]
struct HookAnswer {
    allow: bool,
}

impl HttpAuthHook {
    /// A hook POSTing to `url`, giving each request `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, HookUrlError> {
        let parsed: Uri = url
            .parse()
            .map_err(|_| HookUrlError::Parse(url.to_owned()))?;
        if parsed.scheme_str() != Some("http") {
            return Err(HookUrlError::Scheme(url.to_owned()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        Ok(HttpAuthHook {
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: parsed,
            timeout,
        })
    }

    async fn ask(&self, login: &LoginInfo) -> Result<bool, HookError> {
        let b64 = |bytes: &[u8]| Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        let credential = match &login.credential {
            Credential::None => HookCredential {
                kind: "none",
                value: None,
            },
            Credential::Secret(bytes) => HookCredential {
                kind: "secret",
                value: b64(bytes),
            },
            Credential::Password(p) => HookCredential {
                kind: "password",
                value: b64(p.as_bytes()),
            },
        };
        let body = serde_json::to_vec(&HookRequest {
            charger_id: &login.charger_id,
            credential,
        })
        .map_err(|e| HookError(format!("encode: {e}")))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| HookError(format!("request: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| HookError(format!("request failed: {e}")))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Ok(false);
        }
        if status != StatusCode::OK {
            return Err(HookError(format!("answered {status}")));
        }
        let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| HookError(format!("answer body: {e}")))?
            .to_bytes();
        let answer: HookAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| HookError(format!("answer is not {{\"allow\": bool}}: {e}")))?;
        Ok(answer.allow)
    }
}

impl AuthHook for HttpAuthHook {
    fn check<'a>(&'a self, login: &'a LoginInfo) -> HookFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.ask(login)).await {
                Ok(result) => result,
                Err(_) => Err(HookError(format!(
                    "no answer within {} ms",
                    self.timeout.as_millis()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use axum::extract::State;
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{json, Value};

    use super::*;
    use crate::pipeline::auth_hook::CachedHook;

    /// A hook service on loopback: allows `CP-1` with password `good`, refuses the rest, answers 500 for `CP-500`
    /// and sleeps 2 s for `CP-SLOW`; counts requests.
    async fn service() -> (String, Arc<AtomicUsize>) {
        async fn decide(
            State(calls): State<Arc<AtomicUsize>>,
            Json(body): Json<Value>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse;
            calls.fetch_add(1, Ordering::SeqCst);
            let id = body["charger_id"].as_str().unwrap_or_default();
            match id {
                "CP-500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                "CP-SLOW" => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Json(json!({"allow": true})).into_response()
                }
                "CP-403" => StatusCode::FORBIDDEN.into_response(),
                _ => {
                    let good = base64::engine::general_purpose::STANDARD.encode("good");
                    let allow = id == "CP-1"
                        && body["credential"]["kind"] == "password"
                        && body["credential"]["value"] == good.as_str();
                    Json(json!({"allow": allow})).into_response()
                }
            }
        }
        let calls = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/auth", post(decide))
            .with_state(calls.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/auth"), calls)
    }

    fn login(id: &str, password: &str) -> LoginInfo {
        LoginInfo {
            charger_id: id.into(),
            credential: Credential::Password(password.into()),
        }
    }

    #[tokio::test]
    async fn a_real_hook_service_decides_and_its_answers_are_cached() {
        let (url, calls) = service().await;
        let hook = HttpAuthHook::new(&url, Duration::from_secs(5)).unwrap();
        let cached = CachedHook::new(Arc::new(hook), Duration::from_secs(60));
        assert_eq!(cached.check(&login("CP-1", "good")).await, Ok(true));
        assert_eq!(cached.check(&login("CP-1", "good")).await, Ok(true));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the second answer came from the cache"
        );
        assert_eq!(cached.check(&login("CP-1", "bad")).await, Ok(false));
        assert_eq!(cached.check(&login("CP-403", "x")).await, Ok(false));
        assert!(cached.check(&login("CP-500", "x")).await.is_err());
        assert!(cached.check(&login("CP-500", "x")).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 5, "errors are not cached");
    }

    #[tokio::test]
    async fn a_hook_that_answers_too_late_or_not_at_all_is_unavailable() {
        let (url, _) = service().await;
        let slow = HttpAuthHook::new(&url, Duration::from_millis(200)).unwrap();
        assert!(slow.check(&login("CP-SLOW", "x")).await.is_err());
        // Nothing listens on this port once the listener is dropped.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let gone =
            HttpAuthHook::new(&format!("http://{addr}/auth"), Duration::from_secs(2)).unwrap();
        assert!(gone.check(&login("CP-1", "good")).await.is_err());
        assert!(matches!(
            HttpAuthHook::new("https://example.invalid/", Duration::from_secs(1)),
            Err(HookUrlError::Scheme(_))
        ));
    }
}
