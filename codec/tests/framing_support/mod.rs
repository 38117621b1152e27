//! Shared helpers for the `framing_*` integration tests: hex input, feeding decoders read by read, and the YKC
//! envelope built from the public `frame` API.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use chargegate_codec::frame::{
    ByteOrder, CrcAlgorithm, CrcMatch, CrcSpec, FrameEvent, FrameSpec, LengthFieldConfig,
};
use tokio_util::codec::Decoder;

/// `"HELLO, WORLD"`, the content of Netty's javadoc examples.
pub const HELLO_WORLD: &str = "48454C4C4F2C20574F524C44";

/// Bytes from hex; spaces are ignored.
pub fn hex(s: &str) -> Vec<u8> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(compact).unwrap()
}

/// Netty-style config (max, O, L, A, S, fail_fast), big-endian.
pub fn netty(
    max: usize,
    offset: usize,
    length: usize,
    adjustment: i64,
    strip: usize,
    fail_fast: bool,
) -> LengthFieldConfig {
    LengthFieldConfig::new(max, offset, length, adjustment, strip)
        .unwrap()
        .with_fail_fast(fail_fast)
}

/// A good frame without CRC.
pub fn frame(hex_bytes: &str) -> FrameEvent {
    FrameEvent::Frame {
        bytes: Bytes::from(hex(hex_bytes)),
        crc: CrcMatch::Unchecked,
    }
}

/// A good frame whose CRC matched as given.
pub fn checked_frame(hex_bytes: &str, crc: CrcMatch) -> FrameEvent {
    FrameEvent::Frame {
        bytes: Bytes::from(hex(hex_bytes)),
        crc,
    }
}

/// A too-long outcome.
pub fn too_long(frame_length: u64, max_frame_length: usize) -> FrameEvent {
    FrameEvent::TooLong {
        frame_length,
        max_frame_length,
    }
}

/// Feeds one read after another into `buf`, collecting what each read produced (decode until `None`).
pub fn feed<D>(decoder: &mut D, buf: &mut BytesMut, reads: &[&[u8]]) -> Vec<Vec<FrameEvent>>
where
    D: Decoder<Item = FrameEvent>,
    D::Error: std::fmt::Debug,
{
    reads
        .iter()
        .map(|read| {
            buf.extend_from_slice(read);
            drain(decoder, buf)
        })
        .collect()
}

/// Feeds hex reads; see [`feed`].
pub fn feed_hex<D>(decoder: &mut D, buf: &mut BytesMut, reads: &[&str]) -> Vec<Vec<FrameEvent>>
where
    D: Decoder<Item = FrameEvent>,
    D::Error: std::fmt::Debug,
{
    let reads: Vec<Vec<u8>> = reads.iter().map(|r| hex(r)).collect();
    let slices: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
    feed(decoder, buf, &slices)
}

/// Decodes everything `buf` holds now.
pub fn drain<D>(decoder: &mut D, buf: &mut BytesMut) -> Vec<D::Item>
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while let Some(event) = decoder.decode(buf).unwrap() {
        out.push(event);
    }
    out
}

/// Ends the stream (Netty's channel close): `decode_eof` until it yields nothing.
pub fn finish<D>(decoder: &mut D, buf: &mut BytesMut) -> Vec<D::Item>
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while let Some(event) = decoder.decode_eof(buf).unwrap() {
        out.push(event);
    }
    out
}

/// Everything a decoder yields for `stream` cut at `cuts` (sorted offsets), end of stream included.
pub fn decode_split<D>(decoder: &mut D, stream: &[u8], cuts: &[usize]) -> Vec<D::Item>
where
    D: Decoder,
    D::Error: std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let cut = cut.clamp(from, stream.len());
        buf.extend_from_slice(&stream[from..cut]);
        out.extend(drain(decoder, &mut buf));
        from = cut;
    }
    out.extend(finish(decoder, &mut buf));
    out
}

/// Everything a decoder yields for `stream` in one read.
pub fn decode_whole<D>(decoder: &mut D, stream: &[u8]) -> Vec<FrameEvent>
where
    D: Decoder<Item = FrameEvent>,
    D::Error: std::fmt::Debug,
{
    decode_split(decoder, stream, &[])
}

/// Everything a decoder yields for `stream` fed one byte per read.
pub fn decode_bytewise<D>(decoder: &mut D, stream: &[u8]) -> Vec<FrameEvent>
where
    D: Decoder<Item = FrameEvent>,
    D::Error: std::fmt::Debug,
{
    let cuts: Vec<usize> = (1..stream.len()).collect();
    decode_split(decoder, stream, &cuts)
}

/// YKC start flag (ykc.md §2).
pub const YKC_MARKER: u8 = 0x68;
/// YKC frames: the length byte counts seq + enc + type + body; the CRC follows, so `A = +2` (ykc.md §2).
pub const YKC_LENGTH_ADJUSTMENT: i64 = 2;
/// Largest YKC frame: 255 counted bytes + marker, length byte, 2 CRC bytes.
pub const YKC_MAX_FRAME_LENGTH: usize = 259;
/// The CRC covers `frame[2 .. 2 + length)`, from the sequence number on (ykc.md §3).
pub const YKC_CRC_START: usize = 2;

/// The YKC envelope, built from the public API as the YKC module would: marker 0x68, 1-byte length at offset 1,
/// CRC-16/MODBUS over `frame[2..F-2)`, low byte first, either order accepted.
pub fn ykc_spec() -> FrameSpec {
    ykc_spec_with_either_order(true)
}

/// The YKC envelope with the swapped-order tolerance switched on or off.
pub fn ykc_spec_with_either_order(accept_either_order: bool) -> FrameSpec {
    let length =
        LengthFieldConfig::new(YKC_MAX_FRAME_LENGTH, 1, 1, YKC_LENGTH_ADJUSTMENT, 0).unwrap();
    FrameSpec::new(length)
        .with_marker([YKC_MARKER])
        .unwrap()
        .with_crc(CrcSpec {
            algorithm: CrcAlgorithm::Crc16Modbus,
            start: YKC_CRC_START,
            end_gap: 0,
            byte_order: ByteOrder::Little,
            accept_either_order,
        })
}
