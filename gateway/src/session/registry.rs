//! The session registry: charger id → [`SessionHandle`] of the connection that holds it.
//!
//! A login inserts with `entry()` — one locked step — so two simultaneous logins of one id cannot both win; the
//! loser of a takeover (the older connection) is told to close with reason `takeover` after the map guard is gone.
//! A logout removes the entry only if it still belongs to the closing connection, so a late logout of a taken-over
//! connection never removes its successor. Commands queued while the charger was offline go out at login.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

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
    /// A set of handles found by their charger id: the handle is the key, so an entry is 24 B instead of a 16 B
    /// id next to the 24 B handle (the table's buckets are paid for every connection, with the slack of doubling).
    sessions: DashMap<ByCharger, ()>,
    pending: PendingQueue,
}

/// A registry entry: a session handle that hashes and compares as its charger id, so the map finds it by `&str`.
#[derive(Debug)]
struct ByCharger(SessionHandle);

impl ByCharger {
    fn charger(&self) -> &str {
        &self.0.meta.charger
    }
}

impl Hash for ByCharger {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Exactly as the `str` it borrows as (`Borrow` requires equal hashes).
        self.charger().hash(state);
    }
}

impl PartialEq for ByCharger {
    fn eq(&self, other: &Self) -> bool {
        self.charger() == other.charger()
    }
}

impl Eq for ByCharger {}

impl Borrow<str> for ByCharger {
    fn borrow(&self) -> &str {
        self.charger()
    }
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
        let charger = &handle.meta.charger;
        let replaced = match self.sessions.entry(ByCharger(handle.clone())) {
            // The key is replaced too: it is the handle.
            Entry::Occupied(slot) => Some(slot.replace_entry(()).0 .0),
            Entry::Vacant(slot) => {
                slot.insert(());
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
            .remove_if(charger, |h, _| h.0.conn_id == conn_id)
            .is_some()
    }

    /// The handle of the connection holding `charger`, cloned out of the map.
    pub fn get(&self, charger: &str) -> Option<SessionHandle> {
        self.sessions.get(charger).map(|h| h.key().0.clone())
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
        self.sessions.iter().map(|e| e.key().0.clone()).collect()
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
