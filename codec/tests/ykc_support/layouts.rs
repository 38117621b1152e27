//! Proptest strategies for valid YKC bodies: each frame type's layout as a list of field kinds (BCD digits where
//! the decoder insists on them, any byte elsewhere).

use proptest::collection::vec;
use proptest::prelude::*;

/// One run of bytes in a layout.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// `n` bytes of packed decimal digits.
    Bcd(usize),
    /// A gun number (one BCD byte).
    Gun,
    /// `n` arbitrary bytes.
    Any(usize),
    /// Between `min` and `max` arbitrary bytes.
    AnyRange(usize, usize),
}

use Field::*;

/// The 24-byte BMS relay prefix.
pub const PREFIX: [Field; 3] = [Bcd(16), Bcd(7), Gun];

fn bcd_byte() -> impl Strategy<Value = u8> {
    (0u8..=9, 0u8..=9).prop_map(|(h, l)| (h << 4) | l)
}

fn field(f: Field) -> BoxedStrategy<Vec<u8>> {
    match f {
        Bcd(n) => vec(bcd_byte(), n).boxed(),
        Gun => vec(bcd_byte(), 1).boxed(),
        Any(n) => vec(any::<u8>(), n).boxed(),
        AnyRange(a, b) => vec(any::<u8>(), a..=b).boxed(),
    }
}

/// A body following `layout`.
pub fn body(layout: Vec<Field>) -> BoxedStrategy<Vec<u8>> {
    layout
        .into_iter()
        .map(field)
        .collect::<Vec<_>>()
        .prop_map(|parts| parts.concat())
        .boxed()
}

/// The layout of every decodable frame type (two for the types with an accepted variant).
pub fn layouts() -> Vec<(u8, Vec<Field>)> {
    let with_prefix = |rest: usize| {
        let mut l = PREFIX.to_vec();
        l.push(Any(rest));
        l
    };
    vec![
        (0x01, vec![Bcd(7), Any(23)]),
        (0x02, vec![Bcd(7), Any(1)]),
        (0x03, vec![Bcd(7), Gun, Any(1)]),
        (0x04, vec![Bcd(7), Gun, Any(1)]),
        (0x05, vec![Bcd(7), Bcd(2)]),
        (0x06, vec![Bcd(7), Bcd(2), Any(1)]),
        (0x09, vec![Bcd(7)]),
        (0x0A, vec![Bcd(7), Bcd(2), Any(81)]),
        (0x12, vec![Bcd(7), Gun]),
        (0x13, vec![Bcd(16), Bcd(7), Gun, Any(36)]),
        (0x15, with_prefix(49)),
        (0x17, with_prefix(21)),
        (0x19, with_prefix(15)),
        (0x19, with_prefix(16)),
        (0x1B, with_prefix(8)),
        (0x1D, with_prefix(4)),
        (0x21, with_prefix(4)),
        (0x23, with_prefix(20)),
        (0x25, with_prefix(7)),
        (0x31, vec![Bcd(7), Gun, Any(43)]),
        (0x32, vec![Bcd(16), Bcd(7), Gun, Bcd(8), Any(6)]),
        (0x33, vec![Bcd(16), Bcd(7), Gun, Any(2)]),
        (0x34, vec![Bcd(16), Bcd(7), Gun, Bcd(8), Any(12)]),
        (0x35, vec![Bcd(7), Gun, Any(2)]),
        (0x36, vec![Bcd(7), Gun]),
        (0x3B, vec![Bcd(16), Bcd(7), Gun, Any(134)]),
        (0x3B, vec![Bcd(16), Bcd(7), Gun, Any(150)]),
        (0x40, vec![Bcd(16), Any(1)]),
        (0x41, vec![Bcd(7), Any(9)]),
        (0x42, vec![Bcd(7), Gun, Any(12)]),
        (0x43, vec![Bcd(7), AnyRange(0, 40)]),
        (0x44, vec![Bcd(7), AnyRange(0, 60)]),
        (0x45, vec![Bcd(7), AnyRange(0, 60)]),
        (0x46, vec![Bcd(7), AnyRange(0, 60)]),
        (0x47, vec![Bcd(7), AnyRange(0, 60)]),
        (0x48, vec![Bcd(7), AnyRange(0, 60)]),
        (0x51, vec![Bcd(7), Any(1)]),
        (0x52, vec![Bcd(7), Any(2)]),
        (0x55, vec![Bcd(7), Any(7)]),
        (0x56, vec![Bcd(7), Any(7)]),
        (0x57, vec![Bcd(7), Any(1)]),
        (0x58, vec![Bcd(7), Bcd(2), Any(81)]),
        (0x61, vec![Bcd(7), Any(1), AnyRange(0, 20)]),
        (0x62, vec![Bcd(7), Any(1), AnyRange(0, 20)]),
        (0x63, vec![Bcd(7), Any(1), AnyRange(0, 20)]),
        (0x91, vec![Bcd(7), Any(1)]),
        (0x92, vec![Bcd(7), Any(1)]),
        (0x93, vec![Bcd(7), Any(1)]),
        (0x94, vec![Bcd(7), Any(87)]),
        (0xA1, vec![Bcd(7), Gun, AnyRange(0, 40)]),
        (0xA2, vec![Bcd(16), Bcd(7), Gun, AnyRange(0, 40)]),
        (0xA3, vec![Bcd(16), Bcd(7), Gun, AnyRange(0, 40)]),
        (0xA4, vec![Bcd(16), Bcd(7), Gun, AnyRange(0, 40)]),
    ]
}

/// The layouts of one frame type.
pub fn layouts_of(frame_type: u8) -> Vec<Vec<Field>> {
    layouts()
        .into_iter()
        .filter(|(t, _)| *t == frame_type)
        .map(|(_, l)| l)
        .collect()
}

/// A valid body of `frame_type` (any of its layouts).
pub fn body_of(frame_type: u8) -> BoxedStrategy<Vec<u8>> {
    let options: Vec<BoxedStrategy<Vec<u8>>> =
        layouts_of(frame_type).into_iter().map(body).collect();
    proptest::strategy::Union::new(options).boxed()
}
