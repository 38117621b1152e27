//! Graceful shutdown: SIGTERM or SIGINT cancels one [`CancellationToken`]; acceptors stop, connections see the
//! token and finish, workers wait up to `shutdown.drain_secs`, then the event bus is dropped so sinks flush.

use tokio_util::sync::CancellationToken;

/// Which signal asked for shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGTERM (systemd, Kubernetes).
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// The token was cancelled by code (tests, a fatal error elsewhere).
    Requested,
}

/// Waits for SIGTERM, SIGINT or an outside cancel, then cancels `token` and says why. The handlers are installed
/// when this is called (inside a runtime), not when the future is first polled, so a signal arriving while the
/// gateway starts is never the default action (terminate at once).
pub fn wait_for_signal(token: CancellationToken) -> impl std::future::Future<Output = StopReason> {
    let signals = signals();
    async move {
        let reason = tokio::select! {
            _ = token.cancelled() => StopReason::Requested,
            r = signals => r,
        };
        if reason != StopReason::Requested {
            tracing::info!(?reason, "shutdown requested");
        }
        token.cancel();
        reason
    }
}

#[cfg(unix)]
fn signals() -> impl std::future::Future<Output = StopReason> {
    use tokio::signal::unix::{signal, SignalKind};
    let installed = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = installed else {
            tracing::warn!("cannot install signal handlers; stop with the token only");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => StopReason::Terminate,
            _ = int.recv() => StopReason::Interrupt,
        }
    }
}

#[cfg(not(unix))]
fn signals() -> impl std::future::Future<Output = StopReason> {
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => StopReason::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancelled_token_ends_the_wait_as_requested() {
        let token = CancellationToken::new();
        let waiter = tokio::spawn(wait_for_signal(token.clone()));
        token.cancel();
        assert_eq!(waiter.await.unwrap(), StopReason::Requested);
    }
}
