//! Replays every committed corpus file of the `config` fuzz target (`fuzz/corpus/config/`) through
//! `chargegate::fuzzing::config` on the stable toolchain, so seeds and regression inputs found by `cargo fuzz`
//! are checked by every `cargo test`.

use std::fs;
use std::path::PathBuf;

#[test]
fn no_committed_config_corpus_file_breaks_an_invariant() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/config");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus");
    for file in files {
        let data = fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| chargegate::fuzzing::config(&data));
        assert!(outcome.is_ok(), "config: {} fails", file.display());
    }
}
