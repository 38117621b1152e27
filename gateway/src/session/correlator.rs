//! Per-connection command correlation: which command a reply answers, and OCPP's one-outstanding-CALL rule.
//!
//! The connection task encodes each command with its codec ([`chargegate_codec::plugin::EncodedCommand`] carries the
//! reply's correlation key and whether the protocol allows only one outstanding request) and hands it here. The
//! correlator says whether to write it now or hold it; a reply with a known key completes its command and may
//! release the next held one; [`Correlator::expire`] gives up on commands whose caller stopped waiting, answering
//! `timeout`, so a charger that never replies cannot block the queue for ever.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use chargegate_codec::event::{CommandResultData, CommandStatus};
use chargegate_codec::plugin::{CorrelationKey, EncodedCommand};
use tokio::time::Instant;

use super::QueuedCommand;

/// Default cap on commands held behind an outstanding one.
pub const DEFAULT_MAX_HELD: usize = 32;

/// A command written to the charger and not yet answered.
#[derive(Debug)]
pub struct InFlight {
    /// The command and its result channel.
    pub queued: QueuedCommand,
}

impl InFlight {
    /// Sends the mapped result to the caller.
    pub fn complete(self, result: CommandResultData) {
        let _ = self.queued.reply.send(result);
    }
}

/// What to do with a submitted command.
#[derive(Debug, PartialEq, Eq)]
pub enum Submit {
    /// Write these bytes now.
    Write(Bytes),
    /// Held until the outstanding request is answered.
    Held,
    /// Refused: too many held (the caller got `busy`).
    Refused,
}

/// Command bookkeeping of one connection.
#[derive(Debug)]
pub struct Correlator {
    in_flight: HashMap<CorrelationKey, InFlight>,
    held: VecDeque<(EncodedCommand, QueuedCommand)>,
    max_held: usize,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::new(DEFAULT_MAX_HELD)
    }
}

impl Correlator {
    /// A correlator holding at most `max_held` commands behind an outstanding one.
    pub fn new(max_held: usize) -> Self {
        Correlator {
            in_flight: HashMap::new(),
            held: VecDeque::new(),
            max_held,
        }
    }

    /// Commands written and unanswered.
    pub fn outstanding(&self) -> usize {
        self.in_flight.len()
    }

    /// Commands held behind an outstanding one.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Submits an encoded command: write it now, or hold it if the protocol allows one outstanding request and
    /// one is.
    pub fn submit(&mut self, encoded: EncodedCommand, queued: QueuedCommand) -> Submit {
        if encoded.single_outstanding && !self.in_flight.is_empty() {
            if self.held.len() >= self.max_held {
                queued.answer(CommandStatus::Busy);
                return Submit::Refused;
            }
            self.held.push_back((encoded, queued));
            return Submit::Held;
        }
        let bytes = encoded.bytes.clone();
        self.in_flight
            .insert(encoded.correlation, InFlight { queued });
        Submit::Write(bytes)
    }

    /// A reply carrying `key` arrived: returns the command it answers (if any) and the next held command's bytes
    /// to write.
    pub fn on_reply(&mut self, key: &CorrelationKey) -> (Option<InFlight>, Option<Bytes>) {
        let answered = self.in_flight.remove(key);
        let next = if answered.is_some() {
            self.release_next()
        } else {
            None
        };
        (answered, next)
    }

    /// Answers `timeout` to every outstanding or held command whose deadline has passed; returns the bytes of
    /// held commands that may now be written.
    pub fn expire(&mut self, now: Instant) -> Vec<Bytes> {
        let expired: Vec<CorrelationKey> = self
            .in_flight
            .iter()
            .filter(|(_, f)| !f.queued.is_wanted(now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(f) = self.in_flight.remove(&key) {
                f.queued.answer(CommandStatus::Timeout);
            }
        }
        let (keep, gone): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(_, q)| q.is_wanted(now));
        self.held = keep;
        for (_, q) in gone {
            q.answer(CommandStatus::Timeout);
        }
        let mut writes = Vec::new();
        while self.in_flight.is_empty() {
            match self.release_next() {
                Some(bytes) => writes.push(bytes),
                None => break,
            }
        }
        writes
    }

    /// The connection is closing: every command still here is answered `offline`.
    pub fn fail_all(&mut self) {
        for (_, f) in self.in_flight.drain() {
            f.queued.answer(CommandStatus::Offline);
        }
        for (_, q) in self.held.drain(..) {
            q.answer(CommandStatus::Offline);
        }
    }

    fn release_next(&mut self) -> Option<Bytes> {
        let (encoded, queued) = self.held.pop_front()?;
        let bytes = encoded.bytes.clone();
        self.in_flight
            .insert(encoded.correlation, InFlight { queued });
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chargegate_codec::command::{Command, CommandKind, ResetArgs};
    use tokio::sync::oneshot;

    use super::*;
    use crate::session::result_of;

    fn command(id: &str, secs: u64) -> (QueuedCommand, oneshot::Receiver<CommandResultData>) {
        let (tx, rx) = oneshot::channel();
        let q = QueuedCommand {
            command: Command {
                id: id.into(),
                kind: CommandKind::Reset(ResetArgs::default()),
            },
            reply: tx,
            deadline: Instant::now() + Duration::from_secs(secs),
        };
        (q, rx)
    }

    fn ocpp_call(message_id: &str) -> EncodedCommand {
        EncodedCommand {
            bytes: Bytes::from(format!("[2,\"{message_id}\",\"Reset\",{{}}]")),
            correlation: CorrelationKey::Text(message_id.into()),
            single_outstanding: true,
        }
    }

    #[tokio::test]
    async fn a_second_ocpp_call_is_held_until_the_first_is_answered() {
        let mut c = Correlator::default();
        let (first, first_rx) = command("c1", 30);
        let (second, _second_rx) = command("c2", 30);
        assert!(matches!(c.submit(ocpp_call("m1"), first), Submit::Write(_)));
        assert_eq!(c.submit(ocpp_call("m2"), second), Submit::Held);
        assert_eq!((c.outstanding(), c.held()), (1, 1));

        let (answered, next) = c.on_reply(&CorrelationKey::Text("m1".into()));
        let answered = answered.unwrap();
        let result = result_of(&answered.queued.command, CommandStatus::Accepted);
        answered.complete(result);
        assert_eq!(first_rx.await.unwrap().status, CommandStatus::Accepted);
        assert_eq!(next, Some(ocpp_call("m2").bytes));
        assert_eq!((c.outstanding(), c.held()), (1, 0));
    }

    #[tokio::test]
    async fn protocols_without_the_rule_send_commands_concurrently() {
        let mut c = Correlator::default();
        for i in 0..3u64 {
            let (q, _rx) = command(&i.to_string(), 30);
            let encoded = EncodedCommand {
                bytes: Bytes::from_static(b"\x68"),
                correlation: CorrelationKey::Number(i),
                single_outstanding: false,
            };
            assert!(matches!(c.submit(encoded, q), Submit::Write(_)));
        }
        assert_eq!(c.outstanding(), 3);
    }

    #[tokio::test]
    async fn a_reply_with_an_unknown_key_completes_nothing() {
        let mut c = Correlator::default();
        let (q, _rx) = command("c1", 30);
        c.submit(ocpp_call("m1"), q);
        let (answered, next) = c.on_reply(&CorrelationKey::Text("other".into()));
        assert!(answered.is_none() && next.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_command_times_out_and_releases_the_next() {
        let mut c = Correlator::default();
        let (first, first_rx) = command("c1", 5);
        let (second, _rx) = command("c2", 60);
        c.submit(ocpp_call("m1"), first);
        c.submit(ocpp_call("m2"), second);
        tokio::time::advance(Duration::from_secs(6)).await;
        let writes = c.expire(Instant::now());
        assert_eq!(first_rx.await.unwrap().status, CommandStatus::Timeout);
        assert_eq!(writes, vec![ocpp_call("m2").bytes]);
    }

    #[tokio::test]
    async fn closing_answers_offline_to_everything_left() {
        let mut c = Correlator::default();
        let (first, first_rx) = command("c1", 30);
        let (second, second_rx) = command("c2", 30);
        c.submit(ocpp_call("m1"), first);
        c.submit(ocpp_call("m2"), second);
        c.fail_all();
        assert_eq!(first_rx.await.unwrap().status, CommandStatus::Offline);
        assert_eq!(second_rx.await.unwrap().status, CommandStatus::Offline);
    }
}
