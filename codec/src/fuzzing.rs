//! Fuzz-target bodies, one public function per input surface, shared by the cargo-fuzz crate in `fuzz/` and the
//! corpus-replay test `tests/fuzz_corpus_replay.rs` (which runs every committed corpus file on stable).
//!
//! Compiled only with the `fuzzing` feature. Each function takes the fuzzer's raw bytes, derives a structured
//! input from them with `arbitrary` where the surface has parameters (split points, decoder configurations, frame
//! sequences with time), and panics only when an invariant breaks: a decoder must never panic, chunking must not
//! change what a stream decodes to, bounded state must stay bounded, and decode → encode → decode must give back
//! the same message. `docs/fuzzing.md` lists the targets and what each asserts.

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use crate::frame::{
    ByteOrder, CrcAlgorithm, CrcMatch, CrcSpec, FrameDecoder, FrameEvent, FrameSpec,
    LengthFieldConfig, LengthFieldDecoder, SUPPORTED_LENGTH_FIELD_LENGTHS,
};
use crate::gbt27930::{self, pgn, CanDecoder, CanFrame, CanId, RelayCodec, RelayLayout, TpConfig};
use crate::ocpp::envelope::Envelope;
use crate::ocpp::{self, OcppVersion};
use crate::ykc;

/// A fuzz-target body: the fuzzer's bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("ykc_stream", ykc_stream),
    ("ykc_body", ykc_body),
    ("ykc_roundtrip", ykc_roundtrip),
    ("gbt_can", gbt_can),
    ("gbt_roundtrip", gbt_roundtrip),
    ("candump", candump),
    ("relay_stream", relay_stream),
    ("ocpp_rpc", ocpp_rpc),
    ("length_field", length_field),
    ("frame_decoder", frame_decoder),
    ("ocpp_envelope", ocpp_envelope),
    ("ocpp_roundtrip", ocpp_roundtrip),
];

/// Largest chunk the split-point targets cut a stream into.
const MAX_CHUNK: usize = 64;

/// Cuts `stream` into chunks whose sizes come from `sizes` (each 1..=MAX_CHUNK, cycled; whole stream if empty).
fn chunks<'a>(stream: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    let mut i = 0usize;
    while !rest.is_empty() {
        let size = match sizes.get(i % sizes.len().max(1)) {
            Some(&s) => usize::from(s) % MAX_CHUNK + 1,
            None => rest.len(),
        };
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

/// Feeds `pieces` to `decoder` one at a time, draining after each, then drains at end of stream.
fn feed<D: Decoder>(decoder: &mut D, pieces: &[&[u8]]) -> Vec<D::Item> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Ok(Some(item)) = decoder.decode(&mut buf) {
            out.push(item);
        }
    }
    while let Ok(Some(item)) = decoder.decode_eof(&mut buf) {
        out.push(item);
    }
    out
}

/// The frames (raw bytes) a YKC item list decoded.
fn ykc_frames(items: &[ykc::StreamItem]) -> Vec<Bytes> {
    items
        .iter()
        .filter_map(|item| match item {
            ykc::StreamItem::Decoded(d) => Some(d.frame.raw.clone()),
            _ => None,
        })
        .collect()
}

/// YKC stream decoding with arbitrary chunking: the frames decoded from arbitrary read boundaries equal the
/// frames decoded from the whole buffer at once.
pub fn ykc_stream(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(sizes) = Vec::<u8>::arbitrary(&mut u) else {
        return;
    };
    let stream = u.take_rest();
    let whole = ykc::stream::decode_all(stream);
    let split = feed(&mut ykc::StreamDecoder::new(), &chunks(stream, &sizes));
    assert_eq!(
        ykc_frames(&whole),
        ykc_frames(&split),
        "chunking changed the decoded frames"
    );
}

/// YKC body decoding for every frame type: first byte = frame type, the rest = body. A body that decodes
/// re-encodes to a body that decodes to the same message.
pub fn ykc_body(data: &[u8]) {
    let Some((&frame_type, body)) = data.split_first() else {
        return;
    };
    let Ok(message) = ykc::Message::decode_body(frame_type, &Bytes::copy_from_slice(body)) else {
        return;
    };
    let mut again = Vec::new();
    message.encode_body(&mut again);
    let decoded = ykc::Message::decode_body(frame_type, &Bytes::from(again))
        .unwrap_or_else(|e| panic!("re-encoded {frame_type:#04x} body no longer decodes: {e}"));
    assert_eq!(
        message, decoded,
        "decode → encode → decode changed a {frame_type:#04x} message"
    );
}

/// YKC whole-frame differential: a frame that decodes, re-encoded with its sequence bytes, decodes to the same
/// message and the same sequence bytes.
pub fn ykc_roundtrip(data: &[u8]) {
    let Ok(first) = ykc::decode(Bytes::copy_from_slice(data)) else {
        return;
    };
    let Ok(bytes) = first.message.encode_frame(first.frame.seq) else {
        return;
    };
    let second =
        ykc::decode(bytes).unwrap_or_else(|e| panic!("re-encoded frame no longer decodes: {e}"));
    assert_eq!(first.frame.seq, second.frame.seq);
    assert_eq!(
        first.message, second.message,
        "decode → encode → decode changed the message"
    );
}

/// One CAN frame of a fuzzed bus capture.
#[derive(Debug, Arbitrary)]
struct BusFrame {
    /// 0–3: TP.CM, TP.DT, a GB/T PGN, any raw identifier.
    kind: u8,
    raw_id: u32,
    source: u8,
    destination: u8,
    data: [u8; 8],
    len: u8,
    /// Milliseconds since the previous frame.
    gap_ms: u16,
    /// Also poll the timers after this frame.
    poll: bool,
}

/// GB/T PGNs the CAN target picks from.
const GBT_PGNS: [u32; 22] = [
    pgn::CHM,
    pgn::BHM,
    pgn::CRM,
    pgn::BRM,
    pgn::BCP,
    pgn::CTS,
    pgn::CML,
    pgn::BRO,
    pgn::CRO,
    pgn::BCL,
    pgn::BCS,
    pgn::CCS,
    pgn::BSM,
    pgn::BMV,
    pgn::BMT,
    pgn::BSP,
    pgn::BST,
    pgn::CST,
    pgn::BSD,
    pgn::CSD,
    pgn::BEM,
    pgn::CEM,
];

/// GB/T CAN frames and J1939 reassembly over an arbitrary frame sequence with time: never panics, and the
/// reassembler never holds more sessions or bytes than its limits allow.
pub fn gbt_can(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((sessions, size, per_cts, retransmits)) = <(u8, u16, u8, u8)>::arbitrary(&mut u) else {
        return;
    };
    let config = TpConfig {
        max_message_size: usize::from(size) % gbt27930::TP_MAX_MESSAGE_SIZE + 1,
        max_sessions: usize::from(sessions % 16),
        packets_per_cts: per_cts,
        max_retransmits: retransmits % 4,
        ..TpConfig::default()
    };
    let mut decoder = CanDecoder::new(config);
    let mut now: u64 = 0;
    let mut out = Vec::new();
    while let Ok(f) = BusFrame::arbitrary(&mut u) {
        if u.is_empty() && f.kind == 0 && f.raw_id == 0 {
            break;
        }
        now = now.saturating_add(u64::from(f.gap_ms));
        let id = match f.kind % 4 {
            0 => CanId::new(7, pgn::TP_CM, f.source, f.destination).to_raw(),
            1 => CanId::new(7, pgn::TP_DT, f.source, f.destination).to_raw(),
            2 => {
                let p = GBT_PGNS[usize::from(f.source) % GBT_PGNS.len()];
                CanId::new(6, p, f.source, f.destination).to_raw()
            }
            _ => f.raw_id,
        };
        let len = usize::from(f.len) % (f.data.len() + 1);
        decoder.push(&CanFrame::extended(id, &f.data[..len]), now, &mut out);
        if f.poll {
            decoder.poll(now, &mut out);
        }
        let r = decoder.reassembler();
        assert!(
            r.open_sessions() <= config.max_sessions,
            "too many open transfers"
        );
        // The bound counts whole 7-byte packets: a 6-byte limit reserves 7 bytes per transfer.
        assert!(
            r.buffered_bytes() <= config.max_buffered_bytes(),
            "reassembly buffers exceed their bound"
        );
        out.clear();
        if u.is_empty() {
            break;
        }
    }
}

/// GB/T message differential: first 2 bytes choose the PGN, the rest is the data. A message that decodes
/// re-encodes to data that decodes to the same message.
pub fn gbt_roundtrip(data: &[u8]) {
    let [selector, _, rest @ ..] = data else {
        return;
    };
    let p = GBT_PGNS[usize::from(*selector) % GBT_PGNS.len()];
    let Ok(message) = gbt27930::Message::decode(p, rest) else {
        return;
    };
    let bytes = message.to_bytes();
    let again = gbt27930::Message::decode(p, &bytes)
        .unwrap_or_else(|e| panic!("re-encoded {} no longer decodes: {e}", message.name()));
    assert_eq!(
        message,
        again,
        "decode → encode → decode changed a {}",
        message.name()
    );
}

/// candump log lines (any text, line by line) through the CAN decoder, timestamps included.
pub fn candump(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut decoder = CanDecoder::new(TpConfig::default());
    let mut out = Vec::new();
    for line in text.lines() {
        let _ = gbt27930::candump::parse_line(line);
        let _ = decoder.push_line(line, 0, &mut out);
        out.clear();
    }
}

/// The 13-byte relay stream, both layouts, arbitrary chunking: exactly one item per 13 bytes, and every record
/// that decodes re-encodes to a record that decodes to the same frame.
pub fn relay_stream(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let layout = if control & 1 == 0 {
        RelayLayout::InfoFirst
    } else {
        RelayLayout::IdFirst
    };
    let sizes = [control >> 1];
    let items = feed(&mut RelayCodec::new(layout), &chunks(stream, &sizes));
    assert_eq!(items.len(), stream.len() / gbt27930::RELAY_FRAME_LEN);
    for frame in items.into_iter().flatten() {
        let again = layout
            .decode(&layout.encode(&frame))
            .expect("re-encoded relay record decodes");
        // Compare what the frame means; bytes past the DLC are padding and need not survive.
        let meaning = |f: &CanFrame| (f.id, f.extended, f.remote, f.data().to_vec());
        assert_eq!(meaning(&frame), meaning(&again));
    }
}

/// OCPP-J: first byte chooses 1.6 or 2.0.1 and the action used for a CALLRESULT, the rest is the frame text.
/// RPC parse, then schema validation and typed decoding of CALL and CALLRESULT payloads.
pub fn ocpp_rpc(data: &[u8]) {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let version = if control & 1 == 0 {
        OcppVersion::V16
    } else {
        OcppVersion::V201
    };
    let message = match ocpp::rpc::parse(text, version) {
        Ok(m) => m,
        Err(e) => {
            let _ = (e.kind(), e.reaction(version));
            return;
        }
    };
    let index = usize::from(control >> 1);
    match (&message, version) {
        (ocpp::Message::Call(c), OcppVersion::V16) => {
            let _ = ocpp::v16::decode_call(&c.action, c.payload, true);
        }
        (ocpp::Message::Call(c), _) => {
            let _ = ocpp::v201::decode_call(&c.action, c.payload, true);
        }
        (ocpp::Message::CallResult(r), OcppVersion::V16) => {
            let action = ocpp::v16::Action::ALL[index % ocpp::v16::Action::ALL.len()];
            let _ = ocpp::v16::decode_response(action, r.payload, true);
        }
        (ocpp::Message::CallResult(r), _) => {
            let action = ocpp::v201::Action::ALL[index % ocpp::v201::Action::ALL.len()];
            let _ = ocpp::v201::decode_response(action, r.payload, true);
        }
        (ocpp::Message::CallError(e), _) => {
            let _ = e.code();
        }
        _ => {}
    }
}

/// Fuzzed length-field parameters.
#[derive(Debug, Arbitrary)]
struct LengthParams {
    max: u16,
    offset: u8,
    width: u8,
    adjustment: i16,
    strip: u8,
    little: bool,
    fail_fast: bool,
}

impl LengthParams {
    fn config(&self) -> Option<LengthFieldConfig> {
        let width = SUPPORTED_LENGTH_FIELD_LENGTHS
            [usize::from(self.width) % SUPPORTED_LENGTH_FIELD_LENGTHS.len()];
        let order = if self.little {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        };
        LengthFieldConfig::new(
            usize::from(self.max),
            usize::from(self.offset % 16),
            width,
            i64::from(self.adjustment),
            usize::from(self.strip % 16),
        )
        .ok()
        .map(|c| c.with_byte_order(order).with_fail_fast(self.fail_fast))
    }
}

/// Checks the invariants every framing event obeys: a good frame is never longer than the maximum.
fn check_events(events: &[FrameEvent], max: usize) {
    for event in events {
        if let Some(frame) = event.frame() {
            assert!(
                frame.len() <= max,
                "a {}-byte frame passed a {max}-byte maximum",
                frame.len()
            );
        }
    }
}

/// The generic length-field decoder with arbitrary parameters and chunking.
pub fn length_field(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(params) = LengthParams::arbitrary(&mut u) else {
        return;
    };
    let Some(config) = params.config() else {
        return;
    };
    let Ok(sizes) = Vec::<u8>::arbitrary(&mut u) else {
        return;
    };
    let max = config.max_frame_length();
    let events = feed(
        &mut LengthFieldDecoder::new(config),
        &chunks(u.take_rest(), &sizes),
    );
    check_events(&events, max);
}

/// Fuzzed CRC parameters.
#[derive(Debug, Arbitrary)]
struct CrcParams {
    algorithm: u8,
    start: u8,
    end_gap: u8,
    little: bool,
    either: bool,
}

/// `FrameDecoder` with an arbitrary `FrameSpec` (length field, optional marker, optional CRC) and chunking;
/// a decoded frame with a CRC verifies against that CRC.
pub fn frame_decoder(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((params, marker, crc)) =
        <(LengthParams, Option<[u8; 3]>, Option<CrcParams>)>::arbitrary(&mut u)
    else {
        return;
    };
    let Some(config) = params.config() else {
        return;
    };
    let max = config.max_frame_length();
    let mut spec = FrameSpec::new(config);
    if let Some(marker) = marker {
        // First byte: marker length 0–2; then the marker bytes.
        let bytes = marker
            .get(1..=usize::from(marker[0] % 3))
            .unwrap_or_default();
        match spec.clone().with_marker(bytes.to_vec()) {
            Ok(s) => spec = s,
            Err(_) => return,
        }
    }
    if let Some(c) = crc {
        spec = spec.with_crc(CrcSpec {
            algorithm: CrcAlgorithm::ALL[usize::from(c.algorithm) % CrcAlgorithm::ALL.len()],
            start: usize::from(c.start % 8),
            end_gap: usize::from(c.end_gap % 4),
            byte_order: if c.little {
                ByteOrder::Little
            } else {
                ByteOrder::Big
            },
            accept_either_order: c.either,
        });
    }
    let Ok(sizes) = Vec::<u8>::arbitrary(&mut u) else {
        return;
    };
    let events = feed(&mut FrameDecoder::new(spec), &chunks(u.take_rest(), &sizes));
    check_events(&events, max);
}

/// Fuzzed OCPP-over-TCP envelope: framing, marker, the fill byte of the fixed header, CRC.
#[derive(Debug, Arbitrary)]
struct EnvelopeParams {
    length: LengthParams,
    /// First byte: marker length 0–3; then the marker bytes.
    marker: [u8; 4],
    header_fill: u8,
    crc: Option<CrcParams>,
    /// Bit 0: the rest of the input is JSON texts (one per line) to wrap, else raw stream bytes.
    mode: u8,
}

impl EnvelopeParams {
    /// The envelope, or `None` when the parameters are not a valid OCPP envelope (the config check refuses them).
    fn envelope(&self) -> Option<Envelope> {
        let length = self.length.config()?;
        let marker = self
            .marker
            .get(1..=usize::from(self.marker[0] % 4))
            .unwrap_or_default();
        let mut spec = FrameSpec::new(length);
        if !marker.is_empty() {
            spec = spec.with_marker(marker.to_vec()).ok()?;
        }
        if let Some(c) = &self.crc {
            spec = spec.with_crc(CrcSpec {
                algorithm: CrcAlgorithm::ALL[usize::from(c.algorithm) % CrcAlgorithm::ALL.len()],
                start: usize::from(c.start % 8),
                end_gap: 0,
                byte_order: if c.little {
                    ByteOrder::Little
                } else {
                    ByteOrder::Big
                },
                accept_either_order: c.either,
            });
        }
        let header_len = spec
            .length()
            .length_field_offset()
            .saturating_sub(marker.len());
        Envelope::new(spec, vec![self.header_fill; header_len]).ok()
    }
}

/// Checks one good frame of `envelope` independently of the decoder: within the maximum, starting with the
/// marker, long enough to hold the envelope, and its CRC recomputed here matches the field as the event says.
fn verify_envelope_frame(envelope: &Envelope, bytes: &[u8], crc: CrcMatch) {
    let spec = envelope.frame_spec();
    assert!(
        bytes.len() <= spec.length().max_frame_length(),
        "frame over the maximum"
    );
    if let Some(marker) = spec.marker() {
        assert!(bytes.starts_with(marker), "frame without its start marker");
    }
    assert!(
        envelope.payload(bytes).is_some(),
        "frame too short for its envelope"
    );
    match spec.crc() {
        None => assert_eq!(crc, CrcMatch::Unchecked),
        Some(c) => {
            let at = bytes.len() - c.algorithm.width_bytes();
            let computed = c.algorithm.checksum(&bytes[c.start..at]);
            let field = &bytes[at..];
            let in_order = c.byte_order.read_uint(field) as u32;
            let swapped = match c.byte_order {
                ByteOrder::Big => ByteOrder::Little,
                ByteOrder::Little => ByteOrder::Big,
            }
            .read_uint(field) as u32;
            match crc {
                CrcMatch::InOrder => assert_eq!(computed, in_order, "CRC does not verify"),
                CrcMatch::Swapped => {
                    assert!(
                        c.accept_either_order,
                        "swapped CRC accepted without the option"
                    );
                    assert_eq!(computed, swapped, "swapped CRC does not verify");
                }
                CrcMatch::Unchecked => panic!("envelope has a CRC but the frame was not checked"),
            }
        }
    }
}

/// The OCPP-like envelope with an arbitrary envelope config and arbitrary chunking. Raw mode: any byte stream;
/// every frame the decoder yields verifies (marker, length, CRC recomputed here). Wrap mode: the input's lines
/// are wrapped with `Envelope::encode` and the stream of those frames decodes to exactly those texts.
pub fn ocpp_envelope(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(params) = EnvelopeParams::arbitrary(&mut u) else {
        return;
    };
    let Some(envelope) = params.envelope() else {
        return;
    };
    let Ok(sizes) = Vec::<u8>::arbitrary(&mut u) else {
        return;
    };
    let rest = u.take_rest();
    let wrap = params.mode & 1 == 1;
    let mut texts = Vec::new();
    let stream: Vec<u8> = if wrap {
        let mut stream = Vec::new();
        for line in rest.split(|&b| b == b'\n') {
            if let Ok(frame) = envelope.encode(line) {
                stream.extend_from_slice(&frame);
                texts.push(line.to_vec());
            }
        }
        stream
    } else {
        rest.to_vec()
    };
    let events = feed(&mut envelope.decoder(), &chunks(&stream, &sizes));
    let mut decoded = Vec::new();
    for event in &events {
        if let FrameEvent::Frame { bytes, crc } = event {
            verify_envelope_frame(&envelope, bytes, *crc);
            let payload = envelope.payload(bytes).unwrap_or_default();
            if let Ok(text) = std::str::from_utf8(payload) {
                let _ = ocpp::rpc::parse(text, OcppVersion::V16);
            }
            decoded.push(payload.to_vec());
        }
    }
    if wrap {
        assert_eq!(decoded, texts, "wrapped texts did not decode back");
        assert_eq!(
            events.len(),
            texts.len(),
            "a clean stream of frames gave non-frame events"
        );
    }
}

/// OCPP-J typed-message differential, 1.6 and 2.0.1: first byte = version (bit 0) and the action used for a
/// CALLRESULT (the rest); the rest is the frame text. A message that parses and whose payload passes its schema
/// and decodes to a typed value is re-encoded from that value, parsed and decoded again: same id, same action,
/// same typed value, and the re-encoded payload still passes the schema. CALLERRORs keep id, code and details.
pub fn ocpp_roundtrip(data: &[u8]) {
    let Some((&control, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let version = if control & 1 == 0 {
        OcppVersion::V16
    } else {
        OcppVersion::V201
    };
    let Ok(message) = ocpp::rpc::parse(text, version) else {
        return;
    };
    let index = usize::from(control >> 1);
    match (message, version) {
        (ocpp::Message::Call(c), OcppVersion::V16) => {
            let Some(action) = ocpp::v16::Action::from_name(&c.action) else {
                return;
            };
            let Ok(first) = ocpp::v16::decode_request(action, c.payload, true) else {
                return;
            };
            let wire = reencode_call(&c.id, action.as_str(), &first);
            let again = reparsed_payload(&wire, version, &c.id, Some(action.as_str()));
            let second = ocpp::v16::decode_request(action, again, true)
                .unwrap_or_else(|e| panic!("re-encoded 1.6 {} no longer decodes: {e}", c.action));
            assert_eq!(first, second, "1.6 {} changed meaning", c.action);
        }
        (ocpp::Message::Call(c), _) => {
            let Some(action) = ocpp::v201::Action::from_name(&c.action) else {
                return;
            };
            let Ok(first) = ocpp::v201::decode_request(action, c.payload, true) else {
                return;
            };
            let wire = reencode_call(&c.id, action.as_str(), &first);
            let again = reparsed_payload(&wire, version, &c.id, Some(action.as_str()));
            let second = ocpp::v201::decode_request(action, again, true)
                .unwrap_or_else(|e| panic!("re-encoded 2.0.1 {} no longer decodes: {e}", c.action));
            assert_eq!(first, second, "2.0.1 {} changed meaning", c.action);
        }
        (ocpp::Message::CallResult(r), OcppVersion::V16) => {
            let action = ocpp::v16::Action::ALL[index % ocpp::v16::Action::ALL.len()];
            let Ok(first) = ocpp::v16::decode_response(action, r.payload, true) else {
                return;
            };
            let wire = reencode_result(&r.id, &first);
            let again = reparsed_payload(&wire, version, &r.id, None);
            let second = ocpp::v16::decode_response(action, again, true).unwrap_or_else(|e| {
                panic!(
                    "re-encoded 1.6 {} result no longer decodes: {e}",
                    action.as_str()
                )
            });
            assert_eq!(
                first,
                second,
                "1.6 {} result changed meaning",
                action.as_str()
            );
        }
        (ocpp::Message::CallResult(r), _) => {
            let action = ocpp::v201::Action::ALL[index % ocpp::v201::Action::ALL.len()];
            let Ok(first) = ocpp::v201::decode_response(action, r.payload, true) else {
                return;
            };
            let wire = reencode_result(&r.id, &first);
            let again = reparsed_payload(&wire, version, &r.id, None);
            let second = ocpp::v201::decode_response(action, again, true).unwrap_or_else(|e| {
                panic!(
                    "re-encoded 2.0.1 {} result no longer decodes: {e}",
                    action.as_str()
                )
            });
            assert_eq!(
                first,
                second,
                "2.0.1 {} result changed meaning",
                action.as_str()
            );
        }
        (ocpp::Message::CallError(e), _) => {
            let Some(code) = e.code() else {
                return;
            };
            let details: serde_json::Value =
                serde_json::from_str(e.details.get()).unwrap_or(serde_json::Value::Null);
            let wire =
                ocpp::rpc::encode_error(&e.id, code, &e.description, Some(&details), version)
                    .unwrap_or_else(|err| panic!("CALLERROR does not re-encode: {err}"));
            let Ok(ocpp::Message::CallError(again)) = ocpp::rpc::parse(&wire, version) else {
                panic!("re-encoded CALLERROR does not parse as one: {wire}");
            };
            assert_eq!(e.id, again.id);
            assert_eq!(Some(code), again.code(), "CALLERROR code changed");
            if details.is_object() {
                let back: serde_json::Value =
                    serde_json::from_str(again.details.get()).unwrap_or(serde_json::Value::Null);
                assert_eq!(details, back, "CALLERROR details changed");
            }
        }
        _ => {}
    }
}

/// Re-encodes a typed CALL payload as a whole frame.
fn reencode_call(id: &str, action: &str, payload: &impl serde::Serialize) -> String {
    ocpp::rpc::encode_call(id, action, payload)
        .unwrap_or_else(|e| panic!("{action} does not re-encode: {e}"))
}

/// Re-encodes a typed CALLRESULT payload as a whole frame.
fn reencode_result(id: &str, payload: &impl serde::Serialize) -> String {
    ocpp::rpc::encode_result(id, payload)
        .unwrap_or_else(|e| panic!("result does not re-encode: {e}"))
}

/// The payload of a re-encoded frame, which must parse as the same kind of message with the same id (and
/// action, for a CALL).
fn reparsed_payload<'a>(
    wire: &'a str,
    version: OcppVersion,
    id: &str,
    action: Option<&str>,
) -> &'a serde_json::value::RawValue {
    match (ocpp::rpc::parse(wire, version), action) {
        (Ok(ocpp::Message::Call(c)), Some(action)) => {
            assert_eq!(c.id, id, "CALL id changed");
            assert_eq!(c.action, action, "CALL action changed");
            c.payload
        }
        (Ok(ocpp::Message::CallResult(r)), None) => {
            assert_eq!(r.id, id, "CALLRESULT id changed");
            r.payload
        }
        (other, _) => {
            panic!("re-encoded frame does not parse as the same kind: {wire} → {other:?}")
        }
    }
}
