//! `[ocpp]`: settings of the OCPP codecs (WebSocket route and raw-TCP envelopes). The heartbeat interval and
//! grace live in `[liveness]`; this section builds the codec's [`SessionConfig`] and the route's
//! [`OcppWsConfig`] from both.

use std::time::Duration;

use chargegate_codec::ocpp::session::{AnswerMode, SessionConfig};
use chargegate_codec::ocpp::OcppVersion;
use serde::{Deserialize, Serialize};

use super::sections::Liveness;
use crate::http::ocpp_ws::{
    OcppWsConfig, DEFAULT_MAX_MESSAGE, DEFAULT_MAX_WRITE_BUFFER, DEFAULT_READ_BUFFER,
};

/// Subprotocols accepted by default, in the server's order of preference.
pub const DEFAULT_SUBPROTOCOLS: [&str; 2] = ["ocpp1.6", "ocpp2.0.1"];

/// `[ocpp]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ocpp {
    /// WebSocket subprotocols accepted, in the server's order of preference.
    pub subprotocols: Vec<String>,
    /// `local` (the gateway answers the charger's CALLs) or `transparent` (forwarded, unanswered).
    pub answer_mode: AnswerMode,
    /// Validate every CALL against the OCPP JSON schemas.
    pub validate_schemas: bool,
    /// Initial WebSocket read buffer per connection, bytes.
    pub ws_read_buffer_bytes: usize,
    /// Largest WebSocket message (and frame) accepted, bytes.
    pub ws_max_message_bytes: usize,
}

impl Default for Ocpp {
    fn default() -> Self {
        Ocpp {
            subprotocols: DEFAULT_SUBPROTOCOLS.map(str::to_owned).to_vec(),
            answer_mode: AnswerMode::Local,
            validate_schemas: true,
            ws_read_buffer_bytes: DEFAULT_READ_BUFFER,
            ws_max_message_bytes: DEFAULT_MAX_MESSAGE,
        }
    }
}

impl Ocpp {
    /// The session settings of every OCPP connection.
    pub fn session_config(&self, liveness: &Liveness) -> SessionConfig {
        SessionConfig {
            heartbeat_interval: Duration::from_secs(liveness.ocpp_heartbeat_interval_secs),
            grace: Duration::from_secs(liveness.ocpp_grace_secs),
            mode: self.answer_mode,
            validate: self.validate_schemas,
        }
    }

    /// The WebSocket route settings; unknown subprotocol names are skipped (the checker reports them).
    pub fn ws_config(&self) -> OcppWsConfig {
        OcppWsConfig {
            subprotocols: self
                .subprotocols
                .iter()
                .filter_map(|s| OcppVersion::from_subprotocol(s))
                .collect(),
            read_buffer: self.ws_read_buffer_bytes,
            max_message: self.ws_max_message_bytes,
            max_write_buffer: DEFAULT_MAX_WRITE_BUFFER.max(self.ws_max_message_bytes),
        }
    }

    /// Subprotocol names this gateway cannot speak.
    pub fn unknown_subprotocols(&self) -> impl Iterator<Item = &str> {
        self.subprotocols
            .iter()
            .map(String::as_str)
            .filter(|s| OcppVersion::from_subprotocol(s).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_prefer_ocpp_1_6_and_answer_locally() {
        let ocpp = Ocpp::default();
        let ws = ocpp.ws_config();
        assert_eq!(ws.subprotocols, vec![OcppVersion::V16, OcppVersion::V201]);
        assert_eq!(ws.read_buffer, 4096);
        let session = ocpp.session_config(&Liveness::default());
        assert_eq!(session.mode, AnswerMode::Local);
        assert_eq!(session.liveness_timeout(), Duration::from_secs(60 + 30));
    }

    #[test]
    fn the_preference_order_is_configurable_in_toml() {
        let ocpp: Ocpp = toml::from_str(
            "subprotocols = [\"ocpp2.0.1\", \"ocpp1.6\", \"ocpp9\"]\nanswer_mode = \"transparent\"",
        )
        .unwrap();
        assert_eq!(
            ocpp.ws_config().subprotocols,
            vec![OcppVersion::V201, OcppVersion::V16]
        );
        assert_eq!(
            ocpp.unknown_subprotocols().collect::<Vec<_>>(),
            vec!["ocpp9"]
        );
        assert_eq!(ocpp.answer_mode, AnswerMode::Transparent);
    }
}
