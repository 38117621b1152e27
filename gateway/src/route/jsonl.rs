//! The JSON-lines sink: one event per line on stdout or appended to a file, written in batches.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chargegate_codec::event::Event;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events taken from the queue per write.
pub const JSONL_BATCH: usize = 256;

/// Where the sink writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonlTarget {
    /// Standard output.
    Stdout,
    /// A file, created if missing, appended to.
    File(PathBuf),
}

impl JsonlTarget {
    /// `-` means stdout, anything else a file.
    pub fn from_path(p: &Path) -> Self {
        if p == Path::new("-") {
            JsonlTarget::Stdout
        } else {
            JsonlTarget::File(p.to_owned())
        }
    }
}

/// Starts the sink on the current runtime; it ends (after flushing) when the bus is dropped.
pub fn spawn_jsonl_sink(
    rx: mpsc::Receiver<Arc<Event>>,
    target: JsonlTarget,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        match target {
            JsonlTarget::Stdout => write_lines(rx, tokio::io::stdout()).await,
            JsonlTarget::File(path) => {
                let file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .await?;
                write_lines(rx, file).await
            }
        }
    })
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Arc<Event>>,
    mut out: W,
) -> std::io::Result<()> {
    let mut batch = Vec::with_capacity(JSONL_BATCH);
    let mut buf = Vec::new();
    while rx.recv_many(&mut batch, JSONL_BATCH).await > 0 {
        buf.clear();
        for ev in batch.drain(..) {
            match serde_json::to_writer(&mut buf, ev.as_ref()) {
                Ok(()) => buf.push(b'\n'),
                Err(e) => {
                    tracing::error!(error = %e, charger = %ev.charger, "event not serializable")
                }
            }
        }
        out.write_all(&buf).await?;
        out.flush().await?;
    }
    out.flush().await
}
