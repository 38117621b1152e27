//! One simulated YKC charger: connect, log in, heartbeat, and check every reply.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chargegate_codec::ykc::heartbeat::{Heartbeat, GUN_NORMAL};
use chargegate_codec::ykc::login::{Login, PILE_TYPE_DC};
use chargegate_codec::ykc::{Ascii, Iccid, Message, PileNumber, StreamDecoder, StreamItem};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use crate::report::Counters;

/// Protocol version a simulated charger announces, V1.6 as version × 10.
const PROTOCOL_V16: u8 = 0x10;
/// Program version a simulated charger announces.
const PROGRAM_VERSION: &str = "SIM-0.1";
/// Network type code "LAN".
const NETWORK_LAN: u8 = 1;
/// Read buffer per simulated charger; replies are ≤ 30 bytes, so a small buffer keeps 100k chargers cheap.
const READ_BUFFER: usize = 256;

/// How one simulated charger behaves.
#[derive(Debug, Clone)]
pub struct ChargerConfig {
    /// Gateway address.
    pub target: SocketAddr,
    /// The pile number it logs in with.
    pub pile: PileNumber,
    /// Heartbeat period (YKC: 10 s).
    pub heartbeat: Duration,
    /// Delay before the first heartbeat, within one period, so a fleet does not beat in lockstep.
    pub first_beat: Duration,
    /// How long to wait for a reply before counting the connection lost.
    pub reply_timeout: Duration,
}

/// Why a simulated charger stopped before the run ended.
#[derive(Debug, thiserror::Error)]
pub enum ChargerError {
    /// The connection could not be opened.
    #[error("connect to {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    /// Writing failed.
    #[error("write: {0}")]
    Write(std::io::Error),
    /// The gateway closed the connection or sent nothing in time.
    #[error("no reply to frame type 0x{0:02X}")]
    NoReply(u8),
    /// The gateway refused the login.
    #[error("login refused")]
    LoginRefused,
    /// An encoder error (a bug in the simulator).
    #[error("encode: {0}")]
    Encode(String),
}

/// A first-heartbeat offset in `[0, period)` derived from the pile number: spread like random jitter, but
/// reproducible from run to run.
pub fn stagger(pile: &PileNumber, period: Duration) -> Duration {
    // FNV-1a over the BCD bytes.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pile.0 {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let period_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(hash % period_ms)
}

/// Runs one charger until `stop` is cancelled or the connection ends.
pub async fn run(
    cfg: ChargerConfig,
    counters: Arc<Counters>,
    stop: CancellationToken,
) -> Result<(), ChargerError> {
    Counters::bump(&counters.connect_attempts);
    let stream = match TcpStream::connect(cfg.target).await {
        Ok(s) => s,
        Err(e) => {
            Counters::bump(&counters.connect_failed);
            return Err(ChargerError::Connect(cfg.target, e));
        }
    };
    Counters::bump(&counters.connected);
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut replies = FramedRead::with_capacity(read, StreamDecoder::new(), READ_BUFFER);
    let mut seq: u16 = 0;

    let login = Message::Login(Login {
        pile: cfg.pile,
        pile_type: PILE_TYPE_DC,
        gun_count: 1,
        protocol_version: PROTOCOL_V16,
        program_version: Ascii::from_text(PROGRAM_VERSION),
        network_type: NETWORK_LAN,
        sim: Iccid::default(),
        operator: 0,
    });
    let accepted = exchange(
        &cfg,
        &counters,
        &mut write,
        &mut replies,
        &login,
        &mut seq,
        &stop,
    )
    .await?;
    match accepted {
        Some(Message::LoginReply(r)) if r.is_success() => Counters::bump(&counters.logged_in),
        Some(_) => {
            Counters::bump(&counters.login_refused);
            return Err(ChargerError::LoginRefused);
        }
        None => return Ok(()),
    }

    let beat = Message::Heartbeat(Heartbeat {
        pile: cfg.pile,
        gun: 1,
        gun_status: GUN_NORMAL,
    });
    let mut next = tokio::time::Instant::now() + cfg.first_beat;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep_until(next) => {}
        }
        next += cfg.heartbeat;
        if exchange(
            &cfg,
            &counters,
            &mut write,
            &mut replies,
            &beat,
            &mut seq,
            &stop,
        )
        .await?
        .is_none()
        {
            return Ok(());
        }
    }
}

/// Sends `msg` and waits for its reply; checks the reply's type, sequence echo and pile. `Ok(None)` = stopped.
async fn exchange(
    cfg: &ChargerConfig,
    counters: &Counters,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    replies: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, StreamDecoder>,
    msg: &Message,
    seq: &mut u16,
    stop: &CancellationToken,
) -> Result<Option<Message>, ChargerError> {
    let seq_bytes = seq.to_le_bytes();
    *seq = seq.wrapping_add(1);
    let frame: Bytes = msg
        .encode_frame(seq_bytes)
        .map_err(|e| ChargerError::Encode(e.to_string()))?;
    write.write_all(&frame).await.map_err(ChargerError::Write)?;
    Counters::bump(&counters.frames_sent);
    let expected = msg.frame_type().wrapping_add(1);
    let deadline = tokio::time::Instant::now() + cfg.reply_timeout;
    loop {
        let item = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            r = tokio::time::timeout_at(deadline, replies.next()) => r.map(|i| i.and_then(Result::ok)),
        };
        match item {
            Ok(Some(StreamItem::Decoded(d))) => {
                let pile_ok = reply_pile(&d.message).is_none_or(|p| p == cfg.pile);
                if d.frame.frame_type == expected && d.frame.seq == seq_bytes && pile_ok {
                    Counters::bump(&counters.frames_answered);
                    return Ok(Some(d.message));
                }
                // Another frame (a command, a time sync) or a reply that does not match: count and keep waiting.
                if d.frame.frame_type == expected {
                    Counters::bump(&counters.reply_mismatches);
                }
            }
            Ok(Some(StreamItem::Rejected(_))) => Counters::bump(&counters.reply_mismatches),
            Ok(Some(StreamItem::Skipped(_))) => {}
            Ok(None) | Err(_) => {
                Counters::bump(&counters.disconnects);
                return Err(ChargerError::NoReply(msg.frame_type()));
            }
        }
    }
}

fn reply_pile(msg: &Message) -> Option<PileNumber> {
    match msg {
        Message::LoginReply(r) => Some(r.pile),
        Message::HeartbeatReply(r) => Some(r.pile),
        _ => None,
    }
}
