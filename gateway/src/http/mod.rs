//! The HTTP listener (axum on hyper): `/metrics`, `/healthz`, `/readyz`, the REST API under `/api/v1`, and route
//! hooks for OCPP-J (`/ocpp/{chargerId}`) and dashboard subscribers (`/ws`) that other modules fill in.
//!
//! The REST layer talks to the rest of the gateway only through two traits, [`ChargerDirectory`] and
//! [`CommandDispatcher`], so the session registry plugs in without this module knowing its types.

mod api;
mod auth;
mod directory;
mod health;
pub mod ocpp_ws;

pub use api::{CommandDispatcher, DispatchFuture, UnavailableDispatcher};
pub use auth::{AdminAuth, LOOPBACK_ONLY_WARNING};
pub use directory::{
    ChargerDirectory, ChargerFilter, ChargerInfo, ChargerPage, PageRequest, StaticDirectory,
};
pub use health::Readiness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::metrics::Metrics;

/// Everything the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// Metrics to render.
    pub metrics: Metrics,
    /// Readiness flags.
    pub readiness: Arc<Readiness>,
    /// Charger lookups for REST.
    pub directory: Arc<dyn ChargerDirectory>,
    /// Command delivery for REST.
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// Admin access rule.
    pub auth: Arc<AdminAuth>,
    /// How long `POST …/commands` waits.
    pub command_timeout: Duration,
    /// Default and largest page sizes.
    pub page_size: (usize, usize),
}

impl HttpState {
    /// State from the configuration, with the given directory and dispatcher.
    pub fn new(
        config: &Config,
        metrics: Metrics,
        readiness: Arc<Readiness>,
        directory: Arc<dyn ChargerDirectory>,
        dispatcher: Arc<dyn CommandDispatcher>,
    ) -> Self {
        HttpState {
            metrics,
            readiness,
            directory,
            dispatcher,
            auth: Arc::new(AdminAuth::new(config.http.admin_token.clone())),
            command_timeout: Duration::from_secs(config.http.command_timeout_secs),
            page_size: (config.http.page_size, config.http.max_page_size),
        }
    }
}

/// A hook route not built into this binary.
async fn not_yet() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_IMPLEMENTED,
        "not implemented in this build\n",
    )
}

/// Routes for `/ocpp/{chargerId}` and `/ws` until their owners replace them: `501 Not Implemented`.
pub fn placeholder_hooks() -> Router {
    Router::new()
        .route("/ocpp/{charger_id}", any(not_yet))
        .route("/ws", any(not_yet))
}

/// The `/ws` placeholder alone (501), for a gateway whose `/ocpp/{chargerId}` route is real.
pub fn placeholder_ws_hook() -> Router {
    Router::new().route("/ws", any(not_yet))
}

/// The whole router. `hooks` carries the OCPP-J and `/ws` routes (see [`placeholder_hooks`]); it is merged as is,
/// so those routes do their own authentication.
pub fn router(state: HttpState, hooks: Router) -> Router {
    let api = Router::new()
        .route("/api/v1/chargers", get(api::list_chargers))
        .route("/api/v1/chargers/{id}", get(api::get_charger))
        .route("/api/v1/chargers/{id}/commands", post(api::post_command))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    Router::new()
        .route("/metrics", get(health::metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api)
        .with_state(state)
        .merge(hooks)
}

/// Turns Nagle's algorithm off on an accepted HTTP connection (a failure only costs latency, so it is logged).
fn no_nagle(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "http: cannot set TCP_NODELAY on an accepted connection");
    }
}

/// Serves `app` on `listener` until `shutdown` fires; in-flight requests finish first.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    // No Nagle: a `/ws` subscriber's pushes are small writes in a stream, and with Nagle on each one waited in the
    // kernel for the subscriber's ACK of the previous one; REST answers leave in one write either way.
    let listener = listener.tap_io(no_nagle);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}

#[cfg(test)]
mod tests;
