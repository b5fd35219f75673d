//! The checks that ride on a scan, as report findings: the configuration checks of
//! `ironroot-imagecheck` (which files they need gathered, and their findings), and the
//! secret and malware matches of a content scanner (whose engine the caller runs, since it
//! is large and works on its own thread; here is only what a match means in a report).

use crate::render::RuleText;
use crate::report::{CheckFinding, Severity};
use crate::scan::{Collected, Want};

/// What the configuration checks need gathered from a file.
pub fn config_checks_want(path: &str, mode: u32, size: u64) -> Want {
    match ironroot_imagecheck::wanted(path, mode, size) {
        ironroot_imagecheck::Want::Skip => Want::Skip,
        ironroot_imagecheck::Want::Metadata => Want::Metadata,
        ironroot_imagecheck::Want::Content => Want::Content,
    }
}

/// The configuration checks' findings, and why some did not run.
#[derive(Debug, Default)]
pub struct ConfigChecks {
    pub findings: Vec<CheckFinding>,
    /// The image config could not be read: the checks that need it did not run.
    pub problem: Option<String>,
}

/// Runs the configuration checks on what the scan gathered. An unreadable image config
/// is a problem of its own: the checks that need it could not run.
pub fn configuration(collected: &Collected, config: Option<&[u8]>) -> ConfigChecks {
    let (image_config, problem) =
        match config.map(ironroot_imagecheck::ImageConfig::from_oci_config_json) {
            Some(Ok(c)) => (c, None),
            Some(Err(e)) => (
                Default::default(),
                Some(format!("the image config: {e}; its checks did not run")),
            ),
            None => (Default::default(), None),
        };
    let packages: Vec<_> = collected
        .packages
        .iter()
        .map(|p| p.package.clone())
        .collect();
    let found = ironroot_imagecheck::check(
        &collected.files,
        &packages,
        &image_config,
        &ironroot_imagecheck::Options::default(),
    );
    let mut findings: Vec<CheckFinding> = found
        .into_iter()
        .map(|f| CheckFinding {
            id: f.id.to_owned(),
            category: "config".into(),
            severity: f.severity,
            title: f.title.to_owned(),
            description: f.description.to_owned(),
            remediation: f.remediation.to_owned(),
            path: f.path,
            layer: f.layer,
            evidence: f.evidence,
        })
        .collect();
    // A root filesystem has no image config: the checks that need one say nothing.
    if config.is_none() {
        findings.retain(|f| !f.id.starts_with("IR-CFG-USER") && !f.id.starts_with("IR-CFG-HEALTH"));
    }
    ConfigChecks { findings, problem }
}

/// The texts of every configuration rule, for SARIF's rule descriptions.
pub fn rule_texts() -> Vec<RuleText<'static>> {
    ironroot_imagecheck::rules()
        .iter()
        .map(|r| RuleText {
            id: r.id,
            title: r.title,
            description: r.description,
            remediation: r.remediation,
        })
        .collect()
}

/// What a content scanner found in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCategory {
    Secret,
    Malware,
}

/// One content-scanner match in a layer file, as the scanner's engine reports it.
#[derive(Debug, Clone)]
pub struct ContentMatch {
    pub rule_id: String,
    pub category: ContentCategory,
    pub severity: Severity,
    pub title: String,
    pub path: String,
    pub layer: usize,
    /// 1-based line, for text files.
    pub line: Option<u64>,
    /// The matched value, redacted; empty when nothing is worth showing.
    pub redacted: String,
}

impl From<ContentMatch> for CheckFinding {
    fn from(m: ContentMatch) -> CheckFinding {
        let (category, remediation) = match m.category {
            ContentCategory::Malware => ("malware", "Remove the file and rebuild the image from a clean source; find how it got into the build."),
            ContentCategory::Secret => ("secret", "Remove the secret from the image (every layer: deleting it in a later layer leaves it in the earlier one), revoke it, and pass secrets at run time instead."),
        };
        CheckFinding {
            id: m.rule_id,
            category: category.into(),
            severity: m.severity,
            title: m.title,
            description: String::new(),
            remediation: remediation.into(),
            path: Some(m.path),
            layer: Some(m.layer),
            evidence: Some(match m.line {
                Some(l) if !m.redacted.is_empty() => format!("line {l}: {}", m.redacted),
                Some(l) => format!("line {l}"),
                None => m.redacted,
            })
            .filter(|e| !e.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn secret(line: Option<u64>, redacted: &str) -> CheckFinding {
        ContentMatch {
            rule_id: "aws-access-key-id".into(),
            category: ContentCategory::Secret,
            severity: Severity::High,
            title: "AWS key".into(),
            path: "etc/app.env".into(),
            layer: 2,
            line,
            redacted: redacted.into(),
        }
        .into()
    }

    #[test]
    fn content_matches_become_findings_with_their_evidence() {
        let f = secret(Some(3), "AKIA****");
        assert_eq!(f.category, "secret");
        assert_eq!(f.evidence.as_deref(), Some("line 3: AKIA****"));
        assert_eq!((f.path.as_deref(), f.layer), (Some("etc/app.env"), Some(2)));
        assert_eq!(secret(Some(3), "").evidence.as_deref(), Some("line 3"));
        assert_eq!(secret(None, "AKIA").evidence.as_deref(), Some("AKIA"));
        assert_eq!(secret(None, "").evidence, None);
        let mut m = ContentMatch {
            rule_id: "EICAR".into(),
            category: ContentCategory::Malware,
            severity: Severity::Critical,
            title: "t".into(),
            path: "p".into(),
            layer: 0,
            line: None,
            redacted: String::new(),
        };
        m.category = ContentCategory::Malware;
        let f = CheckFinding::from(m);
        assert_eq!(f.category, "malware");
        assert!(f.remediation.starts_with("Remove the file"));
    }
}
