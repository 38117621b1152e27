//! Outbound water marks under real back-pressure: a YKC pile floods heartbeats but stops reading its socket (with
//! a small receive buffer), so the gateway's replies pile up; the connection turns unwritable (counted in
//! `/metrics`), a REST command then gets `busy`, and once the pile reads again the queue drains and the return
//! below the low mark is counted too.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::ykc::encoding::PileNumber;
use chargegate_codec::ykc::heartbeat::Heartbeat;
use chargegate_codec::ykc::Message;
use chargegate_e2e::{dc_login, frame, http, metric_value, TestGateway, WAIT};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const PILE: &str = "32010200000077";
/// Heartbeats per flood; each reply is tiny, so the marks are set low for the test.
const FLOOD: u16 = 20_000;
const UNWRITABLE: &str =
    r#"chargegate_water_mark_transitions_total{direction="unwritable",protocol="ykc"}"#;
const WRITABLE: &str =
    r#"chargegate_water_mark_transitions_total{direction="writable",protocol="ykc"}"#;

async fn slow_reader(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    socket.connect(addr).await.unwrap()
}

async fn metric_at_least(gw: &TestGateway, series: &str, min: f64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = gw.metrics_text().await;
        if metric_value(&text, series).is_some_and(|v| v >= min) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} < {min}\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pile_that_stops_reading_turns_unwritable_commands_get_busy_and_recovery_is_counted() {
    let gw = TestGateway::start(|c| {
        c.limits.high_water_mark = 4096;
        c.limits.low_water_mark = 1024;
        c.limits.rate_frames_per_sec = 1_000_000;
        c.limits.rate_bytes_per_sec = 100_000_000;
    })
    .await;
    let mut pile = slow_reader(gw.ykc()).await;
    let pile_number = PileNumber::from_digits(PILE).unwrap();
    pile.write_all(&frame(&dc_login(pile_number), [0, 0]))
        .await
        .unwrap();
    let mut buf = BytesMut::new();
    tokio::time::timeout(WAIT, pile.read_buf(&mut buf))
        .await
        .expect("login reply")
        .unwrap();

    // Flood without reading until the gateway reports the connection unwritable.
    let heartbeat = Message::Heartbeat(Heartbeat {
        pile: pile_number,
        gun: 1,
        gun_status: 0,
    });
    let mut flood = Vec::new();
    for seq in 1..=FLOOD {
        flood.extend_from_slice(&frame(&heartbeat, seq.to_be_bytes()));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        pile.write_all(&flood).await.unwrap();
        let text = gw.metrics_text().await;
        if metric_value(&text, UNWRITABLE).is_some_and(|v| v >= 1.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never turned unwritable\n{text}"
        );
    }

    // Above the high mark, a command is answered `busy` at once.
    let (status, result) = http::command(
        gw.http(),
        PILE,
        json!({"id": "busy-1", "command": "start", "args": {"connector": 1}}),
    )
    .await;
    assert_eq!(result["status"], "busy", "{status} {result}");

    // Reading again drains the queue; the return below the low mark is counted.
    let reader = tokio::spawn(async move {
        let mut sink = vec![0u8; 64 * 1024];
        while matches!(pile.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    metric_at_least(&gw, WRITABLE, 1.0).await;
    reader.abort();
}
