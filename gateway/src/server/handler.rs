//! The seam between the runtime shell and the protocol pipeline: what a worker hands to the code that serves a
//! connection. The lead plugs the codec pipeline in by implementing [`HandlerFactory`]; until then
//! [`ReadDiscardHandler`] reads with a small buffer and drops what it reads.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;

use super::guard::ConnGuard;
use super::proxy::ProxyHeader;
use super::stream::ConnStream;
use super::worker::WorkerCtx;
use crate::config::ResolvedListener;

/// A future that runs on one worker thread and need not be `Send`.
pub type LocalFuture = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// An accepted connection, on the worker that will serve it for its whole life.
pub struct Connection {
    /// The byte stream (plain or TLS), registered with this worker's runtime.
    pub stream: ConnStream,
    /// The charger's address: from the PROXY header when the listener expects one, else the socket peer.
    pub peer: SocketAddr,
    /// The socket's own peer (the load balancer when PROXY protocol is on).
    pub socket_peer: SocketAddr,
    /// The PROXY header, when one was read.
    pub proxy: Option<ProxyHeader>,
    /// Bytes already read from the socket (after a PROXY header) that belong to the charger's protocol; process
    /// them before reading again. Always empty on TLS listeners (those bytes went into the handshake).
    pub preread: BytesMut,
    /// The listener it came in on (name, codec, settings).
    pub listener: Arc<ResolvedListener>,
    /// The connection's slot in the caps and its count in `chargegate_connections`: the handler's future must
    /// keep it until the connection ends (dropping it earlier frees the slot early).
    pub guard: ConnGuard,
}

/// Serves connections on one worker. Lives on that worker's thread, so it may hold `Rc`/`RefCell` state.
pub trait ConnectionHandler: 'static {
    /// Serves one connection until it ends; should return soon after `ctx.shutdown` is cancelled.
    fn handle(&self, conn: Connection, ctx: Rc<WorkerCtx>) -> LocalFuture;
}

/// Builds one [`ConnectionHandler`] per worker, on that worker's thread (the place for per-worker state such as a
/// timing wheel).
pub trait HandlerFactory: Send + Sync + 'static {
    /// The handler for the worker `ctx` describes.
    fn for_worker(&self, ctx: &Rc<WorkerCtx>) -> Rc<dyn ConnectionHandler>;
}

/// A [`HandlerFactory`] from a plain function, for tests and simple handlers.
#[derive(Clone)]
pub struct FnHandler<F>(pub F);

impl<F> ConnectionHandler for FnHandler<F>
where
    F: Fn(Connection, Rc<WorkerCtx>) -> LocalFuture + 'static,
{
    fn handle(&self, conn: Connection, ctx: Rc<WorkerCtx>) -> LocalFuture {
        (self.0)(conn, ctx)
    }
}

impl<F> HandlerFactory for FnHandler<F>
where
    F: Fn(Connection, Rc<WorkerCtx>) -> LocalFuture + Clone + Send + Sync + 'static,
{
    fn for_worker(&self, _ctx: &Rc<WorkerCtx>) -> Rc<dyn ConnectionHandler> {
        Rc::new(self.clone())
    }
}

/// Placeholder handler: reads with a `limits.read_buffer_bytes` buffer and discards, until EOF or shutdown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadDiscardHandler;

impl ConnectionHandler for ReadDiscardHandler {
    fn handle(&self, conn: Connection, ctx: Rc<WorkerCtx>) -> LocalFuture {
        Box::pin(async move {
            // Bound by name so the block owns the guard (an async block captures only the fields it uses): the
            // connection's slot and gauge are released when it ends, not when it starts.
            let Connection {
                mut stream,
                guard: _guard,
                ..
            } = conn;
            let mut buf = BytesMut::with_capacity(ctx.config.limits.read_buffer_bytes);
            loop {
                buf.clear();
                tokio::select! {
                    _ = ctx.shutdown.cancelled() => break,
                    r = stream.read_buf(&mut buf) => match r {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    },
                }
            }
        })
    }
}

impl HandlerFactory for ReadDiscardHandler {
    fn for_worker(&self, _ctx: &Rc<WorkerCtx>) -> Rc<dyn ConnectionHandler> {
        Rc::new(ReadDiscardHandler)
    }
}
