//! The OCPP pieces of the assembled gateway: the `ocpp` / `ocpp-tcp` / `ocpp-tcp-alt` codecs and the OCPP-J
//! WebSocket route `/ocpp/{chargerId}`.
//!
//! WebSocket connections are upgraded by axum on the boss runtime, so they cannot live on a worker thread; the
//! route gets its own liveness wheel (same tick and size as a worker's) and counts in the metrics as worker
//! index `config.worker_count()` — one past the last worker.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chargegate_codec::ocpp::plugin::register_defaults;
use chargegate_codec::ocpp::session::WallClock;
use chargegate_codec::plugin::CodecRegistry;
use tokio_util::sync::CancellationToken;

use super::handler::connection_config;
use super::observer::MetricsObserver;
use crate::config::Config;
use crate::http::ocpp_ws::{ocpp_routes, OcppRouteContext, FIRST_WS_CONN_ID};
use crate::metrics::Metrics;
use crate::pipeline::auth::Authenticator;
use crate::pipeline::charger_registry::ChargerRegistry;
use crate::pipeline::connection::ConnectionContext;
use crate::pipeline::liveness::{run_wheel_until, worker_wheel, WorkerClock};
use crate::pipeline::route::EventRouter;
use crate::session::SessionRegistry;

/// Registry name of the OCPP-J WebSocket codec.
pub const OCPP_WS_CODEC: &str = chargegate_codec::ocpp::plugin::WS_CODEC_NAME;

/// Registers `ocpp` (WebSocket) and the raw-TCP envelope presets `ocpp-tcp`, `ocpp-tcp-alt`, configured from
/// `[ocpp]` and the OCPP timings of `[liveness]`.
pub fn register_ocpp_codecs(registry: &CodecRegistry, config: &Config, clock: &WallClock) {
    let session = config.ocpp.session_config(&config.liveness);
    register_defaults(registry, &session, clock);
}

/// What the OCPP-J route shares with the rest of the gateway.
pub struct OcppRouteParts {
    /// Registered codecs (with `ocpp`).
    pub codecs: Arc<CodecRegistry>,
    /// Connected chargers.
    pub sessions: Arc<SessionRegistry>,
    /// Login checker.
    pub auth: Arc<Authenticator>,
    /// Charger registry for the 404/401 checks before the upgrade.
    pub registry: Option<Arc<ChargerRegistry>>,
    /// Where events go.
    pub router: Arc<dyn EventRouter>,
    /// Metrics registry.
    pub metrics: Metrics,
}

/// The `/ocpp/{chargerId}` route with its own liveness wheel, which stops at `shutdown`.
pub fn ocpp_route(config: &Config, parts: OcppRouteParts, shutdown: &CancellationToken) -> Router {
    let liveness = &config.liveness;
    let wheel = worker_wheel(
        Duration::from_millis(liveness.tick_ms),
        liveness.wheel_slots,
    );
    let clock = WorkerClock::start();
    // Ticks until shutdown, then tells every OCPP-J connection to close.
    tokio::spawn(run_wheel_until(Arc::clone(&wheel), clock, shutdown.clone()));
    let connection = ConnectionContext {
        codec_name: OCPP_WS_CODEC,
        codecs: parts.codecs,
        sessions: parts.sessions,
        auth: parts.auth,
        router: parts.router,
        wheel,
        clock,
        config: connection_config(config, config.worker_count()),
        observer: Arc::new(MetricsObserver::new(&parts.metrics, OCPP_WS_CODEC)),
        shutdown: shutdown.clone(),
    };
    ocpp_routes(OcppRouteContext {
        connection,
        registry: parts.registry,
        config: config.ocpp.ws_config(),
        conn_ids: Arc::new(AtomicU64::new(FIRST_WS_CONN_ID)),
    })
}
