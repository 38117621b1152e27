//! Admin access to `/api/v1`: a bearer token when one is configured; without one, loopback clients only.

use std::net::SocketAddr;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::HttpState;

/// Logged at start when no admin token is configured.
pub const LOOPBACK_ONLY_WARNING: &str =
    "no http.admin_token configured: the REST API answers loopback clients only";

/// The access rule.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    token: Option<String>,
}

impl AdminAuth {
    /// A rule with an optional token.
    pub fn new(token: Option<String>) -> Self {
        AdminAuth { token }
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Decides a request from its peer and `Authorization` header.
    pub fn check(
        &self,
        peer: Option<SocketAddr>,
        authorization: Option<&str>,
    ) -> Result<(), StatusCode> {
        match &self.token {
            Some(token) => {
                let given = authorization
                    .and_then(|h| h.strip_prefix("Bearer "))
                    .unwrap_or("");
                if constant_time_eq(given.as_bytes(), token.as_bytes()) {
                    Ok(())
                } else {
                    Err(StatusCode::UNAUTHORIZED)
                }
            }
            None if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) => Ok(()),
            None => Err(StatusCode::FORBIDDEN),
        }
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) async fn require_admin(
    State(s): State<HttpState>,
    req: Request,
    next: Next,
) -> Response {
    // `MockConnectInfo` is axum's stand-in for the peer when a router is driven without a socket (tests).
    let ext = req.extensions();
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| ext.get::<MockConnectInfo<SocketAddr>>().map(|m| m.0));
    let authz = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match s.auth.check(peer, authz) {
        Ok(()) => next.run(req).await,
        Err(StatusCode::UNAUTHORIZED) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or wrong bearer token\n",
        )
            .into_response(),
        Err(code) => (
            code,
            "REST API answers loopback clients only (no admin token configured)\n",
        )
            .into_response(),
    }
}
