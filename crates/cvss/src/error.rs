//! Why a vector string was refused.

use thiserror::Error;

/// A vector string that is not a well-formed CVSS v3.0, v3.1 or v4.0 vector.
///
/// Every variant names the offending part, so a scanner can show it next to the advisory.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CvssError {
    /// The input is empty (or only whitespace).
    #[error("empty CVSS vector")]
    Empty,
    /// The input is longer than any valid vector can be.
    #[error("CVSS vector is {len} bytes, longer than the {max}-byte limit")]
    TooLong {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The prefix is not `CVSS:3.0`, `CVSS:3.1` or `CVSS:4.0`.
    #[error("unsupported CVSS version prefix {0:?} (expected CVSS:3.0, CVSS:3.1 or CVSS:4.0)")]
    UnsupportedVersion(String),
    /// A `/`-separated component is not `METRIC:VALUE`.
    #[error("malformed component {0:?}: expected METRIC:VALUE")]
    MalformedComponent(String),
    /// The same metric appears twice.
    #[error("metric {0} appears more than once")]
    DuplicateMetric(String),
    /// The metric abbreviation is not defined by this CVSS version.
    #[error("unknown metric {metric:?} for CVSS {version}")]
    UnknownMetric {
        /// The abbreviation found.
        metric: String,
        /// `3.0`, `3.1` or `4.0`.
        version: &'static str,
    },
    /// The metric is known but the value is not one of its values.
    #[error("metric {metric} has unknown value {value:?} (allowed: {allowed})")]
    UnknownValue {
        /// The metric abbreviation.
        metric: &'static str,
        /// The value found.
        value: String,
        /// The allowed values, `/`-separated.
        allowed: String,
    },
    /// A mandatory base metric is absent.
    #[error("mandatory base metric {0} is missing")]
    MissingMetric(&'static str),
}

impl CvssError {
    /// A stable, machine-readable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong { .. } => "too_long",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::MalformedComponent(_) => "malformed_component",
            Self::DuplicateMetric(_) => "duplicate_metric",
            Self::UnknownMetric { .. } => "unknown_metric",
            Self::UnknownValue { .. } => "unknown_value",
            Self::MissingMetric(_) => "missing_metric",
        }
    }
}
