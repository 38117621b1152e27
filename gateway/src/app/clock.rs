//! The gateway's wall clock in the chargers' local time, for the YKC codec (time sync, transaction serials).
//!
//! YKC piles keep local time with no zone; Chinese deployments run on UTC+8, which is the built-in offset. The
//! date arithmetic is Howard Hinnant's `civil_from_days`, so no calendar crate is needed.

use std::time::{SystemTime, UNIX_EPOCH};

use chargegate_codec::ykc::plugin::LocalClock;
use chargegate_codec::ykc::Cp56Time2a;

/// UTC+8 (China Standard Time), in seconds.
pub const DEFAULT_UTC_OFFSET_SECS: i64 = 8 * 3600;
const SECS_PER_DAY: i64 = 86_400;
const SECS_PER_HOUR: i64 = 3_600;
const SECS_PER_MINUTE: i64 = 60;
const MS_PER_SEC: i64 = 1_000;
/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const EPOCH_SHIFT_DAYS: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;
/// ISO weekday of 1970-01-01 (a Thursday) minus one.
const EPOCH_WEEKDAY: i64 = 3;
const DAYS_PER_WEEK: i64 = 7;

/// The system clock shifted by a fixed offset.
#[derive(Debug, Clone, Copy)]
pub struct SystemLocalClock {
    /// Offset from UTC, seconds.
    pub utc_offset_secs: i64,
}

impl Default for SystemLocalClock {
    fn default() -> Self {
        SystemLocalClock {
            utc_offset_secs: DEFAULT_UTC_OFFSET_SECS,
        }
    }
}

impl LocalClock for SystemLocalClock {
    fn now_local(&self) -> Cp56Time2a {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        local_time(ms, self.utc_offset_secs)
    }
}

/// The CP56Time2a of Unix time `unix_ms` shifted by `offset_secs`.
pub fn local_time(unix_ms: i64, offset_secs: i64) -> Cp56Time2a {
    let ms = unix_ms.saturating_add(offset_secs.saturating_mul(MS_PER_SEC));
    let secs = ms.div_euclid(MS_PER_SEC);
    let days = secs.div_euclid(SECS_PER_DAY);
    let of_day = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Cp56Time2a {
        year: u16::try_from(year).unwrap_or_default(),
        month: month as u8,
        day: day as u8,
        hour: (of_day / SECS_PER_HOUR) as u8,
        minute: (of_day % SECS_PER_HOUR / SECS_PER_MINUTE) as u8,
        millis: ((of_day % SECS_PER_MINUTE) * MS_PER_SEC + ms.rem_euclid(MS_PER_SEC)) as u16,
        day_of_week: ((days + EPOCH_WEEKDAY).rem_euclid(DAYS_PER_WEEK) + 1) as u8,
        invalid: false,
        summer_time: false,
    }
}

/// Unix time `unix_ms` as an RFC 3339 UTC timestamp with milliseconds (`2025-08-21T04:12:12.345Z`), the form
/// OCPP's `currentTime` fields take.
pub fn utc_rfc3339(unix_ms: i64) -> String {
    format!("{}Z", local_time(unix_ms, 0))
}

/// The OCPP codecs' wall clock: the system time in UTC.
pub fn system_utc_clock() -> chargegate_codec::ocpp::session::WallClock {
    std::sync::Arc::new(|| {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        utc_rfc3339(ms)
    })
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + EPOCH_SHIFT_DAYS;
    let era = z.div_euclid(DAYS_PER_ERA);
    let doe = z - era * DAYS_PER_ERA;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_becomes_beijing_wall_clock_time() {
        // 2025-08-21T04:12:12.345Z is 12:12:12.345 in Beijing, a Thursday.
        let t = local_time(1_755_749_532_345, DEFAULT_UTC_OFFSET_SECS);
        assert_eq!(t.to_string(), "2025-08-21T12:12:12.345");
        assert_eq!(t.day_of_week, 4);
    }

    #[test]
    fn ocpp_time_is_rfc3339_utc() {
        assert_eq!(utc_rfc3339(1_755_749_532_345), "2025-08-21T04:12:12.345Z");
    }

    #[test]
    fn a_leap_day_is_a_day() {
        // 2024-02-29T00:00:00Z.
        assert_eq!(
            local_time(1_709_164_800_000, 0).to_string(),
            "2024-02-29T00:00:00.000"
        );
    }
}
