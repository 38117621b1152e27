//! The 13-byte CAN-to-Ethernet relay record many converters (USR-CANET200, Ebyte E810-DTU, GCAN-212) use to carry
//! CAN frames over TCP or UDP: 1 frame-information byte, a 4-byte big-endian identifier, 8 data bytes. Not part of
//! GB/T 27930; it is how raw GB/T CAN traffic reaches the gateway. [`RelayCodec`] frames a byte stream by counting
//! 13 bytes; a bad record is yielded as an error item and the stream goes on.

use bytes::{Buf, BufMut, BytesMut};
use thiserror::Error;
use tokio_util::codec::{Decoder, Encoder};

use super::can_frame::{CanFrame, CAN_MAX_DLC, MAX_STANDARD_ID};
use super::can_id::MAX_EXTENDED_ID;

/// Bytes per relay record.
pub const RELAY_FRAME_LEN: usize = 13;
/// Info byte bit 7: extended (29-bit) identifier.
const INFO_EXTENDED: u8 = 0x80;
/// Info byte bit 6: remote frame.
const INFO_REMOTE: u8 = 0x40;
/// Info byte bits 3–0: DLC.
const INFO_DLC: u8 = 0x0F;
/// Top bit of the identifier word in the id-first layout: extended frame.
const ID_FIRST_EXTENDED: u32 = 0x8000_0000;

/// Where the converter puts the fields of its 13 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelayLayout {
    /// Info byte (FF/RTR/DLC), 4-byte id, 8 data bytes — USR-CANET200, Ebyte E810-DTU, GCAN-212.
    #[default]
    InfoFirst,
    /// 4-byte id (bit 31 = extended), 8 data bytes, DLC last — ADFweb HD67644.
    IdFirst,
}

/// Why a 13-byte record is not a CAN frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RelayError {
    /// The record is not 13 bytes long.
    #[error("relay record: expected {RELAY_FRAME_LEN} bytes, got {got}")]
    Length {
        /// Bytes received.
        got: usize,
    },
    /// DLC above 8 (byte 0 bits 3–0, or byte 12 in the id-first layout).
    #[error("relay record: DLC {dlc} above 8")]
    Dlc {
        /// The DLC.
        dlc: u8,
    },
    /// The identifier does not fit its format (29 bits extended, 11 bits standard).
    #[error("relay record: id 0x{id:X} too large for a {} frame", if *extended { "29-bit" } else { "11-bit" })]
    Id {
        /// The identifier.
        id: u32,
        /// Its format.
        extended: bool,
    },
}

impl RelayError {
    /// Stable short name, used as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            RelayError::Length { .. } => "relay_length",
            RelayError::Dlc { .. } => "relay_dlc",
            RelayError::Id { .. } => "relay_id",
        }
    }
}

fn check(id: u32, extended: bool, dlc: u8) -> Result<(), RelayError> {
    if usize::from(dlc) > CAN_MAX_DLC {
        return Err(RelayError::Dlc { dlc });
    }
    let max = if extended {
        MAX_EXTENDED_ID
    } else {
        MAX_STANDARD_ID
    };
    if id > max {
        return Err(RelayError::Id { id, extended });
    }
    Ok(())
}

impl RelayLayout {
    /// Reads one 13-byte record.
    pub fn decode(self, record: &[u8]) -> Result<CanFrame, RelayError> {
        let r: &[u8; RELAY_FRAME_LEN] = record
            .try_into()
            .map_err(|_| RelayError::Length { got: record.len() })?;
        let (id, extended, remote, dlc, data) = match self {
            RelayLayout::InfoFirst => {
                let info = r[0];
                (
                    u32::from_be_bytes([r[1], r[2], r[3], r[4]]),
                    info & INFO_EXTENDED != 0,
                    info & INFO_REMOTE != 0,
                    info & INFO_DLC,
                    [r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12]],
                )
            }
            RelayLayout::IdFirst => {
                let word = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
                (
                    word & !ID_FIRST_EXTENDED,
                    word & ID_FIRST_EXTENDED != 0,
                    false,
                    r[12],
                    [r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]],
                )
            }
        };
        check(id, extended, dlc)?;
        Ok(CanFrame {
            id,
            extended,
            remote,
            len: dlc,
            bytes: data,
        })
    }

    /// Writes one 13-byte record; unused data bytes are `00`.
    pub fn encode(self, frame: &CanFrame) -> [u8; RELAY_FRAME_LEN] {
        let mut data = [0u8; CAN_MAX_DLC];
        for (d, s) in data.iter_mut().zip(frame.data()) {
            *d = *s;
        }
        let dlc = frame.len.min(CAN_MAX_DLC as u8);
        let mut out = [0u8; RELAY_FRAME_LEN];
        match self {
            RelayLayout::InfoFirst => {
                let mut info = dlc;
                if frame.extended {
                    info |= INFO_EXTENDED;
                }
                if frame.remote {
                    info |= INFO_REMOTE;
                }
                out[0] = info;
                out[1..5].copy_from_slice(&frame.id.to_be_bytes());
                out[5..].copy_from_slice(&data);
            }
            RelayLayout::IdFirst => {
                let flag = if frame.extended { ID_FIRST_EXTENDED } else { 0 };
                out[..4].copy_from_slice(&(frame.id | flag).to_be_bytes());
                out[4..12].copy_from_slice(&data);
                out[12] = dlc;
            }
        }
        out
    }
}

/// `tokio_util` codec for a stream of back-to-back 13-byte records. Items are `Result<CanFrame, RelayError>` so
/// that one bad record does not end the stream; the stream error is only I/O.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelayCodec {
    /// Byte layout of the records.
    pub layout: RelayLayout,
}

impl RelayCodec {
    /// A codec for this layout.
    pub fn new(layout: RelayLayout) -> Self {
        RelayCodec { layout }
    }
}

impl Decoder for RelayCodec {
    type Item = Result<CanFrame, RelayError>;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        let Some(record) = src.get(..RELAY_FRAME_LEN) else {
            src.reserve(RELAY_FRAME_LEN - src.len());
            return Ok(None);
        };
        let item = self.layout.decode(record);
        src.advance(RELAY_FRAME_LEN);
        Ok(Some(item))
    }
}

impl Encoder<CanFrame> for RelayCodec {
    type Error = std::io::Error;

    fn encode(&mut self, frame: CanFrame, dst: &mut BytesMut) -> Result<(), Self::Error> {
        dst.put_slice(&self.layout.encode(&frame));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usr_canet200_manual_example_decodes() {
        let rec = [
            0x85, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
        ];
        let f = RelayLayout::InfoFirst.decode(&rec).unwrap();
        assert_eq!((f.id, f.extended, f.remote), (0x1234_5678, true, false));
        assert_eq!(f.data(), &[0x12, 0x34, 0x56, 0x78, 0x00]);
        assert_eq!(RelayLayout::InfoFirst.encode(&f), rec);
    }

    #[test]
    fn dlc_nine_is_an_error_item_and_the_stream_continues() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0x89, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        buf.extend_from_slice(&[0x81, 0x18, 0x09, 0x56, 0xF4, 0xAA, 0, 0, 0, 0, 0, 0, 0]);
        buf.extend_from_slice(&[0x81]);
        let mut codec = RelayCodec::default();
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Err(RelayError::Dlc { dlc: 9 }))
        );
        let f = codec.decode(&mut buf).unwrap().unwrap().unwrap();
        assert_eq!((f.id, f.data()), (0x1809_56F4, &[0xAA][..]));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn id_first_layout_reads_dlc_from_the_last_byte() {
        let f = CanFrame::extended(0x1810_56F4, &[0xA5, 0x10, 0xD8, 0x0E, 0x02]);
        let rec = RelayLayout::IdFirst.encode(&f);
        assert_eq!(rec[0], 0x98);
        assert_eq!(rec[12], 5);
        assert_eq!(RelayLayout::IdFirst.decode(&rec).unwrap(), f);
    }
}
