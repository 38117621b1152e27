//! Assembly: from a [`Config`] to a running gateway that serves chargers — the codec registry, the session
//! registry, the authenticator, the event router on the bus, the per-worker handler, REST and metrics.
//!
//! ```text
//! Config ─► codecs (register_codecs) ─┐
//!         ─► authenticator ───────────┤
//!         ─► sessions ────────────────┼─► CodecHandlerFactory ─► workers ─► run_connection (per socket)
//!            EventBus ─► BusRouter ───┘
//!            sessions ─► SessionDirectory / SessionCommands ─► REST
//! ```
//!
//! [`App::start`] is what `chargegate serve` runs and what the end-to-end tests start on loopback ports. The OCPP-J
//! route and further codecs join through [`AppOptions::hooks`] and [`register_codecs`].

mod clock;
mod handler;
mod observer;
mod rest;
mod router;

pub use clock::{local_time, SystemLocalClock, DEFAULT_UTC_OFFSET_SECS};
pub use handler::{connection_config, CodecHandler, CodecHandlerFactory, Shared};
pub use observer::{MetricsObserver, LOGIN_DEADLINE};
pub use rest::{SessionCommands, SessionDirectory};
pub use router::BusRouter;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chargegate_codec::plugin::CodecRegistry;
use chargegate_codec::ykc::plugin::{LocalClock, YkcCodec, YkcSettings};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::pipeline::auth::{AuthMode, Authenticator};
use crate::pipeline::charger_registry::{ChargerRegistry, RegistryError};
use crate::route::EventBus;
use crate::server::{BusSubscriber, Gateway, GatewayParts, ServerError};
use crate::session::{PendingConfig, SessionRegistry};

/// How often expired commands are dropped from the pending queue and its depth is published.
const PENDING_SWEEP: Duration = Duration::from_secs(1);
/// `queue_depth` label of the pending-command queue.
const PENDING_QUEUE_LABEL: &str = "pending_commands";

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The charger registry file could not be loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A listener or worker could not start.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The WebSocket hub could not start.
    #[error(transparent)]
    Ws(#[from] crate::ws::WsError),
}

impl AppError {
    /// Stable short name of the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Registry(_) => "registry",
            AppError::Server(e) => e.kind(),
            AppError::Ws(e) => e.kind(),
        }
    }
}

/// What a caller may add to the configuration: its own metrics registry, bus subscribers, HTTP routes, clock.
pub struct AppOptions {
    /// Metrics registry (tests read their own).
    pub metrics: Metrics,
    /// Extra bus subscribers, called once while the bus is built.
    pub subscribers: Vec<BusSubscriber>,
    /// `/ocpp/{chargerId}` and `/ws` routes; the placeholder answers 501.
    pub hooks: Router,
    /// The chargers' local clock (YKC time sync and transaction serials).
    pub clock: Arc<dyn LocalClock>,
}

impl AppOptions {
    /// Defaults with `metrics`: no extra subscribers, placeholder hooks, the system clock at UTC+8.
    pub fn new(metrics: Metrics) -> Self {
        AppOptions {
            metrics,
            subscribers: Vec::new(),
            hooks: http::placeholder_hooks(),
            clock: Arc::new(SystemLocalClock::default()),
        }
    }
}

/// Registers every codec this build serves, configured from `config`. Other codecs join here with one line.
pub fn register_codecs(registry: &CodecRegistry, config: &Config, clock: Arc<dyn LocalClock>) {
    let mut ykc = YkcSettings::new(clock);
    ykc.heartbeat = Duration::from_secs(config.liveness.ykc_heartbeat_secs);
    ykc.missed_heartbeats = config.liveness.ykc_missed_heartbeats;
    registry.register(Arc::new(YkcCodec::new(ykc)));
}

/// The login checker the configuration asks for: the registry file, or open mode (which warns loudly).
pub fn authenticator(
    config: &Config,
) -> Result<(Arc<Authenticator>, Option<Arc<ChargerRegistry>>), RegistryError> {
    match &config.registry_file {
        Some(path) => {
            let registry = Arc::new(ChargerRegistry::load(path)?);
            tracing::info!(path = %path.display(), chargers = registry.len(), "charger registry loaded");
            let auth = Authenticator::new(AuthMode::Registry(Arc::clone(&registry)));
            Ok((Arc::new(auth), Some(registry)))
        }
        None => Ok((Arc::new(Authenticator::new(AuthMode::Open)), None)),
    }
}

/// A running gateway with its registries.
pub struct App {
    gateway: Gateway,
    sessions: Arc<SessionRegistry>,
    codecs: Arc<CodecRegistry>,
}

impl App {
    /// Builds everything from `config` and starts serving; returns once every listener is bound.
    pub async fn start(
        config: Config,
        options: AppOptions,
        shutdown: CancellationToken,
    ) -> Result<App, AppError> {
        let codecs = Arc::new(CodecRegistry::new());
        register_codecs(&codecs, &config, options.clock);
        let (auth, registry) = authenticator(&config)?;
        let sessions = Arc::new(SessionRegistry::new(PendingConfig::default()));
        let metrics = options.metrics;
        let shared_parts = (Arc::clone(&codecs), Arc::clone(&sessions), auth);
        let handler: crate::server::HandlerBuilder =
            Box::new(move |bus: &Arc<EventBus>, _: &Metrics| {
                let (codecs, sessions, auth) = shared_parts;
                Arc::new(CodecHandlerFactory::new(Shared {
                    codecs,
                    sessions,
                    auth,
                    router: Arc::new(BusRouter::new(Arc::clone(bus))),
                }))
            });
        let command_timeout = Duration::from_secs(config.http.command_timeout_secs);
        let dispatcher: Arc<dyn crate::http::CommandDispatcher> = Arc::new(SessionCommands::new(
            Arc::clone(&sessions),
            command_timeout,
            metrics.clone(),
        ));
        let (mut subscribers, mut hooks) = (options.subscribers, options.hooks);
        let ws_parts = crate::ws::HubParts {
            metrics: metrics.clone(),
            dispatcher: Arc::clone(&dispatcher),
            stations: Arc::new(crate::ws::RegistryStations::new(
                registry.clone(),
                Arc::clone(&sessions),
            )),
            shutdown: shutdown.clone(),
        };
        if let Some(ws) = crate::ws::assemble(&config, ws_parts)? {
            subscribers.push(ws.subscriber);
            hooks = hooks.merge(ws.routes);
        }
        let parts = GatewayParts {
            handler,
            directory: Arc::new(SessionDirectory::new(
                Arc::clone(&sessions),
                registry,
                config.instance.clone(),
            )),
            dispatcher,
            hooks,
            metrics: metrics.clone(),
            subscribers,
        };
        let gateway = Gateway::start(config, parts, shutdown.clone()).await?;
        tokio::spawn(sweep_pending(Arc::clone(&sessions), metrics, shutdown));
        Ok(App {
            gateway,
            sessions,
            codecs,
        })
    }

    /// Where a listener bound (`ykc`, `http`, …).
    pub fn local_addr(&self, listener: &str) -> Option<SocketAddr> {
        self.gateway.local_addr(listener)
    }

    /// Connected chargers.
    pub fn sessions(&self) -> &Arc<SessionRegistry> {
        &self.sessions
    }

    /// Registered codecs (rollouts are set here).
    pub fn codecs(&self) -> &Arc<CodecRegistry> {
        &self.codecs
    }

    /// The gateway shell (bus, metrics, shutdown token).
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Waits for the shutdown token, then stops in order (see [`Gateway::wait`]).
    pub async fn wait(self) {
        self.gateway.wait().await;
    }
}

async fn sweep_pending(
    sessions: Arc<SessionRegistry>,
    metrics: Metrics,
    shutdown: CancellationToken,
) {
    let depth = metrics
        .queue_depth
        .with_label_values(&[PENDING_QUEUE_LABEL]);
    let mut tick = tokio::time::interval(PENDING_SWEEP);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        sessions.pending().purge_expired();
        depth.set(i64::try_from(sessions.pending().len()).unwrap_or(i64::MAX));
    }
}
