//! Replays the committed `ws_subscriber` fuzz corpus (`fuzz/corpus/ws_subscriber/`) through the fuzz body on the
//! stable toolchain, so seeds and every regression input found by `cargo fuzz run ws_subscriber` are checked by
//! every `cargo test` (the codec's targets are replayed by `codec/tests/fuzz_corpus_replay.rs`).

use std::fs;
use std::path::PathBuf;

use chargegate::ws::fuzzing::ws_subscriber;

#[test]
fn the_ws_subscriber_corpus_replays_without_breaking_an_invariant() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ws_subscriber");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the seed corpus is missing");
    for file in files {
        let data = fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| ws_subscriber(&data));
        assert!(outcome.is_ok(), "{} fails", file.display());
    }
}
