//! Fixed-size copies and in-place digits for the event renderers ([`super::json`], [`super::text::EventId`]):
//! short text copied as overlapping 4/8/16-byte words and numbers written straight to their place, so rendering
//! an event calls neither `memmove` nor a formatting routine per piece (which was most of rendering's cost).

/// Copies `src` (at most `M` bytes) to the front of `dst` as fixed-size copies: its first and last 16, 8 or 4
/// bytes (which overlap), or byte by byte below four.
#[inline(always)]
pub(super) fn copy_short<const M: usize>(dst: &mut [u8; M], src: &[u8]) {
    let n = src.len();
    if n >= 16 {
        copy_ends::<16, M>(dst, src);
    } else if n >= 8 {
        copy_ends::<8, M>(dst, src);
    } else if n >= 4 {
        copy_ends::<4, M>(dst, src);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

/// Copies `src` (`N..=2N` bytes, at most `M`) into the front of `dst` as its first and last `N` bytes.
#[inline(always)]
fn copy_ends<const N: usize, const M: usize>(dst: &mut [u8; M], src: &[u8]) {
    let n = src.len().min(M);
    if let (Some(d), Some(s)) = (dst.get_mut(..N), src.get(..N)) {
        d.copy_from_slice(s);
    }
    let tail = n.saturating_sub(N);
    if let (Some(d), Some(s)) = (dst.get_mut(tail..tail + N), src.get(tail..tail + N)) {
        d.copy_from_slice(s);
    }
}

/// Two decimal digits for every value below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal into `text` from `at` (digits that do not fit are left out), in place from its last
/// digit back; the index after the last digit. Straight into the destination: digits first written to a scratch
/// array and then copied as one wide load stall on store forwarding (a third of the float path's time).
#[inline(always)]
pub(super) fn decimal<const M: usize>(text: &mut [u8; M], at: usize, mut v: u64) -> usize {
    let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let end = at + n;
    let mut i = end;
    if v >= 100_000_000 {
        // The last eight digits as two independent halves: a timestamp's 13 digits one pair at a time were a
        // chain of seven dependent divisions (multiplications), the slowest part of rendering an event.
        let low = v % 100_000_000;
        v /= 100_000_000;
        i = i.saturating_sub(8);
        four_digits(text, i, low / 10_000);
        four_digits(text, i + 4, low % 10_000);
    }
    while v >= 100 {
        let pair = usize::try_from(v % 100).unwrap_or(0) * 2;
        v /= 100;
        i = i.saturating_sub(2);
        if let (Some(d), Some(s)) = (text.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(s);
        }
    }
    if v >= 10 {
        let pair = usize::try_from(v).unwrap_or(0) * 2;
        if let (Some(d), Some(s)) = (text.get_mut(at..at + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(s);
        }
    } else if let Some(d) = text.get_mut(at) {
        *d = b'0' + v as u8;
    }
    end.min(M)
}

/// Writes `v` (below 10,000) as exactly four decimal digits, leading zeros included, into `text` from `at` (digits
/// that do not fit are left out).
#[inline(always)]
pub(super) fn four_digits<const M: usize>(text: &mut [u8; M], at: usize, v: u64) {
    let (high, low) = (
        usize::try_from(v / 100 % 100).unwrap_or(0),
        usize::try_from(v % 100).unwrap_or(0),
    );
    for (i, pair) in [(at, high), (at + 2, low)] {
        if let (Some(d), Some(s)) = (text.get_mut(i..i + 2), PAIRS.get(pair * 2..pair * 2 + 2)) {
            d.copy_from_slice(s);
        }
    }
}

/// Writes `v` in lower-case hex into `text` from `at` (digits that do not fit are left out); the index after the
/// last digit.
#[inline(always)]
pub(super) fn hex<const M: usize>(text: &mut [u8; M], at: usize, mut v: u64) -> usize {
    let n = (v.checked_ilog2().unwrap_or(0) / 4 + 1) as usize;
    let end = at + n;
    for slot in text.get_mut(at..end).into_iter().flatten().rev() {
        *slot = b"0123456789abcdef"[(v & 0xf) as usize];
        v >>= 4;
    }
    end.min(M)
}

#[cfg(test)]
mod tests {
    use super::{copy_short, decimal, four_digits, hex};

    #[test]
    fn short_copies_place_every_length_exactly() {
        let src: Vec<u8> = (1..=32).collect();
        for n in 0..=32 {
            let mut dst = [0u8; 32];
            copy_short(&mut dst, &src[..n]);
            assert_eq!(&dst[..n], &src[..n], "{n}");
            assert!(dst[n..].iter().all(|&b| b == 0), "{n}: wrote past the end");
        }
    }

    #[test]
    fn four_digits_keep_their_leading_zeros() {
        for v in [0u64, 7, 42, 305, 1000, 9999] {
            let mut text = [b'x'; 8];
            four_digits(&mut text, 3, v);
            assert_eq!(&text[3..7], format!("{v:04}").as_bytes());
            assert_eq!(
                (text[2], text[7]),
                (b'x', b'x'),
                "{v}: wrote outside its four places"
            );
        }
    }

    #[test]
    fn digits_render_like_std_at_every_length_and_offset() {
        let mut values = vec![0u64, u64::MAX];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1]);
            p = next;
        }
        values.extend([
            0xf,
            0x10,
            0xdead_beef,
            1 << 63,
            1_763_900_000_123,
            100_000_000_000_000,
        ]);
        // And a spread of others (a fixed LCG), timestamps' 13 digits among them.
        let mut x = 1u64;
        for _ in 0..2_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            values.extend([x, x >> 20, x % 10_000_000_000_000]);
        }
        for v in values {
            for at in [0, 3] {
                let mut text = [b'x'; 32];
                let end = decimal(&mut text, at, v);
                assert_eq!(&text[at..end], v.to_string().as_bytes());
                let end = hex(&mut text, at, v);
                assert_eq!(&text[at..end], format!("{v:x}").as_bytes());
            }
        }
    }
}
