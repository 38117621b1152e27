//! The JSON-lines sink: one event per line on stdout or appended to a file.
//!
//! It runs on a thread of its own with plain blocking I/O: events are rendered into a large buffer and written in
//! big chunks, flushed whenever the queue runs empty (so a quiet gateway's lines appear within about a
//! millisecond). The earlier `tokio::fs` version paid a blocking-pool hand-off and a flush per batch, which under
//! 300k events/s cost more than rendering the JSON; a dedicated thread also keeps the rendering off the connection
//! workers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::event::Event;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Events taken from the queue before the buffer is checked for a flush.
pub const JSONL_BATCH: usize = 256;
/// Bytes rendered before they are written out even while more events wait (about 1,000 lines).
const WRITE_CHUNK: usize = 256 * 1024;
/// How long the sink sleeps after emptying its queue before it looks again instead of parking (see
/// [`write_lines`]). A line waits at most about this long; at 300k events/s the queue (`sinks.queue`, 16,384 by
/// default) fills in 55 ms, far longer.
const LINGER: Duration = Duration::from_millis(1);

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

/// Starts the sink on a thread of its own; it ends (after flushing) when the bus is dropped. The returned task
/// resolves with the thread's result, so shutdown can await it like any other sink.
pub fn spawn_jsonl_sink(
    rx: mpsc::Receiver<Arc<Event>>,
    target: JsonlTarget,
) -> JoinHandle<std::io::Result<()>> {
    let (done_tx, done_rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("chargegate-jsonl".into())
        .spawn(move || {
            let result = match target {
                JsonlTarget::Stdout => write_lines(rx, std::io::stdout()),
                JsonlTarget::File(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|file| write_lines(rx, file)),
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

/// Renders and writes events until every sender is gone; blocking, for the sink's own thread.
///
/// When the queue runs empty the sink writes and flushes what it has, then sleeps [`LINGER`] and looks again; it
/// parks on the channel only when nothing arrived in that time. Parking after every drained batch (as before) made
/// a connection worker wake the sink for nearly every batch: a futex wake on the worker and a context switch on
/// the sink, about a tenth of the gateway's CPU at 100k 0x13 frames/s (perf, `finish_task_switch` in the sink).
fn write_lines<W: Write>(mut rx: mpsc::Receiver<Arc<Event>>, mut out: W) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(WRITE_CHUNK + 4096);
    while let Some(first) = rx.blocking_recv() {
        render(&mut buf, &first);
        loop {
            let mut taken = 0;
            // Take what is already queued without blocking, writing whenever a chunk is full.
            loop {
                let mut batch = 0;
                while batch < JSONL_BATCH {
                    match rx.try_recv() {
                        Ok(ev) => {
                            render(&mut buf, &ev);
                            batch += 1;
                        }
                        Err(_) => break,
                    }
                }
                taken += batch;
                if buf.len() >= WRITE_CHUNK || batch < JSONL_BATCH {
                    out.write_all(&buf)?;
                    buf.clear();
                }
                if batch < JSONL_BATCH {
                    break;
                }
            }
            out.flush()?;
            if taken == 0 {
                // Nothing came during the last linger: park until the next event.
                break;
            }
            std::thread::sleep(LINGER);
        }
    }
    out.flush()
}

/// Appends `ev` as one JSON line, with the event's own renderer (the same bytes as serde_json, without serde's
/// per-key overhead: this runs for every event).
fn render(buf: &mut Vec<u8>, ev: &Event) {
    let mark = buf.len();
    match ev.write_json(buf) {
        Ok(()) => buf.push(b'\n'),
        Err(e) => {
            buf.truncate(mark);
            tracing::error!(error = %e, charger = %ev.charger, "event not serializable");
        }
    }
}
