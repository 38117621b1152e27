//! The REST API's view of the running gateway: [`SessionDirectory`] lists connected chargers from the session
//! registry (and answers `offline` for a charger the registry file knows but that is not connected), and
//! [`SessionCommands`] sends commands through the session dispatcher, recording the round trip in
//! `chargegate_command_latency_seconds`.

use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::command::Command;
use chargegate_codec::event::CommandStatus;

use crate::http::{
    ChargerDirectory, ChargerFilter, ChargerInfo, ChargerPage, CommandDispatcher, DispatchFuture,
    PageRequest,
};
use crate::metrics::Metrics;
use crate::pipeline::charger_registry::ChargerRegistry;
use crate::session::{self, SessionHandle, SessionRegistry};

/// Protocol label of a charger known only from the registry file.
const UNKNOWN_PROTOCOL: &str = "unknown";

/// Charger lookups over the session registry.
pub struct SessionDirectory {
    sessions: Arc<SessionRegistry>,
    registry: Option<Arc<ChargerRegistry>>,
    instance: String,
}

impl SessionDirectory {
    /// A directory of `sessions`; `registry` names chargers that may connect.
    pub fn new(
        sessions: Arc<SessionRegistry>,
        registry: Option<Arc<ChargerRegistry>>,
        instance: String,
    ) -> Self {
        SessionDirectory {
            sessions,
            registry,
            instance,
        }
    }

    fn info(&self, h: &SessionHandle) -> ChargerInfo {
        ChargerInfo {
            id: h.meta.charger.to_string(),
            station: h.meta.station.clone(),
            protocol: h.meta.protocol.to_owned(),
            state: h.meta.state().to_owned(),
            connected_since: Some(h.meta.connected_since_ms),
            last_seen: None,
            peer: None,
            worker: usize::try_from(h.meta.worker).ok(),
            instance: Some(self.instance.clone()),
        }
    }
}

impl ChargerDirectory for SessionDirectory {
    fn list(&self, filter: &ChargerFilter, page: PageRequest) -> ChargerPage {
        let mut all: Vec<ChargerInfo> = self
            .sessions
            .handles()
            .iter()
            .map(|h| self.info(h))
            .filter(|c| filter.matches(c))
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        ChargerPage {
            total: all.len(),
            offset: page.offset,
            limit: page.limit,
            items: all.into_iter().skip(page.offset).take(page.limit).collect(),
        }
    }

    fn get(&self, id: &str) -> Option<ChargerInfo> {
        if let Some(h) = self.sessions.get(id) {
            return Some(self.info(&h));
        }
        let record = self.registry.as_ref()?.get(id)?;
        Some(ChargerInfo {
            id: record.id.clone(),
            station: Some(record.station.clone()),
            protocol: if record.protocol.is_empty() {
                UNKNOWN_PROTOCOL.to_owned()
            } else {
                record.protocol.clone()
            },
            state: "offline".to_owned(),
            connected_since: None,
            last_seen: None,
            peer: None,
            worker: None,
            instance: None,
        })
    }
}

/// Command delivery for REST over the session dispatcher.
pub struct SessionCommands {
    dispatcher: session::CommandDispatcher,
    sessions: Arc<SessionRegistry>,
    timeout: Duration,
    metrics: Metrics,
}

impl SessionCommands {
    /// Commands to `sessions`, each waiting at most `timeout` (also for an offline charger to come back).
    pub fn new(sessions: Arc<SessionRegistry>, timeout: Duration, metrics: Metrics) -> Self {
        SessionCommands {
            dispatcher: session::CommandDispatcher::new(Arc::clone(&sessions)),
            sessions,
            timeout,
            metrics,
        }
    }
}

impl CommandDispatcher for SessionCommands {
    fn dispatch(&self, charger: String, command: Command) -> DispatchFuture {
        let dispatcher = self.dispatcher.clone();
        let sessions = Arc::clone(&self.sessions);
        let (timeout, metrics) = (self.timeout, self.metrics.clone());
        Box::pin(async move {
            let started = tokio::time::Instant::now();
            let result = dispatcher.dispatch(&charger, command, timeout).await;
            let answered = !matches!(
                result.status,
                CommandStatus::Timeout | CommandStatus::Offline | CommandStatus::Busy
            );
            if answered {
                // The charger's codec as it is connected now (it answered, so it is).
                let protocol = sessions.get(&charger).map_or("unknown", |h| h.meta.codec);
                metrics
                    .command_latency
                    .with_label_values(&[protocol, &result.command])
                    .observe(started.elapsed().as_secs_f64());
            }
            result
        })
    }
}
