//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through its target on the stable
//! toolchain, so seeds and regression inputs found by `cargo fuzz` are checked by every `cargo test`.

use std::fs;
use std::path::PathBuf;

use chargegate_codec::fuzzing::TARGETS;

/// Targets whose bodies live outside the codec, with the test that replays their corpus.
const REPLAYED_ELSEWHERE: &[&str] = &[
    "ws_subscriber", // gateway/tests/ws_fuzz_corpus_replay.rs
    "config",        // gateway/tests/fuzz_config_replay.rs
];

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

#[test]
fn every_target_has_a_committed_corpus_and_no_file_in_it_breaks_an_invariant() {
    for &(target, run) in TARGETS {
        let dir = corpus_dir(target);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target}: empty corpus");
        for file in files {
            let data = fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
        }
    }
}

#[test]
fn every_corpus_folder_belongs_to_a_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for entry in fs::read_dir(root).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            TARGETS.iter().any(|&(t, _)| t == name) || REPLAYED_ELSEWHERE.contains(&name.as_str()),
            "fuzz/corpus/{name} has no target"
        );
    }
}
