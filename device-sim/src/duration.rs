//! Parsing of human durations on the command line (`10s`, `500ms`, `2m`, `1h`).

use std::time::Duration;

/// Milliseconds per second.
const MS_PER_S: u64 = 1_000;
/// Seconds per minute.
const S_PER_MIN: u64 = 60;
/// Seconds per hour.
const S_PER_HOUR: u64 = 3_600;

/// Parses `<integer><unit>` with unit `ms`, `s`, `m` or `h`; a bare integer means seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: expected a number followed by ms, s, m or h"))?;
    let millis = match unit {
        "ms" => Some(value),
        "" | "s" => value.checked_mul(MS_PER_S),
        "m" => value.checked_mul(S_PER_MIN * MS_PER_S),
        "h" => value.checked_mul(S_PER_HOUR * MS_PER_S),
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use ms, s, m or h)"
            ))
        }
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}`: too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_ms_s_m_h_and_bare_seconds_are_understood() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
    }

    #[test]
    fn garbage_and_unknown_units_are_refused() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("10d").is_err());
    }
}
