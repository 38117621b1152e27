//! The `chargegate` binary: `check-config` names the bad key and line; `serve` runs on flags alone and stops on
//! SIGTERM, and logs (code B0704) but keeps serving when the embedded MQTT broker's port is taken. Tests that are
//! not about MQTT run with `mqtt.mode=off`, so parallel runs never compete for 127.0.0.1:1883.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chargegate");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/chargegate.example.toml");

fn check_config(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chargegate.toml");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_accepts_the_example_file() {
    let out = Command::new(BIN)
        .args(["check-config", EXAMPLE])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn check_config_names_an_unknown_key_and_its_line() {
    let (ok, err) = check_config("[listeners.ykc]\nbacklog = 100\nmax_conections = 5\n");
    assert!(!ok);
    assert!(
        err.contains("line 3") && err.contains("listeners.ykc.max_conections"),
        "{err}"
    );
}

#[test]
fn check_config_names_a_wrongly_typed_key_and_its_line() {
    let (ok, err) = check_config("workers = 2\n[liveness]\ntick_ms = \"fast\"\n");
    assert!(!ok);
    assert!(
        err.contains("line 3") && err.contains("liveness.tick_ms"),
        "{err}"
    );
}

#[test]
fn check_config_names_low_above_high_water_mark_and_its_line() {
    let (ok, err) = check_config("[limits]\nlow_water_mark = 200000\n");
    assert!(!ok);
    assert!(
        err.contains("line 2") && err.contains("limits.low_water_mark"),
        "{err}"
    );
}

/// Starts `chargegate serve` on loopback port 0 for every listener, plus `extra` flags, and reads its log up to
/// "gateway ready"; returns the child, what was logged so far, and the rest of the log.
fn serve(extra: &[&str]) -> (Child, String, Lines<BufReader<ChildStderr>>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--workers", "1", "--log-format", "json"])
        .args([
            "--ykc",
            "127.0.0.1:0",
            "--ocpp-tcp",
            "127.0.0.1:0",
            "--gbt-can",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("gateway ready") {
            break;
        }
    }
    (child, seen, lines)
}

/// Sends SIGTERM and asserts a clean exit with "gateway stopped" logged.
fn stop(mut child: Child, lines: Lines<BufReader<ChildStderr>>) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("gateway stopped")),
        "{rest:?}"
    );
}

#[test]
fn serve_runs_on_flags_alone_and_stops_on_sigterm() {
    // No embedded broker: parallel tests (and CI) would all want 127.0.0.1:1883.
    let (child, seen, lines) = serve(&["--set", "mqtt.mode=off"]);
    assert!(seen.contains("connection ceiling"), "{seen}");
    assert!(seen.contains("loopback clients only"), "{seen}");
    assert!(!seen.contains("embedded MQTT broker"), "{seen}");
    stop(child, lines);
}

#[test]
fn serve_logs_b0704_and_keeps_serving_when_the_broker_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = format!("mqtt.embedded_bind=\"{}\"", taken.local_addr().unwrap());
    let (child, seen, lines) = serve(&["--set", &bind]);
    let refusal = seen
        .lines()
        .find(|l| l.contains("embedded MQTT broker cannot bind"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{seen}"));
    assert!(
        refusal.contains("B0704") && refusal.contains("ERROR"),
        "{refusal}"
    );
    assert!(
        seen.contains("gateway ready"),
        "the gateway serves anyway:\n{seen}"
    );
    stop(child, lines);
}

#[test]
fn decode_prints_the_pile_and_a_successful_login_result() {
    // id S1 — DaYePython/ykc-parser references/docs/云快充充电平台协议V1.6.md §6.2 example (login reply).
    let out = Command::new(BIN)
        .args([
            "decode",
            "--protocol",
            "ykc",
            "680C000000025503141278230500DA4C",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["message"]["pile"], "55031412782305");
    assert_eq!(line["message"]["outcome"], "success");
}

#[test]
fn decode_exits_non_zero_and_names_the_error_on_a_bad_frame() {
    // id S36-badcrc — the spec's §8.5 example with its placeholder CRC C1 A9.
    let out = Command::new(BIN)
        .args([
            "decode",
            "--protocol",
            "ykc",
            "680C000300363201020000000101C1A9",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let first = String::from_utf8(out.stdout).unwrap();
    let line: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(line["error"]["kind"], "ykc_bad_crc");
    assert_eq!(line["error"]["offset"], 0);
}
