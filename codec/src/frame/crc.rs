//! CRC algorithms an envelope can name, by their `crc` catalogue name (`"CRC-16/MODBUS"`), each backed by a
//! compile-time slice-by-16 table.
//!
//! Naming the algorithm in configuration lets a vendor declare a new envelope without Rust. Every table is a
//! `static`, built at compile time, so checking a frame costs no allocation and no set-up.

use crc::{Crc, Table};
use serde::{Deserialize, Serialize};

macro_rules! crc_algorithms {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $width:ty, $alg:ident; )*) => {
        /// A CRC algorithm from the `crc` catalogue, serialized by its catalogue name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum CrcAlgorithm {
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl CrcAlgorithm {
            /// Every supported algorithm.
            pub const ALL: &'static [CrcAlgorithm] = &[$(CrcAlgorithm::$variant),*];

            /// The catalogue name, as written in configuration.
            pub fn name(self) -> &'static str {
                match self {
                    $(CrcAlgorithm::$variant => $name,)*
                }
            }

            /// The CRC of `data`, widened to `u32`.
            pub fn checksum(self, data: &[u8]) -> u32 {
                match self {
                    $(CrcAlgorithm::$variant => {
                        static CRC: Crc<$width, Table<16>> = Crc::<$width, Table<16>>::new(&crc::$alg);
                        u32::from(CRC.checksum(data))
                    })*
                }
            }

            /// Width of the CRC in bytes (1, 2 or 4): the size of its field in the frame.
            pub fn width_bytes(self) -> usize {
                match self {
                    $(CrcAlgorithm::$variant => std::mem::size_of::<$width>(),)*
                }
            }

            /// The catalogue's check value: the CRC of ASCII `"123456789"`.
            pub fn check(self) -> u32 {
                match self {
                    $(CrcAlgorithm::$variant => u32::from(crc::$alg.check),)*
                }
            }
        }
    };
}

crc_algorithms! {
    /// 8-bit SMBus CRC (poly 0x07).
    Crc8Smbus = "CRC-8/SMBUS", u8, CRC_8_SMBUS;
    /// 8-bit Dallas/Maxim 1-Wire CRC.
    Crc8MaximDow = "CRC-8/MAXIM-DOW", u8, CRC_8_MAXIM_DOW;
    /// 16-bit Modbus RTU CRC (YKC's checksum).
    Crc16Modbus = "CRC-16/MODBUS", u16, CRC_16_MODBUS;
    /// 16-bit ARC ("CRC-16", "CRC-IBM").
    Crc16Arc = "CRC-16/ARC", u16, CRC_16_ARC;
    /// 16-bit IBM-3740 ("CCITT-FALSE").
    Crc16Ibm3740 = "CRC-16/IBM-3740", u16, CRC_16_IBM_3740;
    /// 16-bit XMODEM.
    Crc16Xmodem = "CRC-16/XMODEM", u16, CRC_16_XMODEM;
    /// 16-bit KERMIT ("CCITT", "CCITT-TRUE").
    Crc16Kermit = "CRC-16/KERMIT", u16, CRC_16_KERMIT;
    /// 16-bit IBM-SDLC.
    Crc16IbmSdlc = "CRC-16/IBM-SDLC", u16, CRC_16_IBM_SDLC;
    /// 16-bit USB.
    Crc16Usb = "CRC-16/USB", u16, CRC_16_USB;
    /// 16-bit MAXIM-DOW.
    Crc16MaximDow = "CRC-16/MAXIM-DOW", u16, CRC_16_MAXIM_DOW;
    /// 16-bit DNP (DNP3).
    Crc16Dnp = "CRC-16/DNP", u16, CRC_16_DNP;
    /// 32-bit ISO-HDLC (zlib, Ethernet, "CRC-32").
    Crc32IsoHdlc = "CRC-32/ISO-HDLC", u32, CRC_32_ISO_HDLC;
    /// 32-bit iSCSI (Castagnoli, "CRC-32C").
    Crc32Iscsi = "CRC-32/ISCSI", u32, CRC_32_ISCSI;
    /// 32-bit BZIP2.
    Crc32Bzip2 = "CRC-32/BZIP2", u32, CRC_32_BZIP2;
    /// 32-bit MPEG-2.
    Crc32Mpeg2 = "CRC-32/MPEG-2", u32, CRC_32_MPEG_2;
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK_INPUT: &[u8] = b"123456789";

    #[test]
    fn every_algorithm_reproduces_its_catalogue_check_value() {
        for alg in CrcAlgorithm::ALL {
            assert_eq!(alg.checksum(CHECK_INPUT), alg.check(), "{}", alg.name());
        }
    }

    #[test]
    fn modbus_check_value_is_0x4b37() {
        assert_eq!(CrcAlgorithm::Crc16Modbus.checksum(CHECK_INPUT), 0x4B37);
    }

    #[test]
    fn algorithms_deserialize_from_their_catalogue_names() {
        for alg in CrcAlgorithm::ALL {
            let json = format!("\"{}\"", alg.name());
            let parsed: CrcAlgorithm = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, *alg);
        }
    }
}
