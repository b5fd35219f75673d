//! Scores with one decimal, and their qualitative severity.

use std::fmt;

pub use ironroot_severity::Severity;

/// A CVSS score between 0.0 and 10.0 with one decimal, held as tenths so that it compares and
/// prints exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u8);

impl Score {
    /// The lowest score.
    pub const ZERO: Score = Score(0);
    /// The highest score.
    pub const MAX: Score = Score(100);

    /// The score for `tenths` tenths, or `None` above 10.0.
    pub const fn from_tenths(tenths: u8) -> Option<Score> {
        if tenths <= 100 {
            Some(Score(tenths))
        } else {
            None
        }
    }

    /// Clamps into 0..=100 tenths: the specifications clamp their results the same way.
    pub(crate) fn clamped(tenths: i64) -> Score {
        // The clamp makes the cast lossless.
        Score(tenths.clamp(0, 100) as u8)
    }

    /// The score in tenths (75 for 7.5).
    pub const fn tenths(self) -> u8 {
        self.0
    }

    /// The score as a float (7.5), for display and JSON; compare scores with `Score` itself.
    pub fn value(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// The qualitative rating of this score (the rating scale is the same in v3.x and
    /// v4.0; its rating "None" is `Severity::Info`).
    pub const fn severity(self) -> Severity {
        Severity::from_cvss_tenths(self.0)
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.value())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(t: u8) -> Score {
        Score::from_tenths(t).unwrap()
    }

    #[test]
    fn severity_boundaries_follow_the_rating_scale() {
        assert_eq!(s(0).severity(), Severity::Info);
        assert_eq!(s(1).severity(), Severity::Low);
        assert_eq!(s(39).severity(), Severity::Low);
        assert_eq!(s(40).severity(), Severity::Medium);
        assert_eq!(s(69).severity(), Severity::Medium);
        assert_eq!(s(70).severity(), Severity::High);
        assert_eq!(s(89).severity(), Severity::High);
        assert_eq!(s(90).severity(), Severity::Critical);
        assert_eq!(s(100).severity(), Severity::Critical);
    }

    #[test]
    fn scores_above_ten_do_not_exist() {
        assert!(Score::from_tenths(101).is_none());
        assert_eq!(Score::clamped(-5), Score::ZERO);
        assert_eq!(Score::clamped(250), Score::MAX);
    }

    #[test]
    fn display_has_exactly_one_decimal() {
        assert_eq!(s(0).to_string(), "0.0");
        assert_eq!(s(75).to_string(), "7.5");
        assert_eq!(s(100).to_string(), "10.0");
    }
}
