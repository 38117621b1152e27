//! The connection handler the workers run: per worker, a liveness wheel with its clock and ticker; per accepted
//! socket, the codec its listener names (or, on a `sniff` listener, the one its first bytes match) and
//! [`start_connection`] over the shared registries.
//!
//! A listener whose codec is not registered (a typo, a plug-in left out of the build) is served by the
//! read-and-discard placeholder, with one warning per worker and listener.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::plugin::CodecRegistry;
use futures_util::future::Either;
use futures_util::FutureExt;

use super::observer::MetricsObserver;
use super::sniff::sniff;
use crate::config::{Config, SniffMode};
use crate::pipeline::auth::Authenticator;
use crate::pipeline::connection::{start_connection, ConnectionConfig, ConnectionContext};
use crate::pipeline::liveness::{run_wheel_until, worker_wheel, SharedWheel, WorkerClock};
use crate::pipeline::rate_limit::RateLimitConfig;
use crate::pipeline::route::EventRouter;
use crate::pipeline::water_mark::{WaterMarkConfig, DEFAULT_ENTRY_OVERHEAD};
use crate::server::{
    ConnGuard, ConnStream, Connection, ConnectionHandler, HandlerFactory, LocalFuture,
    ReadDiscardHandler, WorkerCtx,
};
use crate::session::SessionRegistry;

/// Control-channel capacity per connection (commands and close requests in flight).
const CONTROL_CAPACITY: usize = 32;

/// What every worker's handler shares.
#[derive(Clone)]
pub struct Shared {
    /// Registered codecs.
    pub codecs: Arc<CodecRegistry>,
    /// Connected chargers.
    pub sessions: Arc<SessionRegistry>,
    /// Login checker.
    pub auth: Arc<Authenticator>,
    /// Where events go.
    pub router: Arc<dyn EventRouter>,
}

/// Builds a [`CodecHandler`] per worker.
pub struct CodecHandlerFactory {
    shared: Shared,
    next_conn: Arc<AtomicU64>,
}

impl CodecHandlerFactory {
    /// A factory over `shared`.
    pub fn new(shared: Shared) -> Self {
        CodecHandlerFactory {
            shared,
            next_conn: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl HandlerFactory for CodecHandlerFactory {
    fn for_worker(&self, ctx: &Rc<WorkerCtx>) -> Rc<dyn ConnectionHandler> {
        let liveness = &ctx.config.liveness;
        let wheel = worker_wheel(
            Duration::from_millis(liveness.tick_ms),
            liveness.wheel_slots,
        );
        let clock = WorkerClock::start();
        // Ticks until shutdown, then tells every connection of this worker to close.
        tokio::task::spawn_local(run_wheel_until(
            Arc::clone(&wheel),
            clock,
            ctx.shutdown.clone(),
        ));
        Rc::new(CodecHandler {
            shared: self.shared.clone(),
            next_conn: Arc::clone(&self.next_conn),
            config: connection_config(&ctx.config, ctx.id),
            wheel,
            clock,
            observers: RefCell::new(HashMap::new()),
            contexts: RefCell::new(HashMap::new()),
            warned: RefCell::new(HashSet::new()),
        })
    }
}

/// Per-connection settings from the configuration.
pub fn connection_config(config: &Config, worker: usize) -> ConnectionConfig {
    let l = &config.limits;
    ConnectionConfig {
        gw: chargegate_codec::event::interned(&config.instance),
        worker,
        login_deadline: Duration::from_secs(l.auth_deadline_secs),
        rate: RateLimitConfig {
            frames_per_sec: l.rate_frames_per_sec,
            frame_burst: l.rate_frames_per_sec.saturating_mul(l.rate_burst_secs),
            bytes_per_sec: l.rate_bytes_per_sec,
            byte_burst: l.rate_bytes_per_sec.saturating_mul(l.rate_burst_secs),
            abuse_windows: l.rate_abuse_close_secs,
        },
        water: WaterMarkConfig {
            high: l.high_water_mark,
            low: l.low_water_mark,
            entry_overhead: DEFAULT_ENTRY_OVERHEAD,
        },
        control_capacity: CONTROL_CAPACITY,
        max_frame_bytes: l.max_frame_bytes,
    }
}

/// One worker's connection handler.
pub struct CodecHandler {
    shared: Shared,
    next_conn: Arc<AtomicU64>,
    config: ConnectionConfig,
    wheel: SharedWheel,
    clock: WorkerClock,
    observers: RefCell<HashMap<&'static str, Arc<MetricsObserver>>>,
    /// One context per codec on this worker, shared by all its connections (a copy per connection cost 208 B).
    contexts: RefCell<HashMap<&'static str, Arc<ConnectionContext>>>,
    warned: RefCell<HashSet<String>>,
}

impl CodecHandler {
    fn observer(&self, codec: &'static str, ctx: &WorkerCtx) -> Arc<MetricsObserver> {
        let mut map = self.observers.borrow_mut();
        Arc::clone(
            map.entry(codec)
                .or_insert_with(|| Arc::new(MetricsObserver::new(&ctx.metrics, codec))),
        )
    }
}

impl ConnectionHandler for CodecHandler {
    fn handle(&self, conn: Connection, ctx: Rc<WorkerCtx>) -> LocalFuture {
        if conn.listener.settings.sniff == SniffMode::Auto {
            return self.handle_sniffed(conn, ctx);
        }
        let Some(codec) = self.shared.codecs.default_for(&conn.listener.codec) else {
            if self.warned.borrow_mut().insert(conn.listener.name.clone()) {
                tracing::warn!(listener = %conn.listener.name, codec = %conn.listener.codec, worker = ctx.id, "no codec registered under this name; connections are read and discarded");
            }
            return ReadDiscardHandler.handle(conn, ctx);
        };
        let conn_ctx = self.context(codec.name(), &ctx);
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        Box::pin(serve(
            conn.stream,
            conn.preread,
            conn.peer,
            conn_id,
            conn_ctx,
            conn.guard,
        ))
    }
}

impl CodecHandler {
    /// The pipeline context for a connection speaking `codec_name`, built once per worker and codec.
    fn context(&self, codec_name: &'static str, ctx: &WorkerCtx) -> Arc<ConnectionContext> {
        if let Some(shared) = self.contexts.borrow().get(codec_name) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(self.build_context(codec_name, ctx));
        self.contexts
            .borrow_mut()
            .insert(codec_name, Arc::clone(&shared));
        shared
    }

    fn build_context(&self, codec_name: &'static str, ctx: &WorkerCtx) -> ConnectionContext {
        ConnectionContext {
            codec_name,
            codecs: Arc::clone(&self.shared.codecs),
            sessions: Arc::clone(&self.shared.sessions),
            auth: Arc::clone(&self.shared.auth),
            router: Arc::clone(&self.shared.router),
            wheel: Arc::clone(&self.wheel),
            clock: self.clock,
            config: self.config.clone(),
            observer: self.observer(codec_name, ctx),
            shutdown: ctx.shutdown.clone(),
        }
    }

    /// A `sniff` listener: the first bytes pick the codec (see [`super::sniff`]).
    fn handle_sniffed(&self, mut conn: Connection, ctx: Rc<WorkerCtx>) -> LocalFuture {
        let contexts: HashMap<&'static str, Arc<ConnectionContext>> = self
            .shared
            .codecs
            .names()
            .into_iter()
            .map(|name| (name, self.context(name, &ctx)))
            .collect();
        let codecs = Arc::clone(&self.shared.codecs);
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let deadline = self.config.login_deadline;
        Box::pin(async move {
            let listener = Arc::clone(&conn.listener);
            let picked = sniff(
                &mut conn.stream,
                &mut conn.preread,
                &codecs,
                &listener.codec,
                deadline,
            )
            .await;
            let codec = match picked {
                Ok(codec) => codec,
                Err(e) => {
                    ctx.metrics
                        .refused
                        .with_label_values(&[&listener.name, e.label()])
                        .inc();
                    tracing::info!(conn = conn_id, peer = %conn.peer, listener = %listener.name, code = e.label(), "sniff: {e}");
                    return;
                }
            };
            let Some(conn_ctx) = contexts.get(codec.name()).cloned() else {
                return;
            };
            tracing::debug!(conn = conn_id, listener = %listener.name, codec = codec.name(), "sniff: protocol recognised");
            serve(
                conn.stream,
                conn.preread,
                conn.peer,
                conn_id,
                conn_ctx,
                conn.guard,
            )
            .await;
        })
    }
}

/// Runs one connection through the pipeline. Not an `async fn`, and the peer is logged at the start, not kept
/// for a line at the end: either would keep values next to the connection future for the connection's whole
/// life (the driver logs how it ended, with the connection id). The server's `guard` is released when the
/// connection ends.
fn serve(
    stream: ConnStream,
    preread: BytesMut,
    peer: std::net::SocketAddr,
    conn_id: u64,
    conn_ctx: Arc<ConnectionContext>,
    guard: ConnGuard,
) -> impl std::future::Future<Output = ()> {
    match start_connection(stream, preread, conn_id, conn_ctx) {
        Ok(running) => {
            tracing::debug!(conn = conn_id, %peer, "connection started");
            Either::Left(running.map(move |_| drop(guard)))
        }
        Err(e) => {
            tracing::warn!(conn = conn_id, %peer, error = %e, "connection not started");
            Either::Right(std::future::ready(()))
        }
    }
}
