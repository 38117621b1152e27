//! `sniff` listeners: one port, several binary protocols, told apart by a connection's first bytes.
//!
//! The registered codecs are asked in name order ([`CodecRegistry::detect`]); bytes are read until one says
//! [`Detect::Match`], all say [`Detect::NoMatch`] (the listener's own `codec` then serves it, if registered) or
//! [`SNIFF_MAX_BYTES`] have arrived. The bytes read are handed to the chosen codec unchanged. The wait is bounded
//! by the login deadline: a client that sends nothing is closed then, as on any listener.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::plugin::{CodecRegistry, Detect, VendorCodec};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes read at most before giving up on detection (every built-in codec decides within 4).
pub const SNIFF_MAX_BYTES: usize = 64;

/// Why no codec was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    /// No registered codec recognised the first bytes and the listener's fallback codec is not registered.
    #[error("no codec recognises the first bytes")]
    NoMatch,
    /// The client sent too little before the deadline.
    #[error("no protocol recognised before the deadline")]
    Timeout,
    /// The client closed before a protocol was recognised.
    #[error("closed before a protocol was recognised")]
    Closed,
}

impl SniffError {
    /// Stable label (the `reason` of `chargegate_connections_refused_total`).
    pub fn label(self) -> &'static str {
        match self {
            SniffError::NoMatch => "sniff_no_match",
            SniffError::Timeout => "sniff_timeout",
            SniffError::Closed => "sniff_closed",
        }
    }
}

/// Reads from `stream` into `buf` until a codec is recognised; `fallback` is the listener's configured codec.
pub async fn sniff<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    codecs: &CodecRegistry,
    fallback: &str,
    deadline: Duration,
) -> Result<Arc<dyn VendorCodec>, SniffError> {
    let candidates = codecs.names();
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        match codecs.detect(&candidates, buf) {
            Ok(codec) => return Ok(codec),
            Err(Detect::NeedMore) if buf.len() < SNIFF_MAX_BYTES => {}
            Err(_) => return codecs.default_for(fallback).ok_or(SniffError::NoMatch),
        }
        buf.reserve(SNIFF_MAX_BYTES);
        match tokio::time::timeout_at(give_up, stream.read_buf(buf)).await {
            Err(_) => return Err(SniffError::Timeout),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(SniffError::Closed),
            Ok(Ok(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::ykc::plugin::{YkcCodec, YkcSettings};
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::app::SystemLocalClock;

    fn registry() -> CodecRegistry {
        let r = CodecRegistry::new();
        r.register(Arc::new(YkcCodec::new(YkcSettings::new(Arc::new(
            SystemLocalClock::default(),
        )))));
        r
    }

    #[tokio::test]
    async fn bytes_arriving_one_at_a_time_are_recognised_and_kept() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let codecs = registry();
        let task = tokio::spawn(async move {
            let mut buf = BytesMut::new();
            let codec = sniff(
                &mut server,
                &mut buf,
                &codecs,
                "none",
                Duration::from_secs(5),
            )
            .await;
            (codec.map(|c| c.name()), buf)
        });
        client.write_all(&[0x68]).await.unwrap();
        tokio::task::yield_now().await;
        client.write_all(&[0x22]).await.unwrap();
        let (codec, buf) = task.await.unwrap();
        assert_eq!(codec, Ok("ykc"));
        assert_eq!(&buf[..], &[0x68, 0x22]);
    }

    #[tokio::test]
    async fn unknown_bytes_without_a_registered_fallback_are_refused() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = BytesMut::new();
        let codec = sniff(
            &mut server,
            &mut buf,
            &registry(),
            "none",
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(codec.err(), Some(SniffError::NoMatch));
    }
}
