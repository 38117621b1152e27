//! [`FrameDecoder`]: frames a byte stream by a [`FrameSpec`] — resync on the start marker, length field, CRC check —
//! yielding every outcome as a [`FrameEvent`] and keeping [`FrameStats`].
//!
//! With a start marker, a frame is never trusted beyond its marker: a CRC mismatch, a corrupt header or a
//! too-long length skips **only the marker** and searches for the next one, so a good frame that follows a frame
//! with a wrong length byte is not swallowed. (Netty's skip-exactly-`F` rule is right only when the length is
//! right.) Without a marker there is nothing to resync on, so the decoder keeps Netty's rules: a too-long frame is
//! discarded exactly, and a CRC-rejected frame is skipped whole (its boundary kept).

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::config::Header;
use super::error::FrameError;
use super::event::{Corruption, CrcMatch, FrameEvent, FrameStats};
use super::length_field::{corrupted, truncated, Discarding};
use super::spec::{CrcCheck, FrameSpec};

/// Where the start marker is in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkerSearch {
    /// A whole marker starts here.
    Found(usize),
    /// The buffer ends with the first bytes of a marker starting here.
    Partial(usize),
    /// No marker, not even a partial one.
    NotFound,
}

/// Outcome of skipping to the next marker.
#[derive(Debug)]
enum Seek {
    /// The buffer starts where a frame should (at the marker, or anywhere when there is no marker).
    AtFrameStart,
    /// A run of noise just ended; report it before the frame.
    Yield(FrameEvent),
    /// No marker is buffered yet.
    NeedMore,
}

/// Finds the first whole marker in `buf`, or the start of a marker cut off by the end of `buf`.
fn find_marker(buf: &[u8], marker: &[u8]) -> MarkerSearch {
    let Some(&first) = marker.first() else {
        return MarkerSearch::Found(0);
    };
    let mut from = 0;
    while let Some(candidate) = buf
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| *b == first))
        .map(|relative| from + relative)
    {
        let rest = buf.get(candidate..).unwrap_or_default();
        if rest.starts_with(marker) {
            return MarkerSearch::Found(candidate);
        }
        if rest.len() < marker.len() && marker.starts_with(rest) {
            return MarkerSearch::Partial(candidate);
        }
        from = candidate + 1;
    }
    MarkerSearch::NotFound
}

/// A decoder for a declared envelope. Each call of [`Decoder::decode`] yields one [`FrameEvent`]; `Err` only for
/// I/O errors.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    /// Shared: a server's connections all decode the same envelope (a copy per connection, with its marker on
    /// the heap, cost every idle connection ~100 B).
    spec: Arc<FrameSpec>,
    discarding: Discarding,
    pending_garbage: usize,
    stats: FrameStats,
}

impl FrameDecoder {
    /// A decoder for `spec`.
    pub fn new(spec: FrameSpec) -> Self {
        Self::shared(Arc::new(spec))
    }

    /// A decoder for a `spec` shared with other decoders (one per connection on a server).
    pub fn shared(spec: Arc<FrameSpec>) -> Self {
        FrameDecoder {
            spec,
            discarding: Discarding::default(),
            pending_garbage: 0,
            stats: FrameStats::default(),
        }
    }

    /// The envelope.
    pub fn spec(&self) -> &FrameSpec {
        &self.spec
    }

    /// Counters since creation.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Skips `n` bytes of noise before a marker.
    fn skip_garbage(&mut self, src: &mut BytesMut, n: usize) {
        src.advance(n);
        self.pending_garbage = self.pending_garbage.saturating_add(n);
        self.stats.garbage_bytes = self
            .stats
            .garbage_bytes
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// Reports the garbage run that just ended, if any.
    fn take_garbage(&mut self) -> Option<FrameEvent> {
        let skipped = std::mem::take(&mut self.pending_garbage);
        (skipped > 0).then_some(FrameEvent::Garbage { skipped })
    }

    /// Skips noise up to the next marker (no-op without a marker).
    fn seek_marker(&mut self, src: &mut BytesMut) -> Seek {
        let search = match self.spec.marker() {
            Some(marker) => find_marker(src, marker),
            None => return Seek::AtFrameStart,
        };
        match search {
            MarkerSearch::Found(at) => {
                self.skip_garbage(src, at);
                self.take_garbage().map_or(Seek::AtFrameStart, Seek::Yield)
            }
            MarkerSearch::Partial(at) => {
                self.skip_garbage(src, at);
                Seek::NeedMore
            }
            MarkerSearch::NotFound => {
                let all = src.len();
                self.skip_garbage(src, all);
                Seek::NeedMore
            }
        }
    }

    /// Drops a bad header or frame: the marker only when there is one, else `netty_skip` bytes.
    fn reject(
        &mut self,
        src: &mut BytesMut,
        corruption: Corruption,
        netty_skip: usize,
    ) -> FrameEvent {
        let skipped = self.spec.marker().map_or(netty_skip, <[u8]>::len);
        src.advance(skipped.min(src.len()));
        corrupted(corruption, skipped, &mut self.stats)
    }
}

impl Decoder for FrameDecoder {
    type Item = FrameEvent;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<FrameEvent>, FrameError> {
        let config = *self.spec.length();
        if self.discarding.active() {
            let event = self.discarding.resume(src, &config, &mut self.stats);
            if event.is_some() || self.discarding.active() {
                return Ok(event);
            }
        }
        let marker_len = self.spec.marker().map_or(0, <[u8]>::len);
        match self.seek_marker(src) {
            Seek::Yield(garbage) => return Ok(Some(garbage)),
            Seek::NeedMore => return Ok(None),
            Seek::AtFrameStart => {}
        }
        let header_end = config.length_field_end_offset();
        let frame_length = match config.header(src) {
            Header::Incomplete => return Ok(None),
            Header::Corrupt(corruption) => {
                return Ok(Some(self.reject(src, corruption, header_end)))
            }
            Header::Length(frame_length) => frame_length,
        };
        if frame_length > config.max_frame_length() as u64 {
            if marker_len == 0 {
                return Ok(self
                    .discarding
                    .start(frame_length, src, &config, &mut self.stats));
            }
            src.advance(marker_len);
            self.stats.too_long = self.stats.too_long.saturating_add(1);
            return Ok(Some(FrameEvent::TooLong {
                frame_length,
                max_frame_length: config.max_frame_length(),
            }));
        }
        // `frame_length <= max_frame_length`, a usize.
        let frame_length = usize::try_from(frame_length).unwrap_or(usize::MAX);
        let Some(frame) = src.get(..frame_length) else {
            src.reserve(frame_length - src.len());
            return Ok(None);
        };
        let strip = config.initial_bytes_to_strip();
        if strip > frame_length {
            let corruption = Corruption::ShorterThanStrip {
                frame_length: frame_length as u64,
                strip,
            };
            return Ok(Some(self.reject(src, corruption, frame_length)));
        }
        // Fuzz finding (`ocpp_envelope`): a frame long enough for the CRC's covered range but whose CRC field
        // overlaps the length field passed as good, and its envelope payload did not exist.
        if let Some(needed) = self
            .spec
            .min_crc_frame_length()
            .filter(|&n| frame_length < n)
        {
            let corruption = Corruption::ShorterThanCrc {
                frame_length: frame_length as u64,
                needed,
            };
            return Ok(Some(self.reject(src, corruption, frame_length)));
        }
        let crc = match self.spec.crc().map(|crc| crc.check(frame)) {
            None => CrcMatch::Unchecked,
            Some(CrcCheck::Match(crc)) => crc,
            Some(CrcCheck::Corrupt(corruption)) => {
                return Ok(Some(self.reject(src, corruption, frame_length)))
            }
            Some(CrcCheck::Mismatch { computed, received }) => {
                self.stats.crc_errors = self.stats.crc_errors.saturating_add(1);
                let bytes = if marker_len == 0 {
                    src.split_to(frame_length).freeze()
                } else {
                    // Only the marker is consumed, so the rejected bytes are copied out for the dead-letter path.
                    let bytes = Bytes::copy_from_slice(frame);
                    src.advance(marker_len);
                    bytes
                };
                return Ok(Some(FrameEvent::CrcMismatch {
                    bytes,
                    computed,
                    received,
                }));
            }
        };
        if crc == CrcMatch::Swapped {
            self.stats.swapped_crc = self.stats.swapped_crc.saturating_add(1);
        }
        src.advance(strip);
        let bytes = src.split_to(frame_length - strip).freeze();
        self.stats.frames = self.stats.frames.saturating_add(1);
        Ok(Some(FrameEvent::Frame { bytes, crc }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<FrameEvent>, FrameError> {
        if let Some(event) = self.decode(src)? {
            return Ok(Some(event));
        }
        if let Some(garbage) = self.take_garbage() {
            return Ok(Some(garbage));
        }
        Ok(truncated(src, &mut self.stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_search_finds_whole_partial_and_absent_markers() {
        assert_eq!(
            find_marker(b"\x01\x68\x69", b"\x68\x69"),
            MarkerSearch::Found(1)
        );
        assert_eq!(
            find_marker(b"\x01\x02\x68", b"\x68\x69"),
            MarkerSearch::Partial(2)
        );
        assert_eq!(
            find_marker(b"\x68\x70\x68\x69", b"\x68\x69"),
            MarkerSearch::Found(2)
        );
        assert_eq!(
            find_marker(b"\x68\x70", b"\x68\x69"),
            MarkerSearch::NotFound
        );
        assert_eq!(find_marker(b"", b"\x68"), MarkerSearch::NotFound);
    }
}
