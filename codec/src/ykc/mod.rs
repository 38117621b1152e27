//! The YKC (云快充) V1.5/V1.6 charger protocol: the binary frames a charging pile exchanges with its platform.
//!
//! How it fits the whole: the generic stream decoder in [`crate::frame`] cuts the TCP byte stream into frames
//! using the facts in [`frame`] (start flag, length offset, CRC coverage); this module parses **one complete
//! frame** ([`Frame::parse`]), decodes its body into a typed [`Message`] ([`Message::decode`]), turns it into
//! normalized observations ([`normalize()`]), maps normalized commands to down frames ([`command`]) and builds the
//! automatic replies ([`reply`]).
//!
//! Value convention: YKC-native messages keep the **raw wire integers** (`voltage_raw`, `energy_raw`, …) so a frame
//! re-encodes bit-exactly; accessor methods (`voltage_v()`, `energy_kwh()`, …) apply the scale and return SI units.
//! The BMS relay frames (0x15–0x25) embed the shared [`crate::gbt27930`] types, which store physical values.
//! `docs/protocols/ykc.md` describes the wire format, the deviations we accept and the normalization table.

pub mod balance;
pub mod billing;
pub mod bms;
pub mod command;
pub mod encoding;
mod error;
pub mod frame;
pub mod frame_type;
pub mod heartbeat;
pub mod login;
pub mod maintenance;
pub mod message;
pub mod normalize;
pub mod params;
pub mod partial;
pub mod plugin;
pub mod realtime;
pub mod reply;
pub mod start_stop;
pub mod stream;
pub mod time_sync;
pub mod transaction;

pub use encoding::{
    Ascii, Bcd, BillingModel, Cp56Time2a, Iccid, LogicalCard, PileNumber, TransactionSerial,
};
pub use error::YkcError;
pub use frame::{crc16, encode_frame, BodyCipher, CrcOrder, Frame};
pub use message::{decode, Decoded, Deviation, Message};
pub use normalize::{normalize, normalize_on};
pub use stream::{StreamDecoder, StreamItem};

/// Protocol name for events, `ykc/1.6`.
pub const PROTOCOL: &str = "ykc/1.6";
