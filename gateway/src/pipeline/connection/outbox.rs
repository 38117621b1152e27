//! A connection's outbound path: writes pass the water-mark gauge, queue, and a writer task puts them on the socket.
//!
//! The queue is bounded by the gauge, not by the channel: above the high mark non-critical writes are refused, so
//! only critical writes (login replies, billing acks — a handful per session) can queue past it.

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::pipeline::water_mark::{Busy, OutboundGauge, OutboundLayer, WriteClass};

/// Writes a batch of at most this many queued frames before one flush.
const WRITE_BATCH: usize = 64;

/// The sending half of a connection's outbound queue.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Bytes>,
    gauge: Arc<OutboundGauge>,
}

impl Outbox {
    /// Queues `bytes` if the water marks admit it.
    pub fn send(&self, bytes: Bytes, class: WriteClass) -> Result<(), Busy> {
        let len = bytes.len();
        self.gauge.admit(len, class)?;
        if self.tx.send(bytes).is_err() {
            // The writer is gone (socket closed); nothing will be written, so nothing stays pending.
            self.gauge.release(len);
        }
        Ok(())
    }

    /// The gauge, for `is_writable` checks and metrics.
    pub fn gauge(&self) -> &Arc<OutboundGauge> {
        &self.gauge
    }
}

/// A queue and the writer task's end of it.
pub fn outbox(gauge: Arc<OutboundGauge>) -> (Outbox, mpsc::UnboundedReceiver<Bytes>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Outbox { tx, gauge }, rx)
}

/// The writer task: drains the queue in batches, flushes once per batch, releases each write from the gauge,
/// and shuts the socket's write side down when the queue closes.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Bytes>,
    gauge: Arc<OutboundGauge>,
) {
    // Grows with the batches actually seen (an idle charger's replies come one at a time); a full-size buffer up
    // front cost 2 KB per connection.
    let mut batch = Vec::new();
    'outer: while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        for bytes in batch.drain(..) {
            let result = writer.write_all(&bytes).await;
            gauge.release(bytes.len());
            if result.is_err() {
                break 'outer;
            }
        }
        if writer.flush().await.is_err() {
            break;
        }
    }
    // Whatever is left will never be written.
    for bytes in batch.drain(..) {
        gauge.release(bytes.len());
    }
    rx.close();
    while let Ok(bytes) = rx.try_recv() {
        gauge.release(bytes.len());
    }
    let _ = writer.shutdown().await;
}
