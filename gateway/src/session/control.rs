//! A connection's control queue: commands and close requests from the session registry, the liveness wheel and
//! takeovers, to the one task that owns the socket.
//!
//! It replaces a bounded tokio `mpsc` channel, which allocated a 32-slot block up front for every connection (most
//! chargers never receive a command). Here one small `Arc` holds a mutex-guarded `VecDeque` that allocates only
//! when a message is queued, and the waker of the connection task. Commands are bounded by `capacity` (a full queue
//! answers `busy`); close requests always fit, so a liveness expiry or takeover is never lost or deferred.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::sync::mpsc::error::TrySendError;

use super::SessionControl;
use crate::pipeline::CloseReason;

#[derive(Debug)]
struct State {
    /// `None` (one word, no allocation) while empty: most chargers never get a message.
    // Boxed on purpose: one word in every connection instead of an empty `VecDeque`'s four.
    #[allow(clippy::box_collection)]
    queue: Option<Box<VecDeque<SessionControl>>>,
    waker: Option<Waker>,
    /// The receiver is gone: nothing sent now would be read.
    closed: bool,
    /// Commands queued at most. Inside the lock, next to `closed`, so it fills padding: the whole `Arc` is 56 B, a
    /// 64 B allocator chunk instead of 80.
    capacity: u32,
}

impl State {
    /// The front message; the buffer is given back once empty (a charger that got one command should not keep
    /// its queue).
    fn pop(&mut self) -> Option<SessionControl> {
        let queue = self.queue.as_mut()?;
        let msg = queue.pop_front();
        if queue.is_empty() {
            self.queue = None;
        }
        msg
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending side, cloned into the session handle and the liveness wheel entry.
#[derive(Debug, Clone)]
pub struct ControlSender {
    shared: Arc<Shared>,
}

/// The receiving side, owned by the connection task; dropping it drops what is still queued.
#[derive(Debug)]
pub struct ControlReceiver {
    shared: Arc<Shared>,
}

/// A control queue holding at most `capacity` commands (at least one).
pub fn control_channel(capacity: usize) -> (ControlSender, ControlReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: None,
            waker: None,
            closed: false,
            capacity: u32::try_from(capacity).unwrap_or(u32::MAX).max(1),
        }),
    });
    (
        ControlSender {
            shared: Arc::clone(&shared),
        },
        ControlReceiver { shared },
    )
}

impl ControlSender {
    /// Queues `msg` without waiting. A command is refused with `Full` beyond the capacity; a close request always
    /// fits. `Closed` means the connection is gone.
    pub fn try_send(&self, msg: SessionControl) -> Result<(), TrySendError<SessionControl>> {
        let waker = {
            let mut state = self.shared.lock();
            if state.closed {
                return Err(TrySendError::Closed(msg));
            }
            let commands = state
                .queue
                .iter()
                .flat_map(|q| q.iter())
                .filter(|m| matches!(m, SessionControl::Command(_)))
                .count();
            if matches!(msg, SessionControl::Command(_)) && commands >= state.capacity as usize {
                return Err(TrySendError::Full(msg));
            }
            state.queue.get_or_insert_with(Box::default).push_back(msg);
            state.waker.take()
        };
        // Woken outside the lock.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Asks the connection to close with `reason`; returns whether it was still there to ask.
    pub fn close(&self, reason: CloseReason) -> bool {
        self.try_send(SessionControl::Close(reason)).is_ok()
    }

    /// Tells the connection its liveness deadline passed at wall-clock `at_ms` (it closes with
    /// `liveness_timeout`); returns whether it was still there to tell.
    pub fn expire(&self, at_ms: u64) -> bool {
        self.try_send(SessionControl::Expired { at_ms }).is_ok()
    }

    /// Whether the connection task has gone.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl ControlReceiver {
    /// A sender to this queue: the receiver's owner need not keep one of its own.
    pub fn sender(&self) -> ControlSender {
        ControlSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The next message, or `Pending` with the task's waker stored.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<SessionControl> {
        let mut state = self.shared.lock();
        match state.pop() {
            Some(msg) => Poll::Ready(msg),
            None => {
                match &mut state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Waits for the next message.
    pub async fn recv(&mut self) -> SessionControl {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Option<SessionControl> {
        self.shared.lock().pop()
    }
}

impl Drop for ControlReceiver {
    fn drop(&mut self) {
        let (queue, waker) = {
            let mut state = self.shared.lock();
            state.closed = true;
            (state.queue.take(), state.waker.take())
        };
        // Dropped outside the lock: a queued command's reply sender tells its caller the connection is gone.
        drop(queue);
        drop(waker);
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::command::{Command, CommandKind, ConnectorArgs};

    use super::*;

    #[tokio::test]
    async fn a_close_request_fits_past_a_full_command_queue_and_wakes_the_receiver() {
        let (tx, mut rx) = control_channel(1);
        let command = || {
            SessionControl::Command(Box::new(super::super::QueuedCommand {
                command: Command {
                    id: "c1".into(),
                    kind: CommandKind::Unlock(ConnectorArgs { connector: 1 }),
                },
                reply: tokio::sync::oneshot::channel().0,
                deadline: tokio::time::Instant::now(),
            }))
        };
        assert!(tx.try_send(command()).is_ok());
        assert!(matches!(tx.try_send(command()), Err(TrySendError::Full(_))));
        let waiter = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        assert!(tx.close(CloseReason::Takeover));
        let (first, second) = waiter.await.unwrap();
        assert!(matches!(first, SessionControl::Command(_)));
        assert!(matches!(
            second,
            SessionControl::Close(CloseReason::Takeover)
        ));
        assert!(tx.is_closed(), "the receiver was dropped with its task");
        assert!(matches!(
            tx.try_send(command()),
            Err(TrySendError::Closed(_))
        ));
        assert!(!tx.close(CloseReason::Takeover));
    }
}
