//! Listening and accepted socket options: backlog, `SO_REUSEADDR`/`SO_REUSEPORT`, TCP_NODELAY and keepalive
//! timings, set through socket2 because tokio's `TcpListener::bind` fixes the backlog at 128.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{TcpListener, TcpStream};

use super::ServerError;
use crate::config::ListenerConfig;

/// Where Linux publishes the backlog ceiling.
pub const SOMAXCONN_PATH: &str = "/proc/sys/net/core/somaxconn";
/// Backlog ceiling assumed when `/proc` cannot be read (Linux ≥ 5.4 default, as Netty assumes).
pub const FALLBACK_SOMAXCONN: u32 = 4096;

/// The kernel's `net.core.somaxconn`: the largest backlog `listen()` honours.
pub fn somaxconn() -> u32 {
    std::fs::read_to_string(SOMAXCONN_PATH)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(FALLBACK_SOMAXCONN)
}

/// Binds a listening socket with the listener's backlog (capped by somaxconn), `SO_REUSEADDR`, and
/// `SO_REUSEPORT` when asked. Must run inside a tokio runtime (the socket registers with its reactor).
pub fn bind(addr: SocketAddr, settings: &ListenerConfig) -> Result<TcpListener, ServerError> {
    let err = |source| ServerError::Bind { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(err)?;
    socket.set_reuse_address(true).map_err(err)?;
    if settings.reuse_port {
        socket.set_reuse_port(true).map_err(err)?;
    }
    socket.set_nonblocking(true).map_err(err)?;
    socket.bind(&addr.into()).map_err(err)?;
    let backlog = settings.backlog.min(somaxconn());
    socket
        .listen(i32::try_from(backlog).unwrap_or(i32::MAX))
        .map_err(err)?;
    TcpListener::from_std(socket.into()).map_err(err)
}

/// Applies the per-connection options (TCP_NODELAY, keepalive timings) to an accepted socket.
pub fn configure_accepted(stream: &TcpStream, settings: &ListenerConfig) -> std::io::Result<()> {
    stream.set_nodelay(settings.nodelay)?;
    if settings.keepalive {
        let ka = TcpKeepalive::new()
            .with_time(Duration::from_secs(settings.keepalive_secs))
            .with_interval(Duration::from_secs(settings.keepalive_interval_secs))
            .with_retries(settings.keepalive_retries);
        SockRef::from(stream).set_tcp_keepalive(&ka)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reuse_port_lets_two_listeners_share_one_port() {
        let settings = ListenerConfig {
            reuse_port: true,
            ..ListenerConfig::default()
        };
        let a = bind("127.0.0.1:0".parse().unwrap(), &settings).unwrap();
        let port = a.local_addr().unwrap();
        let b = bind(port, &settings).unwrap();
        assert_eq!(b.local_addr().unwrap(), port);
    }

    #[tokio::test]
    async fn without_reuse_port_a_second_bind_fails() {
        let settings = ListenerConfig::default();
        let a = bind("127.0.0.1:0".parse().unwrap(), &settings).unwrap();
        let err = bind(a.local_addr().unwrap(), &settings).unwrap_err();
        assert_eq!(err.kind(), "bind");
    }

    #[tokio::test]
    async fn accepted_sockets_get_nodelay_and_keepalive() {
        let settings = ListenerConfig::default();
        let l = bind("127.0.0.1:0".parse().unwrap(), &settings).unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        configure_accepted(&s, &settings).unwrap();
        assert!(s.nodelay().unwrap());
        let sock = SockRef::from(&s);
        assert!(sock.keepalive().unwrap());
        assert_eq!(
            sock.tcp_keepalive_time().unwrap(),
            Duration::from_secs(settings.keepalive_secs)
        );
        drop(client);
    }
}
