//! The charger state machine against a real loopback TCP server that answers with the codec's `reply::*`
//! builders — the same bytes a gateway sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::ykc::{reply, Message, StreamDecoder, StreamItem};
use device_sim::charger::{run_charger, ChargerConfig, ChargerError};
use device_sim::run::pile_number;
use device_sim::{run, RunConfig, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::codec::Decoder;

/// How the test server behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    /// Accept logins, answer every heartbeat.
    Answer,
    /// Refuse logins.
    RefuseLogin,
    /// Answer heartbeats with the sequence bytes flipped.
    WrongSequence,
    /// Accept logins, never answer heartbeats.
    SilentHeartbeats,
}

/// What the server saw.
#[derive(Debug, Default)]
struct Seen {
    logins: AtomicU64,
    heartbeats: AtomicU64,
    realtime: AtomicU64,
}

async fn serve_one(mut socket: TcpStream, behaviour: Behaviour, seen: Arc<Seen>) {
    let mut decoder = StreamDecoder::new();
    let mut buf = BytesMut::new();
    loop {
        while let Ok(Some(item)) = decoder.decode(&mut buf) {
            let StreamItem::Decoded(decoded) = item else {
                panic!("the simulator sent a bad frame: {item:?}");
            };
            let answer = match &decoded.message {
                Message::Login(login) => {
                    seen.logins.fetch_add(1, Ordering::Relaxed);
                    Some(
                        reply::login_reply(
                            &decoded.frame,
                            login,
                            behaviour != Behaviour::RefuseLogin,
                        )
                        .unwrap(),
                    )
                }
                Message::Heartbeat(hb) => {
                    seen.heartbeats.fetch_add(1, Ordering::Relaxed);
                    match behaviour {
                        Behaviour::SilentHeartbeats => None,
                        Behaviour::WrongSequence => {
                            let mut frame = decoded.frame.clone();
                            frame.seq = [frame.seq[1] ^ 0xFF, frame.seq[0] ^ 0xFF];
                            Some(reply::heartbeat_reply(&frame, hb).unwrap())
                        }
                        _ => Some(reply::heartbeat_reply(&decoded.frame, hb).unwrap()),
                    }
                }
                Message::Realtime(_) => {
                    seen.realtime.fetch_add(1, Ordering::Relaxed);
                    None
                }
                other => panic!("unexpected frame {other:?}"),
            };
            if let Some(bytes) = answer {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
        match socket.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

async fn server(behaviour: Behaviour) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let shared = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve_one(socket, behaviour, Arc::clone(&shared)));
        }
    });
    (addr, seen)
}

fn charger(target: SocketAddr) -> ChargerConfig {
    ChargerConfig {
        target,
        pile: pile_number(32_010_600_000_000, 1).unwrap(),
        heartbeat: Duration::from_millis(100),
        first_beat: Duration::from_millis(10),
        realtime: None,
        reply_timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_secs(2),
    }
}

#[tokio::test]
async fn charger_logs_in_then_every_heartbeat_is_answered() {
    let (addr, seen) = server(Behaviour::Answer).await;
    let stats = Stats::default();
    let deadline = Instant::now() + Duration::from_millis(250);
    run_charger(&charger(addr), &stats, deadline).await.unwrap();
    let s = stats.summary(1, 0);
    assert_eq!((s.connections_up, s.logins_accepted), (1, 1));
    // Beats at 10, 110, 210 ms after the login: three heartbeats plus the login.
    assert_eq!(s.frames_sent, 4, "{s:?}");
    assert_eq!(s.frames_answered, 4, "{s:?}");
    assert_eq!((s.reply_mismatches, s.replies_missing), (0, 0));
    assert!(s.is_clean());
    assert_eq!(seen.logins.load(Ordering::Relaxed), 1);
    assert_eq!(seen.heartbeats.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn refused_login_stops_the_charger_and_is_counted() {
    let (addr, _) = server(Behaviour::RefuseLogin).await;
    let stats = Stats::default();
    let deadline = Instant::now() + Duration::from_millis(200);
    let err = run_charger(&charger(addr), &stats, deadline)
        .await
        .unwrap_err();
    assert!(matches!(err, ChargerError::LoginRefused(0x01)), "{err}");
    let s = stats.summary(1, 0);
    assert_eq!(
        (s.logins_accepted, s.logins_failed, s.frames_sent),
        (0, 1, 1)
    );
    assert!(!s.is_clean());
}

#[tokio::test]
async fn heartbeat_reply_without_the_sequence_echo_is_a_mismatch() {
    let (addr, _) = server(Behaviour::WrongSequence).await;
    let stats = Stats::default();
    let deadline = Instant::now() + Duration::from_millis(250);
    run_charger(&charger(addr), &stats, deadline).await.unwrap();
    let s = stats.summary(1, 0);
    // Beats at 10, 110, 210 ms: each reply is a mismatch, so each request ends up unanswered too.
    assert_eq!(s.frames_answered, 1, "only the login is answered: {s:?}");
    assert_eq!(s.reply_mismatches, 3, "{s:?}");
    assert_eq!(s.replies_missing, 3, "{s:?}");
}

#[tokio::test]
async fn unanswered_heartbeats_count_as_missing_after_the_reply_timeout() {
    let (addr, seen) = server(Behaviour::SilentHeartbeats).await;
    let stats = Stats::default();
    let mut config = charger(addr);
    config.reply_timeout = Duration::from_millis(80);
    let started = Instant::now();
    run_charger(&config, &stats, started + Duration::from_millis(250))
        .await
        .unwrap();
    let s = stats.summary(1, 0);
    assert_eq!(s.replies_missing, seen.heartbeats.load(Ordering::Relaxed));
    assert_eq!(s.replies_missing, 3, "{s:?}");
    assert!(
        started.elapsed() < Duration::from_millis(250 + 80 + 100),
        "the drain is bounded by the reply timeout"
    );
}

#[tokio::test]
async fn realtime_frames_are_sent_at_their_interval_without_expecting_replies() {
    let (addr, seen) = server(Behaviour::Answer).await;
    let stats = Stats::default();
    let mut config = charger(addr);
    config.heartbeat = Duration::from_secs(10);
    config.first_beat = Duration::from_secs(10);
    config.realtime = Some(Duration::from_millis(100));
    run_charger(&config, &stats, Instant::now() + Duration::from_millis(250))
        .await
        .unwrap();
    // 0x13 at 100 and 200 ms after the login.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(seen.realtime.load(Ordering::Relaxed), 2);
    let s = stats.summary(1, 0);
    assert_eq!((s.frames_sent, s.frames_answered), (3, 1), "{s:?}");
    assert!(s.is_clean());
}

#[tokio::test]
async fn nothing_listening_counts_a_failed_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let stats = Stats::default();
    let err = run_charger(
        &charger(addr),
        &stats,
        Instant::now() + Duration::from_millis(50),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ChargerError::Connect(_)), "{err}");
    assert_eq!(stats.summary(1, 0).connections_failed, 1);
}

#[tokio::test]
async fn a_fleet_logs_in_with_distinct_pile_numbers_and_reports_clean() {
    let (addr, seen) = server(Behaviour::Answer).await;
    let summary = run(&RunConfig {
        target: addr,
        chargers: 20,
        duration: Duration::from_millis(300),
        heartbeat: Duration::from_millis(100),
        realtime: None,
        reply_timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(2),
        pile_base: 32_010_600_000_000,
        seed: 42,
    })
    .await
    .unwrap();
    assert_eq!(summary.connections_up, 20);
    assert_eq!(summary.logins_accepted, 20);
    assert_eq!(seen.logins.load(Ordering::Relaxed), 20);
    // Every charger beats 2–3 times in 300 ms at 100 ms, its first beat offset inside one interval.
    assert!(
        (20 + 40..=20 + 60).contains(&summary.frames_sent),
        "{summary:?}"
    );
    assert_eq!(summary.frames_answered, summary.frames_sent);
    assert!(summary.is_clean(), "{}", summary.human());
    let json = serde_json::to_value(summary).unwrap();
    assert_eq!(json["chargers"], 20);
}
