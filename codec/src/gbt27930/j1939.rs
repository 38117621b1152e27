//! SAE J1939-21 transport-protocol reassembly, sans-I/O: feed it every TP.CM / TP.DT frame with the current time,
//! get back reassembled messages and the control frames a receiver should answer with (CTS, EndOfMsgAck,
//! Conn_Abort) as values. GB/T 27930 uses it for BRM, BCP, BCS and BMV/BMT/BSP.
//!
//! Memory is bounded: at most [`TpConfig::max_sessions`] open transfers, each buffering at most
//! [`TpConfig::max_message_size`] bytes. Packets are placed by sequence number, so out-of-order packets are
//! accepted, duplicates are ignored, and a gap at the end of a CTS window is answered with a CTS asking for the
//! missing packets again (up to [`TpConfig::max_retransmits`] times). A gateway that only listens to a bus where
//! the charger itself answers simply ignores the [`TpEvent::Send`] values; the peer's own CTS frames then steer the
//! windows.

use bytes::Bytes;
use serde::Serialize;
use thiserror::Error;

use super::can_id::{CanId, GLOBAL_ADDRESS};
use super::message::pgn;
use super::tp::{
    abort_reason, TpCm, TpDt, TpFrameError, TP_DT_PAYLOAD, TP_MAX_MESSAGE_SIZE, TP_NO_LIMIT,
};

/// Default T1: the longest gap a receiver waits between TP.DT packets (Linux kernel, J1939-21).
pub const DEFAULT_T1_MS: u64 = 750;
/// Default T2: how long a receiver waits for data after sending a CTS (J1939-21; UNCONFIRMED for GB/T).
pub const DEFAULT_T2_MS: u64 = 1250;
/// Default limit of concurrently open transfers.
pub const DEFAULT_MAX_SESSIONS: usize = 8;
/// Default number of times a receiver asks again for missing packets before it aborts.
pub const DEFAULT_MAX_RETRANSMITS: u8 = 2;
/// Priority of transport-protocol frames in GB/T 27930.
pub const TP_PRIORITY: u8 = 7;

/// Limits and timers of the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpConfig {
    /// Largest message accepted, bytes (J1939 allows 1785).
    pub max_message_size: usize,
    /// Most transfers open at once; an RTS beyond this is refused with Conn_Abort "busy".
    pub max_sessions: usize,
    /// T1, ms between TP.DT packets.
    pub t1_ms: u64,
    /// T2, ms from a CTS to the next TP.DT.
    pub t2_ms: u64,
    /// Most packets this receiver allows per CTS (`0xFF` = as many as the sender accepts).
    pub packets_per_cts: u8,
    /// Retransmit requests per transfer before aborting.
    pub max_retransmits: u8,
}

impl TpConfig {
    /// The most bytes a reassembler with these limits ever reserves: `max_sessions` transfers, each buffered in
    /// whole 7-byte TP.DT packets, so `max_message_size` rounded up to a multiple of 7 (a 6-byte limit reserves
    /// one 7-byte packet). [`Reassembler::buffered_bytes`] never exceeds it.
    pub fn max_buffered_bytes(&self) -> usize {
        let per_session = self
            .max_message_size
            .div_ceil(TP_DT_PAYLOAD)
            .saturating_mul(TP_DT_PAYLOAD);
        self.max_sessions.saturating_mul(per_session)
    }
}

impl Default for TpConfig {
    fn default() -> Self {
        TpConfig {
            max_message_size: TP_MAX_MESSAGE_SIZE,
            max_sessions: DEFAULT_MAX_SESSIONS,
            t1_ms: DEFAULT_T1_MS,
            t2_ms: DEFAULT_T2_MS,
            packets_per_cts: TP_NO_LIMIT,
            max_retransmits: DEFAULT_MAX_RETRANSMITS,
        }
    }
}

/// Why a frame could not be used by the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum J1939Error {
    /// The TP.CM / TP.DT bytes are malformed.
    #[error(transparent)]
    Frame(#[from] TpFrameError),
    /// A TP.DT arrived with no transfer open between these addresses.
    #[error("TP.DT #{sequence} from 0x{source_address:02X} to 0x{destination_address:02X} without an open transfer")]
    UnexpectedData {
        /// Sender.
        source_address: u8,
        /// Receiver.
        destination_address: u8,
        /// Its sequence number.
        sequence: u8,
    },
    /// A TP.DT sequence number outside 1..=packets announced.
    #[error("TP.DT sequence {sequence} outside 1..={packets}")]
    BadSequence {
        /// The sequence number.
        sequence: u8,
        /// Packets announced.
        packets: u8,
    },
    /// The frame is neither TP.CM nor TP.DT.
    #[error("PGN 0x{pgn:06X} is not a transport-protocol PGN")]
    NotTransport {
        /// The frame's PGN.
        pgn: u32,
    },
}

impl J1939Error {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            J1939Error::Frame(TpFrameError::Length { .. }) => "tp_length",
            J1939Error::Frame(TpFrameError::UnknownControl { .. }) => "tp_unknown_control",
            J1939Error::UnexpectedData { .. } => "tp_unexpected_data",
            J1939Error::BadSequence { .. } => "tp_bad_sequence",
            J1939Error::NotTransport { .. } => "tp_not_transport",
        }
    }
}

/// Why a transfer ended without a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "cause", content = "reason", rename_all = "snake_case")]
pub enum AbortCause {
    /// No packet within T1 / T2.
    Timeout,
    /// The peer sent Conn_Abort with this reason.
    ByPeer(u8),
    /// A new RTS or BAM between the same addresses replaced it.
    Replaced,
    /// The announced size is 0, above the limit, or does not fit the announced packets.
    BadAnnouncement,
    /// Too many transfers were open.
    Busy,
    /// The missing packets were asked for too often.
    TooManyRetransmits,
}

/// A reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Sender.
    pub source_address: u8,
    /// Receiver ([`GLOBAL_ADDRESS`] for BAM).
    pub destination_address: u8,
    /// PGN of the message carried.
    pub pgn: u32,
    /// The message, padding removed.
    pub data: Bytes,
    /// Packets it came in.
    pub packets: u8,
}

/// What the reassembler has to say after a frame or a timer tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TpEvent {
    /// A whole message arrived.
    Complete(Transfer),
    /// A control frame the receiving node should send (CTS, EndOfMsgAck, Conn_Abort).
    Send {
        /// Its identifier.
        id: CanId,
        /// Its content.
        control: TpCm,
    },
    /// A transfer ended without a message.
    Aborted {
        /// Sender.
        source_address: u8,
        /// Receiver.
        destination_address: u8,
        /// PGN of the message that was being carried.
        pgn: u32,
        /// Why.
        cause: AbortCause,
    },
}

/// Bits for sequence numbers 0..=255.
const BITMAP_WORDS: usize = 4;

struct Session {
    source: u8,
    destination: u8,
    pgn: u32,
    size: usize,
    packets: u8,
    buf: Vec<u8>,
    received: [u64; BITMAP_WORDS],
    count: u8,
    broadcast: bool,
    window_end: u8,
    window_len: u8,
    deadline_ms: u64,
    retransmits: u8,
}

impl Session {
    fn has(&self, seq: u8) -> bool {
        self.received
            .get(usize::from(seq >> 6))
            .is_some_and(|w| w & (1u64 << (seq & 63)) != 0)
    }

    fn mark(&mut self, seq: u8) {
        if let Some(w) = self.received.get_mut(usize::from(seq >> 6)) {
            *w |= 1u64 << (seq & 63);
        }
    }

    fn first_missing(&self) -> Option<u8> {
        (1..=self.packets).find(|s| !self.has(*s))
    }

    fn aborted(&self, cause: AbortCause) -> TpEvent {
        TpEvent::Aborted {
            source_address: self.source,
            destination_address: self.destination,
            pgn: self.pgn,
            cause,
        }
    }

    /// The identifier of frames the receiver sends back to the sender.
    fn reply_id(&self) -> CanId {
        CanId::new(TP_PRIORITY, pgn::TP_CM, self.destination, self.source)
    }
}

/// The transport-protocol receiver: one per CAN bus (or relay connection).
pub struct Reassembler {
    config: TpConfig,
    sessions: Vec<Session>,
}

impl Reassembler {
    /// A receiver with these limits.
    pub fn new(config: TpConfig) -> Self {
        Reassembler {
            config,
            sessions: Vec::with_capacity(config.max_sessions),
        }
    }

    /// Transfers currently open.
    pub fn open_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Bytes currently reserved for reassembly; never above [`TpConfig::max_buffered_bytes`] (`max_sessions ×
    /// max_message_size` rounded up to whole 7-byte packets; an RTS announcing more packets than that is refused).
    pub fn buffered_bytes(&self) -> usize {
        self.sessions.iter().map(|s| s.buf.capacity()).sum()
    }

    /// Feeds one TP.CM or TP.DT frame received at `now_ms`; results are appended to `out`. Expired transfers are
    /// dropped first.
    pub fn on_frame(
        &mut self,
        id: &CanId,
        data: &[u8],
        now_ms: u64,
        out: &mut Vec<TpEvent>,
    ) -> Result<(), J1939Error> {
        self.poll(now_ms, out);
        match id.pgn {
            pgn::TP_CM => {
                let cm = TpCm::decode(data)?;
                self.on_control(id, cm, now_ms, out);
                Ok(())
            }
            pgn::TP_DT => self.on_data(id, TpDt::decode(data)?, now_ms, out),
            other => Err(J1939Error::NotTransport { pgn: other }),
        }
    }

    /// Drops transfers whose timer ran out at `now_ms`, reporting each (and a Conn_Abort to send for
    /// connection-mode transfers).
    pub fn poll(&mut self, now_ms: u64, out: &mut Vec<TpEvent>) {
        let mut i = 0;
        while let Some(s) = self.sessions.get(i) {
            if now_ms > s.deadline_ms {
                let s = self.sessions.swap_remove(i);
                if !s.broadcast {
                    out.push(TpEvent::Send {
                        id: s.reply_id(),
                        control: TpCm::ConnAbort {
                            abort_reason: abort_reason::TIMEOUT,
                            transported_pgn: s.pgn,
                        },
                    });
                }
                out.push(s.aborted(AbortCause::Timeout));
            } else {
                i += 1;
            }
        }
    }

    fn find(&self, source: u8, destination: u8) -> Option<usize> {
        self.sessions
            .iter()
            .position(|s| s.source == source && s.destination == destination)
    }

    fn on_control(&mut self, id: &CanId, cm: TpCm, now_ms: u64, out: &mut Vec<TpEvent>) {
        match cm {
            TpCm::Rts {
                message_size,
                packets,
                max_packets_per_cts,
                transported_pgn,
            } => {
                let limit = max_packets_per_cts.min(self.config.packets_per_cts);
                self.open(
                    id,
                    transported_pgn,
                    message_size,
                    packets,
                    Some(limit),
                    now_ms,
                    out,
                );
            }
            TpCm::Bam {
                message_size,
                packets,
                transported_pgn,
            } => {
                let id = CanId {
                    destination_address: GLOBAL_ADDRESS,
                    ..*id
                };
                self.open(
                    &id,
                    transported_pgn,
                    message_size,
                    packets,
                    None,
                    now_ms,
                    out,
                );
            }
            TpCm::Cts {
                packets_allowed,
                next_packet,
                ..
            } => {
                // The peer's own CTS (we are listening, not answering): follow its window.
                if let Some(i) = self.find(id.destination_address, id.source_address) {
                    if let Some(s) = self.sessions.get_mut(i) {
                        s.window_len = packets_allowed;
                        s.window_end =
                            next_packet.saturating_add(packets_allowed.saturating_sub(1));
                        s.deadline_ms = now_ms.saturating_add(self.config.t2_ms);
                    }
                }
            }
            TpCm::EndOfMsgAck { .. } => {}
            TpCm::ConnAbort { abort_reason, .. } => {
                let pair = self
                    .find(id.source_address, id.destination_address)
                    .or_else(|| self.find(id.destination_address, id.source_address));
                if let Some(i) = pair {
                    let s = self.sessions.swap_remove(i);
                    out.push(s.aborted(AbortCause::ByPeer(abort_reason)));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        id: &CanId,
        transported_pgn: u32,
        message_size: u16,
        packets: u8,
        cts_limit: Option<u8>,
        now_ms: u64,
        out: &mut Vec<TpEvent>,
    ) {
        let (source, destination) = (id.source_address, id.destination_address);
        if let Some(i) = self.find(source, destination) {
            let old = self.sessions.swap_remove(i);
            out.push(old.aborted(AbortCause::Replaced));
        }
        let size = usize::from(message_size);
        let needed = size.div_ceil(TP_DT_PAYLOAD);
        let capacity = usize::from(packets) * TP_DT_PAYLOAD;
        let refuse = |cause: AbortCause, reason: u8, out: &mut Vec<TpEvent>| {
            if cts_limit.is_some() {
                out.push(TpEvent::Send {
                    id: id.reply(TP_PRIORITY, pgn::TP_CM),
                    control: TpCm::ConnAbort {
                        abort_reason: reason,
                        transported_pgn,
                    },
                });
            }
            out.push(TpEvent::Aborted {
                source_address: source,
                destination_address: destination,
                pgn: transported_pgn,
                cause,
            });
        };
        let max_packets = self.config.max_message_size.div_ceil(TP_DT_PAYLOAD);
        if size == 0
            || size > self.config.max_message_size
            || usize::from(packets) < needed
            || usize::from(packets) > max_packets
        {
            refuse(AbortCause::BadAnnouncement, abort_reason::TOO_LARGE, out);
            return;
        }
        if self.sessions.len() >= self.config.max_sessions {
            refuse(AbortCause::Busy, abort_reason::BUSY, out);
            return;
        }
        let mut session = Session {
            source,
            destination,
            pgn: transported_pgn,
            size,
            packets,
            buf: vec![0xFF; capacity],
            received: [0; BITMAP_WORDS],
            count: 0,
            broadcast: cts_limit.is_none(),
            window_end: packets,
            window_len: packets,
            deadline_ms: now_ms.saturating_add(self.config.t1_ms),
            retransmits: 0,
        };
        if let Some(limit) = cts_limit {
            let n = packets.min(limit).max(1);
            session.window_len = n;
            session.window_end = n;
            session.deadline_ms = now_ms.saturating_add(self.config.t2_ms);
            out.push(TpEvent::Send {
                id: session.reply_id(),
                control: TpCm::Cts {
                    packets_allowed: n,
                    next_packet: 1,
                    transported_pgn,
                },
            });
        }
        self.sessions.push(session);
    }

    fn on_data(
        &mut self,
        id: &CanId,
        dt: TpDt<'_>,
        now_ms: u64,
        out: &mut Vec<TpEvent>,
    ) -> Result<(), J1939Error> {
        let index = self
            .find(id.source_address, id.destination_address)
            .or_else(|| self.find(id.source_address, GLOBAL_ADDRESS))
            .ok_or(J1939Error::UnexpectedData {
                source_address: id.source_address,
                destination_address: id.destination_address,
                sequence: dt.sequence,
            })?;
        let t1 = self.config.t1_ms;
        let t2 = self.config.t2_ms;
        let max_retransmits = self.config.max_retransmits;
        let Some(s) = self.sessions.get_mut(index) else {
            return Ok(());
        };
        let seq = dt.sequence;
        if seq == 0 || seq > s.packets {
            return Err(J1939Error::BadSequence {
                sequence: seq,
                packets: s.packets,
            });
        }
        s.deadline_ms = now_ms.saturating_add(t1);
        if !s.has(seq) {
            let offset = usize::from(seq - 1) * TP_DT_PAYLOAD;
            if let Some(dst) = s.buf.get_mut(offset..offset + dt.payload.len()) {
                dst.copy_from_slice(dt.payload);
            }
            s.mark(seq);
            s.count = s.count.saturating_add(1);
        }
        if s.count >= s.packets {
            let mut s = self.sessions.swap_remove(index);
            s.buf.truncate(s.size);
            if !s.broadcast {
                out.push(TpEvent::Send {
                    id: s.reply_id(),
                    control: TpCm::EndOfMsgAck {
                        message_size: u16::try_from(s.size).unwrap_or(u16::MAX),
                        packets: s.packets,
                        transported_pgn: s.pgn,
                    },
                });
            }
            out.push(TpEvent::Complete(Transfer {
                source_address: s.source,
                destination_address: s.destination,
                pgn: s.pgn,
                packets: s.packets,
                data: Bytes::from(s.buf),
            }));
            return Ok(());
        }
        if s.broadcast || seq < s.window_end {
            return Ok(());
        }
        // End of a CTS window with packets still missing: ask for the next ones (again, if some were lost).
        let Some(next) = s.first_missing() else {
            return Ok(());
        };
        if next <= s.window_end {
            s.retransmits = s.retransmits.saturating_add(1);
            if s.retransmits > max_retransmits {
                let s = self.sessions.swap_remove(index);
                out.push(TpEvent::Send {
                    id: s.reply_id(),
                    control: TpCm::ConnAbort {
                        abort_reason: abort_reason::MAX_RETRANSMIT,
                        transported_pgn: s.pgn,
                    },
                });
                out.push(s.aborted(AbortCause::TooManyRetransmits));
                return Ok(());
            }
        }
        let remaining = s.packets - next + 1;
        let n = remaining.min(s.window_len.max(1));
        s.window_end = next + (n - 1);
        s.deadline_ms = now_ms.saturating_add(t2);
        out.push(TpEvent::Send {
            id: s.reply_id(),
            control: TpCm::Cts {
                packets_allowed: n,
                next_packet: next,
                transported_pgn: s.pgn,
            },
        });
        Ok(())
    }
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(TpConfig::default())
    }
}
