//! Worker event loops: N threads, each running a current-thread tokio runtime with a `LocalSet`. The boss hands
//! each accepted socket to the next worker round-robin over a bounded channel; the connection then lives on that
//! thread for its life, so per-worker state needs no locks (decision 0001).

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::mpsc;
use tokio::task::LocalSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::guard::ConnGuard;
use super::handler::{Connection, HandlerFactory};
use super::limits::{ConnPermit, Refusal};
use super::proxy;
use super::stream::{ConnStream, Prefixed};
use super::tls::TLS_HANDSHAKE_TIMEOUT;
use super::ServerError;
use crate::config::{Config, ProxyProtocol, ResolvedListener};
use crate::metrics::Metrics;

/// Sockets waiting in one worker's hand-off channel at most; beyond it the acceptor waits (back-pressure).
pub const WORKER_QUEUE: usize = 1024;

/// What a worker knows about itself; handed to every connection on it.
pub struct WorkerCtx {
    /// Worker index, 0-based; the `worker` metric label.
    pub id: usize,
    /// Cancelled at shutdown: connections should finish up and return.
    pub shutdown: CancellationToken,
    /// Metrics registry.
    pub metrics: Metrics,
    /// The configuration in force.
    pub config: Arc<Config>,
}

/// An accepted socket on its way from the acceptor to a worker.
pub(super) struct Incoming {
    pub stream: std::net::TcpStream,
    pub peer: std::net::SocketAddr,
    pub listener: Arc<ResolvedListener>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub permit: ConnPermit,
}

/// The worker threads and their hand-off channels.
pub struct WorkerPool {
    senders: Vec<mpsc::Sender<Incoming>>,
    depth: Vec<prometheus::IntGauge>,
    next: AtomicUsize,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl WorkerPool {
    /// Starts `n` worker threads serving connections with handlers from `factory`.
    pub fn start(
        n: usize,
        factory: Arc<dyn HandlerFactory>,
        metrics: Metrics,
        config: Arc<Config>,
        shutdown: CancellationToken,
    ) -> Result<Arc<WorkerPool>, ServerError> {
        let n = n.max(1);
        let mut senders = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for id in 0..n {
            let (tx, rx) = mpsc::channel(WORKER_QUEUE);
            senders.push(tx);
            let ctx = WorkerSeed {
                id,
                factory: Arc::clone(&factory),
                metrics: metrics.clone(),
                config: Arc::clone(&config),
                shutdown: shutdown.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("chargegate-worker-{id}"))
                .spawn(move || ctx.run(rx))
                .map_err(ServerError::Worker)?;
            threads.push(handle);
        }
        let depth = (0..n)
            .map(|id| {
                metrics
                    .queue_depth
                    .with_label_values(&[&format!("worker:{id}")])
            })
            .collect();
        Ok(Arc::new(WorkerPool {
            senders,
            depth,
            next: AtomicUsize::new(0),
            threads: std::sync::Mutex::new(threads),
        }))
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Always false: a pool has at least one worker.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Hands a socket to the next worker, waiting while that worker's queue is full.
    pub(super) async fn dispatch(&self, incoming: Incoming) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len().max(1);
        if let Some(tx) = self.senders.get(i) {
            if tx.send(incoming).await.is_err() {
                tracing::warn!(worker = i, "worker has stopped; connection dropped");
            }
            if let Some(g) = self.depth.get(i) {
                g.set(
                    i64::try_from(WORKER_QUEUE.saturating_sub(tx.capacity())).unwrap_or(i64::MAX),
                );
            }
        }
    }

    /// Waits for every worker thread to finish (they finish after shutdown and their drain).
    pub fn join(&self) {
        let threads = std::mem::take(
            &mut *self
                .threads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for t in threads {
            if t.join().is_err() {
                tracing::error!("a worker thread panicked");
            }
        }
    }
}

struct WorkerSeed {
    id: usize,
    factory: Arc<dyn HandlerFactory>,
    metrics: Metrics,
    config: Arc<Config>,
    shutdown: CancellationToken,
}

impl WorkerSeed {
    fn run(self, rx: mpsc::Receiver<Incoming>) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(worker = self.id, error = %e, "cannot build worker runtime");
                return;
            }
        };
        let local = LocalSet::new();
        local.block_on(&rt, self.serve(rx));
    }

    async fn serve(self, mut rx: mpsc::Receiver<Incoming>) {
        let ctx = Rc::new(WorkerCtx {
            id: self.id,
            shutdown: self.shutdown.clone(),
            metrics: self.metrics.clone(),
            config: Arc::clone(&self.config),
        });
        let handler = self.factory.for_worker(&ctx);
        let tracker = TaskTracker::new();
        loop {
            let incoming = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                i = rx.recv() => match i { Some(i) => i, None => break },
            };
            let ctx = Rc::clone(&ctx);
            let handler = Rc::clone(&handler);
            let Incoming {
                stream,
                peer,
                listener,
                tls,
                permit,
            } = incoming;
            let metrics = ctx.metrics.connection(&listener.name, ctx.id);
            metrics.opened();
            let guard = ConnGuard::new(metrics.open, permit);
            // Two tasks: the first registers the socket and reads a PROXY header or a TLS handshake (a large
            // future, for a moment); the second is the connection's own boxed future and nothing else. One task
            // chaining both kept the first stage's room and the caps' guard next to the boxed future, and tokio
            // aligns a task to 128 B: 256 B per idle charger instead of 128 (the guard now travels inside the
            // `Connection`, into the handler's future).
            let running = tracker.clone();
            tracker.spawn_local(async move {
                if let Some(conn) = prepare(stream, peer, listener, tls, guard, &ctx).await {
                    running.spawn_local(handler.handle(conn, ctx));
                }
            });
            // One new connection at a time: the yield lets the worker poll its sockets before it takes the next,
            // so a burst of accepted connections (a connect storm's admitted share) does not queue every setup
            // ahead of a connected charger's frame.
            tokio::task::yield_now().await;
        }
        drop(rx);
        tracker.close();
        let drain = Duration::from_secs(self.config.shutdown.drain_secs);
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            tracing::warn!(
                worker = self.id,
                left = tracker.len(),
                "drain deadline passed; dropping connections"
            );
        }
    }
}

/// Registers the socket with this worker's runtime and reads the PROXY header when the listener expects one.
async fn prepare(
    stream: std::net::TcpStream,
    socket_peer: std::net::SocketAddr,
    listener: Arc<ResolvedListener>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    guard: ConnGuard,
    ctx: &WorkerCtx,
) -> Option<Connection> {
    let mut stream = match tokio::net::TcpStream::from_std(stream) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot register accepted socket");
            return None;
        }
    };
    let mode = listener.settings.proxy_protocol;
    let (peer, proxy, preread) = if mode == ProxyProtocol::Off {
        (socket_peer, None, BytesMut::new())
    } else {
        let deadline = Duration::from_secs(listener.settings.proxy_header_timeout_secs);
        match proxy::read_header(&mut stream, mode, deadline).await {
            Ok((h, rest)) => (h.source.unwrap_or(socket_peer), Some(h), rest),
            Err(e) => {
                refuse(ctx, &listener, Refusal::ProxyHeader);
                tracing::info!(%socket_peer, listener = %listener.name, error = %e, kind = e.kind(), "PROXY header refused");
                return None;
            }
        }
    };
    let (stream, preread) = match tls {
        None => (ConnStream::Plain(stream), preread),
        Some(acceptor) => {
            let handshake = acceptor.accept(Prefixed::new(preread, stream));
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(s)) => (ConnStream::Tls(Box::new(s)), BytesMut::new()),
                Ok(Err(e)) => {
                    refuse(ctx, &listener, Refusal::TlsHandshake);
                    tracing::info!(%peer, listener = %listener.name, error = %e, "TLS handshake failed");
                    return None;
                }
                Err(_) => {
                    refuse(ctx, &listener, Refusal::TlsHandshake);
                    tracing::info!(%peer, listener = %listener.name, "TLS handshake timed out");
                    return None;
                }
            }
        }
    };
    Some(Connection {
        stream,
        peer,
        socket_peer,
        proxy,
        preread,
        listener,
        guard,
    })
}

fn refuse(ctx: &WorkerCtx, listener: &ResolvedListener, why: Refusal) {
    ctx.metrics
        .refused
        .with_label_values(&[&listener.name, why.label()])
        .inc();
}
