//! A connection's outbound queue, owned by the connection task itself: writes pass the water-mark gauge, are put
//! on the socket at once, and only what the socket does not take stays queued until it is writable again.
//!
//! There is no writer task: a second task per connection cost a context switch per reply (perf showed 62 % of
//! gateway time in kernel context switches with 19,500 chargers) plus a channel per connection. The queue is
//! bounded by the gauge: above the high mark non-critical writes are refused, so only critical writes (login
//! replies, billing acks — a handful per session) can queue past it. An empty queue holds no buffer, and a write
//! the socket takes at once is never queued (no allocation per reply). The gauge lives inside the outbox: only the
//! connection task uses it, and a shared one cost an allocation per connection.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::AsyncWrite;

use crate::pipeline::water_mark::{Busy, OutboundGauge, OutboundLayer, WriteClass};

/// Writes admitted by the water marks and not yet taken by the socket.
#[derive(Debug)]
pub struct Outbox {
    /// `None` (no allocation, one word) while nothing waits: the usual state of an idle charger.
    // Boxed on purpose: one word in every connection instead of an empty `VecDeque`'s four.
    #[allow(clippy::box_collection)]
    queue: Option<Box<VecDeque<Bytes>>>,
    /// Bytes of the front write the socket already took (writes are protocol frames, far below 4 GiB; a `u32`
    /// packs with `unflushed`).
    written: u32,
    /// Written bytes the transport may still buffer (TLS): flushed before the queue counts as drained.
    unflushed: bool,
    /// A write failed: the socket is dead. Set and read by the connection driver; kept here, next to `unflushed`,
    /// where it fills padding instead of a word of the driver.
    pub(super) failed: bool,
    /// The gauge's transitions the driver has reported (wrapping: only the difference to the gauge's count
    /// matters). The driver's, kept here for the same reason as `failed`.
    pub(super) reported_transitions: u32,
    gauge: OutboundGauge,
}

impl Outbox {
    /// An empty queue accounted on `gauge`.
    pub fn new(gauge: OutboundGauge) -> Self {
        Outbox {
            queue: None,
            written: 0,
            unflushed: false,
            failed: false,
            reported_transitions: 0,
            gauge,
        }
    }

    /// Admits `bytes` through the water marks and writes what the socket takes right away; the rest is queued
    /// for [`Outbox::poll_write`] (the task's real waker is registered when it polls that while not idle).
    /// `Ok(Err(_))`: the socket failed.
    pub fn send<W: AsyncWrite + Unpin>(
        &mut self,
        bytes: Bytes,
        class: WriteClass,
        io: &mut W,
    ) -> Result<io::Result<()>, Busy> {
        self.gauge.admit(bytes.len(), class)?;
        let mut cx = Context::from_waker(Waker::noop());
        if self.queue.is_some() {
            self.queue.get_or_insert_with(Box::default).push_back(bytes);
            return Ok(match self.poll_write(io, &mut cx) {
                Poll::Ready(Err(e)) => Err(e),
                _ => Ok(()),
            });
        }
        let n = match Pin::new(&mut *io).poll_write(&mut cx, &bytes) {
            Poll::Ready(Ok(0)) if !bytes.is_empty() => {
                return Ok(Err(io::ErrorKind::WriteZero.into()))
            }
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Ok(Err(e)),
            Poll::Pending => 0,
        };
        if n > 0 {
            self.unflushed = true;
        }
        if n >= bytes.len() {
            self.gauge.release(bytes.len());
        } else {
            // The socket took part of it (or nothing): the rest waits, released from the gauge when written.
            self.written = u32::try_from(n).unwrap_or(u32::MAX);
            self.queue.get_or_insert_with(Box::default).push_back(bytes);
        }
        Ok(match self.poll_write(io, &mut cx) {
            Poll::Ready(Err(e)) => Err(e),
            _ => Ok(()),
        })
    }

    /// Whether anything waits for the socket.
    pub fn is_idle(&self) -> bool {
        self.queue.is_none() && !self.unflushed
    }

    /// Writes what is queued until the socket would block (then `Pending`, with the task's waker registered) or
    /// the queue is empty and flushed (`Ready(Ok)`). Each finished write is released from the gauge.
    pub fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(queue) = &mut self.queue {
            while let Some(front) = queue.front() {
                let rest = front.get(self.written as usize..).unwrap_or_default();
                let n = ready!(Pin::new(&mut *io).poll_write(cx, rest))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.unflushed = true;
                let written = (self.written as usize).saturating_add(n);
                self.written = u32::try_from(written).unwrap_or(u32::MAX);
                if written >= front.len() {
                    let len = front.len();
                    queue.pop_front();
                    self.written = 0;
                    self.gauge.release(len);
                }
            }
            // Give the buffer back: an idle charger keeps no queue.
            self.queue = None;
        }
        if self.unflushed {
            ready!(Pin::new(&mut *io).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// The gauge, for `is_writable` checks and metrics.
    pub fn gauge(&self) -> &OutboundGauge {
        &self.gauge
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // Whatever is left will never be written.
        for bytes in self.queue.take().into_iter().flat_map(|q| q.into_iter()) {
            self.gauge.release(bytes.len());
        }
    }
}
