//! [`LengthFieldDecoder`]: Netty's `LengthFieldBasedFrameDecoder`, step for step, as a `tokio_util` decoder whose
//! bad-frame outcomes are items.
//!
//! Differences from Netty, all deliberate: an unsupported field width is refused when the config is built; a
//! Netty exception is a [`FrameEvent`] item, and the next frame in the buffer decodes in the same pass (Netty
//! waits for the next read), so the *order* of outcomes is what matches Netty; bytes left at end of stream are
//! reported as [`FrameEvent::Truncated`].

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

use super::config::{Header, LengthFieldConfig};
use super::error::FrameError;
use super::event::{Corruption, CrcMatch, FrameEvent, FrameStats};

/// Netty's discarding mode: what is left to skip of a too-long frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Discarding {
    /// Bytes of the bad frame not yet skipped; 0 = not discarding.
    bytes_to_discard: u64,
    /// `F` of the bad frame, reported when fail-slow finishes.
    too_long_frame_length: u64,
}

impl Discarding {
    /// Whether a too-long frame is still being skipped.
    pub(crate) fn active(&self) -> bool {
        self.bytes_to_discard > 0
    }

    /// Skips what is buffered of the bad frame (Netty step 2). Returns the too-long item when the frame is fully
    /// skipped and the decoder is fail-slow (fail-fast reported it at the header).
    pub(crate) fn resume(
        &mut self,
        src: &mut BytesMut,
        config: &LengthFieldConfig,
        stats: &mut FrameStats,
    ) -> Option<FrameEvent> {
        let available = u64::try_from(src.len()).unwrap_or(u64::MAX);
        let skip = self.bytes_to_discard.min(available);
        // `skip <= src.len()`, so the conversion is exact.
        src.advance(usize::try_from(skip).unwrap_or(0));
        self.bytes_to_discard -= skip;
        if self.active() || config.fail_fast() {
            return None;
        }
        Some(too_long(self.too_long_frame_length, config, stats))
    }

    /// Handles a header announcing `frame_length > max` (Netty `exceededFrameLength` + `failIfNecessary(true)`):
    /// skips exactly `frame_length` bytes now or over later calls, and returns the item when Netty would throw.
    pub(crate) fn start(
        &mut self,
        frame_length: u64,
        src: &mut BytesMut,
        config: &LengthFieldConfig,
        stats: &mut FrameStats,
    ) -> Option<FrameEvent> {
        let available = u64::try_from(src.len()).unwrap_or(u64::MAX);
        if frame_length <= available {
            src.advance(usize::try_from(frame_length).unwrap_or(0));
            return Some(too_long(frame_length, config, stats));
        }
        self.bytes_to_discard = frame_length - available;
        self.too_long_frame_length = frame_length;
        src.clear();
        config
            .fail_fast()
            .then(|| too_long(frame_length, config, stats))
    }
}

fn too_long(frame_length: u64, config: &LengthFieldConfig, stats: &mut FrameStats) -> FrameEvent {
    stats.too_long = stats.too_long.saturating_add(1);
    FrameEvent::TooLong {
        frame_length,
        max_frame_length: config.max_frame_length(),
    }
}

/// Counts and builds a corrupted-header item after `skipped` bytes were dropped.
pub(crate) fn corrupted(
    corruption: Corruption,
    skipped: usize,
    stats: &mut FrameStats,
) -> FrameEvent {
    stats.corrupted = stats.corrupted.saturating_add(1);
    FrameEvent::Corrupted {
        corruption,
        skipped,
    }
}

/// Reports bytes left at end of stream and drops them.
pub(crate) fn truncated(src: &mut BytesMut, stats: &mut FrameStats) -> Option<FrameEvent> {
    if src.is_empty() {
        return None;
    }
    let dropped = src.len();
    src.clear();
    stats.truncated = stats.truncated.saturating_add(1);
    Some(FrameEvent::Truncated { dropped })
}

/// Netty-exact length-field framing. Each call of [`Decoder::decode`] yields one [`FrameEvent`]; `Err` only for
/// I/O errors.
#[derive(Debug, Clone)]
pub struct LengthFieldDecoder {
    config: LengthFieldConfig,
    discarding: Discarding,
    stats: FrameStats,
}

impl LengthFieldDecoder {
    /// A decoder for `config`.
    pub fn new(config: LengthFieldConfig) -> Self {
        LengthFieldDecoder {
            config,
            discarding: Discarding::default(),
            stats: FrameStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LengthFieldConfig {
        &self.config
    }

    /// Counters since creation.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Whether the decoder is skipping the rest of a too-long frame.
    pub fn is_discarding(&self) -> bool {
        self.discarding.active()
    }
}

impl Decoder for LengthFieldDecoder {
    type Item = FrameEvent;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<FrameEvent>, FrameError> {
        let config = &self.config;
        let stats = &mut self.stats;
        if self.discarding.active() {
            let event = self.discarding.resume(src, config, stats);
            if event.is_some() || self.discarding.active() {
                return Ok(event);
            }
        }
        let header_end = config.length_field_end_offset();
        let frame_length = match config.header(src) {
            Header::Incomplete => return Ok(None),
            Header::Corrupt(corruption) => {
                src.advance(header_end);
                return Ok(Some(corrupted(corruption, header_end, stats)));
            }
            Header::Length(frame_length) => frame_length,
        };
        if frame_length > config.max_frame_length() as u64 {
            return Ok(self.discarding.start(frame_length, src, config, stats));
        }
        // `frame_length <= max_frame_length`, a usize.
        let frame_length = usize::try_from(frame_length).unwrap_or(usize::MAX);
        if src.len() < frame_length {
            src.reserve(frame_length - src.len());
            return Ok(None);
        }
        let strip = config.initial_bytes_to_strip();
        if strip > frame_length {
            src.advance(frame_length);
            let corruption = Corruption::ShorterThanStrip {
                frame_length: frame_length as u64,
                strip,
            };
            return Ok(Some(corrupted(corruption, frame_length, stats)));
        }
        src.advance(strip);
        let bytes = src.split_to(frame_length - strip).freeze();
        stats.frames = stats.frames.saturating_add(1);
        Ok(Some(FrameEvent::Frame {
            bytes,
            crc: CrcMatch::Unchecked,
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<FrameEvent>, FrameError> {
        if let Some(event) = self.decode(src)? {
            return Ok(Some(event));
        }
        Ok(truncated(src, &mut self.stats))
    }
}
