//! Fuzz-target body for the configuration parser, shared by the cargo-fuzz target `config` in `fuzz/` and the
//! corpus-replay test `tests/fuzz_config_replay.rs` (which runs every committed `fuzz/corpus/config/` file on
//! stable). Compiled only with the `fuzzing` feature; the codec's targets are in `chargegate_codec::fuzzing`.
//!
//! The configuration file is operator input, not charger input, but `check-config` and `serve` read it before any
//! safeguard runs: arbitrary text must give a typed [`ConfigError`] that names a key and a line, never a panic.

use crate::config::{check_str, Config, ConfigError, Override};

/// The config target: first byte = mode, the rest = text (invalid UTF-8 replaced).
///
/// - Even mode: the text is a whole file through `check_str` (as `check-config` runs it) and through
///   `Config::from_parts` (as `serve` runs it); both agree, an error names a key and a line inside the text, and
///   an accepted configuration serialized back to TOML is accepted again as the same configuration.
/// - Odd mode: the first line is a `--set key=value` override, the rest the file; errors are typed and say what
///   was wrong.
pub fn config(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode & 1 == 1 {
        let (set, file) = text.split_once('\n').unwrap_or((&text, ""));
        let outcome = Override::parse_set(set)
            .and_then(|o| Config::from_parts(Some(file), std::slice::from_ref(&o)));
        if let Err(e) = outcome {
            check_error(&e, file);
        }
        return;
    }
    let checked = check_str(&text);
    let served = Config::from_parts(Some(&text), &[]);
    match (&checked, &served) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "check-config and serve read the file differently"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "different errors"),
        _ => panic!("check-config and serve disagree: {checked:?} vs {served:?}"),
    }
    match checked {
        Err(e) => check_error(&e, &text),
        Ok(config) => {
            let again = toml::to_string(&config)
                .unwrap_or_else(|e| panic!("an accepted configuration does not serialize: {e}"));
            let reread = check_str(&again).unwrap_or_else(|e| {
                panic!("an accepted configuration, serialized, is refused: {e}\n{again}")
            });
            assert_eq!(
                config, reread,
                "serialize → parse changed the configuration"
            );
        }
    }
}

/// An error from a file names a non-empty key and a line inside the file; every error has a message.
fn check_error(e: &ConfigError, text: &str) {
    assert!(!e.to_string().is_empty(), "an error without a message");
    let lines = text.matches('\n').count() + 1;
    match e {
        ConfigError::Syntax {
            key, line, column, ..
        } => {
            assert!(!key.is_empty(), "a syntax error names no key");
            assert!(
                (1..=lines).contains(line),
                "line {line} outside a {lines}-line file"
            );
            assert!(*column >= 1, "column 0");
        }
        ConfigError::Invalid { key, line, .. } => {
            assert!(!key.is_empty(), "an invalid value names no key");
            if let Some(line) = line {
                assert!(
                    (1..=lines).contains(line),
                    "line {line} outside a {lines}-line file"
                );
            }
        }
        ConfigError::BadOverride { spec, message } => {
            assert!(
                !message.is_empty(),
                "override `{spec}` refused without a reason"
            )
        }
        ConfigError::Override { message } => assert!(!message.is_empty()),
        ConfigError::Io { .. } => panic!("no file is read"),
    }
}
