//! Protocol-neutral framing: the Netty-exact length-field decoder, start-marker resync and CRC checking.
//!
//! Every protocol module builds on this one. A binary protocol describes its envelope as a [`FrameSpec`] (start
//! marker, [`LengthFieldConfig`], [`CrcSpec`]) — in Rust or in a vendor's TOML file — and reads a connection with a
//! [`FrameDecoder`]; a protocol with only a length prefix can use the [`LengthFieldDecoder`], which behaves exactly
//! like Netty's `LengthFieldBasedFrameDecoder`. Both yield [`FrameEvent`]s: good frames as zero-copy [`bytes::Bytes`]
//! slices and every bad outcome (too long, corrupted header, CRC mismatch, line noise) as an item, so one bad frame
//! never ends the stream, and both keep [`FrameStats`] for metrics. [`LengthFieldPrepender`] and
//! [`FrameSpec::encode`] build frames. `docs/protocols/framing.md` walks through the parameters with hex examples.

mod config;
mod crc;
mod decoder;
mod error;
mod event;
mod length_field;
mod prepender;
mod spec;

pub use config::{ByteOrder, LengthFieldConfig, SUPPORTED_LENGTH_FIELD_LENGTHS};
pub use crc::CrcAlgorithm;
pub use decoder::FrameDecoder;
pub use error::{ConfigError, EncodeError, FrameError};
pub use event::{Corruption, CrcMatch, FrameEvent, FrameStats};
pub use length_field::LengthFieldDecoder;
pub use prepender::LengthFieldPrepender;
pub use spec::{CrcSpec, FrameSpec};
