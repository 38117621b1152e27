//! The boss/worker server: one acceptor per binary listener on the boss runtime, handing sockets round-robin to N
//! worker event loops (`worker`). Admission (caps, CIDR, accept rate) happens in `acceptor`, socket options in
//! `socket`, the PROXY protocol on the worker before the connection handler runs. [`Gateway`] assembles the whole
//! process: server, HTTP, event bus, sinks.

mod acceptor;
mod fdlimit;
mod gateway;
mod guard;
mod handler;
pub mod limits;
pub mod proxy;
pub mod socket;
mod stream;
pub mod tls;
mod worker;

pub use fdlimit::{raise_nofile_limit, FdLimit, FD_RESERVE};
pub use gateway::{BusSubscriber, Gateway, GatewayParts, HandlerBuilder};
pub use guard::ConnGuard;
pub use handler::{
    Connection, ConnectionHandler, FnHandler, HandlerFactory, LocalFuture, ReadDiscardHandler,
};
pub use stream::{ConnStream, Prefixed};
pub use worker::{WorkerCtx, WorkerPool, WORKER_QUEUE};

use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, HTTP_LISTENER};
use crate::metrics::Metrics;
use acceptor::Acceptor;
use limits::ConnectionLimiter;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServerError {
    /// A listening socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A worker or accept thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Worker(std::io::Error),
    /// A listener's TLS material could not be loaded.
    #[error("listener `{listener}`: TLS: {message}")]
    Tls {
        /// Listener name.
        listener: String,
        /// What failed.
        message: String,
    },
}

impl ServerError {
    /// Stable short name of the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerError::Bind { .. } => "bind",
            ServerError::Worker(_) => "worker",
            ServerError::Tls { .. } => "tls",
        }
    }
}

/// The running binary listeners and their workers.
pub struct Server {
    pool: Arc<WorkerPool>,
    acceptors: Vec<JoinHandle<()>>,
    bound: Vec<(String, SocketAddr)>,
}

impl Server {
    /// Binds every enabled listener except HTTP, starts `config.worker_count()` workers and the acceptors.
    /// Must be called on the boss runtime. Fails before anything is served if any listener cannot bind.
    pub async fn start(
        config: Arc<Config>,
        factory: Arc<dyn HandlerFactory>,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> Result<Server, ServerError> {
        let mut listeners = Vec::new();
        for l in config
            .listeners
            .resolved()
            .into_iter()
            .filter(|l| l.name != HTTP_LISTENER)
        {
            let tls = tls::acceptor(&l.name, &l.settings.tls)?;
            let socket = socket::bind(l.bind, &l.settings)?;
            listeners.push((socket, Arc::new(l), tls));
        }
        let pool = WorkerPool::start(
            config.worker_count(),
            factory,
            metrics.clone(),
            Arc::clone(&config),
            shutdown.clone(),
        )?;
        let mut bound = Vec::new();
        let mut acceptors = Vec::new();
        for (socket, l, tls) in listeners {
            let addr = socket.local_addr().map_err(|source| ServerError::Bind {
                addr: l.bind,
                source,
            })?;
            tracing::info!(listener = %l.name, %addr, codec = %l.codec, tls = tls.is_some(), backlog = l.settings.backlog.min(socket::somaxconn()), "listening");
            bound.push((l.name.clone(), addr));
            metrics.listeners_bound.inc();
            let acceptor = Acceptor {
                listener: socket,
                limiter: ConnectionLimiter::new(
                    l.settings.max_connections,
                    l.settings.max_connections_per_ip,
                ),
                config: l,
                tls,
                pool: Arc::clone(&pool),
                metrics: metrics.clone(),
                shutdown: shutdown.clone(),
            };
            let m = metrics.clone();
            let stopped = acceptor.spawn().map_err(ServerError::Worker)?;
            acceptors.push(tokio::spawn(async move {
                let _ = stopped.await;
                m.listeners_bound.dec();
            }));
        }
        Ok(Server {
            pool,
            acceptors,
            bound,
        })
    }

    /// The address a listener actually bound (useful with port 0).
    pub fn local_addr(&self, listener: &str) -> Option<SocketAddr> {
        self.bound
            .iter()
            .find(|(n, _)| n == listener)
            .map(|(_, a)| *a)
    }

    /// Every bound listener.
    pub fn bound(&self) -> &[(String, SocketAddr)] {
        &self.bound
    }

    /// Number of worker event loops.
    pub fn workers(&self) -> usize {
        self.pool.len()
    }

    /// Waits until the acceptors have stopped and every worker has drained (after the shutdown token fires).
    pub async fn wait(self) {
        for a in self.acceptors {
            let _ = a.await;
        }
        let pool = self.pool;
        let _ = tokio::task::spawn_blocking(move || pool.join()).await;
    }
}
