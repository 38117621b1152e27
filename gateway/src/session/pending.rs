//! Commands for offline chargers: a bounded queue with a TTL, per charger and overall, delivered at the next login.
//!
//! Bounds are hard: a command that does not fit is refused at once (the caller gets `offline`) and counted, rather
//! than letting a backlog grow until memory runs out (the brief §4). Expired commands are answered `timeout` and
//! counted when they are found.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chargegate_codec::event::CommandStatus;
use tokio::time::Instant;

use super::QueuedCommand;

/// Bounds of the pending queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingConfig {
    /// Commands held per charger.
    pub per_charger: usize,
    /// Commands held in total.
    pub global: usize,
    /// How long a command waits for its charger at most.
    pub ttl: Duration,
}

impl Default for PendingConfig {
    fn default() -> Self {
        PendingConfig {
            per_charger: 16,
            global: 10_000,
            ttl: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_charger: HashMap<String, VecDeque<(Instant, QueuedCommand)>>,
    total: usize,
}

/// Commands waiting for their charger to log in.
#[derive(Debug, Default)]
pub struct PendingQueue {
    config: PendingConfig,
    inner: Mutex<Inner>,
    dropped_full: AtomicU64,
    dropped_expired: AtomicU64,
}

impl PendingQueue {
    /// An empty queue with these bounds.
    pub fn new(config: PendingConfig) -> Self {
        PendingQueue {
            config,
            ..Default::default()
        }
    }

    /// Holds `command` for `charger`; gives it back (boxed: the error path is rare) if a bound is reached (counted).
    pub fn push(&self, charger: &str, command: QueuedCommand) -> Result<(), Box<QueuedCommand>> {
        let now = Instant::now();
        let mut inner = self.lock();
        let queue_len = inner.by_charger.get(charger).map_or(0, VecDeque::len);
        if queue_len >= self.config.per_charger || inner.total >= self.config.global {
            self.dropped_full.fetch_add(1, Ordering::Relaxed);
            return Err(Box::new(command));
        }
        let expires = now + self.config.ttl;
        inner
            .by_charger
            .entry(charger.to_owned())
            .or_default()
            .push_back((expires, command));
        inner.total += 1;
        Ok(())
    }

    /// Takes every live command for `charger`, oldest first; expired ones are answered `timeout`.
    pub fn take(&self, charger: &str) -> Vec<QueuedCommand> {
        let now = Instant::now();
        let queued = {
            let mut inner = self.lock();
            let queued = inner.by_charger.remove(charger).unwrap_or_default();
            inner.total = inner.total.saturating_sub(queued.len());
            queued
        };
        let mut live = Vec::with_capacity(queued.len());
        for (expires, command) in queued {
            if now < expires && command.is_wanted(now) {
                live.push(command);
            } else {
                self.dropped_expired.fetch_add(1, Ordering::Relaxed);
                command.answer(CommandStatus::Timeout);
            }
        }
        live
    }

    /// Answers `timeout` to every expired command (call periodically); returns how many.
    pub fn purge_expired(&self) -> usize {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut inner = self.lock();
            for queue in inner.by_charger.values_mut() {
                while queue
                    .front()
                    .is_some_and(|(at, c)| now >= *at || !c.is_wanted(now))
                {
                    if let Some((_, command)) = queue.pop_front() {
                        expired.push(command);
                    }
                }
            }
            inner.by_charger.retain(|_, q| !q.is_empty());
            inner.total = inner.total.saturating_sub(expired.len());
        }
        let count = expired.len();
        self.dropped_expired
            .fetch_add(count as u64, Ordering::Relaxed);
        for command in expired {
            command.answer(CommandStatus::Timeout);
        }
        count
    }

    /// Commands held now.
    pub fn len(&self) -> usize {
        self.lock().total
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Commands refused because a bound was reached.
    pub fn dropped_full(&self) -> u64 {
        self.dropped_full.load(Ordering::Relaxed)
    }

    /// Commands that expired before their charger came back.
    pub fn dropped_expired(&self) -> u64 {
        self.dropped_expired.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use chargegate_codec::command::{Command, CommandKind, ResetArgs};
    use tokio::sync::oneshot;

    use super::*;

    fn command(
        id: &str,
    ) -> (
        QueuedCommand,
        oneshot::Receiver<chargegate_codec::event::CommandResultData>,
    ) {
        let (tx, rx) = oneshot::channel();
        let q = QueuedCommand {
            command: Command {
                id: id.into(),
                kind: CommandKind::Reset(ResetArgs::default()),
            },
            reply: tx,
            deadline: Instant::now() + Duration::from_secs(3_600),
        };
        (q, rx)
    }

    fn queue(per_charger: usize, global: usize) -> PendingQueue {
        PendingQueue::new(PendingConfig {
            per_charger,
            global,
            ttl: Duration::from_secs(60),
        })
    }

    #[tokio::test]
    async fn commands_come_back_in_order_for_their_charger_only() {
        let q = queue(4, 10);
        let (a, _ra) = command("a");
        let (b, _rb) = command("b");
        let (c, _rc) = command("c");
        q.push("X", a).unwrap();
        q.push("Y", b).unwrap();
        q.push("X", c).unwrap();
        let ids: Vec<_> = q.take("X").into_iter().map(|c| c.command.id).collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(q.len(), 1);
    }

    #[tokio::test]
    async fn per_charger_and_global_bounds_refuse_and_count() {
        let q = queue(1, 2);
        let keep: Vec<_> = (0..4).map(|i| command(&i.to_string())).collect();
        let mut results = Vec::new();
        for (i, (c, _)) in keep.into_iter().enumerate() {
            let charger = ["X", "X", "Y", "Z"][i];
            results.push(q.push(charger, c).is_ok());
        }
        assert_eq!(results, [true, false, true, false]);
        assert_eq!(q.dropped_full(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_commands_are_answered_timeout_not_delivered() {
        let q = queue(4, 10);
        let (a, ra) = command("a");
        q.push("X", a).unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(q.take("X").is_empty());
        assert_eq!(ra.await.unwrap().status, CommandStatus::Timeout);
        assert_eq!(q.dropped_expired(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn purge_answers_expired_commands() {
        let q = queue(4, 10);
        let (a, ra) = command("a");
        q.push("X", a).unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(q.purge_expired(), 1);
        assert!(q.is_empty());
        assert_eq!(ra.await.unwrap().status, CommandStatus::Timeout);
    }
}
