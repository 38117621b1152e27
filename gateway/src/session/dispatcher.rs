//! The command API that REST and MQTT call: `dispatch(charger, command, timeout)` → the correlated result.
//!
//! An online charger's connection gets the command on its control channel (a full channel answers `busy` at once);
//! an offline charger's command waits in the pending queue (a full queue answers `offline`). Either way the caller
//! waits at most `timeout` and then gets `timeout`.

use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::command::Command;
use chargegate_codec::event::{CommandResultData, CommandStatus};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{result_of, QueuedCommand, SessionControl, SessionRegistry};

/// Sends commands to chargers and awaits their results.
#[derive(Debug, Clone)]
pub struct CommandDispatcher {
    registry: Arc<SessionRegistry>,
}

impl CommandDispatcher {
    /// A dispatcher over `registry`.
    pub fn new(registry: Arc<SessionRegistry>) -> Self {
        CommandDispatcher { registry }
    }

    /// Sends `command` to `charger` (or queues it until the charger logs in) and waits up to `timeout` for the
    /// result.
    pub async fn dispatch(
        &self,
        charger: &str,
        command: Command,
        timeout: Duration,
    ) -> CommandResultData {
        let (reply, result) = oneshot::channel();
        let fallback = result_of(&command, CommandStatus::Timeout);
        let queued = QueuedCommand {
            command,
            reply,
            deadline: Instant::now() + timeout,
        };
        // Cloned out in its own statement: no map guard across the await below.
        let handle = self.registry.get(charger);
        let offline = match handle {
            Some(handle) => match handle
                .control
                .try_send(SessionControl::Command(Box::new(queued)))
            {
                Ok(()) => None,
                Err(TrySendError::Full(SessionControl::Command(q))) => {
                    return result_of(&q.command, CommandStatus::Busy);
                }
                Err(TrySendError::Closed(SessionControl::Command(q))) => Some(*q),
                Err(_) => None,
            },
            None => Some(queued),
        };
        if let Some(queued) = offline {
            if let Err(refused) = self.registry.hold(charger, queued) {
                return result_of(&refused.command, CommandStatus::Offline);
            }
        }
        match tokio::time::timeout(timeout, result).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => CommandResultData {
                status: CommandStatus::Failed,
                detail: serde_json::json!({"reason": "connection dropped the command"}),
                ..fallback
            },
            Err(_) => fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::CloseReason;
    use crate::session::{
        control_channel, ControlReceiver, PendingConfig, SessionHandle, SessionMeta,
    };
    use chargegate_codec::command::{CommandKind, ConnectorArgs};

    fn handle(charger: &str, conn_id: u64) -> (SessionHandle, ControlReceiver) {
        let (tx, rx) = control_channel(8);
        let meta = SessionMeta::new(charger, "ykc", "ykc/1.6", None, 0, 0);
        (
            SessionHandle {
                conn_id,
                control: tx,
                meta: Arc::new(meta),
            },
            rx,
        )
    }

    fn unlock(id: &str) -> Command {
        Command {
            id: id.into(),
            kind: CommandKind::Unlock(ConnectorArgs { connector: 1 }),
        }
    }

    /// Plays the connection task: answers every command `accepted`.
    fn answer_commands(mut rx: ControlReceiver) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let SessionControl::Command(q) = rx.recv().await {
                    q.answer(CommandStatus::Accepted);
                }
            }
        })
    }

    #[tokio::test]
    async fn a_second_login_takes_over_and_closes_the_older_connection() {
        let registry = SessionRegistry::new(PendingConfig::default());
        let (old, mut old_rx) = handle("Y1", 1);
        let (new, _new_rx) = handle("Y1", 2);
        assert!(registry.login(old).replaced.is_none());
        let outcome = registry.login(new);
        assert_eq!(outcome.replaced.unwrap().conn_id, 1);
        assert!(matches!(
            old_rx.recv().await,
            SessionControl::Close(CloseReason::Takeover)
        ));
        assert_eq!(registry.get("Y1").unwrap().conn_id, 2);
        assert!(
            !registry.logout("Y1", 1),
            "the old connection's logout must not remove the new one"
        );
        assert_eq!(registry.len(), 1);
        assert!(registry.logout("Y1", 2));
        assert!(registry.is_empty());
    }

    #[tokio::test]
    async fn a_command_reaches_an_online_charger_and_returns_its_result() {
        let registry = Arc::new(SessionRegistry::new(PendingConfig::default()));
        let (h, rx) = handle("Y1", 1);
        registry.login(h);
        let _conn = answer_commands(rx);
        let dispatcher = CommandDispatcher::new(registry);
        let result = dispatcher
            .dispatch("Y1", unlock("c1"), Duration::from_secs(5))
            .await;
        assert_eq!(result.status, CommandStatus::Accepted);
        assert_eq!(result.command_id, "c1");
        assert_eq!(result.command, "unlock");
    }

    #[tokio::test]
    async fn a_command_to_an_offline_charger_is_delivered_when_it_reconnects() {
        let registry = Arc::new(SessionRegistry::new(PendingConfig::default()));
        let dispatcher = CommandDispatcher::new(registry.clone());
        let waiting = tokio::spawn(async move {
            dispatcher
                .dispatch("Y1", unlock("c1"), Duration::from_secs(30))
                .await
        });
        while registry.pending().is_empty() {
            tokio::task::yield_now().await;
        }
        let (h, rx) = handle("Y1", 1);
        assert_eq!(registry.login(h).delivered, 1);
        let conn = answer_commands(rx);
        assert_eq!(waiting.await.unwrap().status, CommandStatus::Accepted);
        registry.logout("Y1", 1);
        conn.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_charger_that_never_answers_yields_a_timeout_result() {
        let registry = Arc::new(SessionRegistry::new(PendingConfig::default()));
        let (h, _rx_kept_but_silent) = handle("Y1", 1);
        registry.login(h);
        let dispatcher = CommandDispatcher::new(registry);
        let result = dispatcher
            .dispatch("Y1", unlock("c1"), Duration::from_secs(5))
            .await;
        assert_eq!(result.status, CommandStatus::Timeout);
        assert_eq!(result.command_id, "c1");
    }

    #[tokio::test]
    async fn a_full_pending_queue_answers_offline_at_once() {
        let registry = Arc::new(SessionRegistry::new(PendingConfig {
            per_charger: 0,
            ..PendingConfig::default()
        }));
        let dispatcher = CommandDispatcher::new(registry.clone());
        let result = dispatcher
            .dispatch("Y1", unlock("c1"), Duration::from_secs(5))
            .await;
        assert_eq!(result.status, CommandStatus::Offline);
        assert_eq!(registry.pending().dropped_full(), 1);
    }
}
