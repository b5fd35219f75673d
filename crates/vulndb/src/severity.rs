//! A finding's severity: from the CVSS vector if the advisory carries one (v4 before v3,
//! computed by `ironroot-cvss`, never copied), else from the distribution's own rating.

use ironroot_cvss::{Cvss, Score, Severity};

/// Where a finding's severity came from, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SeverityBasis {
    /// Nothing rated it: callers must treat it as "needs review", not as harmless.
    Unrated,
    /// The distribution's rating (Debian urgency, Ubuntu priority).
    Distribution,
    /// A CVSS v3.x vector.
    CvssV3,
    /// A CVSS v4.0 vector.
    CvssV4,
}

/// The rating of one advisory for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// The qualitative severity; `None` when unrated.
    pub severity: Option<Severity>,
    /// The CVSS base score when the severity came from a vector.
    pub cvss_score: Option<Score>,
    /// Where it came from.
    pub basis: SeverityBasis,
    /// The distribution's own word (`unimportant`, `medium`...), kept for display.
    pub distribution_rating: Option<String>,
}

impl Rating {
    pub(crate) const UNRATED: Rating = Rating {
        severity: None,
        cvss_score: None,
        basis: SeverityBasis::Unrated,
        distribution_rating: None,
    };

    /// Builds the rating from the vectors and distribution word an advisory carries.
    /// A vector that does not parse is skipped (and counted by the caller), not trusted.
    pub(crate) fn from_parts(
        v4: Option<&str>,
        v3: Option<&str>,
        distribution: Option<&str>,
    ) -> (Rating, bool) {
        let mut bad_vector = false;
        let mut from_vector = |vector: Option<&str>, basis| {
            let cvss = Cvss::parse(vector?).map_err(|_| bad_vector = true).ok()?;
            let score = cvss.base_score();
            Some(Rating {
                severity: Some(score.severity()),
                cvss_score: Some(score),
                basis,
                distribution_rating: distribution.map(str::to_owned),
            })
        };
        let rating = from_vector(v4, SeverityBasis::CvssV4)
            .or_else(|| from_vector(v3, SeverityBasis::CvssV3))
            .unwrap_or_else(|| Rating::from_distribution(distribution));
        (rating, bad_vector)
    }

    /// Debian urgency (`high`, `medium`, `low`, `unimportant`, with the tracker's `**`
    /// uncertainty marks stripped) or Ubuntu priority. `unimportant`/`negligible` become
    /// Low: the CVSS scale has nothing lower that is not "None", and None would read as safe.
    pub(crate) fn from_distribution(word: Option<&str>) -> Rating {
        let Some(word) = word else {
            return Rating::UNRATED;
        };
        let severity = match word.trim_end_matches('*').to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" | "unimportant" | "negligible" => Some(Severity::Low),
            _ => None,
        };
        Rating {
            severity,
            cvss_score: None,
            basis: if severity.is_some() {
                SeverityBasis::Distribution
            } else {
                SeverityBasis::Unrated
            },
            distribution_rating: Some(word.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const V40: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

    #[test]
    fn v4_wins_over_v3_and_v3_over_urgency() {
        let (r, bad) = Rating::from_parts(Some(V40), Some(V31), Some("low"));
        assert!(!bad);
        assert_eq!(r.basis, SeverityBasis::CvssV4);
        assert_eq!(r.severity, Some(Severity::Critical));
        let (r, _) = Rating::from_parts(None, Some(V31), Some("low"));
        assert_eq!(r.basis, SeverityBasis::CvssV3);
        assert_eq!(r.cvss_score.map(|s| s.to_string()), Some("9.8".into()));
        assert_eq!(r.distribution_rating.as_deref(), Some("low"));
    }

    #[test]
    fn bad_vector_falls_back_and_is_reported() {
        let (r, bad) = Rating::from_parts(None, Some("CVSS:3.1/AV:X"), Some("medium"));
        assert!(bad);
        assert_eq!(r.basis, SeverityBasis::Distribution);
        assert_eq!(r.severity, Some(Severity::Medium));
    }

    #[test]
    fn debian_urgencies_map() {
        let s = |w| Rating::from_distribution(Some(w)).severity;
        assert_eq!(s("high"), Some(Severity::High));
        assert_eq!(s("medium**"), Some(Severity::Medium));
        assert_eq!(s("low"), Some(Severity::Low));
        assert_eq!(s("unimportant"), Some(Severity::Low));
        assert_eq!(s("not yet assigned"), None);
        assert_eq!(s("end-of-life"), None);
        assert_eq!(Rating::from_distribution(None), Rating::UNRATED);
    }
}
