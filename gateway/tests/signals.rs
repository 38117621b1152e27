//! Signals to a real `chargegate serve` process: SIGHUP reloads the charger registry file (a pile refused before
//! is accepted after; a broken file is refused and the old one kept), SIGTERM closes every charger with an
//! `offline` event whose reason is `shutdown`, written by the JSON-lines sink before the process exits. MQTT is off
//! (`mqtt.mode = "off"`): the embedded broker's fixed port would clash with parallel test processes.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chargegate_codec::ykc::encoding::{Ascii, Iccid, PileNumber};
use chargegate_codec::ykc::login::Login;
use chargegate_codec::ykc::Message;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_chargegate");
const KNOWN: &str = "32010200000001";
const LATER: &str = "32010200000002";
const WAIT: Duration = Duration::from_secs(10);

/// The child's JSON log lines, read on a thread.
struct Logs(mpsc::Receiver<Value>);

impl Logs {
    /// The next line whose message contains `text`; panics after [`WAIT`].
    fn until(&self, text: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .0
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no log line containing {text:?}"));
            if line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(text))
            {
                return line;
            }
        }
    }
}

/// Starts `chargegate serve --config <path>` with JSON logs read on a thread.
fn serve(config_path: &Path) -> (Child, Logs) {
    let mut child = Command::new(BIN)
        .args(["serve", "--log-format", "json", "--config"])
        .arg(config_path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, Logs(rx))
}

/// SIGTERM, then the process must exit successfully within [`WAIT`].
async fn terminate(mut child: Child) {
    signal(&child, "TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < WAIT, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn registry(path: &Path, piles: &[&str]) {
    let mut text = String::from("id,station,protocol,secret\n");
    for pile in piles {
        text.push_str(&format!("{pile},station-1,ykc,\n"));
    }
    std::fs::write(path, text).unwrap();
}

async fn login(addr: SocketAddr, pile: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let login = Login {
        pile: PileNumber::from_digits(pile).unwrap(),
        pile_type: 0,
        gun_count: 1,
        protocol_version: 0x10,
        program_version: Ascii::from_text("v1.0.0"),
        network_type: 0,
        sim: Iccid::default(),
        operator: 0,
    };
    let frame = Message::Login(login).encode_frame([0, 1]).unwrap();
    stream.write_all(&frame).await.unwrap();
    stream
}

/// Reads until the gateway closes `stream`; panics after [`WAIT`].
async fn closed(mut stream: TcpStream) {
    let mut buf = [0u8; 256];
    tokio::time::timeout(WAIT, async {
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await
    .expect("the gateway closed the refused pile");
}

/// Events in the JSON-lines file for `charger` of `kind`.
fn events(path: &Path, charger: &str, kind: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["charger"] == charger && e["kind"] == kind)
        .collect()
}

async fn event(path: &Path, charger: &str, kind: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(e) = events(path, charger, kind).pop() {
            return e;
        }
        assert!(Instant::now() < deadline, "no {kind} event for {charger}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_registry_and_sigterm_takes_chargers_offline_with_reason_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let registry_path = dir.path().join("chargers.csv");
    let events_path = dir.path().join("events.jsonl");
    let config_path = dir.path().join("chargegate.toml");
    registry(&registry_path, &[KNOWN]);
    std::fs::write(
        &config_path,
        format!(
            "workers = 1\nregistry_file = {:?}\n[listeners.ykc]\nbind = \"127.0.0.1:0\"\n[listeners.http]\nbind = \"127.0.0.1:0\"\n[listeners.ocpp_tcp]\nenabled = false\n[listeners.gbt27930_can]\nenabled = false\n[sinks.jsonl]\nenabled = true\npath = {:?}\n[rollout.ykc]\nstable = \"1\"\n[mqtt]\nmode = \"off\"\n",
            registry_path.display().to_string(),
            events_path.display().to_string()
        ),
    )
    .unwrap();
    let (child, logs) = serve(&config_path);
    let ykc: SocketAddr = loop {
        let line = logs.until("listening");
        if line["fields"]["listener"] == "ykc" {
            break line["fields"]["addr"].as_str().unwrap().parse().unwrap();
        }
    };
    logs.until("gateway ready");

    // Not in the registry yet: refused.
    closed(login(ykc, LATER).await).await;

    // Added to the file, SIGHUP: accepted.
    registry(&registry_path, &[KNOWN, LATER]);
    signal(&child, "HUP");
    let reloaded = logs.until("configuration reloaded");
    assert_eq!(reloaded["fields"]["chargers"], "Some(2)", "{reloaded}");
    let _later = login(ykc, LATER).await;
    event(&events_path, LATER, "online").await;

    // A broken file is refused and the old registry kept.
    std::fs::write(&registry_path, "not,a\n").unwrap();
    signal(&child, "HUP");
    logs.until("reload refused");

    // SIGTERM: the connected pile goes offline with reason `shutdown`, and the process exits cleanly.
    terminate(child).await;
    let offline = events(&events_path, LATER, "offline");
    assert_eq!(offline.len(), 1, "{offline:?}");
    assert_eq!(offline[0]["data"]["reason"], "shutdown", "{offline:?}");
}

/// An OCPP-J charger's connection runs beside the binary listeners (on the HTTP server's runtime): SIGTERM must
/// take it offline with reason `shutdown` too, and the JSON-lines sink must have written that before the exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_takes_an_ocpp_j_charger_offline_with_reason_shutdown() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    const CP: &str = "CP-TERM-1";
    let dir = tempfile::tempdir().unwrap();
    let events_path = dir.path().join("events.jsonl");
    let config_path = dir.path().join("chargegate.toml");
    std::fs::write(
        &config_path,
        format!(
            "workers = 1\n[listeners.ykc]\nbind = \"127.0.0.1:0\"\n[listeners.http]\nbind = \"127.0.0.1:0\"\n[listeners.ocpp_tcp]\nenabled = false\n[listeners.gbt27930_can]\nenabled = false\n[sinks.jsonl]\nenabled = true\npath = {:?}\n[mqtt]\nmode = \"off\"\n",
            events_path.display().to_string()
        ),
    )
    .unwrap();
    let (child, logs) = serve(&config_path);
    let http: SocketAddr = loop {
        let line = logs.until("listening");
        if line["fields"]["listener"] == "http" {
            break line["fields"]["addr"].as_str().unwrap().parse().unwrap();
        }
    };
    logs.until("gateway ready");

    let mut request = format!("ws://{http}/ocpp/{CP}")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("ocpp1.6"),
    );
    let (mut cp, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let boot = serde_json::json!([2, "b1", "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "T1"}]);
    cp.send(WsMessage::text(boot.to_string())).await.unwrap();
    let reply = tokio::time::timeout(WAIT, cp.next())
        .await
        .expect("a BootNotification reply")
        .unwrap()
        .unwrap();
    assert!(reply.to_text().unwrap().contains("Accepted"), "{reply:?}");
    event(&events_path, CP, "online").await;

    terminate(child).await;
    let offline = events(&events_path, CP, "offline");
    assert_eq!(offline.len(), 1, "{offline:?}");
    assert_eq!(offline[0]["data"]["reason"], "shutdown", "{offline:?}");
}
