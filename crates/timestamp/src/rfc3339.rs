//! RFC 3339 times as reports, ignore files, feeds and key release policies write them, on
//! the `time` crate.
//!
//! Parsing is stricter than RFC 3339's grammar in two ways that ironroot has always kept:
//! the date and time are separated by `T`, `t` or a space only (the RFC lets any character
//! stand there), and a leap second (`:60`) is refused rather than folded into the next
//! minute. Times before 1970 are refused: everything here is unix seconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Unix seconds from an RFC 3339 time (`Z` or a `+HH:MM`/`-HH:MM` offset; fractions of a
/// second dropped); `None` for anything else.
pub fn parse(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let separator_ok = matches!(b.get(10), Some(b'T' | b't' | b' '));
    if !separator_ok || b.get(17..19) == Some(b"60") {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

/// Unix seconds as RFC 3339 UTC, e.g. `2030-01-31T12:00:00Z`. Past the year 9999, which
/// RFC 3339 cannot write, the last second it can.
pub fn format(t: u64) -> String {
    const LAST: &str = "9999-12-31T23:59:59Z";
    let Ok(secs) = i64::try_from(t) else {
        return LAST.to_owned();
    };
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| LAST.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_times() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2100-01-01T00:00:00Z"), Some(4_102_444_800));
        assert_eq!(parse("2024-02-29t12:30:15.250z"), Some(1_709_209_815));
        assert_eq!(parse("2024-02-29 14:30:15+02:00"), Some(1_709_209_815));
        assert_eq!(parse("2024-02-29T07:00:15-05:30"), Some(1_709_209_815));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for s in [
            "",
            "tomorrow",
            "2030-01-31",
            "2030-01-31T12:00:00",
            "2023-02-29T00:00:00Z",
            "2030-13-01T00:00:00Z",
            "2030-01-31T24:00:00Z",
            "2030-01-31T12:00:00.Z",
            "2030-01-31T12:00:00+2:00",
            "1969-12-31T23:59:59Z",
            "-5",
            "2030-01-31X12:00:00Z",
            "2016-12-31T23:59:60Z",
            "2030-01-31T12:00:00+24:00",
            "2030-01-31T12:00:00+01:60",
            "2030-01-31T12:00:00Zjunk",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }

    #[test]
    fn formats_utc_and_round_trips() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_709_209_815), "2024-02-29T12:30:15Z");
        for t in [0, 951_782_400, 1_709_209_815, 4_102_444_799, 4_102_444_800] {
            assert_eq!(parse(&format(t)), Some(t));
        }
        assert_eq!(format(u64::MAX), "9999-12-31T23:59:59Z");
    }
}
