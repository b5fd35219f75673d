//! CVSS vector strings and their scores, for the image scanner's severities.
//!
//! Parses CVSS v3.0, v3.1 and v4.0 vector strings strictly (every base metric exactly once,
//! only values the specification defines, nothing unknown) and computes the scores with the
//! specifications' own algorithms: the v3.x equations with the version's Roundup, and the v4.0
//! MacroVector lookup with interpolation. Scores are computed, never copied from an advisory,
//! so a feed cannot claim a severity its vector does not support.
//!
//! The qualitative rating is the workspace's one [`Severity`] (from `ironroot-severity`,
//! re-exported here), so a score's rating needs no mapping anywhere else.
//!
//! This crate must never do I/O, hold global state or depend on anything beyond `thiserror`
//! and `ironroot-severity` (and `serde` behind the `serde` feature); it is a pure function
//! from strings to scores.
//!
//! ```
//! let v = ironroot_cvss::Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")?;
//! assert_eq!(v.base_score().to_string(), "7.5");
//! assert_eq!(v.severity(), ironroot_cvss::Severity::High);
//! # Ok::<(), ironroot_cvss::CvssError>(())
//! ```
#![forbid(unsafe_code)]

mod components;
mod error;
mod score;
pub mod v3;
pub mod v4;

pub use error::CvssError;
pub use score::{Score, Severity};

/// The longest vector accepted. A complete v4.0 vector with every optional metric is about 200
/// bytes; anything much longer is not a vector.
pub const MAX_VECTOR_LEN: usize = 512;

/// A parsed CVSS vector of any supported version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cvss {
    /// CVSS v3.0 or v3.1.
    V3(v3::CvssV3),
    /// CVSS v4.0.
    V4(v4::CvssV4),
}

impl Cvss {
    /// Parses a vector string such as `CVSS:3.1/AV:N/...` or `CVSS:4.0/AV:N/...`.
    ///
    /// Surrounding whitespace is ignored; anything else that is not part of the specification's
    /// grammar is an error.
    pub fn parse(vector: &str) -> Result<Cvss, CvssError> {
        let vector = vector.trim();
        if vector.is_empty() {
            return Err(CvssError::Empty);
        }
        if vector.len() > MAX_VECTOR_LEN {
            return Err(CvssError::TooLong {
                len: vector.len(),
                max: MAX_VECTOR_LEN,
            });
        }
        let (prefix, body) = vector.split_once('/').unwrap_or((vector, ""));
        match prefix {
            "CVSS:3.0" => v3::CvssV3::parse_body(v3::MinorVersion::V3_0, body).map(Cvss::V3),
            "CVSS:3.1" => v3::CvssV3::parse_body(v3::MinorVersion::V3_1, body).map(Cvss::V3),
            "CVSS:4.0" => v4::CvssV4::parse_body(body).map(Cvss::V4),
            other => Err(CvssError::UnsupportedVersion(other.to_owned())),
        }
    }

    /// The base score (v3.x base score; v4.0 CVSS-B).
    pub fn base_score(&self) -> Score {
        match self {
            Cvss::V3(v) => v.base_score(),
            Cvss::V4(v) => v.base_score(),
        }
    }

    /// The score using every metric the vector carries: for v3.x the environmental score if any
    /// environmental metric is defined, else the temporal score; for v4.0 CVSS-B/BT/BE/BTE.
    pub fn score(&self) -> Score {
        match self {
            Cvss::V3(v) if v.has_environmental() => v.environmental_score(),
            Cvss::V3(v) => v.temporal_score(),
            Cvss::V4(v) => v.score(),
        }
    }

    /// The qualitative rating of the base score.
    pub fn severity(&self) -> Severity {
        self.base_score().severity()
    }
}

impl std::str::FromStr for Cvss {
    type Err = CvssError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cvss::parse(s)
    }
}
