//! Rendering the two events of a healthy 0x13 frame (status + meter) as JSON: `serde_json::to_writer` against the
//! hand-written `Event::write_json` the JSON-lines sink uses (same bytes, see `event/json_tests.rs`). Same process,
//! same run: the ratio is what to read on a busy box.

use bytes::Bytes;
use chargegate_codec::event::Event;
use chargegate_codec::ykc::{self, Message};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// The 0x13 real-time frame of the `docs/protocols/ykc.md` walk-through.
const REALTIME_0X13: &str = "684000120013320102000000010120180612195957853201020000000101030001DD0EE8034B000000000000000038502A001E0040E2010040E2010002120F000110BE7D";

/// The events the gateway stamps for one healthy 0x13 frame.
fn events() -> Vec<Event> {
    let bytes: Vec<u8> = (0..REALTIME_0X13.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&REALTIME_0X13[i..i + 2], 16).unwrap())
        .collect();
    let d = ykc::decode(Bytes::from(bytes)).unwrap();
    let Message::Realtime(mut r) = d.message else {
        unreachable!("the walk-through frame is a 0x13")
    };
    r.faults = 0;
    let msg = Message::Realtime(r);
    ykc::normalize(&d.frame, &msg)
        .into_iter()
        .enumerate()
        .map(|(i, obs)| {
            let id = format!("chargegate-2a-{i}");
            Event::stamp(obs, id, 1_700_000_000_000, "", "ykc/1.6", "chargegate")
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let events = events();
    assert_eq!(events.len(), 2, "status + meter");
    let mut group = c.benchmark_group("event_json_0x13");
    group.throughput(Throughput::Elements(events.len() as u64));
    let mut buf = Vec::with_capacity(4096);
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            buf.clear();
            for ev in &events {
                serde_json::to_writer(&mut buf, black_box(ev)).unwrap();
                buf.push(b'\n');
            }
            black_box(buf.len())
        })
    });
    group.bench_function("write_json", |b| {
        b.iter(|| {
            buf.clear();
            for ev in &events {
                black_box(ev).write_json(&mut buf).unwrap();
                buf.push(b'\n');
            }
            black_box(buf.len())
        })
    });
    group.finish();
}

criterion_group!(event_json, benches);
criterion_main!(event_json);
