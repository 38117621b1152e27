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
//! [`App::start`] is what `chargegate serve` runs and what the end-to-end tests start on loopback ports. It registers
//! YKC, the OCPP codecs (WebSocket and raw-TCP envelopes) and the GB/T CAN relay codec, serves the OCPP-J route
//! `/ocpp/{chargerId}` beside any extra routes in [`AppOptions::hooks`], installs the `[rollout.*]` plans, and
//! [`App::reloader`] re-applies the registry file and the plans on SIGHUP.

mod clock;
mod handler;
mod observer;
mod ocpp;
mod reload;
mod rest;
mod router;
pub mod sniff;

pub use clock::{
    local_time, system_utc_clock, utc_rfc3339, SystemLocalClock, DEFAULT_UTC_OFFSET_SECS,
};
pub use handler::{connection_config, CodecHandler, CodecHandlerFactory, Shared};
pub use observer::{MetricsObserver, LOGIN_DEADLINE};
pub use ocpp::{ocpp_route, register_ocpp_codecs, OcppRouteParts, OCPP_WS_CODEC};
pub use reload::{
    apply_rollouts, reload, reload_on_sighup, HupListener, ReloadOutcome, Reloader, RELOAD_ERROR,
    RELOAD_OK,
};
pub use rest::{SessionCommands, SessionDirectory};
pub use router::{BusRouter, LateBusRouter};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chargegate_codec::gbt27930::plugin::{GbtRelayCodec, MonotonicMs};
use chargegate_codec::plugin::CodecRegistry;
use chargegate_codec::ykc::plugin::{LocalClock, YkcCodec, YkcSettings};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::pipeline::auth::{AuthMode, Authenticator};
use crate::pipeline::auth_hook::CachedHook;
use crate::pipeline::auth_hook_http::HttpAuthHook;
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
    /// The auth hook URL is not usable.
    #[error("{0}")]
    Hook(String),
    /// A `[rollout.<codec>]` plan names a version that is not registered.
    #[error("{0}")]
    Rollout(String),
    /// The MQTT sink could not start.
    #[error(transparent)]
    Mqtt(#[from] crate::mqtt::MqttError),
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
            AppError::Rollout(_) => "rollout",
            AppError::Hook(_) => "auth_hook",
            AppError::Mqtt(e) => e.kind(),
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
    /// Extra HTTP routes (e.g. `/ws`), merged beside the built-in `/ocpp/{chargerId}` route; the default is a
    /// `/ws` placeholder answering 501. Must not route `/ocpp/{chargerId}` itself.
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
            hooks: http::placeholder_ws_hook(),
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
    register_ocpp_codecs(registry, config, &system_utc_clock());
    let start = std::time::Instant::now();
    let monotonic: MonotonicMs =
        Arc::new(move || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX));
    registry.register(Arc::new(GbtRelayCodec::new(
        config.gbt27930.settings(monotonic),
    )));
}

/// The login checker the configuration asks for: the registry file, the HTTP auth hook (after the registry when
/// both are set), or open mode (which warns loudly).
pub fn authenticator(
    config: &Config,
) -> Result<(Arc<Authenticator>, Option<Arc<ChargerRegistry>>), AppError> {
    let registry = match &config.registry_file {
        Some(path) => {
            let registry = Arc::new(ChargerRegistry::load(path)?);
            tracing::info!(path = %path.display(), chargers = registry.len(), "charger registry loaded");
            Some(registry)
        }
        None => None,
    };
    let hook = match &config.auth_hook.url {
        Some(url) => {
            let timeout = Duration::from_millis(config.auth_hook.timeout_ms);
            let client =
                HttpAuthHook::new(url, timeout).map_err(|e| AppError::Hook(e.to_string()))?;
            let ttl = Duration::from_secs(config.auth_hook.cache_ttl_secs);
            tracing::info!(%url, timeout_ms = config.auth_hook.timeout_ms, cache_ttl_secs = config.auth_hook.cache_ttl_secs, "auth hook configured");
            Some(Arc::new(CachedHook::new(Arc::new(client), ttl)))
        }
        None => None,
    };
    let mode = match (&registry, hook) {
        (Some(r), Some(h)) => AuthMode::RegistryAndHook(Arc::clone(r), h),
        (Some(r), None) => AuthMode::Registry(Arc::clone(r)),
        (None, Some(h)) => AuthMode::Hook(h),
        (None, None) => AuthMode::Open,
    };
    Ok((Arc::new(Authenticator::new(mode)), registry))
}

/// A running gateway with its registries.
pub struct App {
    gateway: Gateway,
    sessions: Arc<SessionRegistry>,
    codecs: Arc<CodecRegistry>,
    registry: Option<Arc<ChargerRegistry>>,
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
        let mut rollouts = ReloadOutcome::default();
        apply_rollouts(&codecs, &config, &mut rollouts);
        if !rollouts.is_ok() {
            return Err(AppError::Rollout(rollouts.errors.join("; ")));
        }
        let (auth, registry) = authenticator(&config)?;
        let sessions = Arc::new(SessionRegistry::new(PendingConfig::default()));
        let metrics = options.metrics;
        let command_timeout = Duration::from_secs(config.http.command_timeout_secs);
        let dispatcher = Arc::new(SessionCommands::new(
            Arc::clone(&sessions),
            command_timeout,
            metrics.clone(),
        ));
        let mut subscribers = options.subscribers;
        let mqtt = crate::mqtt::prepare(
            &config,
            crate::mqtt::MqttParts {
                sessions: Arc::clone(&sessions),
                dispatcher: dispatcher.clone(),
                metrics: metrics.clone(),
            },
        )?;
        let (dead_letters, ocpp_messages) = match mqtt {
            Some(m) => {
                subscribers.push(m.subscriber);
                (Some(m.dead_letters), m.ocpp_messages)
            }
            None => (None, None),
        };
        let late_router = Arc::new(LateBusRouter::default());
        let ocpp = ocpp_route(
            &config,
            OcppRouteParts {
                codecs: Arc::clone(&codecs),
                sessions: Arc::clone(&sessions),
                auth: Arc::clone(&auth),
                registry: registry.clone(),
                router: late_router.clone(),
                metrics: metrics.clone(),
            },
            &shutdown,
        );
        let instance = config.instance.clone();
        let shared_parts = (Arc::clone(&codecs), Arc::clone(&sessions), auth);
        let handler: crate::server::HandlerBuilder =
            Box::new(move |bus: &Arc<EventBus>, _: &Metrics| {
                let (codecs, sessions, auth) = shared_parts;
                let bus_router = || {
                    let mut router =
                        BusRouter::new(Arc::clone(bus)).with_ocpp_messages(ocpp_messages.clone());
                    if let Some(tx) = &dead_letters {
                        router = router.with_dead_letters(tx.clone(), &instance);
                    }
                    router
                };
                late_router.attach(bus_router());
                let router = bus_router();
                Arc::new(CodecHandlerFactory::new(Shared {
                    codecs,
                    sessions,
                    auth,
                    router: Arc::new(router),
                }))
            });
        let mut hooks = options.hooks;
        let ws_parts = crate::ws::HubParts {
            metrics: metrics.clone(),
            dispatcher: dispatcher.clone() as Arc<dyn crate::http::CommandDispatcher>,
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
                registry.clone(),
                config.instance.clone(),
            )),
            dispatcher,
            hooks: ocpp.merge(hooks),
            metrics: metrics.clone(),
            subscribers,
        };
        let gateway = Gateway::start(config, parts, shutdown.clone()).await?;
        tokio::spawn(sweep_pending(Arc::clone(&sessions), metrics, shutdown));
        Ok(App {
            gateway,
            sessions,
            codecs,
            registry,
        })
    }

    /// Applies what can change at run time from a freshly loaded `config`: the registry file is re-read and the
    /// rollout plans replaced (what SIGHUP does; see `reload`).
    pub fn reload(&self, config: &Config) -> ReloadOutcome {
        self.reloader().reload(config)
    }

    /// A handle for reloading from another task (the SIGHUP watcher).
    pub fn reloader(&self) -> Reloader {
        Reloader {
            registry: self.registry.clone(),
            codecs: Arc::clone(&self.codecs),
            metrics: self.gateway.metrics().clone(),
        }
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
