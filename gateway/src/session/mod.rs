//! Sessions and commands: who is connected where, and how a command reaches a charger and its answer comes back.
//!
//! - [`registry`]: charger id → [`SessionHandle`] (a dashmap), with takeover on a second login.
//! - [`pending`]: commands for offline chargers, bounded and with a TTL, delivered at the next login.
//! - [`correlator`]: per connection, matches replies to commands by the codec's correlation key and keeps OCPP's
//!   one-outstanding-CALL rule.
//! - [`dispatcher`]: the `dispatch(charger, command, timeout)` API that REST and MQTT call.
//!
//! A [`SessionHandle`] is a cheap clone: the sender of the connection task's control queue ([`control`]) plus
//! shared metadata.
//! Map guards are never held across an `.await`: handles are cloned out in a statement of their own.

pub mod control;
pub mod correlator;
pub mod dispatcher;
pub mod pending;
pub mod registry;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chargegate_codec::command::Command;
use chargegate_codec::event::{CommandResultData, CommandStatus};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::pipeline::CloseReason;

pub use control::{control_channel, ControlReceiver, ControlSender};
pub use correlator::Correlator;
pub use dispatcher::CommandDispatcher;
pub use pending::{PendingConfig, PendingQueue};
pub use registry::SessionRegistry;

/// A message to a connection task.
#[derive(Debug)]
pub enum SessionControl {
    /// Send this command to the charger and report its result. Boxed so the enum stays two words in the
    /// connection's control queue.
    Command(Box<QueuedCommand>),
    /// Close the connection and emit `offline` with this reason.
    Close(CloseReason),
    /// The liveness wheel found the connection silent past its deadline at wall-clock `at_ms`: close with
    /// `liveness_timeout` and stamp `offline` with the moment of detection, not the (later) moment this task got to
    /// it — 10,000 chargers expiring in one tick are closed one after another.
    Expired {
        /// Unix milliseconds when the wheel tick found the deadline passed.
        at_ms: u64,
    },
}

/// A command on its way to a charger, with the channel its result goes back on.
#[derive(Debug)]
pub struct QueuedCommand {
    /// The command.
    pub command: Command,
    /// Where the result goes; dropped unanswered if the caller gave up.
    pub reply: oneshot::Sender<CommandResultData>,
    /// After this the caller no longer waits.
    pub deadline: Instant,
}

impl QueuedCommand {
    /// Whether the caller still waits for the result.
    pub fn is_wanted(&self, now: Instant) -> bool {
        !self.reply.is_closed() && now < self.deadline
    }

    /// Answers the caller with `status` (no detail) without involving the charger.
    pub fn answer(self, status: CommandStatus) {
        let result = result_of(&self.command, status);
        // The caller may have gone; nothing to do then.
        let _ = self.reply.send(result);
    }
}

/// A result for `command` with `status` and no detail.
pub fn result_of(command: &Command, status: CommandStatus) -> CommandResultData {
    CommandResultData {
        command_id: command.id.clone(),
        command: command.kind.name().to_owned(),
        status,
        detail: serde_json::Value::Null,
    }
}

/// What is known about a connected charger, shared by its handle's clones. Kept small (it is one allocation per
/// connected charger; 88 B fits a 112 B allocator chunk with its `Arc` counts).
#[derive(Debug)]
pub struct SessionMeta {
    /// Charger id; the registry's key is the same allocation.
    pub charger: Arc<str>,
    /// Codec registry name (`ykc`, `ocpp`, …).
    pub codec: &'static str,
    /// Protocol label (`ykc/1.6`).
    pub protocol: &'static str,
    /// Station, when the registry names it.
    pub station: Option<String>,
    /// Worker event loop holding the connection.
    pub worker: u32,
    /// Login time, Unix epoch milliseconds.
    pub connected_since_ms: u64,
    charging: AtomicBool,
}

impl SessionMeta {
    /// Metadata for a connection that just logged in.
    pub fn new(
        charger: impl Into<Arc<str>>,
        codec: &'static str,
        protocol: &'static str,
        station: Option<String>,
        worker: usize,
        connected_since_ms: u64,
    ) -> Self {
        SessionMeta {
            charger: charger.into(),
            codec,
            protocol,
            station,
            worker: u32::try_from(worker).unwrap_or(u32::MAX),
            connected_since_ms,
            charging: AtomicBool::new(false),
        }
    }

    /// `charging` or `online`, for listings.
    pub fn state(&self) -> &'static str {
        if self.charging.load(Ordering::Relaxed) {
            "charging"
        } else {
            "online"
        }
    }

    /// Records whether a session is running.
    pub fn set_charging(&self, charging: bool) {
        self.charging.store(charging, Ordering::Relaxed);
    }
}

/// A cheap handle to a live connection.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    /// Unique id of the connection (a charger id may have had several).
    pub conn_id: u64,
    /// The connection task's control queue.
    pub control: ControlSender,
    /// Shared metadata.
    pub meta: Arc<SessionMeta>,
}

impl SessionHandle {
    /// Tells the connection to close; never blocks, never fails loudly (a gone connection is already closed).
    pub fn close(&self, reason: CloseReason) {
        // A close request always fits the queue; `false` only means the connection is already gone.
        self.control.close(reason);
    }
}
