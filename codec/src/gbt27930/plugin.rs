//! GB/T 27930 over a CAN-to-Ethernet relay as a plug-in codec ([`crate::plugin::VendorCodec`], name
//! `gbt27930-can`): a TCP connection from one relay carries the CAN bus of one charger as back-to-back 13-byte
//! records ([`super::relay`]).
//!
//! **Identity.** CAN frames name no charger, so a relay connection opens with a one-line *hello* — the
//! "registration packet" such relays send on connect (USR-CANET200, Ebyte E810 and GCAN converters all have one):
//!
//! ```text
//! REG <charger-id>[ <secret>]\n        (ASCII, at most 128 bytes, `\r\n` accepted)
//! ```
//!
//! The hello is the login: the charger id goes through the gateway's authenticator like a YKC login (the optional
//! secret is checked against the registry's hash). Anything else as the first bytes is a protocol error and the
//! connection closes (decision `0006-gbt-relay-hello`). After the hello, every record is decoded by a
//! [`CanDecoder`] (J1939 reassembly included) and each GB/T message becomes its normalized events (`bms` first).
//! The gateway only listens on the bus: it sends nothing to the relay, commands are `not_supported`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::decoder::{CanDecoder, Decoded};
use super::j1939::TpConfig;
use super::message::name_of;
use super::relay::{RelayLayout, RELAY_FRAME_LEN};
use crate::command::Command;
use crate::event::{
    CommandResultData, CommandStatus, EventBody, Observation, OnlineData, SharedStr,
};
use crate::plugin::{
    CodecConnection, Credential, DecodedFrame, DeferredReply, Detect, EncodedCommand, FrameError,
    Inbound, LivenessPolicy, LoginInfo, PluginError, Refusal, RejectedFrame, ReplyOutcome,
    VendorCodec,
};

/// Registry name of the CAN relay codec.
pub const CODEC_NAME: &str = "gbt27930-can";
/// Protocol label of its events.
pub const PROTOCOL: &str = "gbt27930/2015";
/// The hello line's first bytes.
pub const HELLO_PREFIX: &[u8] = b"REG ";
/// Longest hello line, newline included.
pub const HELLO_MAX: usize = 128;
/// Longest charger id in a hello.
pub const MAX_ID_LEN: usize = 64;
/// Default silence allowed while no vehicle is connected (relays send nothing on an idle bus; TCP keepalive finds
/// dead peers sooner).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(900);
/// Default silence allowed while charging (the BMS sends BCL every 50 ms, BCS every 250 ms).
pub const DEFAULT_CHARGING_TIMEOUT: Duration = Duration::from_secs(10);
const CODEC_VERSION: &str = "1";
/// The edition of GB/T 27930 this codec reads, as the `online` event's `protocol_version`.
const PROTOCOL_VERSION: &str = "2015";
/// GB/T 27930 is the DC charging protocol.
const CURRENT_TYPE_DC: &str = "dc";
const LABEL_HELLO: &str = "Hello";
const LABEL_TP_CM: &str = "TP.CM";
const LABEL_TP_DT: &str = "TP.DT";
const LABEL_UNKNOWN: &str = "unknown_pgn";

/// Milliseconds on a monotonic clock, for the J1939 transfer timers (the codec reads no clock itself).
pub type MonotonicMs = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Settings of the relay codec.
#[derive(Clone)]
pub struct GbtSettings {
    /// Byte layout of the relay's 13-byte records.
    pub layout: RelayLayout,
    /// J1939 transport limits and timers.
    pub tp: TpConfig,
    /// Silence allowed while idle.
    pub idle_timeout: Duration,
    /// Silence allowed while charging.
    pub charging_timeout: Duration,
    /// Time source for the transfer timers.
    pub clock: MonotonicMs,
}

impl GbtSettings {
    /// Defaults with the given clock: info-first records, J1939 defaults, 900 s idle / 10 s charging.
    pub fn new(clock: MonotonicMs) -> Self {
        GbtSettings {
            layout: RelayLayout::InfoFirst,
            tp: TpConfig::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            charging_timeout: DEFAULT_CHARGING_TIMEOUT,
            clock,
        }
    }
}

/// The CAN relay codec.
pub struct GbtRelayCodec {
    settings: GbtSettings,
}

impl GbtRelayCodec {
    /// A codec with `settings`.
    pub fn new(settings: GbtSettings) -> Self {
        GbtRelayCodec { settings }
    }
}

impl VendorCodec for GbtRelayCodec {
    fn name(&self) -> &'static str {
        CODEC_NAME
    }

    fn version(&self) -> &'static str {
        CODEC_VERSION
    }

    fn protocol(&self) -> &'static str {
        PROTOCOL
    }

    fn detect(&self, first_bytes: &[u8]) -> Detect {
        let n = first_bytes.len().min(HELLO_PREFIX.len());
        match (first_bytes.get(..n), HELLO_PREFIX.get(..n)) {
            (Some(a), Some(b)) if a == b && n == HELLO_PREFIX.len() => Detect::Match,
            (Some(a), Some(b)) if a == b => Detect::NeedMore,
            _ => Detect::NoMatch,
        }
    }

    fn liveness(&self) -> LivenessPolicy {
        LivenessPolicy {
            idle: self.settings.idle_timeout,
            charging: self.settings.charging_timeout,
        }
    }

    fn connect(&self) -> Box<dyn CodecConnection> {
        Box::new(GbtRelayConnection {
            layout: self.settings.layout,
            clock: self.settings.clock.clone(),
            decoder: CanDecoder::new(self.settings.tp),
            greeted: false,
            pending: VecDeque::new(),
            scratch: Vec::new(),
        })
    }
}

/// One relay connection: the hello, then CAN records through a [`CanDecoder`].
pub struct GbtRelayConnection {
    layout: RelayLayout,
    clock: MonotonicMs,
    decoder: CanDecoder,
    greeted: bool,
    pending: VecDeque<Inbound>,
    scratch: Vec<Result<Decoded, super::DecodeError>>,
}

fn corrupt(field: &'static str, offset: usize) -> PluginError {
    PluginError::Corrupt(FrameError::Malformed { field, offset })
}

/// Parses a hello line (without its newline): `REG <id>[ <secret>]`.
pub fn parse_hello(line: &[u8]) -> Result<LoginInfo, PluginError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let rest = line.strip_prefix(HELLO_PREFIX).ok_or(corrupt("hello", 0))?;
    let text = std::str::from_utf8(rest).map_err(|_| corrupt("hello", HELLO_PREFIX.len()))?;
    let mut parts = text.split(' ').filter(|p| !p.is_empty());
    let id = parts
        .next()
        .ok_or(corrupt("charger_id", HELLO_PREFIX.len()))?;
    let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
    if id.len() > MAX_ID_LEN || !printable(id) {
        return Err(corrupt("charger_id", HELLO_PREFIX.len()));
    }
    let credential = match parts.next() {
        Some(secret) if printable(secret) => {
            Credential::Secret(Bytes::copy_from_slice(secret.as_bytes()))
        }
        Some(_) => return Err(corrupt("secret", HELLO_PREFIX.len() + id.len() + 1)),
        None => Credential::None,
    };
    if parts.next().is_some() {
        return Err(corrupt("hello", line.len()));
    }
    Ok(LoginInfo {
        charger_id: id.to_owned(),
        credential,
    })
}

/// Writes the hello a relay (or a test) sends first.
pub fn hello(charger_id: &str, secret: Option<&str>) -> Vec<u8> {
    let mut out = HELLO_PREFIX.to_vec();
    out.extend_from_slice(charger_id.as_bytes());
    if let Some(secret) = secret {
        out.push(b' ');
        out.extend_from_slice(secret.as_bytes());
    }
    out.push(b'\n');
    out
}

impl GbtRelayConnection {
    fn hello(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        let seen = src.len().min(HELLO_PREFIX.len());
        if src.get(..seen) != HELLO_PREFIX.get(..seen) {
            return Err(corrupt("hello", 0));
        }
        let window = src.get(..src.len().min(HELLO_MAX)).unwrap_or_default();
        let Some(end) = window.iter().position(|b| *b == b'\n') else {
            if src.len() >= HELLO_MAX {
                return Err(PluginError::Corrupt(FrameError::TooLong {
                    len: src.len(),
                    max: HELLO_MAX,
                }));
            }
            return Ok(None);
        };
        let raw = src.split_to(end + 1).freeze();
        let login = parse_hello(raw.get(..end).unwrap_or_default())?;
        self.greeted = true;
        let online = Observation {
            charger: Some(SharedStr::from(login.charger_id.as_str())),
            connector: None,
            body: EventBody::Online(OnlineData {
                protocol_version: Some(PROTOCOL_VERSION.to_owned()),
                current_type: Some(CURRENT_TYPE_DC.to_owned()),
                ..Default::default()
            }),
        };
        let mut frame = DecodedFrame::new(LABEL_HELLO, raw, vec![online]);
        frame.login = Some(login);
        Ok(Some(Inbound::Frame(frame)))
    }

    /// Turns what the CAN decoder produced for record `raw` into pipeline outcomes.
    fn queue(&mut self, raw: &Bytes) {
        for item in self.scratch.drain(..) {
            let inbound = match item {
                Ok(Decoded::Message { id, events, .. }) => Inbound::Frame(DecodedFrame::new(
                    name_of(id.pgn).unwrap_or(LABEL_UNKNOWN),
                    raw.clone(),
                    events,
                )),
                Ok(Decoded::Transport { .. }) => {
                    Inbound::Frame(DecodedFrame::new(LABEL_TP_CM, raw.clone(), Vec::new()))
                }
                Ok(Decoded::TransportData { .. }) => {
                    Inbound::Frame(DecodedFrame::new(LABEL_TP_DT, raw.clone(), Vec::new()))
                }
                // The gateway only listens: the answer the BMS expects comes from the charger itself.
                Ok(Decoded::Response { .. }) => continue,
                Ok(Decoded::Aborted { .. }) => Inbound::Rejected(RejectedFrame {
                    raw: raw.clone(),
                    error: FrameError::Malformed {
                        field: "tp_aborted",
                        offset: 0,
                    },
                }),
                Err(error) => Inbound::Rejected(RejectedFrame {
                    raw: raw.clone(),
                    error: FrameError::Malformed {
                        field: error.kind(),
                        offset: 0,
                    },
                }),
            };
            self.pending.push_back(inbound);
        }
    }
}

impl CodecConnection for GbtRelayConnection {
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        if !self.greeted {
            return self.hello(src);
        }
        loop {
            if let Some(next) = self.pending.pop_front() {
                return Ok(Some(next));
            }
            if src.len() < RELAY_FRAME_LEN {
                src.reserve(RELAY_FRAME_LEN - src.len());
                return Ok(None);
            }
            let raw = src.split_to(RELAY_FRAME_LEN).freeze();
            match self.layout.decode(&raw) {
                Ok(frame) => {
                    let now_ms = (self.clock)();
                    self.decoder.push(&frame, now_ms, &mut self.scratch);
                    self.queue(&raw);
                }
                Err(error) => {
                    return Ok(Some(Inbound::Rejected(RejectedFrame {
                        raw,
                        error: FrameError::Malformed {
                            field: error.kind(),
                            offset: 0,
                        },
                    })))
                }
            }
        }
    }

    fn refuse_unauthenticated(&mut self, _frame: &DecodedFrame) -> Refusal {
        Refusal::Close
    }

    fn deferred_reply(
        &mut self,
        _reply: &DeferredReply,
        _outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        Ok(None)
    }

    fn encode_command(
        &mut self,
        _charger: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError> {
        Err(PluginError::Unsupported {
            command: command.kind.name(),
        })
    }

    fn command_result(&self, command: &Command, _reply: &DecodedFrame) -> CommandResultData {
        CommandResultData {
            command_id: command.id.clone(),
            command: command.kind.name().to_owned(),
            status: CommandStatus::NotSupported,
            detail: serde_json::Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::gbt27930::{pgn, CanFrame, CanId, BMS_ADDRESS, CHARGER_ADDRESS};

    fn codec() -> GbtRelayCodec {
        GbtRelayCodec::new(GbtSettings::new(Arc::new(|| 0)))
    }

    fn record(pgn: u32, data: &[u8]) -> [u8; RELAY_FRAME_LEN] {
        let id = CanId::new(6, pgn, BMS_ADDRESS, CHARGER_ADDRESS);
        RelayLayout::InfoFirst.encode(&CanFrame::extended(id.to_raw(), data))
    }

    #[test]
    fn the_hello_is_the_login_and_carries_an_optional_secret() {
        let mut conn = codec().connect();
        let mut buf = BytesMut::from(&hello("GBT-7", Some("s3cret"))[..]);
        let Ok(Some(Inbound::Frame(frame))) = conn.decode(&mut buf) else {
            panic!("expected the hello")
        };
        let login = frame.login.unwrap();
        assert_eq!(login.charger_id, "GBT-7");
        assert_eq!(
            login.credential,
            Credential::Secret(Bytes::from_static(b"s3cret"))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn anything_but_a_hello_first_is_a_protocol_error() {
        let mut conn = codec().connect();
        let mut buf = BytesMut::from(&record(pgn::BHM, &[0x10, 0x27])[..]);
        assert!(conn.decode(&mut buf).is_err());
        assert!(parse_hello(b"REG ").is_err());
        assert!(parse_hello(b"REG a b c").is_err());
        assert!(parse_hello(b"REG a\x01").is_err());
    }

    #[test]
    fn after_the_hello_records_become_bms_events() {
        let mut conn = codec().connect();
        let mut buf = BytesMut::from(&hello("GBT-7", None)[..]);
        buf.extend_from_slice(&record(pgn::BHM, &[0x10, 0x27]));
        let Ok(Some(Inbound::Frame(_))) = conn.decode(&mut buf) else {
            panic!()
        };
        let Ok(Some(Inbound::Frame(frame))) = conn.decode(&mut buf) else {
            panic!("expected BHM")
        };
        assert_eq!(frame.message_type, "BHM");
        assert!(matches!(frame.observations[0].body, EventBody::Bms(_)));
        assert!(matches!(conn.decode(&mut buf), Ok(None)));
    }

    #[test]
    fn detection_looks_for_the_hello_prefix() {
        let c = codec();
        assert_eq!(c.detect(b"RE"), Detect::NeedMore);
        assert_eq!(c.detect(b"REG 1"), Detect::Match);
        assert_eq!(c.detect(&[0x68, 0x0d]), Detect::NoMatch);
    }

    proptest! {
        #[test]
        fn no_byte_sequence_after_a_hello_makes_it_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut conn = codec().connect();
            let mut buf = BytesMut::from(&hello("X", None)[..]);
            buf.extend_from_slice(&bytes);
            while let Ok(Some(_)) = conn.decode(&mut buf) {}
        }
    }
}
