//! OCPP as a plug-in codec ([`crate::plugin::VendorCodec`]): the [`super::session::OcppSession`] logic behind two
//! transports.
//!
//! - **WebSocket** (codec name `ocpp`): the gateway's HTTP route terminates the WebSocket and bridges its messages
//!   into the byte-stream pipeline with a tiny internal framing — `kind (1) | length (4, big-endian) | body` —
//!   where kind [`BRIDGE_CONNECT`] carries the identity proven at the handshake (version, charger id, password)
//!   and kind [`BRIDGE_TEXT`] one text message. Only the bridge writes this stream, so a charger cannot forge the
//!   connect record. Outbound, every reply or CALL is wrapped the same way ([`bridge_text`]) and
//!   [`bridge_split`] cuts them back into messages.
//! - **OCPP-like JSON over raw TCP** (codec names `ocpp-tcp`, `ocpp-tcp-alt`, or any declared
//!   [`super::envelope::Envelope`]): a configured binary envelope whose payload is one OCPP-J array; the
//!   BootNotification is the login and its `chargeBoxSerialNumber` names the charger.

use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::envelope::Envelope;
use super::session::{Identity, OcppSession, SessionConfig, WallClock};
use super::OcppVersion;
use crate::command::Command;
use crate::event::CommandResultData;
use crate::frame::{FrameDecoder, FrameEvent};
use crate::plugin::{
    CodecConnection, Credential, DecodedFrame, DeferredKind, DeferredReply, Detect, EncodedCommand,
    FrameError, Inbound, LivenessPolicy, LoginInfo, PluginError, Refusal, RejectedFrame,
    ReplyOutcome, ReplyPlan, VendorCodec,
};

/// Registry name of the WebSocket codec.
pub const WS_CODEC_NAME: &str = "ocpp";
/// Bridge record: the handshake's identity.
pub const BRIDGE_CONNECT: u8 = 0x01;
/// Bridge record: one WebSocket text message.
pub const BRIDGE_TEXT: u8 = 0x02;
/// Bridge record header: kind + 4-byte length.
pub const BRIDGE_HEADER_LEN: usize = 5;
/// Largest bridge record accepted (the WebSocket layer enforces its own, smaller, message limit).
const BRIDGE_MAX_BODY: usize = 16 * 1024 * 1024;
/// Version codes inside a connect record.
const VERSION_16: u8 = 16;
const VERSION_201: u8 = 201;
const VERSION_21: u8 = 21;
/// Codec implementation version.
const CODEC_VERSION: &str = "1";
/// Message type label of the bridge's connect record (the WebSocket login).
const LABEL_CONNECT: &str = "Connect";

fn bridge_record(kind: u8, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(BRIDGE_HEADER_LEN + body.len());
    out.put_u8(kind);
    out.put_u32(u32::try_from(body.len()).unwrap_or(u32::MAX));
    out.put_slice(body);
    out.freeze()
}

/// The bridge record announcing a WebSocket connection: negotiated `version`, URL identity and Basic-auth
/// password bytes (`None` when the request carried none).
pub fn bridge_connect(version: OcppVersion, charger_id: &str, password: Option<&[u8]>) -> Bytes {
    let code = match version {
        OcppVersion::V16 => VERSION_16,
        OcppVersion::V201 => VERSION_201,
        OcppVersion::V21 => VERSION_21,
    };
    let id = charger_id.as_bytes();
    let id_len = u8::try_from(id.len()).unwrap_or(u8::MAX);
    let mut body = Vec::with_capacity(3 + id.len() + password.map_or(0, <[u8]>::len));
    body.push(code);
    body.push(id_len);
    body.extend_from_slice(id.get(..usize::from(id_len)).unwrap_or(id));
    if let Some(password) = password {
        body.push(1);
        body.extend_from_slice(password);
    } else {
        body.push(0);
    }
    bridge_record(BRIDGE_CONNECT, &body)
}

/// Wraps one text message (inbound from the charger, or outbound from the codec) in a bridge record.
pub fn bridge_text(text: &[u8]) -> Bytes {
    bridge_record(BRIDGE_TEXT, text)
}

/// Takes one whole bridge record off `buf`: its kind and body. `None` until a whole record is buffered.
pub fn bridge_split(buf: &mut BytesMut) -> Option<(u8, Bytes)> {
    let kind = *buf.first()?;
    let len = buf.get(1..BRIDGE_HEADER_LEN)?;
    let len = usize::try_from(u32::from_be_bytes(len.try_into().ok()?)).ok()?;
    let total = BRIDGE_HEADER_LEN.checked_add(len)?;
    if buf.len() < total {
        buf.reserve(total - buf.len());
        return None;
    }
    let mut record = buf.split_to(total);
    record.advance(BRIDGE_HEADER_LEN);
    Some((kind, record.freeze()))
}

/// The transport framing of an [`OcppCodec`].
#[derive(Debug, Clone)]
pub enum Transport {
    /// The gateway's WebSocket bridge.
    WebSocket,
    /// A binary envelope over raw TCP.
    Envelope(Arc<Envelope>),
}

/// OCPP as a registered codec: a transport plus the shared session settings.
pub struct OcppCodec {
    name: &'static str,
    transport: Transport,
    config: SessionConfig,
    clock: WallClock,
}

impl OcppCodec {
    /// The OCPP-J WebSocket codec (registry name `ocpp`).
    pub fn websocket(config: SessionConfig, clock: WallClock) -> Self {
        OcppCodec {
            name: WS_CODEC_NAME,
            transport: Transport::WebSocket,
            config,
            clock,
        }
    }

    /// An OCPP-like JSON over raw TCP codec registered as `name` with `envelope` (OCPP 1.6 payloads).
    pub fn raw_tcp(
        name: &'static str,
        envelope: Envelope,
        config: SessionConfig,
        clock: WallClock,
    ) -> Self {
        OcppCodec {
            name,
            transport: Transport::Envelope(Arc::new(envelope)),
            config,
            clock,
        }
    }
}

impl VendorCodec for OcppCodec {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        CODEC_VERSION
    }

    fn protocol(&self) -> &'static str {
        OcppVersion::V16.event_protocol()
    }

    fn detect(&self, first_bytes: &[u8]) -> Detect {
        match &self.transport {
            Transport::WebSocket => Detect::NoMatch,
            Transport::Envelope(envelope) => envelope.detect(first_bytes),
        }
    }

    fn liveness(&self) -> LivenessPolicy {
        let timeout = self.config.liveness_timeout();
        LivenessPolicy {
            idle: timeout,
            charging: timeout,
        }
    }

    fn connect(&self) -> Box<dyn CodecConnection> {
        let framing = match &self.transport {
            Transport::WebSocket => Framing::Bridge,
            Transport::Envelope(envelope) => Framing::Envelope {
                envelope: envelope.clone(),
                decoder: Box::new(envelope.decoder()),
            },
        };
        let session = OcppSession::new(
            OcppVersion::V16,
            Identity::FromBoot,
            self.config.clone(),
            self.clock.clone(),
        );
        Box::new(OcppConnection {
            framing,
            session,
            config: self.config.clone(),
            clock: self.clock.clone(),
        })
    }
}

enum Framing {
    Bridge,
    Envelope {
        envelope: Arc<Envelope>,
        decoder: Box<FrameDecoder>,
    },
}

/// One OCPP connection: transport framing around an [`OcppSession`].
pub struct OcppConnection {
    framing: Framing,
    session: OcppSession,
    config: SessionConfig,
    clock: WallClock,
}

impl OcppConnection {
    /// The session behind this connection.
    pub fn session(&self) -> &OcppSession {
        &self.session
    }

    /// Wraps an outgoing OCPP-J text in this connection's transport framing.
    fn wrap(&self, text: &[u8]) -> Bytes {
        match &self.framing {
            Framing::Bridge => bridge_text(text),
            Framing::Envelope { envelope, .. } => envelope.encode(text).unwrap_or_default(),
        }
    }

    fn wrap_frame(&self, mut frame: DecodedFrame) -> DecodedFrame {
        if let ReplyPlan::Immediate(text) = &frame.reply {
            frame.reply = ReplyPlan::Immediate(self.wrap(text));
        }
        frame
    }

    /// The OCPP-J text inside a frame as received.
    fn text_of<'a>(&self, raw: &'a Bytes) -> &'a [u8] {
        match &self.framing {
            Framing::Bridge => raw.get(BRIDGE_HEADER_LEN..).unwrap_or_default(),
            Framing::Envelope { envelope, .. } => envelope.payload(raw).unwrap_or_default(),
        }
    }

    fn connect_record(&mut self, raw: Bytes) -> Inbound {
        let body = raw.get(BRIDGE_HEADER_LEN..).unwrap_or_default();
        let malformed = |offset| {
            Inbound::Rejected(RejectedFrame {
                raw: raw.clone(),
                error: FrameError::Malformed {
                    field: "connect",
                    offset,
                },
            })
        };
        let version = match body.first() {
            Some(&VERSION_16) => OcppVersion::V16,
            Some(&VERSION_201) => OcppVersion::V201,
            Some(&VERSION_21) => OcppVersion::V21,
            _ => return malformed(BRIDGE_HEADER_LEN),
        };
        let id_len = usize::from(body.get(1).copied().unwrap_or(0));
        let id_end = 2 + id_len;
        let Some(Ok(id)) = body.get(2..id_end).map(std::str::from_utf8) else {
            return malformed(BRIDGE_HEADER_LEN + 2);
        };
        let credential = match body.get(id_end) {
            Some(1) => Credential::Secret(raw.slice(BRIDGE_HEADER_LEN + id_end + 1..)),
            _ => Credential::None,
        };
        self.session = OcppSession::new(
            version,
            Identity::Established(id.to_owned()),
            self.config.clone(),
            self.clock.clone(),
        );
        let mut frame = DecodedFrame::new(LABEL_CONNECT, raw.clone(), Vec::new());
        frame.login = Some(LoginInfo {
            charger_id: id.to_owned(),
            credential,
        });
        Inbound::Frame(frame)
    }
}

impl CodecConnection for OcppConnection {
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, PluginError> {
        match &mut self.framing {
            Framing::Bridge => {
                let Some(len) = src.get(1..BRIDGE_HEADER_LEN) else {
                    return Ok(None);
                };
                let len = u32::from_be_bytes(len.try_into().unwrap_or_default());
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > BRIDGE_MAX_BODY {
                    return Err(PluginError::Corrupt(FrameError::TooLong {
                        len,
                        max: BRIDGE_MAX_BODY,
                    }));
                }
                let total = BRIDGE_HEADER_LEN + len;
                if src.len() < total {
                    src.reserve(total - src.len());
                    return Ok(None);
                }
                let raw = src.split_to(total).freeze();
                let kind = raw.first().copied().unwrap_or_default();
                Ok(Some(match kind {
                    BRIDGE_CONNECT => self.connect_record(raw),
                    _ => {
                        let text = raw.slice(BRIDGE_HEADER_LEN..);
                        match self.session.on_message(raw, &text) {
                            Inbound::Frame(frame) => Inbound::Frame(self.wrap_frame(frame)),
                            other => other,
                        }
                    }
                }))
            }
            Framing::Envelope { envelope, decoder } => {
                let event = decoder.decode(src).map_err(|_| {
                    PluginError::Corrupt(FrameError::Malformed {
                        field: "envelope",
                        offset: 0,
                    })
                })?;
                let Some(event) = event else {
                    return Ok(None);
                };
                let error = match event {
                    FrameEvent::Frame { bytes, .. } => {
                        let text = envelope
                            .payload(&bytes)
                            .map(|p| bytes.slice_ref(p))
                            .unwrap_or_default();
                        let inbound = self.session.on_message(bytes, &text);
                        return Ok(Some(match inbound {
                            Inbound::Frame(frame) => Inbound::Frame(self.wrap_frame(frame)),
                            other => other,
                        }));
                    }
                    FrameEvent::CrcMismatch {
                        bytes,
                        computed,
                        received,
                    } => {
                        return Ok(Some(Inbound::Rejected(RejectedFrame {
                            raw: bytes,
                            error: FrameError::BadChecksum {
                                expected: computed,
                                got: received,
                            },
                        })))
                    }
                    FrameEvent::Garbage { skipped } => FrameError::Resync { skipped },
                    FrameEvent::TooLong {
                        frame_length,
                        max_frame_length,
                    } => FrameError::TooLong {
                        len: usize::try_from(frame_length).unwrap_or(usize::MAX),
                        max: max_frame_length,
                    },
                    FrameEvent::Corrupted { skipped, .. } => FrameError::Resync { skipped },
                    FrameEvent::Truncated { dropped } => FrameError::Resync { skipped: dropped },
                };
                Ok(Some(Inbound::Rejected(RejectedFrame {
                    raw: Bytes::new(),
                    error,
                })))
            }
        }
    }

    fn refuse_unauthenticated(&mut self, frame: &DecodedFrame) -> Refusal {
        let text = self.text_of(&frame.raw);
        let reply = self.session.refusal(text);
        Refusal::Reply(self.wrap(&reply))
    }

    fn deferred_reply(
        &mut self,
        reply: &DeferredReply,
        outcome: ReplyOutcome,
    ) -> Result<Option<Bytes>, PluginError> {
        if matches!(self.framing, Framing::Bridge) && reply.kind == DeferredKind::Login {
            // The WebSocket login is the handshake itself: nothing to send.
            return Ok(None);
        }
        Ok(self
            .session
            .deferred(reply, outcome)?
            .map(|text| self.wrap(&text)))
    }

    fn encode_command(
        &mut self,
        _charger: &str,
        command: &Command,
    ) -> Result<EncodedCommand, PluginError> {
        let (_, mut encoded) = self.session.encode_command(command)?;
        encoded.bytes = self.wrap(&encoded.bytes);
        Ok(encoded)
    }

    fn command_result(&self, command: &Command, reply: &DecodedFrame) -> CommandResultData {
        self.session
            .command_result(command, self.text_of(&reply.raw))
    }

    fn protocol(&self) -> Option<&'static str> {
        Some(self.session.version().event_protocol())
    }

    fn message_text<'a>(&self, frame: &'a DecodedFrame) -> Option<&'a [u8]> {
        (frame.message_type != LABEL_CONNECT).then(|| self.text_of(&frame.raw))
    }

    fn ready(&self) -> bool {
        match self.framing {
            // The handshake was the login; the BootNotification must still follow.
            Framing::Bridge => self.session.is_booted(),
            // Over raw TCP the BootNotification is the login itself.
            Framing::Envelope { .. } => true,
        }
    }
}

/// Registers the OCPP codecs a gateway serves by default: `ocpp` (WebSocket) and the raw-TCP presets
/// `ocpp-tcp` and `ocpp-tcp-alt`, all with the same session settings and clock.
pub fn register_defaults(
    registry: &crate::plugin::CodecRegistry,
    config: &SessionConfig,
    clock: &WallClock,
) {
    registry.register(Arc::new(OcppCodec::websocket(
        config.clone(),
        clock.clone(),
    )));
    registry.register(Arc::new(OcppCodec::raw_tcp(
        super::envelope::OCPP_TCP,
        Envelope::ocpp_tcp(),
        config.clone(),
        clock.clone(),
    )));
    registry.register(Arc::new(OcppCodec::raw_tcp(
        super::envelope::OCPP_TCP_ALT,
        Envelope::ocpp_tcp_alt(),
        config.clone(),
        clock.clone(),
    )));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ws_connection() -> Box<dyn CodecConnection> {
        OcppCodec::websocket(SessionConfig::default(), Arc::new(String::new)).connect()
    }

    #[test]
    fn the_connect_record_is_the_websocket_login_with_the_handshake_password() {
        let mut conn = ws_connection();
        let mut buf =
            BytesMut::from(&bridge_connect(OcppVersion::V16, "CP 1", Some(b"p:w\xff"))[..]);
        let Ok(Some(Inbound::Frame(frame))) = conn.decode(&mut buf) else {
            panic!("expected the login frame")
        };
        let login = frame.login.unwrap();
        assert_eq!(login.charger_id, "CP 1");
        assert_eq!(
            login.credential,
            Credential::Secret(Bytes::from_static(b"p:w\xff"))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn outbound_records_split_back_into_messages_whatever_the_read_sizes() {
        let mut stream = BytesMut::new();
        stream.extend_from_slice(&bridge_text(b"[3,\"1\",{}]"));
        stream.extend_from_slice(&bridge_text(b"[3,\"2\",{}]"));
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in stream {
            buf.extend_from_slice(&[byte]);
            while let Some((kind, body)) = bridge_split(&mut buf) {
                assert_eq!(kind, BRIDGE_TEXT);
                out.push(body);
            }
        }
        assert_eq!(
            out,
            vec![
                Bytes::from_static(b"[3,\"1\",{}]"),
                Bytes::from_static(b"[3,\"2\",{}]")
            ]
        );
    }

    proptest! {
        #[test]
        fn no_byte_sequence_makes_either_transport_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let codec = OcppCodec::raw_tcp("ocpp-tcp", Envelope::ocpp_tcp(), SessionConfig::default(), Arc::new(String::new));
            for mut conn in [ws_connection(), codec.connect()] {
                let mut buf = BytesMut::from(&bytes[..]);
                while let Ok(Some(_)) = conn.decode(&mut buf) {}
            }
        }
    }
}
