//! The subscriber protocol: JSON text frames. Client → server messages are parsed by the pure, fuzzable
//! [`parse_client_message`]; server → client messages are built by [`ServerMessage`].
//!
//! ```text
//! → {"op":"subscribe","stations":["s1"],"chargers":["c9"]}
//! → {"op":"unsubscribe","stations":["s1"]}
//! → {"op":"command","id":"42","charger":"c9","command":"reset","args":{"kind":"soft"}}
//! ← {"type":"ack","op":"subscribe","stations":["s1"],"chargers":["c9"]}
//! ← {"type":"event","event":{…}}            alarms, status, online/offline, sessions: at once
//! ← {"type":"batch","events":[{…},…]}       meter and BMS telemetry: once per window
//! ← {"type":"result","id":"42","result":{…}}
//! ← {"type":"error","code":"not_covered","message":"…","id":"42"}
//! ```

use std::sync::Arc;

use chargegate_codec::command::{Command, CommandKind};
use chargegate_codec::event::{CommandResultData, Event};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest station or charger id accepted in a message, characters.
pub const MAX_ID_LEN: usize = 128;
/// Most stations plus chargers one message may name.
pub const MAX_NAMES_PER_MESSAGE: usize = 1000;

/// A message from a subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// Start receiving events of these stations and chargers.
    Subscribe(Selection),
    /// Stop receiving events of these stations and chargers.
    Unsubscribe(Selection),
    /// Send a command to a charger (the token must allow it).
    Command {
        /// The charger.
        charger: String,
        /// The command with the client's id.
        command: Command,
    },
}

/// Stations and chargers named by a subscribe or unsubscribe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Station ids.
    #[serde(default)]
    pub stations: Vec<String>,
    /// Charger ids.
    #[serde(default)]
    pub chargers: Vec<String>,
}

impl Selection {
    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.stations.len() + self.chargers.len()
    }

    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a client message was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WsProtocolError {
    /// Not JSON, or not an object.
    #[error("not a JSON object: {0}")]
    Json(String),
    /// `op` missing or unknown.
    #[error("unknown op")]
    UnknownOp,
    /// A field is missing or has the wrong type.
    #[error("bad fields: {0}")]
    Fields(String),
    /// An id is empty or longer than [`MAX_ID_LEN`].
    #[error("bad id")]
    BadId,
    /// A subscribe names nothing, or more than [`MAX_NAMES_PER_MESSAGE`].
    #[error("selection empty or too large")]
    BadSelection,
    /// Binary frames are not part of the protocol.
    #[error("binary frames are not accepted")]
    Binary,
}

impl WsProtocolError {
    /// Stable short name, a metric label and the `code` of the error reply.
    pub fn kind(&self) -> &'static str {
        match self {
            WsProtocolError::Json(_) => "json",
            WsProtocolError::UnknownOp => "unknown_op",
            WsProtocolError::Fields(_) => "fields",
            WsProtocolError::BadId => "bad_id",
            WsProtocolError::BadSelection => "bad_selection",
            WsProtocolError::Binary => "binary",
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Wire {
    Subscribe {
        #[serde(default)]
        stations: Vec<String>,
        #[serde(default)]
        chargers: Vec<String>,
    },
    Unsubscribe {
        #[serde(default)]
        stations: Vec<String>,
        #[serde(default)]
        chargers: Vec<String>,
    },
    Command {
        id: String,
        charger: String,
        #[serde(flatten)]
        kind: CommandKind,
    },
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control)
}

fn selection(stations: Vec<String>, chargers: Vec<String>) -> Result<Selection, WsProtocolError> {
    let s = Selection { stations, chargers };
    if s.is_empty() || s.len() > MAX_NAMES_PER_MESSAGE {
        return Err(WsProtocolError::BadSelection);
    }
    if !s.stations.iter().chain(&s.chargers).all(|id| valid_id(id)) {
        return Err(WsProtocolError::BadId);
    }
    Ok(s)
}

/// Parses one text frame from a subscriber. Pure: no I/O, no panics on any input.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, WsProtocolError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| WsProtocolError::Json(e.to_string()))?;
    let op = value
        .as_object()
        .ok_or_else(|| WsProtocolError::Json("not an object".into()))?
        .get("op")
        .and_then(serde_json::Value::as_str);
    if !matches!(op, Some("subscribe" | "unsubscribe" | "command")) {
        return Err(WsProtocolError::UnknownOp);
    }
    let wire: Wire =
        serde_json::from_value(value).map_err(|e| WsProtocolError::Fields(e.to_string()))?;
    match wire {
        Wire::Subscribe { stations, chargers } => {
            selection(stations, chargers).map(ClientMessage::Subscribe)
        }
        Wire::Unsubscribe { stations, chargers } => {
            selection(stations, chargers).map(ClientMessage::Unsubscribe)
        }
        Wire::Command { id, charger, kind } => {
            if !valid_id(&id) || !valid_id(&charger) {
                return Err(WsProtocolError::BadId);
            }
            Ok(ClientMessage::Command {
                charger,
                command: Command { id, kind },
            })
        }
    }
}

/// The `id` of a command message, when a refused message still carries one (so the error can name it).
pub fn command_id(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let id = v.get("id")?.as_str()?;
    valid_id(id).then(|| id.to_owned())
}

/// A message to a subscriber.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// One event, pushed at once.
    Event {
        /// The event.
        #[serde(serialize_with = "one_event")]
        event: Arc<Event>,
    },
    /// Telemetry of one batching window, oldest first.
    Batch {
        /// The events.
        #[serde(serialize_with = "many_events")]
        events: Vec<Arc<Event>>,
    },
    /// A subscribe or unsubscribe took effect.
    Ack {
        /// `subscribe` or `unsubscribe`.
        op: &'static str,
        /// The stations it named.
        stations: Vec<String>,
        /// The chargers it named.
        chargers: Vec<String>,
    },
    /// A command's result, correlated by the client's id.
    Result {
        /// The client's command id.
        id: String,
        /// What the charger (or the gateway) answered.
        result: CommandResultData,
    },
    /// A message was refused; nothing took effect.
    Error {
        /// Stable reason (`not_covered`, `not_allowed`, `json`, …).
        code: &'static str,
        /// Human-readable detail.
        message: String,
        /// The command id, when the refused message was a command that carried one.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

fn one_event<S: serde::Serializer>(e: &Arc<Event>, s: S) -> Result<S::Ok, S::Error> {
    e.as_ref().serialize(s)
}

fn many_events<S: serde::Serializer>(v: &[Arc<Event>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(Arc::as_ref))
}

impl ServerMessage {
    /// The JSON text of the frame. Events and batches (nearly every frame a subscriber gets) are rendered with
    /// [`Event::write_json`], byte-identical to serde_json at about a third of its cost (decision 0016).
    pub fn to_text(&self) -> String {
        let fast = match self {
            ServerMessage::Event { event } => {
                events_text(b"{\"type\":\"event\",\"event\":", [event], b"}")
            }
            ServerMessage::Batch { events } => {
                events_text(b"{\"type\":\"batch\",\"events\":[", events, b"]}")
            }
            _ => None,
        };
        fast.unwrap_or_else(|| {
            serde_json::to_string(self).unwrap_or_else(|e| {
                format!("{{\"type\":\"error\",\"code\":\"internal\",\"message\":\"{e}\"}}")
            })
        })
    }
}

/// `head`, the events separated by commas, `tail`; `None` if an event does not render (the caller falls back to
/// serde, which reports the error).
fn events_text<'a>(
    head: &[u8],
    events: impl IntoIterator<Item = &'a Arc<Event>>,
    tail: &[u8],
) -> Option<String> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(head);
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        e.write_json(&mut out).ok()?;
    }
    out.extend_from_slice(tail);
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_unsubscribe_and_command_parse() {
        assert_eq!(
            parse_client_message(r#"{"op":"subscribe","stations":["s1"]}"#).unwrap(),
            ClientMessage::Subscribe(Selection {
                stations: vec!["s1".into()],
                chargers: vec![]
            })
        );
        assert!(matches!(
            parse_client_message(r#"{"op":"unsubscribe","chargers":["c"]}"#).unwrap(),
            ClientMessage::Unsubscribe(_)
        ));
        let m = parse_client_message(
            r#"{"op":"command","id":"7","charger":"c9","command":"reset","args":{"kind":"soft"}}"#,
        )
        .unwrap();
        let ClientMessage::Command { charger, command } = m else {
            panic!("{m:?}")
        };
        assert_eq!((charger.as_str(), command.id.as_str()), ("c9", "7"));
        assert_eq!(command.kind.name(), "reset");
    }

    #[test]
    fn every_refusal_has_a_kind() {
        for (text, kind) in [
            ("nope", "json"),
            ("[1]", "json"),
            (r#"{"op":"dance"}"#, "unknown_op"),
            (r#"{"stations":["s"]}"#, "unknown_op"),
            (r#"{"op":"subscribe"}"#, "bad_selection"),
            (r#"{"op":"subscribe","stations":[""]}"#, "bad_id"),
            (r#"{"op":"subscribe","stations":"s1"}"#, "fields"),
            (
                r#"{"op":"command","id":"1","charger":"c","command":"fly"}"#,
                "fields",
            ),
            (
                r#"{"op":"command","id":"","charger":"c","command":"reset","args":{"kind":"soft"}}"#,
                "bad_id",
            ),
        ] {
            assert_eq!(
                parse_client_message(text).unwrap_err().kind(),
                kind,
                "{text}"
            );
        }
    }

    #[test]
    fn a_refused_command_still_names_its_id() {
        assert_eq!(
            command_id(r#"{"op":"command","id":"9","command":"fly"}"#).as_deref(),
            Some("9")
        );
        assert_eq!(command_id("garbage"), None);
    }

    #[test]
    fn event_and_batch_frames_are_the_bytes_serde_writes() {
        use chargegate_codec::event::{EventBody, MeterData, Observation};
        let ev = |kwh: f64| {
            let body = EventBody::Meter(MeterData {
                energy_kwh: Some(kwh),
                ..Default::default()
            });
            let obs = Observation::connector("c\"1", 1, body);
            Arc::new(Event::stamp(obs, "id", 7, "c\"1", "ykc/1.6", "gw"))
        };
        for msg in [
            ServerMessage::Event { event: ev(1.5) },
            ServerMessage::Batch { events: vec![] },
            ServerMessage::Batch {
                events: vec![ev(0.1), ev(2e21)],
            },
        ] {
            assert_eq!(msg.to_text(), serde_json::to_string(&msg).unwrap());
        }
    }

    #[test]
    fn server_messages_are_tagged_by_type() {
        let ack = ServerMessage::Ack {
            op: "subscribe",
            stations: vec!["s1".into()],
            chargers: vec![],
        };
        assert_eq!(
            ack.to_text(),
            r#"{"type":"ack","op":"subscribe","stations":["s1"],"chargers":[]}"#
        );
    }
}
