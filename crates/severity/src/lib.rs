//! The one severity scale every ironroot finding is rated on: vulnerabilities (from CVSS
//! scores or a distribution's rating), configuration checks, secrets, malware and hostile
//! layer entries. Each crate that reports findings re-exports this type, so a finding moves
//! from one crate's report to another's without a hand-written mapping that could disagree.
//!
//! The serialized form (behind the `serde` feature) and `Display` are the lowercase names
//! (`"critical"`); the reports, rules files and tables of every crate rely on them, so they
//! never change.
//!
//! This crate must never do I/O, hold state or depend on anything beyond `thiserror` (and
//! `serde` behind its feature): it is a vocabulary, not a policy.
#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

/// How bad a finding is, lowest first: the order is the declaration order, so `>=` compares
/// severities (`--fail-on high` fails on `High` and `Critical`).
///
/// `Unknown` is a finding nothing rated: it sorts lowest but is not harmless, and callers
/// show it rather than drop it. CVSS's rating `None` (score 0.0) is `Info`: the finding
/// exists, its score rates no impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Severity {
    Unknown,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// A name that is not one of the severities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: severities are unknown, info, low, medium, high, critical")]
pub struct UnknownSeverity(pub String);

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 6] = [
        Severity::Unknown,
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name, as serialized and displayed (`"critical"`).
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Exactly the lowercase name, as files written for machines carry it (rules files,
    /// YARA metadata): a different spelling there is a typo, not a severity.
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.name() == name)
    }

    /// A name as a person types it: surrounding whitespace and ASCII case are ignored.
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        Severity::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s))
    }

    /// The qualitative rating of a CVSS score given in tenths (75 for 7.5), by the rating
    /// scale that CVSS v3.x and v4.0 share: 0.0 None (here `Info`), 0.1-3.9 Low,
    /// 4.0-6.9 Medium, 7.0-8.9 High, 9.0-10.0 Critical. Tenths keep the band edges exact.
    pub const fn from_cvss_tenths(tenths: u8) -> Severity {
        match tenths {
            0 => Severity::Info,
            1..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            70..=89 => Severity::High,
            // Scores stop at 10.0; anything above is no less than critical.
            _ => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// As [`Severity::parse`]: whitespace and ASCII case are ignored.
    fn from_str(s: &str) -> Result<Severity, UnknownSeverity> {
        Severity::parse(s).ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}

#[cfg(test)]
mod tests;
