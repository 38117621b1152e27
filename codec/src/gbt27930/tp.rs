//! The SAE J1939-21 transport-protocol wire format: TP.CM control messages (RTS, CTS, EndOfMsgAck, BAM,
//! Conn_Abort) and TP.DT data packets. The reassembly state machine that uses them is in `j1939`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest message the transport protocol can carry: 255 packets × 7 bytes.
pub const TP_MAX_MESSAGE_SIZE: usize = 1785;
/// Data bytes per TP.DT packet (the first of its 8 bytes is the sequence number).
pub const TP_DT_PAYLOAD: usize = 7;
/// Length of a TP.CM frame.
pub const TP_CM_LEN: usize = 8;
/// RTS byte 5 / BAM byte 5 value meaning "no limit" / "reserved".
pub const TP_NO_LIMIT: u8 = 0xFF;

const CTRL_RTS: u8 = 0x10;
const CTRL_CTS: u8 = 0x11;
const CTRL_END_OF_MSG_ACK: u8 = 0x13;
const CTRL_BAM: u8 = 0x20;
const CTRL_ABORT: u8 = 0xFF;
/// Fill byte of unused TP.CM positions.
const FILL: u8 = 0xFF;

/// Conn_Abort reasons (J1939-21; the Linux kernel's `enum j1939_xtp_abort` uses the same codes).
pub mod abort_reason {
    /// Already in a connection-mode session and cannot support another.
    pub const BUSY: u8 = 1;
    /// System resources were needed for another task.
    pub const NO_RESOURCES: u8 = 2;
    /// A timeout occurred.
    pub const TIMEOUT: u8 = 3;
    /// The maximum number of retransmit requests was reached.
    pub const MAX_RETRANSMIT: u8 = 5;
    /// The announced message is larger than the transport protocol allows.
    pub const TOO_LARGE: u8 = 9;
}

/// Why a TP.CM or TP.DT frame could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TpFrameError {
    /// A TP.CM must have 8 data bytes; a TP.DT at least its sequence byte.
    #[error("{what}: expected {expected} data bytes, got {got}")]
    Length {
        /// `"TP.CM"` or `"TP.DT"`.
        what: &'static str,
        /// Bytes needed.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// TP.CM byte 1 is none of RTS, CTS, EndOfMsgAck, BAM, Conn_Abort.
    #[error("TP.CM control byte 0x{control:02X} is unknown")]
    UnknownControl {
        /// The byte.
        control: u8,
    },
}

/// A TP.CM (PGN 0xEC00) control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum TpCm {
    /// Request to send: the sender announces a connection-mode transfer.
    Rts {
        /// Bytes in the message.
        message_size: u16,
        /// TP.DT packets to come.
        packets: u8,
        /// Most packets the sender accepts per CTS (`0xFF` = no limit).
        max_packets_per_cts: u8,
        /// The PGN of the message carried.
        transported_pgn: u32,
    },
    /// Clear to send: the receiver allows `packets_allowed` packets starting at `next_packet`.
    Cts {
        /// Packets that may be sent now (0 = hold the connection open).
        packets_allowed: u8,
        /// Sequence number of the next packet wanted.
        next_packet: u8,
        /// The PGN of the message carried.
        transported_pgn: u32,
    },
    /// The receiver got the whole message.
    EndOfMsgAck {
        /// Bytes received.
        message_size: u16,
        /// Packets received.
        packets: u8,
        /// The PGN of the message carried.
        transported_pgn: u32,
    },
    /// Broadcast announce message: a transfer to the global address, without handshake.
    Bam {
        /// Bytes in the message.
        message_size: u16,
        /// TP.DT packets to come.
        packets: u8,
        /// The PGN of the message carried.
        transported_pgn: u32,
    },
    /// Either side gives up the connection.
    ConnAbort {
        /// Reason code (see [`abort_reason`]).
        abort_reason: u8,
        /// The PGN of the message carried.
        transported_pgn: u32,
    },
}

fn pgn24(b: &[u8; TP_CM_LEN]) -> u32 {
    u32::from_le_bytes([b[5], b[6], b[7], 0])
}

impl TpCm {
    /// Reads the 8 TP.CM data bytes.
    pub fn decode(data: &[u8]) -> Result<Self, TpFrameError> {
        let b: &[u8; TP_CM_LEN] = data
            .get(..TP_CM_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(TpFrameError::Length {
                what: "TP.CM",
                expected: TP_CM_LEN,
                got: data.len(),
            })?;
        let size = u16::from_le_bytes([b[1], b[2]]);
        let transported_pgn = pgn24(b);
        Ok(match b[0] {
            CTRL_RTS => TpCm::Rts {
                message_size: size,
                packets: b[3],
                max_packets_per_cts: b[4],
                transported_pgn,
            },
            CTRL_CTS => TpCm::Cts {
                packets_allowed: b[1],
                next_packet: b[2],
                transported_pgn,
            },
            CTRL_END_OF_MSG_ACK => TpCm::EndOfMsgAck {
                message_size: size,
                packets: b[3],
                transported_pgn,
            },
            CTRL_BAM => TpCm::Bam {
                message_size: size,
                packets: b[3],
                transported_pgn,
            },
            CTRL_ABORT => TpCm::ConnAbort {
                abort_reason: b[1],
                transported_pgn,
            },
            control => return Err(TpFrameError::UnknownControl { control }),
        })
    }

    /// The 8 TP.CM data bytes, unused positions `0xFF`.
    pub fn encode(&self) -> [u8; TP_CM_LEN] {
        let (head, pgn): ([u8; 5], u32) = match *self {
            TpCm::Rts {
                message_size,
                packets,
                max_packets_per_cts,
                transported_pgn,
            } => {
                let s = message_size.to_le_bytes();
                (
                    [CTRL_RTS, s[0], s[1], packets, max_packets_per_cts],
                    transported_pgn,
                )
            }
            TpCm::Cts {
                packets_allowed,
                next_packet,
                transported_pgn,
            } => (
                [CTRL_CTS, packets_allowed, next_packet, FILL, FILL],
                transported_pgn,
            ),
            TpCm::EndOfMsgAck {
                message_size,
                packets,
                transported_pgn,
            } => {
                let s = message_size.to_le_bytes();
                (
                    [CTRL_END_OF_MSG_ACK, s[0], s[1], packets, FILL],
                    transported_pgn,
                )
            }
            TpCm::Bam {
                message_size,
                packets,
                transported_pgn,
            } => {
                let s = message_size.to_le_bytes();
                ([CTRL_BAM, s[0], s[1], packets, FILL], transported_pgn)
            }
            TpCm::ConnAbort {
                abort_reason,
                transported_pgn,
            } => (
                [CTRL_ABORT, abort_reason, FILL, FILL, FILL],
                transported_pgn,
            ),
        };
        let p = pgn.to_le_bytes();
        [
            head[0], head[1], head[2], head[3], head[4], p[0], p[1], p[2],
        ]
    }

    /// The PGN of the message the transfer carries.
    pub fn transported_pgn(&self) -> u32 {
        match *self {
            TpCm::Rts {
                transported_pgn, ..
            }
            | TpCm::Cts {
                transported_pgn, ..
            }
            | TpCm::EndOfMsgAck {
                transported_pgn, ..
            }
            | TpCm::Bam {
                transported_pgn, ..
            }
            | TpCm::ConnAbort {
                transported_pgn, ..
            } => transported_pgn,
        }
    }
}

/// A TP.DT (PGN 0xEB00) packet: sequence number 1–255 and up to 7 data bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpDt<'a> {
    /// Sequence number.
    pub sequence: u8,
    /// The data bytes after the sequence number (7 on a well-formed packet).
    pub payload: &'a [u8],
}

impl<'a> TpDt<'a> {
    /// Splits a TP.DT frame; a frame shorter than 8 bytes is accepted (its missing bytes read as padding).
    pub fn decode(data: &'a [u8]) -> Result<Self, TpFrameError> {
        let (sequence, rest) = data.split_first().ok_or(TpFrameError::Length {
            what: "TP.DT",
            expected: 1 + TP_DT_PAYLOAD,
            got: 0,
        })?;
        Ok(TpDt {
            sequence: *sequence,
            payload: rest.get(..TP_DT_PAYLOAD).unwrap_or(rest),
        })
    }
}

/// The TP.DT frames that carry `message` (sequence numbers from 1, last packet padded with `0xFF`).
pub fn packetize(message: &[u8]) -> Vec<[u8; 8]> {
    message
        .chunks(TP_DT_PAYLOAD)
        .zip(1u8..=u8::MAX)
        .map(|(chunk, seq)| {
            let mut p = [FILL; 8];
            p[0] = seq;
            for (dst, src) in p.iter_mut().skip(1).zip(chunk) {
                *dst = *src;
            }
            p
        })
        .collect()
}
