//! YKC decode + CRC + normalize, frames per second on one core.
//!
//! Two shapes: `stream` runs the whole connection path over a buffer of back-to-back frames (marker search,
//! length field, CRC-16/MODBUS, envelope, body, normalization); `frame` parses one already-cut frame. Figures go
//! to `docs/benchmarks.md` with the command that produced them.

use bytes::{Bytes, BytesMut};
use chargegate_codec::ykc::transaction::{TierBlock, TransactionRecord};
use chargegate_codec::ykc::{
    self, Ascii, Cp56Time2a, Message, PileNumber, StreamDecoder, StreamItem, TransactionSerial,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tokio_util::codec::Decoder;

/// Frames per stream iteration.
const FRAMES_PER_BUFFER: usize = 1_000;

/// The 0x13 real-time frame of the `docs/protocols/ykc.md` walk-through (charging, one fault bit set).
const REALTIME_0X13: &str = "684000120013320102000000010120180612195957853201020000000101030001DD0EE8034B000000000000000038502A001E0040E2010040E2010002120F000110BE7D";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A spec-length (0xA2) 0x3B transaction record with four tariff tiers.
fn transaction_0x3b() -> Vec<u8> {
    let block = |price: u32, energy: u32| TierBlock {
        price_raw: price,
        energy_raw: energy,
        loss_energy_raw: energy,
        amount_raw: price / 10 * energy / 10_000,
    };
    let record = TransactionRecord {
        serial: TransactionSerial::from_digits("32010200000001012018061219595785").unwrap(),
        pile: PileNumber::from_digits("32010200000001").unwrap(),
        gun: 1,
        start: Cp56Time2a::from_bytes([0x98, 0xB7, 0x0E, 0x11, 0x6D, 0x03, 0x14]),
        end: Cp56Time2a::from_bytes([0x98, 0xB7, 0x2A, 0x11, 0x6D, 0x03, 0x14]),
        tiers: [
            block(120_000, 10_000),
            block(100_000, 20_000),
            block(80_000, 0),
            block(50_000, 5_000),
        ],
        fifth_tier: None,
        meter_start_raw: 0x01_0000_0000,
        meter_stop_raw: 0x01_0000_0000 + 35_000,
        energy_raw: 35_000,
        loss_energy_raw: 35_000,
        amount_raw: 365_000,
        vin: Ascii::from_text("LSVAU2180N2183294"),
        flag: 0x01,
        time: Cp56Time2a::from_bytes([0x98, 0xB7, 0x2B, 0x11, 0x6D, 0x03, 0x14]),
        stop_reason: 0x41,
        physical_card: [0; 8],
    };
    Message::TransactionRecord(Box::new(record))
        .encode_frame([0, 0x46])
        .unwrap()
        .to_vec()
}

fn bench_frame_type(c: &mut Criterion, name: &str, frame: Vec<u8>) {
    let mut group = c.benchmark_group(format!("ykc_{name}"));

    let stream: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * FRAMES_PER_BUFFER)
        .collect();
    group.throughput(Throughput::Elements(FRAMES_PER_BUFFER as u64));
    group.bench_function("stream_decode_crc_normalize", |b| {
        b.iter(|| {
            let mut decoder = StreamDecoder::new();
            let mut buf = BytesMut::from(&stream[..]);
            let mut events = 0usize;
            while let Ok(Some(item)) = decoder.decode(&mut buf) {
                if let StreamItem::Decoded(d) = item {
                    events += ykc::normalize(&d.frame, &d.message).len();
                }
            }
            black_box(events)
        })
    });

    let one = Bytes::from(frame);
    group.throughput(Throughput::Elements(1));
    group.bench_function("frame_decode_crc_normalize", |b| {
        b.iter(|| {
            let d = ykc::decode(black_box(one.clone())).unwrap();
            black_box(ykc::normalize(&d.frame, &d.message))
        })
    });
    group.bench_function("frame_decode_crc_only", |b| {
        b.iter(|| black_box(ykc::decode(black_box(one.clone())).unwrap()))
    });
    group.finish();
}

/// The same 0x13 frame with no fault bit set: what a healthy charging pile sends every 15 s.
fn realtime_0x13_healthy() -> Vec<u8> {
    let d = ykc::decode(Bytes::from(unhex(REALTIME_0X13))).unwrap();
    let Message::Realtime(mut r) = d.message else {
        unreachable!("the walk-through frame is a 0x13")
    };
    r.faults = 0;
    Message::Realtime(r)
        .encode_frame(d.frame.seq)
        .unwrap()
        .to_vec()
}

fn benches(c: &mut Criterion) {
    bench_frame_type(c, "0x13", realtime_0x13_healthy());
    bench_frame_type(c, "0x13_two_faults", unhex(REALTIME_0X13));
    bench_frame_type(c, "0x3B", transaction_0x3b());
}

criterion_group!(ykc_decode, benches);
criterion_main!(ykc_decode);
