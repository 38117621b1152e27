//! One simulated YKC charger: the connection state machine and its reply checks.
//!
//! Life of a charger: connect → send 0x01 login with its own pile number → wait for the 0x02 reply and check it
//! (the stream decoder checks framing and CRC; we check the sequence echo, the pile and the result) → send a
//! 0x03 heartbeat every interval, the first one at a per-charger offset inside the first interval so a fleet does
//! not beat in lock-step, and match every 0x04 to its heartbeat by the echoed sequence bytes → optionally send
//! 0x13 real-time data (no reply expected) → at the deadline wait up to one reply timeout for outstanding replies.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use chargegate_codec::ykc::encoding::{Ascii, Iccid, PileNumber, TransactionSerial};
use chargegate_codec::ykc::heartbeat::{Heartbeat, GUN_NORMAL};
use chargegate_codec::ykc::login::{Login, PILE_TYPE_DC};
use chargegate_codec::ykc::realtime::{Realtime, STATUS_IDLE};
use chargegate_codec::ykc::{Message, StreamDecoder, StreamItem};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::codec::Decoder;

use crate::stats::{bump, Stats};

/// The gun every simulated charger reports (single-gun DC pile).
pub const GUN: u8 = 1;
/// Protocol version announced in the login, 1.6 (the byte is version × 10).
const PROTOCOL_VERSION_1_6: u8 = 16;
/// Program version announced in the login.
const PROGRAM_VERSION: [u8; 8] = *b"SIM-0.1\0";
/// Network type "other" (3) in the login.
const NETWORK_OTHER: u8 = 3;
/// Read buffer capacity: a few maximum-size YKC frames.
const READ_BUFFER: usize = 1024;

/// What one charger does.
#[derive(Debug, Clone)]
pub struct ChargerConfig {
    /// Gateway address.
    pub target: SocketAddr,
    /// This charger's pile number (distinct per charger).
    pub pile: PileNumber,
    /// Heartbeat interval.
    pub heartbeat: Duration,
    /// Delay of the first heartbeat after login, normally random within one interval.
    pub first_beat: Duration,
    /// Interval of 0x13 real-time data frames; `None` sends none.
    pub realtime: Option<Duration>,
    /// How long a request may wait for its reply (login included) before it counts as missing.
    pub reply_timeout: Duration,
    /// How long the TCP connect may take.
    pub connect_timeout: Duration,
}

/// Why a charger stopped before its deadline.
#[derive(Debug)]
pub enum ChargerError {
    /// The TCP connection could not be established.
    Connect(io::Error),
    /// The connect did not complete in time.
    ConnectTimeout,
    /// No 0x02 arrived within the reply timeout.
    LoginTimeout,
    /// The gateway refused the login (result code given).
    LoginRefused(u8),
    /// Something other than our 0x02 arrived first.
    LoginMismatch(String),
    /// The gateway closed the connection.
    Closed,
    /// A socket error.
    Io(io::Error),
}

impl std::fmt::Display for ChargerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChargerError::Connect(e) => write!(f, "connect failed: {e}"),
            ChargerError::ConnectTimeout => write!(f, "connect timed out"),
            ChargerError::LoginTimeout => write!(f, "no login reply in time"),
            ChargerError::LoginRefused(code) => write!(f, "login refused with result {code:#04x}"),
            ChargerError::LoginMismatch(why) => write!(f, "bad login reply: {why}"),
            ChargerError::Closed => write!(f, "connection closed by the gateway"),
            ChargerError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

impl std::error::Error for ChargerError {}

/// The read side: socket, buffer and the codec's stream decoder.
struct Reader {
    socket: OwnedReadHalf,
    buf: BytesMut,
    decoder: StreamDecoder,
}

impl Reader {
    /// The next decoder item; `Ok(None)` on end of stream. Cancel-safe: the only await is `read_buf`, and all
    /// state lives in `self`.
    async fn next_item(&mut self) -> io::Result<Option<StreamItem>> {
        loop {
            if let Some(item) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(io::Error::other)?
            {
                return Ok(Some(item));
            }
            if self.socket.read_buf(&mut self.buf).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// Builds and writes frames with increasing sequence numbers.
struct Writer<'a> {
    socket: OwnedWriteHalf,
    seq: u16,
    stats: &'a Stats,
}

impl Writer<'_> {
    /// Encodes `message` with the next sequence bytes, writes it, and returns those bytes.
    async fn send(&mut self, message: &Message) -> Result<[u8; 2], ChargerError> {
        let seq = self.seq.to_le_bytes();
        self.seq = self.seq.wrapping_add(1);
        let frame = message
            .encode_frame(seq)
            .map_err(|e| ChargerError::Io(io::Error::other(e)))?;
        self.socket
            .write_all(&frame)
            .await
            .map_err(ChargerError::Io)?;
        bump(&self.stats.frames_sent);
        Ok(seq)
    }
}

/// The 0x01 login this charger sends.
pub fn login_message(pile: PileNumber) -> Message {
    Message::Login(Login {
        pile,
        pile_type: PILE_TYPE_DC,
        gun_count: GUN,
        protocol_version: PROTOCOL_VERSION_1_6,
        program_version: Ascii(PROGRAM_VERSION),
        network_type: NETWORK_OTHER,
        sim: Iccid::default(),
        operator: 0,
    })
}

/// The 0x03 heartbeat this charger sends.
pub fn heartbeat_message(pile: PileNumber) -> Message {
    Message::Heartbeat(Heartbeat {
        pile,
        gun: GUN,
        gun_status: GUN_NORMAL,
    })
}

/// The 0x13 real-time data of an idle, unplugged gun.
pub fn realtime_message(pile: PileNumber) -> Message {
    Message::Realtime(Realtime {
        serial: TransactionSerial::default(),
        pile,
        gun: GUN,
        status: STATUS_IDLE,
        gun_returned: 1,
        plugged: 0,
        voltage_raw: 0,
        current_raw: 0,
        cable_temperature_raw: 0,
        cable_code: [0; 8],
        soc_pct: 0,
        battery_temperature_raw: 0,
        charging_min: 0,
        remaining_min: 0,
        energy_raw: 0,
        loss_energy_raw: 0,
        amount_raw: 0,
        faults: 0,
    })
}

/// Runs one charger until `deadline`, updating `stats`. Returns early with the reason when the connection,
/// the login or the socket fails; reply mismatches are counted, not fatal.
pub async fn run_charger(
    config: &ChargerConfig,
    stats: &Stats,
    deadline: Instant,
) -> Result<(), ChargerError> {
    let stream = match timeout(config.connect_timeout, TcpStream::connect(config.target)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            bump(&stats.connections_failed);
            return Err(ChargerError::Connect(e));
        }
        Err(_) => {
            bump(&stats.connections_failed);
            return Err(ChargerError::ConnectTimeout);
        }
    };
    bump(&stats.connections_up);
    // Heartbeats are tiny; do not let Nagle batch them.
    stream.set_nodelay(true).map_err(ChargerError::Io)?;
    let (read, write) = stream.into_split();
    let mut reader = Reader {
        socket: read,
        buf: BytesMut::with_capacity(READ_BUFFER),
        decoder: StreamDecoder::new(),
    };
    let mut writer = Writer {
        socket: write,
        seq: 0,
        stats,
    };

    if let Err(e) = login(config, stats, &mut reader, &mut writer).await {
        bump(&stats.logins_failed);
        if matches!(e, ChargerError::LoginTimeout) {
            bump(&stats.replies_missing);
        }
        return Err(e);
    }
    bump(&stats.logins_accepted);
    beat(config, stats, &mut reader, &mut writer, deadline).await
}

/// Sends the login and checks the first frame that comes back.
async fn login(
    config: &ChargerConfig,
    stats: &Stats,
    reader: &mut Reader,
    writer: &mut Writer<'_>,
) -> Result<(), ChargerError> {
    let seq = writer.send(&login_message(config.pile)).await?;
    let item = match timeout(config.reply_timeout, reader.next_item()).await {
        Err(_) => return Err(ChargerError::LoginTimeout),
        Ok(Err(e)) => return Err(ChargerError::Io(e)),
        Ok(Ok(None)) => return Err(ChargerError::Closed),
        Ok(Ok(Some(item))) => item,
    };
    let mismatch = |why: String| {
        bump(&stats.reply_mismatches);
        Err(ChargerError::LoginMismatch(why))
    };
    let decoded = match item {
        StreamItem::Decoded(decoded) => decoded,
        StreamItem::Rejected(r) => return mismatch(format!("{}: {}", r.kind, r.reason)),
        StreamItem::Skipped(n) => return mismatch(format!("{n} bytes of garbage")),
    };
    match &decoded.message {
        Message::LoginReply(reply) if decoded.frame.seq != seq => mismatch(format!(
            "sequence {:02X?} does not echo {:02X?} (result {})",
            decoded.frame.seq, seq, reply.result
        )),
        Message::LoginReply(reply) if reply.pile != config.pile => {
            mismatch(format!("reply names pile {}", reply.pile))
        }
        Message::LoginReply(reply) if !reply.is_success() => {
            bump(&stats.frames_answered);
            Err(ChargerError::LoginRefused(reply.result))
        }
        Message::LoginReply(_) => {
            bump(&stats.frames_answered);
            Ok(())
        }
        other => mismatch(format!(
            "frame type {:#04x} instead of 0x02",
            other.frame_type()
        )),
    }
}

/// The steady state: heartbeats, optional real-time data, reply matching, until the deadline.
async fn beat(
    config: &ChargerConfig,
    stats: &Stats,
    reader: &mut Reader,
    writer: &mut Writer<'_>,
    deadline: Instant,
) -> Result<(), ChargerError> {
    let heartbeat = heartbeat_message(config.pile);
    let realtime = realtime_message(config.pile);
    let mut outstanding: VecDeque<([u8; 2], Instant)> = VecDeque::new();
    let mut next_beat = Instant::now() + config.first_beat;
    let mut next_realtime = config.realtime.map(|every| Instant::now() + every);
    // After the deadline, wait for the replies still due, then stop.
    let drain_until = deadline + config.reply_timeout;
    loop {
        let now = Instant::now();
        while let Some(&(_, sent)) = outstanding.front() {
            if now.duration_since(sent) < config.reply_timeout {
                break;
            }
            outstanding.pop_front();
            bump(&stats.replies_missing);
        }
        let sending = now < deadline;
        if !sending && outstanding.is_empty() {
            return Ok(());
        }
        let expiry = outstanding
            .front()
            .map(|&(_, sent)| sent + config.reply_timeout)
            .unwrap_or(drain_until);
        tokio::select! {
            _ = sleep_until(deadline), if sending => {}
            _ = sleep_until(drain_until), if !sending => {
                for _ in outstanding.drain(..) {
                    bump(&stats.replies_missing);
                }
                return Ok(());
            }
            _ = sleep_until(expiry) => {}
            _ = sleep_until(next_beat), if sending => {
                let seq = writer.send(&heartbeat).await?;
                outstanding.push_back((seq, Instant::now()));
                next_beat += config.heartbeat;
            }
            _ = sleep_until(next_realtime.unwrap_or(deadline)), if sending && next_realtime.is_some() => {
                writer.send(&realtime).await?;
                next_realtime = next_realtime.zip(config.realtime).map(|(at, every)| at + every);
            }
            item = reader.next_item() => match item {
                Err(e) => return Err(ChargerError::Io(e)),
                Ok(None) => {
                    bump(&stats.disconnects);
                    for _ in outstanding.drain(..) {
                        bump(&stats.replies_missing);
                    }
                    return Err(ChargerError::Closed);
                }
                Ok(Some(item)) => check_reply(config, stats, &mut outstanding, item),
            },
        }
    }
}

/// Matches one incoming item against the outstanding heartbeats.
fn check_reply(
    config: &ChargerConfig,
    stats: &Stats,
    outstanding: &mut VecDeque<([u8; 2], Instant)>,
    item: StreamItem,
) {
    let StreamItem::Decoded(decoded) = item else {
        bump(&stats.reply_mismatches);
        return;
    };
    let Message::HeartbeatReply(reply) = &decoded.message else {
        // Other down frames (time sync, tariff pushes…) are not replies to us; a minimal charger ignores them.
        return;
    };
    let position = outstanding
        .iter()
        .position(|&(seq, _)| seq == decoded.frame.seq);
    match position {
        Some(index) if reply.pile == config.pile && reply.gun == GUN => {
            outstanding.remove(index);
            bump(&stats.frames_answered);
        }
        _ => bump(&stats.reply_mismatches),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_frame_carries_the_pile_number_and_a_dc_single_gun_header() {
        let pile = PileNumber::from_digits("32010600000001").unwrap();
        let frame = login_message(pile).encode_frame([0x00, 0x00]).unwrap();
        // start, length 0x22 (34), seq 0000, clear, type 0x01, then the pile number's BCD bytes.
        assert_eq!(&frame[..6], &[0x68, 0x22, 0x00, 0x00, 0x00, 0x01]);
        assert_eq!(&frame[6..13], &[0x32, 0x01, 0x06, 0x00, 0x00, 0x00, 0x01]);
        assert_eq!(&frame[13..16], &[PILE_TYPE_DC, GUN, PROTOCOL_VERSION_1_6]);
        assert_eq!(frame.len(), 0x22 + 4);
    }

    #[test]
    fn heartbeat_frame_is_seventeen_bytes_with_gun_one_normal() {
        let pile = PileNumber::from_digits("32010600000001").unwrap();
        let frame = heartbeat_message(pile).encode_frame([0x05, 0x00]).unwrap();
        assert_eq!(frame.len(), 0x0D + 4);
        assert_eq!(&frame[..6], &[0x68, 0x0D, 0x05, 0x00, 0x00, 0x03]);
        assert_eq!(&frame[13..15], &[0x01, GUN_NORMAL]);
    }
}
