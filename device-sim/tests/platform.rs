//! device-sim against a deliberately wrong YKC platform served in the test over real loopback sockets (the codec's
//! reply builders, then one byte flipped or a reply held back): the simulator must notice and count what a gateway
//! gets wrong.

use std::time::Duration;

use chargegate_codec::ykc::{reply, Message, StreamDecoder, StreamItem};
use device_sim::charger::SimConfig;
use device_sim::fault::FaultPlan;
use device_sim::fleet::{self, FleetConfig};
use device_sim::spec::{DurationRange, Mix, Targets};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::codec::FramedRead;

/// How the test platform answers heartbeats (logins are always answered correctly at once, nothing else ever).
#[derive(Clone, Copy)]
enum Heartbeats {
    /// With the CRC's last byte flipped.
    BadCrc,
    /// Correctly, but this much later.
    Late(Duration),
}

async fn platform(heartbeats: Heartbeats) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut frames = FramedRead::new(read, StreamDecoder::new());
                while let Some(Ok(StreamItem::Decoded(d))) = frames.next().await {
                    let bytes = match &d.message {
                        Message::Login(l) => {
                            reply::login_reply(&d.frame, l, true).unwrap().to_vec()
                        }
                        Message::Heartbeat(h) => {
                            let mut b = reply::heartbeat_reply(&d.frame, h).unwrap().to_vec();
                            match heartbeats {
                                Heartbeats::BadCrc => {
                                    let last = b.len() - 1;
                                    b[last] ^= 0xFF;
                                }
                                Heartbeats::Late(by) => tokio::time::sleep(by).await,
                            }
                            b
                        }
                        _ => continue,
                    };
                    if write.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn fleet_config(
    addr: std::net::SocketAddr,
    heartbeat_ms: u64,
    reply_timeout_ms: u64,
) -> FleetConfig {
    let ms = |a, b| DurationRange::new(Duration::from_millis(a), Duration::from_millis(b));
    FleetConfig {
        sim: SimConfig {
            targets: Targets {
                ykc: Some(addr),
                ..Targets::default()
            },
            heartbeat_idle: ms(heartbeat_ms, heartbeat_ms),
            heartbeat_charging: ms(heartbeat_ms, heartbeat_ms),
            telemetry_interval: Duration::from_secs(1),
            load_interval: None,
            load_burst: std::time::Duration::ZERO,
            session_length: ms(1000, 1000),
            reply_timeout: Duration::from_millis(reply_timeout_ms),
            backoff: ms(100, 200),
            faults: FaultPlan::default(),
            seed: 1,
        },
        chargers: 2,
        pile_base: 32_010_200_000_000,
        first_index: 0,
        mix: Mix::default(),
        charging_share: 0.0,
        ramp: 100.0,
        duration: Duration::from_millis(1500),
        source_addrs: Vec::new(),
        observe: None,
        progress: false,
        with_hdr: false,
    }
}

#[tokio::test]
async fn a_heartbeat_reply_with_a_bad_crc_is_a_mismatch() {
    let addr = platform(Heartbeats::BadCrc).await;
    let cfg = fleet_config(addr, 100, 500);
    let r = fleet::run(cfg).await.unwrap();
    assert_eq!(r.connections.established, 2, "{r}");
    assert!(r.mismatches.get("crc").copied().unwrap_or(0) >= 2, "{r}");
    // The billing-model check is never answered by this platform: counted once the reply timeout passes.
    assert!(
        r.mismatches.get("no_reply").copied().unwrap_or(0) >= 2,
        "{r}"
    );
}

#[tokio::test]
async fn a_reply_after_the_reply_timeout_counts_as_late_not_as_a_stray_reply() {
    // Heartbeats every 200 ms, answered 600 ms later, given up on after 300 ms.
    let addr = platform(Heartbeats::Late(Duration::from_millis(600))).await;
    let r = fleet::run(fleet_config(addr, 200, 300)).await.unwrap();
    assert_eq!(r.connections.established, 2, "{r}");
    assert!(r.mismatches.get("late").copied().unwrap_or(0) >= 2, "{r}");
    assert_eq!(
        r.mismatches.get("unexpected").copied().unwrap_or(0),
        0,
        "{r}"
    );
    assert!(
        r.mismatches.get("no_reply").copied().unwrap_or(0) >= 2,
        "{r}"
    );
}
