//! The one string format OCPP schemas constrain: RFC 3339 `date-time`.

/// Length of `YYYY-MM-DDTHH:MM:SS`.
const DATE_TIME_PREFIX_LEN: usize = 19;

/// Whether `s` is an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z` or `±HH:MM`.
/// A missing zone is tolerated (field chargers send local times); anything else is rejected.
pub(crate) fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(head) = b.get(..DATE_TIME_PREFIX_LEN) else {
        return false;
    };
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let head_ok = head.iter().zip(shape.iter()).all(|(c, s)| match s {
        b'd' => c.is_ascii_digit(),
        b'T' => *c == b'T' || *c == b't' || *c == b' ',
        other => c == other,
    });
    if !head_ok {
        return false;
    }
    let field = |from: usize| -> u32 {
        b.get(from..from + 2)
            .map(|d| d.iter().fold(0u32, |acc, x| acc * 10 + u32::from(x - b'0')))
            .unwrap_or(u32::MAX)
    };
    let (month, day, hour, minute, second) = (field(5), field(8), field(11), field(14), field(17));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut rest = b.get(DATE_TIME_PREFIX_LEN..).unwrap_or_default();
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = frac.get(digits..).unwrap_or_default();
    }
    match rest {
        [] | [b'Z'] | [b'z'] => true,
        [sign, h1, h2, b':', m1, m2] => {
            (*sign == b'+' || *sign == b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}
