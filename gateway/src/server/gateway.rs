//! The whole gateway process on the boss runtime: the fd limit, the event bus and its sinks, the boss/worker
//! server, the HTTP listener, readiness, and the ordered shutdown (stop accepting → drain → flush sinks).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{raise_nofile_limit, socket, HandlerFactory, ReadDiscardHandler, Server, ServerError};
use crate::config::{Config, HTTP_LISTENER};
use crate::http::{
    self, ChargerDirectory, CommandDispatcher, HttpState, Readiness, StaticDirectory,
    UnavailableDispatcher, LOOPBACK_ONLY_WARNING,
};
use crate::metrics::Metrics;
use crate::route::{spawn_jsonl_sink, EventBus, JsonlTarget, JSONL_BYTES_PER_EVENT};

/// Builds the connection handler once the bus exists (the handler publishes into it).
pub type HandlerBuilder =
    Box<dyn FnOnce(&Arc<EventBus>, &Metrics) -> Arc<dyn HandlerFactory> + Send>;

/// Adds a subscriber to the bus while it is built (a test sink, an MQTT bridge): call `subscribe` and keep the
/// receiver.
pub type BusSubscriber = Box<dyn FnOnce(&mut EventBus) + Send>;

/// The pluggable parts of a gateway; [`Default`] gives the runtime shell alone (a read-and-discard handler, an
/// empty directory, commands answered `offline`, OCPP-J and `/ws` answered 501).
pub struct GatewayParts {
    /// The per-connection handler.
    pub handler: HandlerBuilder,
    /// Charger lookups for REST.
    pub directory: Arc<dyn ChargerDirectory>,
    /// Command delivery for REST.
    pub dispatcher: Arc<dyn CommandDispatcher>,
    /// `/ocpp/{chargerId}` and `/ws` routes.
    pub hooks: Router,
    /// The metrics registry (tests pass their own to read it).
    pub metrics: Metrics,
    /// Extra bus subscribers beside the configured sinks.
    pub subscribers: Vec<BusSubscriber>,
}

impl GatewayParts {
    /// The default parts with `metrics`.
    pub fn with_metrics(metrics: Metrics) -> Self {
        GatewayParts {
            handler: Box::new(|_, _| Arc::new(ReadDiscardHandler)),
            directory: Arc::new(StaticDirectory::default()),
            dispatcher: Arc::new(UnavailableDispatcher),
            hooks: http::placeholder_hooks(),
            metrics,
            subscribers: Vec::new(),
        }
    }
}

/// A running gateway.
pub struct Gateway {
    server: Server,
    http_addr: Option<SocketAddr>,
    http_task: Option<JoinHandle<std::io::Result<()>>>,
    sinks: Vec<JoinHandle<std::io::Result<()>>>,
    bus: Arc<EventBus>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
    metrics: Metrics,
}

impl Gateway {
    /// Starts everything on the current (boss) runtime; returns once every listener is bound and `/readyz` is 200.
    pub async fn start(
        config: Config,
        parts: GatewayParts,
        shutdown: CancellationToken,
    ) -> Result<Gateway, ServerError> {
        let config = Arc::new(config);
        let metrics = parts.metrics;
        log_fd_ceiling(&config);
        if config.registry_file.is_none() {
            tracing::warn!(
                "no registry_file configured: OPEN MODE, any charger id may log in (trials only)"
            );
        }
        let mut bus = EventBus::new(
            metrics.clone(),
            Duration::from_secs(config.sinks.critical_wait_secs),
        );
        let mut sinks = Vec::new();
        if config.sinks.jsonl.enabled {
            let lines = bus.subscribe_lines(
                "jsonl",
                config.sinks.queue.saturating_mul(JSONL_BYTES_PER_EVENT),
            );
            sinks.push(spawn_jsonl_sink(
                lines,
                JsonlTarget::from_path(&config.sinks.jsonl.path),
            ));
        }
        for subscribe in parts.subscribers {
            subscribe(&mut bus);
        }
        let bus = Arc::new(bus);
        let handler = (parts.handler)(&bus, &metrics);
        let server = Server::start(
            Arc::clone(&config),
            handler,
            metrics.clone(),
            shutdown.clone(),
        )
        .await?;
        let readiness = Arc::new(Readiness::default());
        let (mut http_addr, mut http_task) = (None, None);
        if let Some(l) = config
            .listeners
            .resolved()
            .into_iter()
            .find(|l| l.name == HTTP_LISTENER)
        {
            let listener = socket::bind(l.bind, &l.settings)?;
            let addr = listener.local_addr().map_err(|source| ServerError::Bind {
                addr: l.bind,
                source,
            })?;
            let state = HttpState::new(
                &config,
                metrics.clone(),
                Arc::clone(&readiness),
                parts.directory,
                parts.dispatcher,
            );
            if !state.auth.has_token() {
                tracing::warn!("{LOOPBACK_ONLY_WARNING}");
            }
            let app = http::router(state, parts.hooks);
            tracing::info!(listener = HTTP_LISTENER, %addr, "listening");
            http_addr = Some(addr);
            http_task = Some(tokio::spawn(http::serve(listener, app, shutdown.clone())));
        }
        readiness.set_ready();
        tracing::info!(workers = server.workers(), instance = %config.instance, "gateway ready");
        Ok(Gateway {
            server,
            http_addr,
            http_task,
            sinks,
            bus,
            readiness,
            shutdown,
            metrics,
        })
    }

    /// Where a listener bound (`ykc`, `ocpp_tcp`, `gbt27930_can`, `http`, `extra.<name>`).
    pub fn local_addr(&self, listener: &str) -> Option<SocketAddr> {
        if listener == HTTP_LISTENER {
            return self.http_addr;
        }
        self.server.local_addr(listener)
    }

    /// Number of worker event loops.
    pub fn workers(&self) -> usize {
        self.server.workers()
    }

    /// The event bus (for publishers outside connections).
    pub fn bus(&self) -> Arc<EventBus> {
        Arc::clone(&self.bus)
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The token whose cancellation stops the gateway.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits for the shutdown token, then stops in order: readiness off, acceptors stop, connections drain
    /// (bounded by `shutdown.drain_secs`), HTTP finishes, sinks flush.
    pub async fn wait(self) {
        self.shutdown.cancelled().await;
        self.readiness.set_draining();
        self.server.wait().await;
        if let Some(t) = self.http_task {
            if let Ok(Err(e)) = t.await {
                tracing::warn!(error = %e, "HTTP server ended with an error");
            }
        }
        drop(self.bus);
        for s in self.sinks {
            if let Ok(Err(e)) = s.await {
                tracing::error!(error = %e, "sink failed while flushing");
            }
        }
        tracing::info!("gateway stopped");
    }
}

fn log_fd_ceiling(config: &Config) {
    let wanted: usize = config
        .listeners
        .resolved()
        .iter()
        .filter(|l| l.name != HTTP_LISTENER)
        .map(|l| l.settings.max_connections)
        .sum();
    match raise_nofile_limit() {
        Ok(limit) => {
            let ceiling = limit.connection_ceiling();
            tracing::info!(
                soft = limit.soft,
                hard = limit.hard,
                ceiling,
                configured = wanted,
                "open-file limit raised; connection ceiling"
            );
            if (wanted as u64) > ceiling {
                tracing::warn!(ceiling, configured = wanted, "listeners' max_connections exceed the fd ceiling; run several processes with reuse_port");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
}
