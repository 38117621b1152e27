//! Opening client sockets at scale: source addresses with `IP_BIND_ADDRESS_NO_PORT` (so one destination can take
//! more than one address's 28k ephemeral ports), and the process's open-file limit raised to its hard limit.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::socket::{setsockopt, sockopt::IpBindAddressNoPort};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpSocket, TcpStream};

/// Socket send/receive buffer asked for on each client socket; chargers send small frames, so 16 KiB is plenty
/// and keeps kernel memory per socket low under load.
const SOCKET_BUFFER: u32 = 16 * 1024;

/// Hands out source addresses round robin; empty = let the kernel choose.
#[derive(Debug, Default)]
pub struct SourceAddrs {
    addrs: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

impl SourceAddrs {
    /// Round robin over `addrs`.
    pub fn new(addrs: Vec<Ipv4Addr>) -> Self {
        SourceAddrs {
            addrs,
            next: AtomicUsize::new(0),
        }
    }

    /// The next address, if any were given.
    pub fn next(&self) -> Option<Ipv4Addr> {
        if self.addrs.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.addrs.len();
        self.addrs.get(i).copied()
    }
}

/// Connects to `target`, from `source` when given (bound with `IP_BIND_ADDRESS_NO_PORT`, so the port is picked at
/// connect time per 4-tuple), with `TCP_NODELAY` on.
pub async fn connect(target: SocketAddr, source: Option<Ipv4Addr>) -> std::io::Result<TcpStream> {
    let stream = match (source, target) {
        (Some(ip), SocketAddr::V4(_)) => {
            let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
            socket.set_nonblocking(true)?;
            setsockopt(&socket, IpBindAddressNoPort, &true).map_err(std::io::Error::from)?;
            socket.bind(&SocketAddr::V4(SocketAddrV4::new(ip, 0)).into())?;
            let socket = TcpSocket::from_std_stream(socket.into());
            let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
            let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
            socket.connect(target).await?
        }
        _ => TcpStream::connect(target).await?,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
pub fn raise_fd_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}
