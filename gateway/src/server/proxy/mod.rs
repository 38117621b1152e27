//! PROXY protocol v1 (text) and v2 (binary) headers, as sent by HAProxy, AWS NLB, nginx `proxy_protocol` and
//! friends, so the charger's real address survives a TCP load balancer.
//!
//! The parser is pure and panic-free (`parse`); [`read_header`] reads from a socket with a deadline and returns
//! any bytes that arrived after the header, which belong to the charger's protocol. Layout (from the HAProxy
//! specification `proxy-protocol.txt`):
//!
//! ```text
//! v1: "PROXY TCP4 203.0.113.7 192.0.2.1 51000 8768\r\n"          (at most 107 bytes)
//! v2: 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A   signature (12)
//!     21                                    version 2, command PROXY (0x20 = LOCAL)
//!     11                                    TCP over IPv4 (0x21 = TCP over IPv6)
//!     00 0C                                 length of what follows, big-endian
//!     CB 00 71 07  C0 00 02 01  C7 38  22 40   src ip, dst ip, src port, dst port
//!     …TLVs (ignored)
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use bytes::BytesMut;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::config::ProxyProtocol;

/// The v2 signature.
pub const V2_SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];
/// The v1 prefix.
pub const V1_PREFIX: &[u8] = b"PROXY ";
/// Longest v1 header including CRLF.
pub const V1_MAX_LEN: usize = 107;
/// Fixed part of a v2 header.
pub const V2_HEADER_LEN: usize = 16;
/// Largest v2 address+TLV block we accept (the spec allows 65535; real balancers send well under this).
pub const V2_MAX_BODY: usize = 1024;
const V2_VERSION: u8 = 0x2;
const V2_CMD_LOCAL: u8 = 0x0;
const V2_CMD_PROXY: u8 = 0x1;
const V2_FAMILY_INET: u8 = 0x1;
const V2_FAMILY_INET6: u8 = 0x2;
const READ_CHUNK: usize = 128;

/// Which header version was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyVersion {
    /// Text.
    V1,
    /// Binary.
    V2,
}

/// A parsed header. `source` is `None` for `UNKNOWN` (v1) or `LOCAL` / non-IP families (v2): keep the socket peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Header version.
    pub version: ProxyVersion,
    /// The client's address as the balancer saw it.
    pub source: Option<SocketAddr>,
    /// The address the client connected to.
    pub destination: Option<SocketAddr>,
}

/// Why a PROXY header was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProxyError {
    /// The first bytes are not a header of an accepted version.
    #[error("no PROXY protocol header")]
    Missing,
    /// A field is malformed.
    #[error("malformed PROXY {version:?} header: {field}")]
    Malformed {
        /// Version being parsed.
        version: ProxyVersion,
        /// The offending field.
        field: &'static str,
    },
    /// The header is longer than allowed.
    #[error("PROXY header longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The connection closed or failed before the header was complete.
    #[error("connection ended inside the PROXY header")]
    Eof,
    /// The header did not arrive in time.
    #[error("PROXY header not complete within the deadline")]
    Timeout,
}

impl ProxyError {
    /// Stable short name, a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Missing => "missing",
            ProxyError::Malformed { .. } => "malformed",
            ProxyError::TooLong { .. } => "too_long",
            ProxyError::Eof => "eof",
            ProxyError::Timeout => "timeout",
        }
    }
}

/// Parses a header at the start of `buf`. `Ok(None)`: more bytes needed. `Ok(Some((header, consumed)))`: the
/// header took `consumed` bytes.
pub fn parse(
    buf: &[u8],
    accept: ProxyProtocol,
) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let v1_ok = matches!(accept, ProxyProtocol::V1 | ProxyProtocol::Any);
    let v2_ok = matches!(accept, ProxyProtocol::V2 | ProxyProtocol::Any);
    if v2_ok && starts_like(buf, &V2_SIGNATURE) {
        return if buf.len() < V2_SIGNATURE.len() {
            Ok(None)
        } else {
            parse_v2(buf)
        };
    }
    if v1_ok && starts_like(buf, V1_PREFIX) {
        return if buf.len() < V1_PREFIX.len() {
            Ok(None)
        } else {
            parse_v1(buf)
        };
    }
    Err(ProxyError::Missing)
}

/// True when `buf` is a prefix of `pattern` or starts with it.
fn starts_like(buf: &[u8], pattern: &[u8]) -> bool {
    let n = buf.len().min(pattern.len());
    buf.get(..n) == pattern.get(..n)
}

fn parse_v1(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let bad = |field| ProxyError::Malformed {
        version: ProxyVersion::V1,
        field,
    };
    let window = buf.get(..buf.len().min(V1_MAX_LEN)).unwrap_or(buf);
    let Some(lf) = window.iter().position(|b| *b == b'\n') else {
        return if buf.len() >= V1_MAX_LEN {
            Err(ProxyError::TooLong { max: V1_MAX_LEN })
        } else {
            Ok(None)
        };
    };
    let line = window.get(..lf).ok_or(bad("line"))?;
    let line = line.strip_suffix(b"\r").ok_or(bad("crlf"))?;
    let text = std::str::from_utf8(line).map_err(|_| bad("ascii"))?;
    let mut parts = text.split(' ');
    let _proxy = parts.next();
    let header = match parts.next() {
        Some("UNKNOWN") => ProxyHeader {
            version: ProxyVersion::V1,
            source: None,
            destination: None,
        },
        Some(proto @ ("TCP4" | "TCP6")) => {
            let mut field = |name| parts.next().ok_or(bad(name));
            let (src, dst, sport, dport) = (
                field("source")?,
                field("destination")?,
                field("source port")?,
                field("destination port")?,
            );
            let ip = |s: &str, name| -> Result<IpAddr, ProxyError> {
                let ip = IpAddr::from_str(s).map_err(|_| bad(name))?;
                if ip.is_ipv4() != (proto == "TCP4") {
                    return Err(bad(name));
                }
                Ok(ip)
            };
            let port = |s: &str, name| s.parse::<u16>().map_err(|_| bad(name));
            if parts.next().is_some() {
                return Err(bad("trailing fields"));
            }
            ProxyHeader {
                version: ProxyVersion::V1,
                source: Some(SocketAddr::new(
                    ip(src, "source")?,
                    port(sport, "source port")?,
                )),
                destination: Some(SocketAddr::new(
                    ip(dst, "destination")?,
                    port(dport, "destination port")?,
                )),
            }
        }
        _ => return Err(bad("protocol")),
    };
    Ok(Some((header, lf + 1)))
}

fn parse_v2(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let bad = |field| ProxyError::Malformed {
        version: ProxyVersion::V2,
        field,
    };
    let Some(fixed) = buf.get(..V2_HEADER_LEN) else {
        return Ok(None);
    };
    let [ver_cmd, family, len_hi, len_lo] =
        arr::<4>(fixed, V2_SIGNATURE.len()).ok_or(bad("header"))?;
    let body_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if ver_cmd >> 4 != V2_VERSION {
        return Err(bad("version"));
    }
    if body_len > V2_MAX_BODY {
        return Err(ProxyError::TooLong {
            max: V2_HEADER_LEN + V2_MAX_BODY,
        });
    }
    let total = V2_HEADER_LEN + body_len;
    let Some(body) = buf.get(V2_HEADER_LEN..total) else {
        return Ok(None);
    };
    let unknown = ProxyHeader {
        version: ProxyVersion::V2,
        source: None,
        destination: None,
    };
    let header = match ver_cmd & 0x0F {
        V2_CMD_LOCAL => unknown,
        V2_CMD_PROXY => match family >> 4 {
            V2_FAMILY_INET => {
                let addr = |ip: usize, port: usize| -> Option<SocketAddr> {
                    let ip = Ipv4Addr::from(arr::<4>(body, ip)?);
                    Some(SocketAddr::new(
                        IpAddr::V4(ip),
                        u16::from_be_bytes(arr::<2>(body, port)?),
                    ))
                };
                ProxyHeader {
                    version: ProxyVersion::V2,
                    source: Some(addr(0, 8).ok_or(bad("ipv4 addresses"))?),
                    destination: Some(addr(4, 10).ok_or(bad("ipv4 addresses"))?),
                }
            }
            V2_FAMILY_INET6 => {
                let addr = |ip: usize, port: usize| -> Option<SocketAddr> {
                    let ip = Ipv6Addr::from(arr::<16>(body, ip)?);
                    Some(SocketAddr::new(
                        IpAddr::V6(ip),
                        u16::from_be_bytes(arr::<2>(body, port)?),
                    ))
                };
                ProxyHeader {
                    version: ProxyVersion::V2,
                    source: Some(addr(0, 32).ok_or(bad("ipv6 addresses"))?),
                    destination: Some(addr(16, 34).ok_or(bad("ipv6 addresses"))?),
                }
            }
            _ => unknown,
        },
        _ => return Err(bad("command")),
    };
    Ok(Some((header, total)))
}

/// `N` bytes of `b` from `at`, if there are that many.
fn arr<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Reads a header from `io` within `deadline`. Returns it with the bytes read past it (the charger's first bytes).
pub async fn read_header<R: AsyncRead + Unpin>(
    io: &mut R,
    accept: ProxyProtocol,
    deadline: Duration,
) -> Result<(ProxyHeader, BytesMut), ProxyError> {
    let read = async {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        loop {
            if let Some((header, used)) = parse(&buf, accept)? {
                let _ = buf.split_to(used);
                return Ok((header, buf));
            }
            if buf.len() >= V2_HEADER_LEN + V2_MAX_BODY {
                return Err(ProxyError::TooLong { max: buf.len() });
            }
            buf.reserve(READ_CHUNK);
            match io.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return Err(ProxyError::Eof),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| ProxyError::Timeout)?
}

#[cfg(test)]
mod tests;
