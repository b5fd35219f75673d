//! The checks that ride on a scan: configuration (`ironroot-imagecheck`), turned into
//! report findings with the rule texts for SARIF.

use ironroot_scanner::{CheckFinding, Inspector, Severity, Want};

/// What the scan's inspector gathers for the configuration checks, and the files it
/// hands to the secret and malware scanner.
pub struct Checks {
    pub content: Option<super::content::ContentChecks>,
}

impl Inspector for Checks {
    fn gather(&self, path: &str, mode: u32, size: u64) -> Want {
        match ironroot_imagecheck::wanted(path, mode, size) {
            ironroot_imagecheck::Want::Skip => Want::Skip,
            ironroot_imagecheck::Want::Metadata => Want::Metadata,
            ironroot_imagecheck::Want::Content => Want::Content,
        }
    }

    fn wants_content(&self, path: &str, size: u64) -> bool {
        self.content.as_ref().is_some_and(|c| c.wants(path, size))
    }

    fn content(&mut self, layer: usize, path: &str, data: Vec<u8>) {
        if let Some(c) = &mut self.content {
            c.send(layer, path, data);
        }
    }
}

fn severity(s: ironroot_imagecheck::Severity) -> Severity {
    match s {
        ironroot_imagecheck::Severity::Info => Severity::Info,
        ironroot_imagecheck::Severity::Low => Severity::Low,
        ironroot_imagecheck::Severity::Medium => Severity::Medium,
        ironroot_imagecheck::Severity::High => Severity::High,
        ironroot_imagecheck::Severity::Critical => Severity::Critical,
    }
}

/// Runs the configuration checks on what the scan gathered. An unreadable image config
/// is a finding of its own: the checks that need it could not run.
pub fn configuration(
    collected: &ironroot_scanner::Collected,
    config: Option<&[u8]>,
) -> (Vec<CheckFinding>, Option<String>) {
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
    let mut out: Vec<CheckFinding> = found
        .into_iter()
        .map(|f| CheckFinding {
            id: f.id.to_owned(),
            category: "config".into(),
            severity: severity(f.severity),
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
        out.retain(|f| !f.id.starts_with("IR-CFG-USER") && !f.id.starts_with("IR-CFG-HEALTH"));
    }
    (out, problem)
}

/// The texts of every check rule, for SARIF's rule descriptions.
pub fn rule_texts() -> Vec<ironroot_scanner::RuleText<'static>> {
    ironroot_imagecheck::rules()
        .iter()
        .map(|r| ironroot_scanner::RuleText {
            id: r.id,
            title: r.title,
            description: r.description,
            remediation: r.remediation,
        })
        .collect()
}
