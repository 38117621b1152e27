//! Spool behaviour as the MQTT sink relies on it: order, restart recovery, torn tails, limits, segment reclamation
//! and durability per fsync policy. All tests use a real directory (tempfile) and real files.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;

use super::segment::{segment_name, SEGMENT_MAGIC};
use super::*;

/// Small segments so a handful of records spans several files.
const SEGMENT: u64 = 256;

fn config(dir: &Path, fsync: FsyncPolicy) -> SpoolConfig {
    SpoolConfig {
        dir: dir.to_path_buf(),
        max_bytes: 64 * 1024,
        segment_bytes: SEGMENT,
        critical_reserve_bytes: 1024,
        fsync,
    }
}

fn open(dir: &Path) -> Spool {
    Spool::open(config(dir, FsyncPolicy::Never)).unwrap()
}

fn payload(i: u64) -> Vec<u8> {
    format!("event-{i:04}").into_bytes()
}

fn append_n(spool: &mut Spool, n: u64) -> Vec<u64> {
    (0..n)
        .map(|i| spool.append(&payload(i), RecordClass::Telemetry).unwrap())
        .collect()
}

fn seqs(records: &[(u64, Vec<u8>)]) -> Vec<u64> {
    records.iter().map(|(s, _)| *s).collect()
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

#[test]
fn records_come_back_in_append_order_and_acked_ones_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = open(dir.path());
    assert!(spool.is_empty());
    assert_eq!(spool.first_unacked(), None);
    let appended = append_n(&mut spool, 50);
    assert_eq!(appended, (1..=50).collect::<Vec<_>>());
    assert_eq!(spool.len(), 50);
    assert!(
        spool.segments() > 3,
        "50 records should span several {SEGMENT}-byte segments"
    );

    let all = spool.read_from(1, usize::MAX).unwrap();
    assert_eq!(seqs(&all), appended);
    for (seq, bytes) in &all {
        assert_eq!(bytes, &payload(seq - 1));
    }
    assert_eq!(
        seqs(&spool.read_from(10, 5).unwrap()),
        vec![10, 11, 12, 13, 14]
    );
    assert!(spool.read_from(51, 10).unwrap().is_empty());
    assert!(spool.read_from(1, 0).unwrap().is_empty());

    spool.ack_through(20).unwrap();
    assert_eq!(spool.first_unacked(), Some(21));
    assert_eq!(spool.len(), 30);
    assert_eq!(seqs(&spool.read_from(1, 3).unwrap()), vec![21, 22, 23]);
    spool.ack_through(5).unwrap(); // going back is a no-op
    assert_eq!(spool.first_unacked(), Some(21));
}

#[test]
fn after_a_restart_unacked_records_return_in_order_and_acked_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = open(dir.path());
        append_n(&mut spool, 40);
        spool.ack_through(17).unwrap();
    }
    let mut spool = open(dir.path());
    assert_eq!(spool.recovery().acked, 17);
    assert_eq!(spool.recovery().records, 23);
    assert_eq!(spool.first_unacked(), Some(18));
    let back = spool.read_from(0, usize::MAX).unwrap();
    assert_eq!(seqs(&back), (18..=40).collect::<Vec<_>>());
    assert_eq!(back[0].1, payload(17));
    assert_eq!(
        spool
            .append(b"after restart", RecordClass::Critical)
            .unwrap(),
        41
    );
    assert_eq!(
        spool.read_from(41, 1).unwrap(),
        vec![(41, b"after restart".to_vec())]
    );
}

#[test]
fn sequence_numbers_keep_rising_after_everything_was_acked_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = open(dir.path());
        append_n(&mut spool, 30);
        spool.ack_through(30).unwrap();
        assert_eq!(spool.segments(), 0);
        assert_eq!(spool.bytes(), 0);
        assert!(segment_files(dir.path()).is_empty());
    }
    let mut spool = open(dir.path());
    assert!(spool.is_empty());
    assert_eq!(spool.append(b"x", RecordClass::Telemetry).unwrap(), 31);
}

#[test]
fn acknowledged_segments_are_deleted_whole_and_partly_acked_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = open(dir.path());
    append_n(&mut spool, 40);
    let before = segment_files(dir.path());
    assert_eq!(before.len(), spool.segments());
    let bytes_before = spool.bytes();
    // The second segment's first record: acking just below it frees exactly the first segment.
    let second_first: u64 = before[1]
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    spool.ack_through(second_first - 1).unwrap();
    let after = segment_files(dir.path());
    assert_eq!(after, before[1..].to_vec());
    assert!(spool.bytes() < bytes_before);
    assert_eq!(spool.stats().segments_deleted, 1);
    // One more record acked: the second segment is only partly delivered, so it stays.
    spool.ack_through(second_first).unwrap();
    assert_eq!(segment_files(dir.path()), after);
    let on_disk: u64 = after.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    assert_eq!(spool.bytes(), on_disk);
}

/// Cuts the file at every byte offset inside the last record: each reopen must keep every whole record.
#[test]
fn a_torn_last_record_is_cut_off_at_every_possible_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (last_path, last_start, last_end) = {
        let mut spool = open(dir.path());
        append_n(&mut spool, 5);
        let seg = spool.segments.back().unwrap();
        let start = seg.offset_of(5).unwrap();
        (seg.path.clone(), start, seg.size)
    };
    let original = fs::read(&last_path).unwrap();
    assert_eq!(original.len() as u64, last_end);
    for cut in last_start..last_end {
        let work = tempfile::tempdir().unwrap();
        for file in segment_files(dir.path()) {
            fs::copy(&file, work.path().join(file.file_name().unwrap())).unwrap();
        }
        fs::write(
            work.path().join(last_path.file_name().unwrap()),
            &original[..cut as usize],
        )
        .unwrap();
        let mut spool = open(work.path());
        assert_eq!(
            seqs(&spool.read_from(1, 100).unwrap()),
            vec![1, 2, 3, 4],
            "cut at {cut}"
        );
        let torn = if cut == last_start { 0 } else { 1 };
        assert_eq!(spool.recovery().torn_segments, torn, "cut at {cut}");
        assert_eq!(spool.recovery().truncated_bytes, cut - last_start);
        // The truncated file takes new records again, and they survive another restart.
        assert_eq!(spool.append(b"next", RecordClass::Telemetry).unwrap(), 5);
        drop(spool);
        let spool = open(work.path());
        assert_eq!(
            seqs(&spool.read_from(1, 100).unwrap()),
            vec![1, 2, 3, 4, 5],
            "cut at {cut}"
        );
    }
}

#[test]
fn a_bad_crc_in_the_last_record_is_truncated_with_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = {
        let mut spool = open(dir.path());
        append_n(&mut spool, 3);
        spool.segments.back().unwrap().path.clone()
    };
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    fs::write(&path, &bytes).unwrap();
    let spool = open(dir.path());
    assert_eq!(seqs(&spool.read_from(1, 10).unwrap()), vec![1, 2]);
    assert_eq!(spool.next_seq(), 3);
}

#[test]
fn a_segment_with_a_foreign_header_is_refused_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(segment_name(1));
    fs::write(&path, b"NOTASPOOLSEGMENT").unwrap();
    let err = Spool::open(config(dir.path(), FsyncPolicy::Never)).unwrap_err();
    assert_eq!(err.kind(), "spool_corrupt", "{err}");
    assert!(path.exists());
}

#[test]
fn a_record_damaged_after_recovery_is_reported_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = open(dir.path());
    append_n(&mut spool, 3);
    let path = spool.segments.front().unwrap().path.clone();
    let mut bytes = fs::read(&path).unwrap();
    bytes[SEGMENT_MAGIC.len() + 20] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let err = spool.read_from(1, 10).unwrap_err();
    assert_eq!(err.kind(), "spool_corrupt", "{err}");
}

#[test]
fn when_full_telemetry_is_refused_first_and_critical_uses_the_reserve() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SpoolConfig {
        max_bytes: 4096,
        segment_bytes: 512,
        critical_reserve_bytes: 1024,
        ..config(dir.path(), FsyncPolicy::Never)
    };
    let mut spool = Spool::open(cfg).unwrap();
    let body = [7u8; 100];
    let mut telemetry = 0;
    let err = loop {
        match spool.append(&body, RecordClass::Telemetry) {
            Ok(_) => telemetry += 1,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err,
            SpoolError::Full {
                class: RecordClass::Telemetry,
                limit: 3072,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), "spool_full");
    assert!(spool.bytes() <= 3072);
    assert!(telemetry > 10);

    let mut critical = 0;
    let err = loop {
        match spool.append(&body, RecordClass::Critical) {
            Ok(_) => critical += 1,
            Err(e) => break e,
        }
    };
    assert!(critical >= 1, "the reserve must take billing records");
    assert!(
        matches!(
            err,
            SpoolError::Full {
                class: RecordClass::Critical,
                limit: 4096,
                ..
            }
        ),
        "{err}"
    );
    assert!(spool.bytes() <= 4096);
    assert!(spool.append(&body, RecordClass::Telemetry).is_err());
    assert_eq!(spool.stats().refused_telemetry, 2);
    assert_eq!(spool.stats().refused_critical, 1);
    assert_eq!(spool.stats().appended_critical, critical);

    // Delivering the backlog frees whole segments and telemetry is accepted again.
    let last = spool.next_seq() - 1;
    spool.ack_through(last).unwrap();
    assert_eq!(spool.bytes(), 0);
    assert!(spool.append(&body, RecordClass::Telemetry).is_ok());
}

#[test]
fn a_record_larger_than_a_segment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = open(dir.path());
    let max = spool.config().max_payload_bytes() as usize;
    assert!(spool.append(&vec![0; max], RecordClass::Critical).is_ok());
    let err = spool
        .append(&vec![0; max + 1], RecordClass::Critical)
        .unwrap_err();
    assert_eq!(err.kind(), "spool_record_too_large");
}

#[test]
fn fsync_always_makes_every_append_durable_before_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(dir.path(), FsyncPolicy::Always)).unwrap();
    assert_eq!(spool.synced_through(), None);
    for _ in 0..20 {
        let seq = spool.append(b"bill", RecordClass::Critical).unwrap();
        assert_eq!(spool.synced_through(), Some(seq));
    }
    assert!(spool.stats().fsyncs >= 20);
}

#[test]
fn fsync_never_and_long_intervals_wait_for_an_explicit_sync() {
    for policy in [
        FsyncPolicy::Never,
        FsyncPolicy::Interval(Duration::from_secs(3600)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(config(dir.path(), policy)).unwrap();
        let first = spool.append(b"a", RecordClass::Telemetry).unwrap();
        let second = spool.append(b"b", RecordClass::Critical).unwrap();
        assert_eq!(spool.synced_through(), None, "{policy}");
        assert!(!spool.sync_if_due().unwrap());
        spool.sync().unwrap();
        assert_eq!(spool.synced_through(), Some(second), "{policy}");
        assert!(first < second);
    }
}

#[test]
fn a_short_fsync_interval_syncs_on_a_later_append_or_tick() {
    let dir = tempfile::tempdir().unwrap();
    let mut spool = Spool::open(config(
        dir.path(),
        FsyncPolicy::Interval(Duration::from_millis(1)),
    ))
    .unwrap();
    let seq = spool.append(b"a", RecordClass::Telemetry).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(spool.sync_if_due().unwrap());
    assert_eq!(spool.synced_through(), Some(seq));
    std::thread::sleep(Duration::from_millis(5));
    let seq = spool.append(b"b", RecordClass::Telemetry).unwrap();
    assert_eq!(spool.synced_through(), Some(seq));
}

#[test]
fn a_reopened_spool_counts_recovered_records_as_synced() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = open(dir.path());
        append_n(&mut spool, 4);
    }
    let spool = open(dir.path());
    assert_eq!(spool.synced_through(), Some(4));
}

#[test]
fn a_file_shorter_than_the_header_is_a_torn_creation_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut spool = open(dir.path());
        append_n(&mut spool, 2);
    }
    let stray = dir.path().join(segment_name(3));
    fs::write(&stray, &SEGMENT_MAGIC[..3]).unwrap();
    let mut spool = open(dir.path());
    assert!(!stray.exists());
    assert_eq!(spool.recovery().torn_segments, 1);
    assert_eq!(spool.append(b"c", RecordClass::Telemetry).unwrap(), 3);
}

#[test]
fn invalid_configurations_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = config(dir.path(), FsyncPolicy::Never);
    let cases = [
        SpoolConfig {
            segment_bytes: 10,
            ..base.clone()
        },
        SpoolConfig {
            max_bytes: 100,
            ..base.clone()
        },
        SpoolConfig {
            critical_reserve_bytes: base.max_bytes,
            ..base.clone()
        },
        SpoolConfig {
            fsync: FsyncPolicy::Interval(Duration::ZERO),
            ..base.clone()
        },
        SpoolConfig {
            dir: PathBuf::new(),
            ..base.clone()
        },
    ];
    for cfg in cases {
        let err = Spool::open(cfg.clone()).unwrap_err();
        assert_eq!(err.kind(), "spool_invalid_config", "{cfg:?}");
    }
    SpoolConfig::default().validate().unwrap();
}

#[test]
fn defaults_match_the_documented_values() {
    let d = SpoolConfig::default();
    assert_eq!(d.dir, PathBuf::from("spool"));
    assert_eq!(d.max_bytes, 256 << 20);
    assert_eq!(d.segment_bytes, 8 << 20);
    assert_eq!(d.critical_reserve_bytes, 16 << 20);
    assert_eq!(d.fsync, FsyncPolicy::Interval(Duration::from_millis(100)));
}

#[test]
fn fsync_policy_reads_as_a_word_or_an_interval_table() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Wrap {
        fsync: FsyncPolicy,
    }
    let read = |s: &str| toml::from_str::<Wrap>(s).map(|w| w.fsync);
    assert_eq!(read(r#"fsync = "always""#).unwrap(), FsyncPolicy::Always);
    assert_eq!(read(r#"fsync = "never""#).unwrap(), FsyncPolicy::Never);
    assert_eq!(
        read(r#"fsync = "interval""#).unwrap(),
        FsyncPolicy::Interval(Duration::from_millis(100))
    );
    assert_eq!(
        read("fsync = { interval_ms = 250 }").unwrap(),
        FsyncPolicy::Interval(Duration::from_millis(250))
    );
    assert!(read(r#"fsync = "sometimes""#).is_err());
    assert!(read("fsync = { interval_ms = 0 }").is_err());
    let back = toml::to_string(&Wrap {
        fsync: FsyncPolicy::Interval(Duration::from_millis(250)),
    })
    .unwrap();
    assert_eq!(
        read(&back).unwrap(),
        FsyncPolicy::Interval(Duration::from_millis(250))
    );
    let cfg: SpoolConfig = toml::from_str("dir = \"/var/spool/cg\"\nfsync = \"always\"").unwrap();
    assert_eq!(cfg.fsync, FsyncPolicy::Always);
    assert_eq!(cfg.segment_bytes, DEFAULT_SPOOL_SEGMENT_BYTES);
}

/// Builds the bytes of a valid segment holding `n` records starting at seq 1.
fn valid_segment(n: u64) -> Vec<u8> {
    let mut bytes = SEGMENT_MAGIC.to_vec();
    for i in 1..=n {
        record::encode(&mut bytes, i, RecordClass::Telemetry, &payload(i));
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any bytes in a segment file: open either refuses with an error kind or recovers, and never panics.
    #[test]
    fn random_segment_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(segment_name(1)), &bytes).unwrap();
        match Spool::open(config(dir.path(), FsyncPolicy::Never)) {
            Ok(spool) => { spool.read_from(0, usize::MAX).unwrap(); }
            Err(e) => prop_assert_eq!(e.kind(), "spool_corrupt"),
        }
    }

    /// Garbage after a valid header and some whole records: the whole records survive, the garbage is cut off.
    #[test]
    fn garbage_after_whole_records_is_truncated(
        n in 0u64..6,
        garbage in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = valid_segment(n);
        bytes.extend_from_slice(&garbage);
        fs::write(dir.path().join(segment_name(1)), &bytes).unwrap();
        let mut spool = Spool::open(config(dir.path(), FsyncPolicy::Never)).unwrap();
        let back = spool.read_from(0, usize::MAX).unwrap();
        prop_assert_eq!(seqs(&back), (1..=n).collect::<Vec<_>>());
        let next = spool.append(b"more", RecordClass::Critical).unwrap();
        prop_assert_eq!(next, n + 1);
    }

    /// The spool against a model (a list of unacked records) through appends, acks and restarts.
    #[test]
    fn spool_matches_a_simple_queue_model(ops in proptest::collection::vec(
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..60).prop_map(Op::Append),
            1 => (0u64..8).prop_map(Op::Ack),
            1 => Just(Op::Reopen),
        ],
        1..60,
    )) {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = open(dir.path());
        let mut model: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut acked = 0u64;
        let mut next = 1u64;
        for op in ops {
            match op {
                Op::Append(bytes) => {
                    prop_assert_eq!(spool.append(&bytes, RecordClass::Telemetry).unwrap(), next);
                    model.push((next, bytes));
                    next += 1;
                }
                Op::Ack(ahead) => {
                    let target = (acked + ahead).min(next - 1);
                    spool.ack_through(target).unwrap();
                    acked = acked.max(target);
                    model.retain(|(s, _)| *s > acked);
                }
                Op::Reopen => {
                    drop(spool);
                    spool = open(dir.path());
                }
            }
            prop_assert_eq!(spool.len(), model.len() as u64);
            prop_assert_eq!(spool.first_unacked(), model.first().map(|(s, _)| *s));
        }
        prop_assert_eq!(spool.read_from(0, usize::MAX).unwrap(), model);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>),
    Ack(u64),
    Reopen,
}

#[test]
fn damage_inside_an_older_segment_loses_only_that_segments_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (first_path, second_first, total) = {
        let mut spool = open(dir.path());
        append_n(&mut spool, 30);
        let first = spool.segments.front().unwrap();
        (
            first.path.clone(),
            spool.segments[1].first_seq,
            spool.next_seq() - 1,
        )
    };
    // Damage the second record of the first segment: record 1 survives, 2.. of that segment are cut off.
    let mut bytes = fs::read(&first_path).unwrap();
    let second_record = SEGMENT_MAGIC.len() + record::frame_len(payload(0).len()) as usize;
    bytes[second_record + 20] ^= 0xFF;
    fs::write(&first_path, &bytes).unwrap();
    let mut spool = open(dir.path());
    let mut expected = vec![1];
    expected.extend(second_first..=total);
    assert_eq!(seqs(&spool.read_from(0, usize::MAX).unwrap()), expected);
    assert_eq!(spool.len(), expected.len() as u64);
    assert_eq!(spool.first_unacked(), Some(1));
    spool.ack_through(1).unwrap();
    assert_eq!(spool.first_unacked(), Some(second_first));
    assert_eq!(
        spool.append(b"x", RecordClass::Telemetry).unwrap(),
        total + 1
    );
}
