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
    ByteOrder, CrcAlgorithm, CrcSpec, FrameDecoder, FrameEvent, FrameSpec, LengthFieldConfig,
    LengthFieldDecoder, SUPPORTED_LENGTH_FIELD_LENGTHS,
};
use crate::gbt27930::{self, pgn, CanDecoder, CanFrame, CanId, RelayCodec, RelayLayout, TpConfig};
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
        assert!(
            r.buffered_bytes() <= config.max_sessions * config.max_message_size,
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
