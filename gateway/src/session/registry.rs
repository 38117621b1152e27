//! The session registry: charger id → [`SessionHandle`] of the connection that holds it.
//!
//! A login inserts with `entry()` — one locked step — so two simultaneous logins of one id cannot both win; the
//! loser of a takeover (the older connection) is told to close with reason `takeover` after the map guard is gone.
//! A logout removes the entry only if it still belongs to the closing connection, so a late logout of a taken-over
//! connection never removes its successor. Commands queued while the charger was offline go out at login.

use std::sync::Arc;

use chargegate_codec::event::CommandStatus;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use tokio::sync::mpsc::error::TrySendError;

use super::{PendingConfig, PendingQueue, QueuedCommand, SessionControl, SessionHandle};
use crate::pipeline::CloseReason;

/// What a login did.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The older connection that was taken over, already told to close.
    pub replaced: Option<SessionHandle>,
    /// Pending commands handed to the new connection.
    pub delivered: usize,
}

/// Every connected charger on this gateway instance.
#[derive(Debug, Default)]
pub struct SessionRegistry {
    /// Keyed by the session metadata's own id (an `Arc<str>` clone, not a copy of the string).
    sessions: DashMap<Arc<str>, SessionHandle>,
    pending: PendingQueue,
}

impl SessionRegistry {
    /// An empty registry whose offline-command queue has these bounds.
    pub fn new(pending: PendingConfig) -> Self {
        SessionRegistry {
            sessions: DashMap::new(),
            pending: PendingQueue::new(pending),
        }
    }

    /// Registers a logged-in connection, taking over any older one with the same charger id, and hands it the
    /// commands that waited for it.
    pub fn login(&self, handle: SessionHandle) -> LoginOutcome {
        let charger = Arc::clone(&handle.meta.charger);
        let replaced = match self.sessions.entry(Arc::clone(&charger)) {
            Entry::Occupied(mut slot) => Some(slot.insert(handle.clone())),
            Entry::Vacant(slot) => {
                slot.insert(handle.clone());
                None
            }
        };
        // The map guard is gone; now talk to the connections.
        if let Some(old) = &replaced {
            tracing::info!(charger = %charger, old = old.conn_id, new = handle.conn_id, "session takeover");
            old.close(CloseReason::Takeover);
        }
        let delivered = self.deliver_pending(&handle);
        LoginOutcome {
            replaced,
            delivered,
        }
    }

    /// Removes the charger's entry if connection `conn_id` still holds it; returns whether it did.
    pub fn logout(&self, charger: &str, conn_id: u64) -> bool {
        self.sessions
            .remove_if(charger, |_, h| h.conn_id == conn_id)
            .is_some()
    }

    /// The handle of the connection holding `charger`, cloned out of the map.
    pub fn get(&self, charger: &str) -> Option<SessionHandle> {
        self.sessions.get(charger).map(|h| h.clone())
    }

    /// Connected chargers.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// No charger connected.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Handles of every connected charger (a snapshot, for listings).
    pub fn handles(&self) -> Vec<SessionHandle> {
        self.sessions.iter().map(|e| e.value().clone()).collect()
    }

    /// Closes every connection with `reason` (shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for handle in self.handles() {
            handle.close(reason);
        }
    }

    /// The offline-command queue.
    pub fn pending(&self) -> &PendingQueue {
        &self.pending
    }

    /// Holds a command for an offline charger; if the charger logged in meanwhile, delivers at once.
    pub fn hold(&self, charger: &str, command: QueuedCommand) -> Result<(), Box<QueuedCommand>> {
        self.pending.push(charger, command)?;
        if let Some(handle) = self.get(charger) {
            self.deliver_pending(&handle);
        }
        Ok(())
    }

    fn deliver_pending(&self, handle: &SessionHandle) -> usize {
        let mut delivered = 0;
        for command in self.pending.take(&handle.meta.charger) {
            match handle
                .control
                .try_send(SessionControl::Command(Box::new(command)))
            {
                Ok(()) => delivered += 1,
                Err(TrySendError::Full(SessionControl::Command(c))) => {
                    c.answer(CommandStatus::Busy)
                }
                Err(TrySendError::Closed(SessionControl::Command(c))) => {
                    c.answer(CommandStatus::Offline)
                }
                Err(_) => {}
            }
        }
        delivered
    }
}
