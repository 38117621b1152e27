//! Simulated chargers against a minimal YKC platform served in the test over real loopback sockets; the platform
//! answers with the codec's reply builders, or misbehaves on purpose.

use std::sync::Arc;
use std::time::Duration;

use chargegate_codec::ykc::{reply, Message, PileNumber, StreamDecoder, StreamItem};
use device_sim::charger::{self, ChargerConfig};
use device_sim::report::Counters;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

/// How the test platform answers.
#[derive(Clone, Copy)]
enum Platform {
    Correct,
    RefuseLogin,
    CorruptHeartbeatCrc,
}

async fn serve(behaviour: Platform) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut frames = FramedRead::new(read, StreamDecoder::new());
                while let Some(Ok(StreamItem::Decoded(d))) = frames.next().await {
                    let answer = match (&d.message, behaviour) {
                        (Message::Login(l), Platform::RefuseLogin) => {
                            reply::login_reply(&d.frame, l, false)
                        }
                        (Message::Login(l), _) => reply::login_reply(&d.frame, l, true),
                        (Message::Heartbeat(h), _) => reply::heartbeat_reply(&d.frame, h),
                        _ => continue,
                    };
                    let mut bytes = answer.unwrap().to_vec();
                    if matches!(
                        (behaviour, &d.message),
                        (Platform::CorruptHeartbeatCrc, Message::Heartbeat(_))
                    ) {
                        let last = bytes.len() - 1;
                        bytes[last] ^= 0xFF;
                    }
                    if write.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn run_fleet(
    addr: std::net::SocketAddr,
    n: u64,
    for_how_long: Duration,
) -> device_sim::report::Report {
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let pile = PileNumber::from_digits(&format!("{:014}", 32010200000000u64 + i)).unwrap();
        let heartbeat = Duration::from_millis(100);
        let cfg = ChargerConfig {
            target: addr,
            pile,
            heartbeat,
            first_beat: charger::stagger(&pile, heartbeat),
            reply_timeout: Duration::from_millis(500),
        };
        tasks.spawn(charger::run(cfg, counters.clone(), stop.clone()));
    }
    tokio::time::sleep(for_how_long).await;
    stop.cancel();
    while tasks.join_next().await.is_some() {}
    counters.snapshot()
}

#[tokio::test]
async fn chargers_log_in_and_every_heartbeat_is_answered() {
    let addr = serve(Platform::Correct).await;
    let r = run_fleet(addr, 5, Duration::from_millis(700)).await;
    assert_eq!(r.connected, 5);
    assert_eq!(r.logged_in, 5);
    assert_eq!(r.reply_mismatches, 0);
    // 5 logins plus at least 5 × 5 beats of 100 ms in 700 ms (first beat within the first 100 ms).
    assert!(r.frames_answered >= 5 + 25, "{r:?}");
    assert!(
        r.frames_sent - r.frames_answered <= 5,
        "at most one frame per charger in flight at the stop: {r:?}"
    );
}

#[tokio::test]
async fn a_refused_login_is_counted() {
    let addr = serve(Platform::RefuseLogin).await;
    let r = run_fleet(addr, 3, Duration::from_millis(300)).await;
    assert_eq!(r.login_refused, 3);
    assert_eq!(r.logged_in, 0);
}

#[tokio::test]
async fn a_heartbeat_reply_with_a_bad_crc_is_a_mismatch() {
    let addr = serve(Platform::CorruptHeartbeatCrc).await;
    let r = run_fleet(addr, 2, Duration::from_millis(400)).await;
    assert_eq!(r.logged_in, 2);
    assert!(r.reply_mismatches >= 2, "{r:?}");
}

#[tokio::test]
async fn nothing_listening_is_a_connect_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let r = run_fleet(addr, 2, Duration::from_millis(100)).await;
    assert_eq!(r.connect_failed, 2);
}

#[test]
fn stagger_spreads_first_beats_over_the_interval() {
    let period = Duration::from_secs(10);
    let offsets: Vec<Duration> = (0..1000u64)
        .map(|i| {
            charger::stagger(
                &PileNumber::from_digits(&format!("{:014}", 32010200000000u64 + i)).unwrap(),
                period,
            )
        })
        .collect();
    assert!(offsets.iter().all(|o| *o < period));
    let early = offsets.iter().filter(|o| **o < period / 2).count();
    assert!(
        (400..600).contains(&early),
        "{early} of 1000 in the first half"
    );
}
