//! Field primitives shared by every GB/T 27930 message: little-endian reads and writes, resolution/offset scaling
//! into SI units, and the 2-bit status fields packed LSB-first.

use serde::{Deserialize, Serialize};

use super::GbtError;

/// A linear GB/T scaling: `physical = (raw + offset_raw) / divisor`. The offset is kept in raw steps so that the
/// result is the nearest `f64` to the exact decimal (e.g. `3702 → −29.8 A`, not `−29.800000000000011`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    divisor: f64,
    offset_raw: i64,
}

/// 0.1 V/bit, no offset.
pub(crate) const VOLT_0_1: Scale = Scale {
    divisor: 10.0,
    offset_raw: 0,
};
/// 0.01 V/bit (cell voltages).
pub(crate) const VOLT_0_01: Scale = Scale {
    divisor: 100.0,
    offset_raw: 0,
};
/// 0.1 A/bit with a −400 A offset; negative = charging (GB/T sign convention).
pub(crate) const CURRENT: Scale = Scale {
    divisor: 10.0,
    offset_raw: -4000,
};
/// 0.1 kWh/bit.
pub(crate) const ENERGY_0_1: Scale = Scale {
    divisor: 10.0,
    offset_raw: 0,
};
/// 0.1 Ah/bit.
pub(crate) const CAPACITY_0_1: Scale = Scale {
    divisor: 10.0,
    offset_raw: 0,
};
/// 0.1 %/bit.
pub(crate) const PERCENT_0_1: Scale = Scale {
    divisor: 10.0,
    offset_raw: 0,
};
/// 1 °C/bit with a −50 °C offset.
pub(crate) const TEMPERATURE: Scale = Scale {
    divisor: 1.0,
    offset_raw: -50,
};

impl Scale {
    /// Raw integer → physical value.
    pub(crate) fn decode(self, raw: u32) -> f64 {
        (i64::from(raw) + self.offset_raw) as f64 / self.divisor
    }

    /// Physical value → raw integer, rounded to the nearest step and clamped to `0..=max`.
    pub(crate) fn encode(self, value: f64, max: u32) -> u32 {
        let raw = (value * self.divisor).round() - self.offset_raw as f64;
        if raw.is_nan() || raw <= 0.0 {
            0
        } else if raw >= f64::from(max) {
            max
        } else {
            raw as u32
        }
    }

    /// Physical value → a little-endian 16-bit raw value.
    pub(crate) fn encode_u16(self, value: f64) -> u16 {
        self.encode(value, u32::from(u16::MAX)) as u16
    }

    /// Physical value → an 8-bit raw value.
    pub(crate) fn encode_u8(self, value: f64) -> u8 {
        self.encode(value, u32::from(u8::MAX)) as u8
    }
}

/// Checks that `data` holds at least `expected` bytes and returns exactly those.
pub(crate) fn fixed<'a, const N: usize>(
    message: &'static str,
    data: &'a [u8],
) -> Result<&'a [u8; N], GbtError> {
    data.get(..N)
        .and_then(|s| <&[u8; N]>::try_from(s).ok())
        .ok_or(GbtError::Length {
            message,
            expected: N,
            got: data.len(),
        })
}

/// Little-endian u16 from two bytes.
pub(crate) fn le16(lo: u8, hi: u8) -> u16 {
    u16::from_le_bytes([lo, hi])
}

/// Little-endian u24 from three bytes.
pub(crate) fn le24(b0: u8, b1: u8, b2: u8) -> u32 {
    u32::from_le_bytes([b0, b1, b2, 0])
}

/// The 2-bit field number `index` (0 = bits 1–2, 1 = bits 3–4, …) of `byte`.
pub(crate) fn bits2(byte: u8, index: u8) -> u8 {
    (byte >> (index * 2)) & 0b11
}

/// Packs four 2-bit fields into a byte, field 0 in bits 1–2.
pub(crate) fn pack2(fields: [u8; 4]) -> u8 {
    fields
        .iter()
        .enumerate()
        .fold(0u8, |acc, (i, f)| acc | ((f & 0b11) << (i * 2)))
}

/// Decodes a fixed-width ASCII field: stops at the first NUL or 0xFF fill byte, trims spaces and replaces
/// non-printable bytes with `?` so the result is always valid text.
pub(crate) fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|b| **b != 0x00 && **b != 0xFF)
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Writes an ASCII field of exactly `width` bytes, NUL-padded (longer text is cut).
pub(crate) fn put_ascii(out: &mut Vec<u8>, text: &str, width: usize) {
    let bytes = text.as_bytes();
    out.extend((0..width).map(|i| bytes.get(i).copied().unwrap_or(0)));
}

/// A generic GB/T 2-bit status: `00` normal / no, `01` abnormal / yes / timeout, `10` untrusted, `11` not
/// available (J1939's "not available"; GB/T gives `11` no meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status2 {
    /// `00`: normal, condition absent.
    Normal,
    /// `01`: abnormal, condition present (a timeout, a fault, a stop reason).
    Abnormal,
    /// `10`: the sender cannot tell.
    Untrusted,
    /// `11`: not available.
    NotAvailable,
}

impl Status2 {
    /// From the two bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Status2::Normal,
            0b01 => Status2::Abnormal,
            0b10 => Status2::Untrusted,
            _ => Status2::NotAvailable,
        }
    }

    /// To the two bits.
    pub fn bits(self) -> u8 {
        match self {
            Status2::Normal => 0b00,
            Status2::Abnormal => 0b01,
            Status2::Untrusted => 0b10,
            Status2::NotAvailable => 0b11,
        }
    }

    /// The condition is present (`01`).
    pub fn is_set(self) -> bool {
        self == Status2::Abnormal
    }
}

/// A 2-bit level check (BSM cell voltage, SOC): `00` normal, `01` too high, `10` too low, `11` not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level2 {
    /// `00`.
    Normal,
    /// `01`.
    TooHigh,
    /// `10`.
    TooLow,
    /// `11`.
    NotAvailable,
}

impl Level2 {
    /// From the two bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Level2::Normal,
            0b01 => Level2::TooHigh,
            0b10 => Level2::TooLow,
            _ => Level2::NotAvailable,
        }
    }

    /// To the two bits.
    pub fn bits(self) -> u8 {
        match self {
            Level2::Normal => 0b00,
            Level2::TooHigh => 0b01,
            Level2::TooLow => 0b10,
            Level2::NotAvailable => 0b11,
        }
    }
}

/// A 2-bit charging permission (CCS byte 7, BSM byte 7): `00` paused / forbidden, `01` permitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// `00`: charging paused (CCS) or forbidden (BSM).
    Paused,
    /// `01`: charging permitted.
    Permitted,
    /// `10` or `11`: no meaning given; the raw bits are kept.
    Other(u8),
}

impl Permission {
    /// From the two bits.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Permission::Paused,
            0b01 => Permission::Permitted,
            other => Permission::Other(other),
        }
    }

    /// To the two bits.
    pub fn bits(self) -> u8 {
        match self {
            Permission::Paused => 0b00,
            Permission::Permitted => 0b01,
            Permission::Other(b) => b & 0b11,
        }
    }
}

/// Declares a struct of named [`Status2`] fields packed LSB-first into an unsigned word (`field = n` lives in
/// bits `2n+1 ..= 2n+2`), with `fill` setting the unused bits to 1 on encode.
macro_rules! flag_group {
    (
        $(#[$doc:meta])* $name:ident : $word:ty, fill = $fill:expr,
        { $( $(#[$fdoc:meta])* $field:ident = $idx:expr ),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $( $(#[$fdoc])* pub $field: $crate::gbt27930::Status2, )*
        }

        impl $name {
            /// Reads every field from the word; bits outside the fields are ignored (0 or 1 alike).
            pub fn from_word(w: $word) -> Self {
                $name {
                    $( $field: $crate::gbt27930::Status2::from_bits(((w >> ($idx * 2)) & 0b11) as u8), )*
                }
            }

            /// Packs every field, unused bits set to 1 as the 2015 edition asks.
            pub fn word(&self) -> $word {
                let mut w: $word = $fill;
                $( w |= <$word>::from(self.$field.bits()) << ($idx * 2); )*
                w
            }

            /// Names of the fields whose value is `01` (abnormal / yes / timeout), in bit order.
            pub fn set(&self) -> Vec<&'static str> {
                let mut names = Vec::new();
                $( if self.$field.is_set() { names.push(stringify!($field)); } )*
                names
            }
        }
    };
}
pub(crate) use flag_group;
