//! The boss side of one listener: accept, admit (CIDR filter, caps, rate), set socket options, hand over to a
//! worker. Refused connections are closed at once and counted by reason.
//!
//! Each acceptor runs on a thread of its own at a lower CPU priority than the workers ([`ACCEPTOR_NICE`],
//! decision 0014): under a connect storm, accepting and refusing new connections must not take the CPU the
//! workers need for the chargers already connected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::limits::{
    AcceptBucket, ConnectionLimiter, IpAcceptRate, PeerFilter, Refusal, MAX_TRACKED_IPS,
};
use super::socket::configure_accepted;
use super::worker::{Incoming, WorkerPool};
use crate::config::ResolvedListener;
use crate::metrics::Metrics;

/// How long the acceptor pauses after running out of file descriptors (Netty pauses 1 s the same way).
pub const FD_EXHAUSTED_BACKOFF: Duration = Duration::from_secs(1);
/// Pause after any other accept error, so a persistent error cannot spin a core.
pub const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// Linux `EMFILE`: the process is out of file descriptors.
const EMFILE: i32 = 24;
/// Linux `ENFILE`: the system is out of file descriptors.
const ENFILE: i32 = 23;

/// Nice value of an accept thread: 10 below the workers (nice 0), a weight of about a tenth of a worker's, so a
/// worker that wakes for a charger's frame preempts an acceptor busy refusing a connect storm. When the CPU is free
/// the acceptor still gets all of it; when it is not, new connections wait in the kernel's backlog.
pub const ACCEPTOR_NICE: i32 = 10;

/// One listener's accept loop and its admission state.
pub(super) struct Acceptor {
    pub listener: TcpListener,
    pub config: Arc<ResolvedListener>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub limiter: Arc<ConnectionLimiter>,
    pub pool: Arc<WorkerPool>,
    pub metrics: Metrics,
    pub shutdown: CancellationToken,
}

impl Acceptor {
    /// Starts the accept loop on a thread of its own (`chargegate-acc-<listener>`, a single-threaded runtime, nice
    /// [`ACCEPTOR_NICE`]); the receiver completes when the loop has stopped (after `shutdown`).
    pub fn spawn(self) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
        let Acceptor {
            listener,
            config,
            tls,
            limiter,
            pool,
            metrics,
            shutdown,
        } = self;
        // The listening socket leaves this runtime's reactor and joins the accept thread's.
        let listener = listener.into_std()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stopped, done) = tokio::sync::oneshot::channel();
        let mut thread_name = format!("chargegate-acc-{}", config.name);
        thread_name.truncate(15);
        std::thread::Builder::new().name(thread_name).spawn(move || {
            lower_priority(&config.name);
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => {
                        let acceptor = Acceptor {
                            listener,
                            config,
                            tls,
                            limiter,
                            pool,
                            metrics,
                            shutdown,
                        };
                        acceptor.run().await;
                    }
                    Err(e) => {
                        tracing::error!(listener = %config.name, error = %e, "cannot register the listening socket");
                    }
                }
            });
            let _ = stopped.send(());
        })?;
        Ok(done)
    }

    /// Runs until `shutdown` is cancelled; the listening socket closes when this returns.
    pub async fn run(self) {
        let name = self.config.name.clone();
        let settings = &self.config.settings;
        let filter = PeerFilter::new(settings.allow.clone(), settings.deny.clone());
        let mut bucket =
            AcceptBucket::new(settings.accept_rate, settings.accept_burst, Instant::now());
        let mut per_ip = IpAcceptRate::new(
            settings.accept_rate_per_ip,
            settings.accept_burst_per_ip,
            MAX_TRACKED_IPS,
        );
        // Counts a refusal; true when it should also be logged. A connect storm refuses thousands per second, so
        // only the 1st, 2nd, 4th, 8th … refusal per listener and reason is logged (the counter has them all).
        let refused = |reason: &str| {
            let counter = self.metrics.refused.with_label_values(&[&name, reason]);
            counter.inc();
            counter.get().is_power_of_two()
        };
        loop {
            if let Some(wait) = bucket.take(Instant::now()) {
                tokio::select! {
                    _ = self.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(wait) => continue,
                }
            }
            let accepted = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                r = self.listener.accept() => r,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    let exhausted = matches!(e.raw_os_error(), Some(EMFILE | ENFILE));
                    let kind = if exhausted { "fd_exhausted" } else { "other" };
                    self.metrics
                        .accept_errors
                        .with_label_values(&[&name, kind])
                        .inc();
                    let pause = if exhausted {
                        FD_EXHAUSTED_BACKOFF
                    } else {
                        ACCEPT_ERROR_BACKOFF
                    };
                    tracing::warn!(listener = %name, error = %e, kind, ?pause, "accept failed; backing off");
                    tokio::select! {
                        _ = self.shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause) => continue,
                    }
                }
            };
            if !filter.allows(peer.ip()) {
                let denied = Refusal::Denied;
                if refused(denied.label()) {
                    tracing::warn!(listener = %name, %peer, code = denied.code(), "peer denied by CIDR rules (sampled)");
                }
                reset(stream);
                continue;
            }
            if !per_ip.admit(peer.ip(), Instant::now()) {
                let r = Refusal::IpAcceptRate;
                if refused(r.label()) {
                    tracing::warn!(listener = %name, %peer, reason = r.label(), code = r.code(), "connection refused (sampled)");
                }
                reset(stream);
                continue;
            }
            let permit = match self.limiter.try_acquire(peer.ip()) {
                Ok(p) => p,
                Err(r) => {
                    if refused(r.label()) {
                        tracing::warn!(listener = %name, %peer, reason = r.label(), code = r.code(), "connection refused (sampled)");
                    }
                    reset(stream);
                    continue;
                }
            };
            if let Err(e) = configure_accepted(&stream, settings) {
                tracing::debug!(listener = %name, %peer, error = %e, "socket options not applied");
            }
            let stream = match stream.into_std() {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(listener = %name, %peer, error = %e, "cannot detach accepted socket");
                    continue;
                }
            };
            let incoming = Incoming {
                stream,
                peer,
                listener: Arc::clone(&self.config),
                tls: self.tls.clone(),
                permit,
            };
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = self.pool.dispatch(incoming) => {}
            }
        }
        tracing::info!(listener = %name, "stopped accepting");
    }
}

/// Closes a refused connection with a RST (linger 0) instead of a FIN: no FIN/ACK exchange and no TIME_WAIT for a
/// peer that is refused thousands of times a second; the client sees "connection reset" at once and backs off.
fn reset(stream: tokio::net::TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(std::time::Duration::ZERO));
    drop(stream);
}

/// Lowers the calling (accept) thread to nice [`ACCEPTOR_NICE`]; a failure is logged and otherwise ignored (the
/// acceptor then competes with the workers at equal priority, as before).
fn lower_priority(listener: &str) {
    let tid = rustix::thread::gettid();
    match rustix::process::setpriority_process(Some(tid), ACCEPTOR_NICE) {
        Ok(()) => tracing::debug!(
            listener,
            nice = ACCEPTOR_NICE,
            "accept thread priority lowered"
        ),
        Err(e) => {
            tracing::warn!(listener, nice = ACCEPTOR_NICE, error = %e, "cannot lower the accept thread's priority")
        }
    }
}
