//! The `ws_subscriber` fuzz body, shared by the cargo-fuzz target (`fuzz/fuzz_targets/ws_subscriber.rs`) and the
//! corpus replay under `cargo test` (`gateway/tests/ws_fuzz_corpus_replay.rs`).

use super::protocol::{command_id, parse_client_message, ClientMessage};
use super::token::{Claims, TokenSecret};

/// The secret the fuzz body verifies against (a fixed test key, not a real one).
const FUZZ_SECRET: &[u8] = b"chargegate-fuzz-secret-0123456789";

/// Feeds `data` to the client-message parser and the token verifier. Asserts: no panic; a parsed subscribe names
/// something; a token that verifies re-signs to itself (the MAC covers exactly what was sent).
pub fn ws_subscriber(data: &[u8]) {
    let Ok(secret) = TokenSecret::new(FUZZ_SECRET.to_vec()) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    if let Ok(ClientMessage::Subscribe(sel) | ClientMessage::Unsubscribe(sel)) =
        parse_client_message(&text)
    {
        assert!(!sel.is_empty(), "a parsed selection names something");
    }
    let _ = command_id(&text);
    let _ = secret.verify(&text, 0);
    // Tokens built around the input: the verifier must accept its own signature and refuse a changed one.
    let claims = Claims {
        sub: text.chars().take(64).collect(),
        stations: vec![text.chars().take(16).collect()],
        chargers: Vec::new(),
        may_command: data.first().is_some_and(|b| b & 1 == 1),
        exp: u64::MAX,
    };
    let token = secret.sign(&claims);
    assert_eq!(secret.verify(&token, 0).ok().as_ref(), Some(&claims));
    let tampered = format!("{token}{}", text.chars().next().unwrap_or('A'));
    assert!(
        secret.verify(&tampered, 0).is_err(),
        "a changed tag verifies"
    );
}
