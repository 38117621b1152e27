//! The whole raw-CAN path in one type: CAN frames (from relay records or candump lines) in; identifiers split,
//! J1939 transfers reassembled, GB/T messages decoded and normalized out. Used by the gateway's CAN relay listener
//! and by `chargegate decode --protocol gbt27930-can`.

use serde::Serialize;
use thiserror::Error;

use super::can_frame::CanFrame;
use super::can_id::{CanId, CanIdError};
use super::candump::{parse_line, CandumpError};
use super::j1939::{AbortCause, J1939Error, Reassembler, TpConfig, TpEvent};
use super::message::{pgn, priority_of};
use super::normalize::observations;
use super::tp::{TpCm, TpDt};
use super::{GbtError, Message};
use crate::event::Observation;

/// Milliseconds per second, for candump timestamps.
const MS_PER_S: f64 = 1000.0;

/// One thing the decoder learned from a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Decoded {
    /// A GB/T message, from one frame or reassembled from a transfer.
    Message {
        /// The frame's identifier; for a transfer, the message's PGN with the transfer's addresses.
        id: CanId,
        /// The typed message.
        message: Message,
        /// TP.DT packets it came in (`None` for a single frame).
        #[serde(skip_serializing_if = "Option::is_none")]
        packets: Option<u8>,
        /// Its normalized events.
        events: Vec<Observation>,
    },
    /// A TP.CM control frame on the bus.
    Transport {
        /// The frame's identifier.
        id: CanId,
        /// Its content.
        control: TpCm,
    },
    /// A TP.DT data packet on the bus.
    TransportData {
        /// The frame's identifier.
        id: CanId,
        /// Its sequence number.
        sequence: u8,
    },
    /// A control frame the receiving node should answer with (the gateway, only listening, does not send it).
    Response {
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
        /// PGN being carried.
        pgn: u32,
        /// Why.
        cause: AbortCause,
    },
}

/// Why a frame could not be decoded; the decoder carries on with the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// GB/T 27930 uses only extended (29-bit) data frames.
    #[error("frame 0x{id:X} is not an extended data frame")]
    NotExtended {
        /// The identifier.
        id: u32,
    },
    /// The identifier is not a valid 29-bit id.
    #[error(transparent)]
    CanId(#[from] CanIdError),
    /// The message data is malformed.
    #[error("{id}: {error}")]
    Message {
        /// The frame (or transfer) identifier.
        id: CanId,
        /// What is wrong.
        error: GbtError,
    },
    /// The transport-protocol frame cannot be used.
    #[error("{id}: {error}")]
    Transport {
        /// The frame's identifier.
        id: CanId,
        /// What is wrong.
        error: J1939Error,
    },
}

impl DecodeError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::NotExtended { .. } => "can_not_extended",
            DecodeError::CanId(e) => e.kind(),
            DecodeError::Message { error, .. } => error.kind(),
            DecodeError::Transport { error, .. } => error.kind(),
        }
    }
}

/// Per-connection decoder state (the open transport transfers).
#[derive(Default)]
pub struct CanDecoder {
    reassembler: Reassembler,
    events: Vec<TpEvent>,
}

impl CanDecoder {
    /// A decoder with these transport-protocol limits.
    pub fn new(config: TpConfig) -> Self {
        CanDecoder {
            reassembler: Reassembler::new(config),
            events: Vec::new(),
        }
    }

    /// The transport reassembler (for its limits and memory use).
    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// Decodes one frame received at `now_ms`, appending what it yields to `out`.
    pub fn push(
        &mut self,
        frame: &CanFrame,
        now_ms: u64,
        out: &mut Vec<Result<Decoded, DecodeError>>,
    ) {
        if !frame.extended || frame.remote {
            out.push(Err(DecodeError::NotExtended { id: frame.id }));
            return;
        }
        self.push_raw(frame.id, frame.data(), now_ms, out);
    }

    /// Decodes one candump line (see [`super::candump`]); its `(timestamp)` is used as the time when present,
    /// else `now_ms`. Blank lines are skipped.
    pub fn push_line(
        &mut self,
        line: &str,
        now_ms: u64,
        out: &mut Vec<Result<Decoded, DecodeError>>,
    ) -> Result<(), CandumpError> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let parsed = parse_line(line)?;
        let at = parsed
            .timestamp
            .map_or(now_ms, |s| (s * MS_PER_S).round() as u64);
        self.push(&parsed.frame, at, out);
        Ok(())
    }

    /// Decodes one extended frame given as (29-bit id, data).
    pub fn push_raw(
        &mut self,
        raw_id: u32,
        data: &[u8],
        now_ms: u64,
        out: &mut Vec<Result<Decoded, DecodeError>>,
    ) {
        let id = match CanId::from_raw(raw_id) {
            Ok(id) => id,
            Err(e) => {
                out.push(Err(e.into()));
                return;
            }
        };
        match id.pgn {
            pgn::TP_CM | pgn::TP_DT => {
                match (id.pgn, TpCm::decode(data), TpDt::decode(data)) {
                    (pgn::TP_CM, Ok(control), _) => {
                        out.push(Ok(Decoded::Transport { id, control }))
                    }
                    (pgn::TP_DT, _, Ok(dt)) => out.push(Ok(Decoded::TransportData {
                        id,
                        sequence: dt.sequence,
                    })),
                    _ => {}
                }
                let result = self
                    .reassembler
                    .on_frame(&id, data, now_ms, &mut self.events);
                if let Err(error) = result {
                    out.push(Err(DecodeError::Transport { id, error }));
                }
                self.drain(out);
            }
            _ => {
                self.poll(now_ms, out);
                out.push(decode_message(id, data, None));
            }
        }
    }

    /// Expires transfers whose timers ran out at `now_ms`.
    pub fn poll(&mut self, now_ms: u64, out: &mut Vec<Result<Decoded, DecodeError>>) {
        self.reassembler.poll(now_ms, &mut self.events);
        self.drain(out);
    }

    fn drain(&mut self, out: &mut Vec<Result<Decoded, DecodeError>>) {
        for event in self.events.drain(..) {
            out.push(match event {
                TpEvent::Complete(t) => {
                    let id = CanId::new(
                        priority_of(t.pgn),
                        t.pgn,
                        t.source_address,
                        t.destination_address,
                    );
                    decode_message(id, &t.data, Some(t.packets))
                }
                TpEvent::Send { id, control } => Ok(Decoded::Response { id, control }),
                TpEvent::Aborted {
                    source_address,
                    destination_address,
                    pgn,
                    cause,
                } => Ok(Decoded::Aborted {
                    source_address,
                    destination_address,
                    pgn,
                    cause,
                }),
            });
        }
    }
}

fn decode_message(id: CanId, data: &[u8], packets: Option<u8>) -> Result<Decoded, DecodeError> {
    let message =
        Message::decode(id.pgn, data).map_err(|error| DecodeError::Message { id, error })?;
    let events = observations(&message);
    Ok(Decoded::Message {
        id,
        message,
        packets,
        events,
    })
}
