//! The YKC field encodings (§5 of the reference): packed BCD, zero-padded ASCII, little-endian BIN, 5-byte meter
//! values and the 7-byte CP56Time2a time, as nom parsers plus their encoders. Every message file builds on these.
//!
//! Values are kept allocation-free: BCD and ASCII fields are fixed arrays that render to text on demand.

use std::fmt;

use nom::bytes::complete::take;
use nom::error::{ErrorKind, FromExternalError, ParseError};
use nom::{IResult, Parser};
use serde::{Serialize, Serializer};

use super::YkcError;
use crate::gbt27930::GbtError;

/// Largest value of a decimal nibble in packed BCD.
const MAX_BCD_DIGIT: u8 = 9;
/// Size of a CP56Time2a time.
pub const CP56_LEN: usize = 7;
/// Size of a meter register value (V1.5 and later).
pub const METER5_LEN: usize = 5;
/// Milliseconds per second.
const MS_PER_SECOND: u16 = 1000;
/// First year CP56Time2a's 7-bit year counts from.
const CP56_EPOCH_YEAR: u16 = 2000;
/// Mask of the minute in CP56Time2a byte 2 (bit 7 IV, bit 6 reserved).
const CP56_MINUTE_MASK: u8 = 0x3F;
/// Bit 7 of byte 2: the time is invalid.
const CP56_INVALID_BIT: u8 = 0x80;
/// Mask of the hour in byte 3 (bit 7 summer time, bits 6..5 reserved).
const CP56_HOUR_MASK: u8 = 0x1F;
/// Bit 7 of byte 3: summer time.
const CP56_SUMMER_BIT: u8 = 0x80;
/// Mask of the day of month in byte 4 (bits 7..5 are the day of week).
const CP56_DAY_MASK: u8 = 0x1F;
/// Shift of the day of week in byte 4.
const CP56_WEEKDAY_SHIFT: u8 = 5;
/// Mask of the month in byte 5.
const CP56_MONTH_MASK: u8 = 0x0F;
/// Mask of the year in byte 6.
const CP56_YEAR_MASK: u8 = 0x7F;

/// The nom error of a body parser: where input stood when it failed and why, turned into a [`YkcError`] with the
/// frame type and body offset by [`finish`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BodyError {
    /// Input ran out (or a combinator failed) with `remaining` bytes left.
    Eof {
        /// Bytes left when it failed.
        remaining: usize,
    },
    /// A BCD field held a nibble above 9.
    Bcd {
        /// Bytes left at the start of the field.
        remaining: usize,
        /// The fault.
        fault: BcdFault,
    },
    /// A relayed GB/T part failed.
    Gbt {
        /// Bytes left at the start of the part.
        remaining: usize,
        /// The GB/T error.
        error: GbtError,
    },
}

/// A BCD field holding a nibble above 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BcdFault {
    /// Field name.
    pub field: &'static str,
    /// Index of the byte in the field.
    pub index: usize,
    /// The byte.
    pub value: u8,
}

impl<'a> ParseError<&'a [u8]> for BodyError {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        BodyError::Eof {
            remaining: input.len(),
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> FromExternalError<&'a [u8], BcdFault> for BodyError {
    fn from_external_error(input: &'a [u8], _kind: ErrorKind, fault: BcdFault) -> Self {
        BodyError::Bcd {
            remaining: input.len(),
            fault,
        }
    }
}

impl<'a> FromExternalError<&'a [u8], GbtError> for BodyError {
    fn from_external_error(input: &'a [u8], _kind: ErrorKind, error: GbtError) -> Self {
        BodyError::Gbt {
            remaining: input.len(),
            error,
        }
    }
}

/// Result of a body parser.
pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, BodyError>;

/// Runs a body parser over the whole `body` and maps its failure to a [`YkcError`] naming the body offset.
pub(crate) fn finish<'a, T>(
    frame_type: u8,
    body: &'a [u8],
    parser: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> Result<T, YkcError> {
    let offset = |remaining: usize| body.len().saturating_sub(remaining);
    match parser(body) {
        Ok((_, value)) => Ok(value),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(match e {
            BodyError::Eof { remaining } => YkcError::Truncated {
                frame_type,
                offset: offset(remaining),
            },
            BodyError::Bcd { remaining, fault } => YkcError::Bcd {
                frame_type,
                field: fault.field,
                offset: offset(remaining).saturating_add(fault.index),
                value: fault.value,
            },
            BodyError::Gbt { remaining, error } => YkcError::Gbt {
                frame_type,
                offset: offset(remaining),
                source: error,
            },
        }),
        Err(nom::Err::Incomplete(_)) => Err(YkcError::Truncated {
            frame_type,
            offset: body.len(),
        }),
    }
}

/// Serializes a byte array of any length as a sequence (serde's own impls stop at 32).
pub(crate) fn ser_array<S: Serializer, const N: usize>(
    v: &[u8; N],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter())
}

/// `N` raw bytes.
pub(crate) fn raw<const N: usize>(i: &[u8]) -> PResult<'_, [u8; N]> {
    take(N)
        .map_opt(|b: &[u8]| <[u8; N]>::try_from(b).ok())
        .parse(i)
}

/// One byte.
pub(crate) fn u8_(i: &[u8]) -> PResult<'_, u8> {
    nom::number::complete::u8.parse(i)
}

/// Little-endian u16.
pub(crate) fn le16(i: &[u8]) -> PResult<'_, u16> {
    nom::number::complete::le_u16.parse(i)
}

/// Little-endian u32.
pub(crate) fn le32(i: &[u8]) -> PResult<'_, u32> {
    nom::number::complete::le_u32.parse(i)
}

/// A 5-byte little-endian meter value (0.0001 kWh).
pub(crate) fn meter5(i: &[u8]) -> PResult<'_, u64> {
    raw::<METER5_LEN>
        .map(|b| {
            b.iter()
                .rev()
                .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte))
        })
        .parse(i)
}

/// Appends a 5-byte little-endian meter value; values above 40 bits are truncated to their low 40 bits.
pub(crate) fn put_meter5(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes()[..METER5_LEN]);
}

/// Packed decimal digits, most significant first, kept as the `N` wire bytes. Renders as `2N` digits. Fields that
/// real senders fill with hex digits (SIM/ICCID) use the same type, decoded without the digit check.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bcd<const N: usize>(pub [u8; N]);

impl<const N: usize> Bcd<N> {
    /// Checks that every nibble is a decimal digit.
    fn check(bytes: [u8; N], field: &'static str) -> Result<Self, BcdFault> {
        match bytes
            .iter()
            .position(|b| (b >> 4) > MAX_BCD_DIGIT || (b & 0x0F) > MAX_BCD_DIGIT)
        {
            Some(index) => Err(BcdFault {
                field,
                index,
                value: bytes.get(index).copied().unwrap_or_default(),
            }),
            None => Ok(Bcd(bytes)),
        }
    }

    /// Builds from up to `2N` digits, left-padded with `0` (as pile numbers are); `None` for a non-digit or a
    /// string that is too long.
    pub fn from_digits(digits: &str) -> Option<Self> {
        Self::from_nibbles(digits, false)
    }

    /// Builds from up to `2N` hex digits (SIM/ICCID), left-padded with `0`.
    pub fn from_hex(digits: &str) -> Option<Self> {
        Self::from_nibbles(digits, true)
    }

    fn from_nibbles(digits: &str, hex: bool) -> Option<Self> {
        let width = N.checked_mul(2)?;
        let pad = width.checked_sub(digits.len())?;
        let mut out = [0u8; N];
        for (pos, c) in digits.chars().enumerate() {
            let v = u8::try_from(c.to_digit(if hex { 16 } else { 10 })?).ok()?;
            let at = pos.checked_add(pad)?;
            let byte = out.get_mut(at / 2)?;
            *byte |= if at % 2 == 0 { v << 4 } else { v };
        }
        Some(Bcd(out))
    }

    /// Whether every byte is zero (e.g. "no transaction" in 0x13).
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }
}

impl<const N: usize> Default for Bcd<N> {
    fn default() -> Self {
        Bcd([0; N])
    }
}

/// Upper-case hex digits, for writing BCD nibbles without the formatting machinery (this is on the per-frame path).
const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
/// Bytes rendered per `write_str` call.
const DISPLAY_CHUNK: usize = 32;

/// Every one-byte code as its `"0x3B"` text, built at compile time.
static HEX_CODES: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [b'0', b'x', HEX_DIGITS[i >> 4], HEX_DIGITS[i & 0x0F]];
        i += 1;
    }
    table
};

/// [`hex_code`] as a `&'static str` from a table: no allocation, for codes an event carries on every frame (the
/// 0x13 vendor status).
pub fn hex_code_static(code: u8) -> &'static str {
    HEX_CODES
        .get(usize::from(code))
        .and_then(|t| std::str::from_utf8(t).ok())
        .unwrap_or("0x??")
}

/// A one-byte code as `"0x3B"`, the way events spell raw protocol codes; cheaper than `format!` per frame.
pub fn hex_code(code: u8) -> String {
    let digits = [
        b'0',
        b'x',
        HEX_DIGITS[usize::from(code >> 4)],
        HEX_DIGITS[usize::from(code & 0x0F)],
    ];
    digits.iter().map(|&d| char::from(d)).collect()
}

impl<const N: usize> fmt::Display for Bcd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0u8; 2 * DISPLAY_CHUNK];
        for chunk in self.0.chunks(DISPLAY_CHUNK) {
            let mut len = 0;
            for (b, pair) in chunk.iter().zip(text.chunks_exact_mut(2)) {
                pair.copy_from_slice(&[
                    HEX_DIGITS[usize::from(b >> 4)],
                    HEX_DIGITS[usize::from(b & 0x0F)],
                ]);
                len += 2;
            }
            // Only ASCII hex digits were written.
            f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Bcd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl<const N: usize> Serialize for Bcd<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A 7-byte BCD pile number (14 digits).
pub type PileNumber = Bcd<7>;
/// A 16-byte BCD transaction serial (32 digits), treated as opaque.
pub type TransactionSerial = Bcd<16>;
/// An 8-byte BCD logical card number.
pub type LogicalCard = Bcd<8>;
/// A 2-byte BCD billing model number.
pub type BillingModel = Bcd<2>;
/// A 10-byte SIM ICCID, hex nibbles.
pub type Iccid = Bcd<10>;

/// A strict BCD field of `N` bytes.
pub(crate) fn bcd<const N: usize>(field: &'static str) -> impl Fn(&[u8]) -> PResult<'_, Bcd<N>> {
    move |i| raw::<N>.map_res(|b| Bcd::<N>::check(b, field)).parse(i)
}

/// A BCD field of `N` bytes read as hex nibbles (no digit check).
pub(crate) fn hex_bcd<const N: usize>(i: &[u8]) -> PResult<'_, Bcd<N>> {
    raw::<N>.map(Bcd).parse(i)
}

/// A gun number: one BCD byte (`01` = gun 1), kept as its decimal value.
pub(crate) fn gun(i: &[u8]) -> PResult<'_, u8> {
    bcd::<1>("gun")
        .map(|Bcd([byte])| (byte >> 4) * 10 + (byte & 0x0F))
        .parse(i)
}

/// Appends a gun number as one BCD byte; numbers above 99 are written as 99.
pub(crate) fn put_gun(out: &mut Vec<u8>, gun: u8) {
    let g = gun.min(99);
    out.push(((g / 10) << 4) | (g % 10));
}

/// Zero-padded ASCII text of `N` bytes, kept as the wire bytes; renders up to the first NUL.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ascii<const N: usize>(pub [u8; N]);

impl<const N: usize> Ascii<N> {
    /// The text up to the first NUL, bytes outside ASCII shown as `?`.
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// Builds from text, truncated to `N` bytes and zero-padded.
    pub fn from_text(text: &str) -> Self {
        let mut out = [0u8; N];
        for (dst, src) in out.iter_mut().zip(text.bytes()) {
            *dst = src;
        }
        Ascii(out)
    }

    /// The same bytes in reverse order (0x31 sends the VIN reversed).
    pub fn reversed(&self) -> Self {
        let mut b = self.0;
        b.reverse();
        Ascii(b)
    }
}

impl<const N: usize> Default for Ascii<N> {
    fn default() -> Self {
        Ascii([0; N])
    }
}

impl<const N: usize> fmt::Display for Ascii<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for b in self.0.iter().take_while(|b| **b != 0) {
            f.write_char(if b.is_ascii() { char::from(*b) } else { '?' })?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Ascii<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text())
    }
}

impl<const N: usize> Serialize for Ascii<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An ASCII field of `N` bytes.
pub(crate) fn ascii<const N: usize>(i: &[u8]) -> PResult<'_, Ascii<N>> {
    raw::<N>.map(Ascii).parse(i)
}

/// A CP56Time2a time: the pile's local wall-clock time, no zone. Reserved bits are dropped on decode; the
/// day-of-week, invalid and summer-time bits are kept so that a frame re-encodes as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Cp56Time2a {
    /// Year, 2000–2127.
    pub year: u16,
    /// Month, 1–12 (not range-checked).
    pub month: u8,
    /// Day of month, 1–31 (not range-checked).
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Milliseconds within the minute, 0–59999.
    pub millis: u16,
    /// Day of week, 1 = Monday … 7, 0 = not set.
    pub day_of_week: u8,
    /// The IV (invalid) bit.
    pub invalid: bool,
    /// The SU (summer time) bit.
    pub summer_time: bool,
}

impl Cp56Time2a {
    /// Decodes the 7 bytes, masking every byte as §5 of the reference says.
    pub fn from_bytes(b: [u8; CP56_LEN]) -> Self {
        let [ms_lo, ms_hi, min, hour, day, month, year] = b;
        Cp56Time2a {
            year: CP56_EPOCH_YEAR + u16::from(year & CP56_YEAR_MASK),
            month: month & CP56_MONTH_MASK,
            day: day & CP56_DAY_MASK,
            hour: hour & CP56_HOUR_MASK,
            minute: min & CP56_MINUTE_MASK,
            millis: u16::from_le_bytes([ms_lo, ms_hi]),
            day_of_week: day >> CP56_WEEKDAY_SHIFT,
            invalid: min & CP56_INVALID_BIT != 0,
            summer_time: hour & CP56_SUMMER_BIT != 0,
        }
    }

    /// Encodes the 7 bytes; out-of-range fields are cut to their bit width.
    pub fn to_bytes(&self) -> [u8; CP56_LEN] {
        let [ms_lo, ms_hi] = self.millis.to_le_bytes();
        let year = self
            .year
            .saturating_sub(CP56_EPOCH_YEAR)
            .min(CP56_YEAR_MASK.into()) as u8;
        [
            ms_lo,
            ms_hi,
            (self.minute & CP56_MINUTE_MASK) | if self.invalid { CP56_INVALID_BIT } else { 0 },
            (self.hour & CP56_HOUR_MASK) | if self.summer_time { CP56_SUMMER_BIT } else { 0 },
            (self.day & CP56_DAY_MASK) | (self.day_of_week << CP56_WEEKDAY_SHIFT),
            self.month & CP56_MONTH_MASK,
            year,
        ]
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.mmm]` (a space may replace the `T`); `None` if malformed or out of range.
    pub fn parse_local(text: &str) -> Option<Self> {
        let num = |range: std::ops::Range<usize>| -> Option<u16> {
            let s = text.get(range)?;
            if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        let sep = |at: usize, allowed: &[u8]| {
            text.as_bytes().get(at).is_some_and(|b| allowed.contains(b))
        };
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T ") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let millis_frac = match text.len() {
            19 => 0,
            23 if sep(19, b".") => num(20..23)?,
            _ => return None,
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let valid = (CP56_EPOCH_YEAR..=CP56_EPOCH_YEAR + u16::from(CP56_YEAR_MASK)).contains(&year)
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then(|| Cp56Time2a {
            year,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            millis: second * MS_PER_SECOND + millis_frac,
            ..Default::default()
        })
    }
}

impl fmt::Display for Cp56Time2a {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.millis / MS_PER_SECOND,
            self.millis % MS_PER_SECOND
        )
    }
}

/// A CP56Time2a field.
pub(crate) fn cp56(i: &[u8]) -> PResult<'_, Cp56Time2a> {
    raw::<CP56_LEN>.map(Cp56Time2a::from_bytes).parse(i)
}

/// Runs a GB/T decoder over the next `n` bytes.
pub(crate) fn gbt<T>(
    n: usize,
    decode: impl Fn(&[u8]) -> Result<T, GbtError>,
) -> impl FnMut(&[u8]) -> PResult<'_, T> {
    move |i| take(n).map_res(&decode).parse(i)
}

/// Displays bytes as uppercase hex (raw card numbers, raw frames in events).
pub struct HexSlice<'a>(pub &'a [u8]);

impl std::fmt::Display for HexSlice<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_hex_codes_match_the_allocating_ones_for_every_byte() {
        for code in 0..=u8::MAX {
            assert_eq!(hex_code_static(code), hex_code(code));
        }
        assert_eq!(hex_code_static(0x3B), "0x3B");
    }

    #[test]
    fn pile_number_is_left_padded_with_zeros() {
        let p = PileNumber::from_digits("1").unwrap();
        assert_eq!(p.0, [0, 0, 0, 0, 0, 0, 0x01]);
        assert_eq!(p.to_string(), "00000000000001");
        assert!(PileNumber::from_digits("123456789012345").is_none());
        assert!(PileNumber::from_digits("12A").is_none());
    }

    #[test]
    fn iccid_takes_hex_digits() {
        let s = Iccid::from_hex("898604D11722D0348606").unwrap();
        assert_eq!(s.to_string(), "898604D11722D0348606");
    }

    #[test]
    fn strict_bcd_names_the_bad_byte() {
        let err = bcd::<2>("billing_model")(&[0x01, 0xA0]).unwrap_err();
        assert!(matches!(
            err,
            nom::Err::Error(BodyError::Bcd {
                remaining: 2,
                fault: BcdFault {
                    field: "billing_model",
                    index: 1,
                    value: 0xA0
                }
            })
        ));
    }

    #[test]
    fn meter_value_is_five_bytes_little_endian() {
        let (_, v) = meter5(&[0x01, 0x02, 0x03, 0x04, 0x05]).unwrap();
        assert_eq!(v, 0x05_0403_0201);
        let mut out = Vec::new();
        put_meter5(&mut out, v);
        assert_eq!(out, [0x01, 0x02, 0x03, 0x04, 0x05]);
    }

    #[test]
    fn ascii_stops_at_the_first_nul() {
        let a = Ascii::<8>::from_text("GV.95r13");
        assert_eq!(a.text(), "GV.95r13");
        assert_eq!(Ascii::<4>([b'a', 0, b'b', 0]).text(), "a");
    }
}
