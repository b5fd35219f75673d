//! What a scan reports: findings, the rules they come from, and how a secret is redacted.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Serialized in lowercase (`"critical"`, ...); orders from `Info` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parses the lowercase name used in rules files and YARA `meta: severity = "..."`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "info" => Some(Self::Info),
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
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
    fn severity_names_round_trip() {
        for s in [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(Severity::from_name(json.trim_matches('"')), Some(s));
        }
        assert_eq!(Severity::from_name("severe"), None);
    }
}
