//! Spool append rate per fsync policy: 200-byte records (a typical normalized event) appended to a fresh spool on
//! the real file system (`std::env::temp_dir()`, or `SPOOL_BENCH_DIR`). `Always` measures one fdatasync per
//! record; `Interval` and `Never` measure the write path. Figures go to the report / `docs/benchmarks.md`.

use std::path::PathBuf;
use std::time::Duration;

use chargegate::route::spool::{FsyncPolicy, RecordClass, Spool, SpoolConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

/// Payload size of one benchmark record, bytes.
const RECORD_BYTES: usize = 200;
/// Records appended per measured batch.
const BATCH: u64 = 1_000;

fn bench_dir() -> PathBuf {
    std::env::var_os("SPOOL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

fn append(c: &mut Criterion) {
    let payload = vec![0x5Au8; RECORD_BYTES];
    let mut group = c.benchmark_group("spool_append");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    let policies = [
        ("always", FsyncPolicy::Always),
        (
            "interval_100ms",
            FsyncPolicy::Interval(Duration::from_millis(100)),
        ),
        ("never", FsyncPolicy::Never),
    ];
    for (name, fsync) in policies {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
                    let config = SpoolConfig {
                        dir: dir.path().join("spool"),
                        fsync,
                        ..SpoolConfig::default()
                    };
                    (Spool::open(config).unwrap(), dir)
                },
                |(mut spool, dir)| {
                    for _ in 0..BATCH {
                        spool.append(&payload, RecordClass::Telemetry).unwrap();
                    }
                    (spool, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
