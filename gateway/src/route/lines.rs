//! Rendered lines: a sink that takes each event as a JSON line on the publishing thread, into a buffer of that
//! thread's own, and a writer thread that collects the buffers and writes them out.
//!
//! Why not a queue of events like the other sinks: a queued event is allocated on a connection worker and freed
//! on the sink's thread, and at 300,000 events/s that cross-thread free (glibc takes the allocating arena's lock),
//! the per-event channel operations and the wake-ups cost more than rendering the JSON (perf, 150k 0x13 frames/s).
//! Rendered here, an event is freed on the thread that made it and only bytes cross threads, in chunks.
//!
//! Bounded like a queue: a thread's buffer holds at most `limit` bytes; a line that does not fit is dropped (and
//! counted by the bus), a billing event waits for room (see [`EventBus`](super::EventBus)).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chargegate_codec::event::EventView;

/// Buffers: one per publishing thread (threads beyond the count share by index).
const SHARDS: usize = 16;
/// How long the writer sleeps after writing before it collects again instead of parking; a line waits at most
/// about this long while the gateway is busy, and a lone line is written at once (its thread wakes the writer).
/// Each sleep is a wake-up of this thread, and on a loaded box every wake-up counts: 1 ms (~900 wake-ups/s at
/// 150k frames/s) cost ~5 % more gateway CPU per frame than 5 ms (~200/s); a file of events does not need fresher.
const LINGER: Duration = Duration::from_millis(5);
/// How long the writer parks at most when every buffer is empty (a safety net; a new line wakes it).
const IDLE_PARK: Duration = Duration::from_millis(200);

/// A thread's slot among the shards, fixed for the thread's life.
fn slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SLOT.with(|s| *s)
}

/// One shard's buffer, on a cache line of its own so two workers never share one.
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<Lines>);

/// Rendered lines: the first `len` bytes of `bytes`. The vector keeps its full length when emptied (what lies
/// past `len` is stale), so a line is written over it ([`EventView::write_json_at`]) without zeroing room first.
#[derive(Default)]
struct Lines {
    bytes: Vec<u8>,
    len: usize,
}

impl Lines {
    fn written(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// The publishing side: per-thread buffers of rendered lines.
pub struct LineBuffers {
    shards: Box<[Shard]>,
    limit: usize,
    writer: OnceLock<std::thread::Thread>,
    closed: AtomicBool,
    /// The writer has stopped (an I/O error): nothing offered would ever be written.
    stopped: AtomicBool,
}

impl LineBuffers {
    /// Buffers of at most `limit` bytes each.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(LineBuffers {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            limit: limit.max(1),
            writer: OnceLock::new(),
            closed: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        })
    }

    /// Renders `ev` as one JSON line into this thread's buffer; `false` if the buffer is full (the line is
    /// dropped) or the event cannot be rendered.
    pub fn offer(&self, ev: &EventView<'_>) -> bool {
        if self.is_stopped() {
            return false;
        }
        let Some(shard) = self.shards.get(slot()) else {
            return false;
        };
        let mut guard = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = &mut *guard;
        if lines.len >= self.limit {
            return false;
        }
        let was_empty = lines.len == 0;
        let ok = match ev.write_json_at(&mut lines.bytes, lines.len) {
            Ok(end) => {
                match lines.bytes.get_mut(end) {
                    Some(b) => *b = b'\n',
                    None => lines.bytes.push(b'\n'),
                }
                lines.len = end + 1;
                true
            }
            Err(e) => {
                tracing::error!(error = %e, charger = ev.charger, "event not serializable");
                false
            }
        };
        drop(guard);
        if ok && was_empty {
            // The writer may be parked on empty buffers.
            if let Some(t) = self.writer.get() {
                t.unpark();
            }
        }
        ok
    }

    /// Whether the writer has stopped on an error (offers then fail at once, and billing events do not wait).
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Ends the writer once it has written what is buffered.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }

    /// Moves every buffer's lines to `out` (swapping, so the vectors are kept on both sides); the number of bytes.
    fn collect(&self, spare: &mut Lines, out: &mut impl Write) -> std::io::Result<usize> {
        let mut n = 0;
        for shard in self.shards.iter() {
            {
                let mut lines = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
                if lines.len == 0 {
                    continue;
                }
                std::mem::swap(&mut *lines, spare);
            }
            out.write_all(spare.written())?;
            n += spare.len;
            spare.len = 0;
        }
        Ok(n)
    }

    /// The writer's loop, on its own thread: collects and writes until [`close`](Self::close), then writes what
    /// is left and flushes.
    pub fn write_until_closed(&self, out: impl Write) -> std::io::Result<()> {
        let result = self.write_loop(out);
        if result.is_err() {
            self.stopped.store(true, Ordering::Release);
        }
        result
    }

    fn write_loop(&self, mut out: impl Write) -> std::io::Result<()> {
        let _ = self.writer.set(std::thread::current());
        let mut spare = Lines::default();
        loop {
            // Read before collecting: a close seen here means every line offered before it is collected below.
            let closed = self.closed.load(Ordering::Acquire);
            let n = self.collect(&mut spare, &mut out)?;
            if n > 0 {
                out.flush()?;
            }
            if closed {
                return out.flush();
            }
            if n > 0 {
                std::thread::sleep(LINGER);
            } else {
                std::thread::park_timeout(IDLE_PARK);
            }
        }
    }
}

impl std::fmt::Debug for LineBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineBuffers")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{LineBuffers, Lines};
    use crate::route::tests::event;
    use chargegate_codec::event::{AlarmData, CommandResultData, CommandStatus, EventBody};

    /// Long and short lines, through the hand-written renderer (an alarm) and through serde (a command result).
    #[test]
    fn lines_written_over_a_reused_buffer_carry_no_stale_bytes() {
        let alarm = |text: String| {
            event(EventBody::Alarm(AlarmData {
                code: "ykc.hw.emergency_stop".into(),
                severity: "critical".into(),
                text,
                active: true,
            }))
        };
        let (long, short) = (alarm("x".repeat(3000)), alarm("ok".into()));
        let result = event(EventBody::CommandResult(CommandResultData {
            command_id: "c1".into(),
            command: "start".into(),
            status: CommandStatus::Accepted,
            detail: serde_json::Value::String("y".repeat(2000)),
        }));
        let order = [&long, &short, &short, &result, &short, &long, &short];
        let lines = LineBuffers::new(1 << 20);
        let mut spare = Lines::default();
        let mut out = Vec::new();
        for ev in order {
            assert!(lines.offer(&ev.view()));
            lines.collect(&mut spare, &mut out).unwrap();
        }
        let expected: String = order
            .iter()
            .map(|ev| serde_json::to_string(&***ev).unwrap() + "\n")
            .collect();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
