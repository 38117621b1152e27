//! The WebSocket push hub at `/ws`: dashboards subscribe to stations and chargers with an HMAC-signed token and
//! get events pushed — alarms, status, online/offline and sessions at once, meter and BMS telemetry batched per
//! window — and may send commands if their token allows. `docs/websocket.md` is the user's guide.
//!
//! ```text
//! EventBus ─► sink "websocket" ─► Hub::deliver ─► index (station/charger → subscribers)
//!                                              └► SubscriberQueue per subscriber (water marks, coalescing)
//! GET /ws?token=… ─► token check (401) ─► upgrade ─► reader (client messages) + writer (queue → socket, pings)
//! ```
//!
//! One concept per file: [`token`] (claims, signing, verifying), [`protocol`] (client and server messages),
//! [`queue`] (one subscriber's lanes and water marks), [`index`] (who subscribed to what), [`hub`] (the shared
//! state and fan-out), [`session`] (one connection), [`stations`] (charger → station), [`metrics`], [`fuzzing`].

pub mod fuzzing;
pub mod hub;
pub mod index;
pub mod metrics;
pub mod protocol;
pub mod queue;
pub mod session;
pub mod stations;
pub mod token;

pub use hub::{CloseCause, Hub, HubConfig, Subscriber};
pub use metrics::WsMetrics;
pub use protocol::{
    parse_client_message, ClientMessage, Selection, ServerMessage, WsProtocolError,
};
pub use stations::{RegistryStations, StationLookup};
pub use token::{Claims, TokenError, TokenSecret};

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::CommandDispatcher;
use crate::metrics::Metrics;
use crate::server::BusSubscriber;

/// Name of the hub's sink on the event bus.
pub const WS_SINK: &str = "websocket";

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The token secret could not be loaded.
    #[error("websocket.token_secret_file: {0}")]
    Secret(#[from] TokenError),
    /// The metrics could not be registered.
    #[error("websocket metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl WsError {
    /// Stable short name of the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            WsError::Secret(e) => e.kind(),
            WsError::Metrics(_) => "metrics",
        }
    }
}

/// What the gateway hands the hub.
pub struct HubParts {
    /// The gateway's metrics registry.
    pub metrics: Metrics,
    /// Where subscriber commands go (the same dispatcher as REST).
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// Charger → station.
    pub stations: Arc<dyn StationLookup>,
    /// Gateway shutdown.
    pub shutdown: CancellationToken,
}

/// A started hub: its bus subscriber and its `/ws` route, to add to `GatewayParts`.
pub struct HubWiring {
    /// The hub (tests read its indexes).
    pub hub: Arc<Hub>,
    /// Subscribes the hub's sink and starts its fan-out task.
    pub subscriber: BusSubscriber,
    /// `GET /ws`; merges over the placeholder (which keeps answering other methods with 501).
    pub routes: Router,
}

/// The `GET /ws` route of `hub`.
pub fn routes(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/ws", get(session::handshake))
        .with_state(hub)
}

/// Builds the hub from `[websocket]` when it is enabled and has a token secret; `Ok(None)` otherwise (then `/ws`
/// keeps answering 501 and a log line says why).
pub fn assemble(config: &Config, parts: HubParts) -> Result<Option<HubWiring>, WsError> {
    let ws = &config.websocket;
    if !ws.enabled {
        return Ok(None);
    }
    let Some(path) = &ws.token_secret_file else {
        tracing::info!(
            "websocket hub off: no websocket.token_secret_file (see `chargegate token`)"
        );
        return Ok(None);
    };
    let secret = TokenSecret::load(path)?;
    let hub = Arc::new(Hub::new(
        ws.hub_config(Duration::from_secs(config.http.command_timeout_secs)),
        secret,
        parts.stations,
        parts.dispatcher,
        WsMetrics::register(parts.metrics.registry())?,
        parts.shutdown,
    ));
    let queue = config.sinks.queue;
    let bus_hub = Arc::clone(&hub);
    let subscriber: BusSubscriber = Box::new(move |bus| {
        let rx = bus.subscribe(WS_SINK, queue);
        tokio::spawn(bus_hub.run_bus(rx));
    });
    Ok(Some(HubWiring {
        routes: routes(Arc::clone(&hub)),
        hub,
        subscriber,
    }))
}
