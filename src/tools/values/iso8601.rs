//! Strict ISO-8601 dates and times, as SQLite applications store them in DATE/DATETIME/TIMESTAMP
//! columns (and as SQLite's own date functions read them):
//!
//! - date: `YYYY-MM-DD`
//! - date-time: `YYYY-MM-DD` then `T` or a space, then a time, then an optional offset
//! - time: `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` (1 to 9 fraction digits)
//! - offset: `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH`
//!
//! Every field must be a real calendar value (no February 30th, no 24:00, no leap second).

use chrono::{NaiveDate, NaiveTime};

/// A date or a date-time.
pub fn is_date_or_datetime(text: &str) -> bool {
    let Some(rest) = date(text.as_bytes()) else { return false };
    match rest {
        [] => true,
        [b'T' | b' ', time_part @ ..] => time(time_part).is_some_and(offset),
        _ => false,
    }
}

/// A time of day, with an optional offset.
pub fn is_time(text: &str) -> bool {
    time(text.as_bytes()).is_some_and(offset)
}

fn number(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, b| n.checked_mul(10)?.checked_add(u32::from(b - b'0')))
}

/// `YYYY-MM-DD`; returns what follows.
fn date(b: &[u8]) -> Option<&[u8]> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = number(&b[0..4])?;
    let month = number(&b[5..7])?;
    let day = number(&b[8..10])?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(&b[10..])
}

/// `HH:MM[:SS[.fraction]]`; returns what follows.
fn time(b: &[u8]) -> Option<&[u8]> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let hour = number(&b[0..2])?;
    let minute = number(&b[3..5])?;
    let mut rest = &b[5..];
    let mut second = 0;
    if let [b':', s1, s2, tail @ ..] = rest {
        second = number(&[*s1, *s2])?;
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&digits) {
                return None;
            }
            rest = &tail[digits..];
        }
    }
    NaiveTime::from_hms_opt(hour, minute, second)?;
    Some(rest)
}

/// Nothing, `Z`, `±HH:MM`, `±HHMM` or `±HH`.
fn offset(b: &[u8]) -> bool {
    let (hours, minutes) = match b {
        [] | [b'Z'] => return true,
        [b'+' | b'-', h1, h2] => ([*h1, *h2], [b'0', b'0']),
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => ([*h1, *h2], [*m1, *m2]),
        _ => return false,
    };
    matches!((number(&hours), number(&minutes)), (Some(h), Some(m)) if h <= 23 && m <= 59)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iso_dates_and_date_times() {
        for ok in [
            "2024-05-01",
            "2024-02-29",
            "2024-05-01T13:45",
            "2024-05-01 13:45:00",
            "2024-05-01T13:45:00.123",
            "2024-05-01T13:45:00.123456789Z",
            "2024-05-01T13:45:00+02:00",
            "2024-05-01T13:45:00-0330",
            "2024-05-01T13:45+05",
        ] {
            assert!(is_date_or_datetime(ok), "{ok}");
        }
        assert!(is_time("09:15") && is_time("09:15:30.5") && is_time("23:59:59Z"));
    }

    #[test]
    fn refuses_garbage_and_impossible_values() {
        for bad in [
            "",
            "garbage",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-5-1",
            "24-05-01",
            "2024-05-01T",
            "2024-05-01T24:00",
            "2024-05-01T12:60",
            "2024-05-01T23:59:60",
            "2024-05-01T12:00:00.",
            "2024-05-01T12:00:00.1234567890",
            "2024-05-01T12:00:00+24:00",
            "2024-05-01T12:00:00+02:60",
            "2024-05-01T12:00:00 UTC",
            "2024-05-01x",
            "２０２４-05-01",
            "2024-05-01T12:00:00Z; DROP TABLE x",
            "+2024-05-01",
        ] {
            assert!(!is_date_or_datetime(bad), "{bad}");
        }
        assert!(!is_time("9:15") && !is_time("09:15:") && !is_time("2024-05-01"));
    }
}
