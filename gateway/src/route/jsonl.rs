//! The JSON-lines sink: one event per line on stdout or appended to a file.
//!
//! Events are rendered on the thread that publishes them, into that thread's buffer ([`LineBuffers`]); a thread of
//! the sink's own collects the buffers and writes them in big chunks with plain blocking I/O, flushed after every
//! collection (so a quiet gateway's lines appear within about a millisecond). Earlier versions queued the events
//! themselves to the sink thread, which rendered them: the cross-thread frees, per-event channel operations and
//! wake-ups cost more than the rendering at 300k events/s (`docs/decisions/0018-allocation-free-events.md`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::LineBuffers;

/// Bytes of buffer per publishing thread for each event of `sinks.queue`: the buffers bound the backlog the way a
/// queue of that many events would (a rendered 0x13 event is about 250–400 bytes).
pub const JSONL_BYTES_PER_EVENT: usize = 512;

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

/// Starts the sink's writer on a thread of its own; it ends (after writing and flushing what is buffered) when the
/// bus is dropped. The returned task resolves with the thread's result, so shutdown can await it like any other
/// sink.
pub fn spawn_jsonl_sink(
    lines: Arc<LineBuffers>,
    target: JsonlTarget,
) -> JoinHandle<std::io::Result<()>> {
    let (done_tx, done_rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("chargegate-jsonl".into())
        .spawn(move || {
            let result = match target {
                JsonlTarget::Stdout => lines.write_until_closed(std::io::stdout()),
                JsonlTarget::File(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|file| lines.write_until_closed(file)),
            };
            if let Err(e) = &result {
                tracing::error!(error = %e, "jsonl sink stopped");
            }
            // The gateway may already have stopped waiting; nothing to tell then.
            let _ = done_tx.send(result);
        });
    tokio::spawn(async move {
        spawned?;
        done_rx
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("jsonl sink thread panicked")))
    })
}
