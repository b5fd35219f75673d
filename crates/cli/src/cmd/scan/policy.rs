//! What a user asked to see and to fail on: `--severity`, `--ignore-file`, `--fail-on`.
//! The ignore file is read here; what it means is `ironroot_scanner::policy`'s.

use anyhow::Context;
use ironroot_scanner::policy::IgnoreFile;
use ironroot_scanner::Severity;
use std::path::Path;

pub use ironroot_scanner::policy::{fails, filter_severity, Rules};

/// Reads and validates an ignore file (TOML; see `ironroot_scanner::policy::IgnoreFile`).
pub fn load_rules(path: &Path) -> anyhow::Result<Rules> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    anyhow::ensure!(
        text.len() < 4 << 20,
        "{}: larger than 4 MiB",
        path.display()
    );
    let file: IgnoreFile = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Rules::new(file).with_context(|| format!("{}", path.display()))
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("{s:?}: severities are unknown, info, low, medium, high, critical"))
}
