//! `chargegate token create|verify` as a user runs them: the token is printed, verifies with the same secret
//! file, and is refused (exit 1, reason on stderr, no token echoed) with another secret.

use std::process::Command;

fn chargegate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chargegate"))
        .args(args)
        .output()
        .expect("run chargegate")
}

#[test]
fn a_created_token_verifies_with_its_secret_and_not_with_another() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("ws.secret");
    let other = dir.path().join("other.secret");
    std::fs::write(&secret, "the-dashboards-secret-0123456789\n").unwrap();
    std::fs::write(&other, "not-the-dashboards-secret-98765\n").unwrap();
    let secret = secret.to_str().unwrap();

    let out = chargegate(&[
        "token",
        "create",
        "--secret-file",
        secret,
        "--sub",
        "ops",
        "--station",
        "s1",
        "--station",
        "s2",
        "--charger",
        "CP-1",
        "--may-command",
        "--ttl",
        "1h",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(token.matches('.').count(), 1, "{token}");

    let out = chargegate(&["token", "verify", "--secret-file", secret, &token]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims["sub"], "ops");
    assert_eq!(claims["stations"], serde_json::json!(["s1", "s2"]));
    assert_eq!(claims["chargers"], serde_json::json!(["CP-1"]));
    assert_eq!(claims["may_command"], true);

    let out = chargegate(&[
        "token",
        "verify",
        "--secret-file",
        other.to_str().unwrap(),
        &token,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("signature invalid"), "{stderr}");
    assert!(!stderr.contains(&token), "the token is never echoed");
}

#[test]
fn a_weak_secret_or_no_scope_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let weak = dir.path().join("weak");
    std::fs::write(&weak, "short").unwrap();
    let out = chargegate(&[
        "token",
        "create",
        "--secret-file",
        weak.to_str().unwrap(),
        "--sub",
        "x",
        "--station",
        "s1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than 16 bytes"));
    let out = chargegate(&[
        "token",
        "create",
        "--secret-file",
        weak.to_str().unwrap(),
        "--sub",
        "x",
    ]);
    assert!(!out.status.success());
}
