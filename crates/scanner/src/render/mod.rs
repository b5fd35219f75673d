//! Output formats of a [`ScanReport`](crate::ScanReport) for other tools: SARIF 2.1.0 for
//! code-scanning dashboards, CycloneDX 1.5 and SPDX 2.3 for SBOM consumers, and the cosign
//! vulnerability predicate in an in-toto statement for signed attestations.
//!
//! Every function here is pure: it takes the report and whatever a document needs that the
//! report does not hold (a serial number, a namespace), and returns JSON. Nothing here reads a
//! clock or a random source, so the same report always renders to the same bytes and a test
//! can compare them; the caller (the CLI) draws the UUID and picks the namespace. A value a
//! format would reject (a timestamp SPDX cannot hold, a malformed UUID) is a
//! [`RenderError`], never a document that a consumer would throw away later.

mod cosign;
mod cyclonedx;
mod purl;
mod sarif;
mod spdx;

pub use cosign::{cosign_vuln, in_toto_statement, Invocation, COSIGN_VULN_PREDICATE_TYPE};
pub use cyclonedx::cyclonedx;
pub use purl::Purl;
pub use sarif::sarif;
pub use spdx::spdx;

use crate::report::Severity;
use ironroot_timestamp::rfc3339;
use std::collections::HashSet;

/// The tool name every format records.
pub const TOOL_NAME: &str = "ironroot";

/// Where the tool is described. ironroot has no public home page yet, so this is the generic
/// package URL naming it: an absolute URI (SARIF requires one) that claims no location.
pub const TOOL_URI: &str = "pkg:generic/ironroot";

/// The text of one check rule, as a check catalogue knows it (`ironroot-imagecheck`'s
/// `rules()`, the content scanner's), passed in so that this crate depends on neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleText<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub remediation: &'a str,
}

/// A value that the target format cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("not a UUID, as a BOM serial number needs: {0:?}")]
    SerialNumber(String),
    #[error("not an absolute URI without a fragment, as an SPDX document namespace needs: {0:?}")]
    DocumentNamespace(String),
    #[error("not an RFC 3339 timestamp in UTC (…Z): {0:?}")]
    Timestamp(String),
    #[error("not a sha256 digest: {0:?}")]
    Digest(String),
    #[error("the report could not be turned into JSON: {0}")]
    Report(String),
}

/// Echoes at most this much of a refused value, so an error stays one line.
const ECHO: usize = 80;

fn echo(s: &str) -> String {
    s.chars().take(ECHO).collect()
}

/// An RFC 3339 UTC timestamp cut to whole seconds (`2024-05-01T10:00:00Z`): the one shape
/// that SPDX's schema accepts and that the others accept too. Offsets other than `Z` are
/// refused rather than converted: the scanner writes UTC, and anything else was edited.
/// The time itself is read by the workspace's one parser, so a date that does not exist
/// (month 13, a leap second, before 1970) is refused too.
pub(crate) fn utc_seconds(s: &str) -> Result<String, RenderError> {
    let err = || RenderError::Timestamp(echo(s));
    // The parser also takes a space between date and time and any offset; SPDX takes neither.
    let b = s.as_bytes();
    let utc_shape = matches!(b.get(10), Some(b'T' | b't')) && matches!(b.last(), Some(b'Z' | b'z'));
    if !utc_shape {
        return Err(err());
    }
    rfc3339::parse(s).map(rfc3339::format).ok_or_else(err)
}

/// `sha256:<hex>` or bare hex, as the 64 lowercase hex digits in-toto and CycloneDX want.
pub(crate) fn sha256_hex(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    (hex.len() == 64 && hex.bytes().all(|c| c.is_ascii_hexdigit())).then(|| hex.to_lowercase())
}

/// The score GitHub code scanning files a finding under (it reads `security-severity` as
/// critical above 9.0, high from 7.0, medium from 4.0, low below): the CVSS base score when
/// one is known, else the middle of the severity's band. Info and unknown have none, so
/// that a tool reading the score does not take an unrated finding for a harmless one.
pub(crate) fn security_severity(severity: Severity, cvss: Option<f64>) -> Option<f64> {
    if let Some(score) = cvss.filter(|s| (0.0..=10.0).contains(s)) {
        return Some(score);
    }
    match severity {
        Severity::Critical => Some(9.5),
        Severity::High => Some(8.0),
        Severity::Medium => Some(5.5),
        Severity::Low => Some(2.0),
        Severity::Info | Severity::Unknown => None,
    }
}

/// Hands out identifiers that are unique within one document: the first claim of a base
/// gets it as is, later ones get `-2`, `-3`, ... (two packages can share a name and
/// version in different databases, and sanitizing can merge distinct names).
#[derive(Default)]
pub(crate) struct UniqueIds(HashSet<String>);

impl UniqueIds {
    pub(crate) fn claim(&mut self, base: String) -> String {
        if self.0.insert(base.clone()) {
            return base;
        }
        let mut n = 2u64;
        loop {
            let candidate = format!("{base}-{n}");
            if self.0.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// The inventory entry a vulnerability was matched on (same name and version), which
/// gives it a database path, a layer and a package URL.
pub(crate) fn package_of<'r>(
    packages: &'r [crate::InventoryItem],
    v: &crate::Vulnerability,
) -> Option<(usize, &'r crate::InventoryItem)> {
    packages
        .iter()
        .enumerate()
        .find(|(_, p)| p.package.name == v.package && p.package.version == v.version)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timestamps_are_cut_to_seconds_and_must_be_utc() {
        assert_eq!(
            utc_seconds("2024-05-01T10:00:00Z").unwrap(),
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(
            utc_seconds("2024-05-01t10:00:00.123456z").unwrap(),
            "2024-05-01T10:00:00Z"
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T10:00:00",
            "2024-05-01T10:00:00+02:00",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00.1x2Z",
            "2024-05-01 10:00:00Z",
            "２024-05-01T10:00:00Z",
            "2024-05-01T10:00:00-00:00",
            "2024-05-01T10:00:00+00:00",
            "2024-05-01T10:00:00.5+01:00",
            "2024-13-01T10:00:00Z",
            "2024-05-01T10:00:60Z",
            "1969-12-31T23:59:59Z",
            "2024-05-01T10:00:00Zjunk",
        ] {
            assert!(utc_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unique_ids_suffix_repeats() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("a".into()), "a");
        assert_eq!(ids.claim("a".into()), "a-2");
        assert_eq!(ids.claim("a-2".into()), "a-2-2");
        assert_eq!(ids.claim("a".into()), "a-3");
    }

    #[test]
    fn security_severity_prefers_cvss_and_leaves_unrated_unscored() {
        assert_eq!(security_severity(Severity::High, Some(7.5)), Some(7.5));
        assert_eq!(security_severity(Severity::High, Some(f64::NAN)), Some(8.0));
        assert_eq!(security_severity(Severity::Critical, None), Some(9.5));
        assert_eq!(security_severity(Severity::Unknown, None), None);
        assert_eq!(security_severity(Severity::Info, None), None);
    }
}
