//! What a scan reports: findings, the rules they come from, and how a secret is redacted.

use serde::{Deserialize, Serialize};

/// How bad a finding is: the workspace's one scale, serialized in lowercase (`"critical"`).
/// Rules rate what they find from `info` up, never `unknown` (see [`rule_severity`]).
pub use ironroot_severity::Severity;

/// The severities a rule may declare, as rules files and YARA `meta: severity` spell them.
const RULE_SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

/// Parses the exact lowercase name a rule declares. `unknown` is refused: a rule's author
/// says how bad what it finds is, and a typo must not quietly change a rating.
pub(crate) fn rule_severity(name: &str) -> Option<Severity> {
    Severity::from_name(name).filter(|s| *s != Severity::Unknown)
}

/// A rules file's `severity`, parsed as [`rule_severity`] does, refused with the message the
/// format has always given (serde's "unknown variant ..., expected one of ...").
pub(crate) fn deserialize_rule_severity<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Severity, D::Error> {
    let name = String::deserialize(d)?;
    rule_severity(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, RULE_SEVERITIES))
}

/// What kind of thing a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Secret,
    Malware,
}

/// A rule that matched in one file.
///
/// Findings reach logs and reports, so they never hold the matched secret itself: only
/// `redacted`, made by [`redact`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id of the rule (`aws-access-key-id`, `eicar_test_file`).
    pub rule_id: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    /// Path in the image, relative without a leading `/` or `./` (`etc/app/config.yaml`).
    pub path: String,
    /// 1-based line of the start of the match, for text files only.
    pub line: Option<u64>,
    /// The matched value, redacted; empty for a YARA rule that matched on its condition alone.
    pub redacted: String,
}

/// One rule the scanner runs, for SARIF `tool.driver.rules` and for listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    /// `builtin`, or the name the caller gave the rules file or YARA source.
    pub origin: String,
}

/// Redacts a matched value: keeps at most the first 4 characters, and fewer for short values
/// (a quarter of them), so that a short password is not mostly given away; then says how long
/// the value was. `AKIA…(20 chars)`.
pub fn redact(value: &str) -> String {
    let total = value.chars().count();
    let keep = (total / 4).min(4);
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}…({total} chars)")
}

/// Paths as layers spell them (`./etc/x`, `/etc/x`, `etc/x`) in the one form that findings
/// report and allow-list globs match.
pub(crate) fn normalize_path(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_keeps_at_most_four_chars() {
        assert_eq!(redact("AKIAABCDEFGHIJKLMNOP"), "AKIA…(20 chars)");
        assert_eq!(redact("hunter22"), "hu…(8 chars)");
        assert_eq!(redact("abc"), "…(3 chars)");
        assert_eq!(redact(""), "…(0 chars)");
    }

    #[test]
    fn normalize_strips_leading_dot_and_slash() {
        assert_eq!(normalize_path("./etc/x"), "etc/x");
        assert_eq!(normalize_path("/etc/x"), "etc/x");
        assert_eq!(normalize_path(".//./etc/x"), "etc/x");
        assert_eq!(normalize_path("etc/x"), "etc/x");
    }

    #[test]
    fn rules_declare_every_severity_but_unknown() {
        for s in Severity::ALL {
            let json = serde_json::to_string(&s).unwrap_or_default();
            let want = (s != Severity::Unknown).then_some(s);
            assert_eq!(rule_severity(json.trim_matches('"')), want);
        }
        assert_eq!(rule_severity("severe"), None);
        assert_eq!(rule_severity("High"), None);
    }
}
