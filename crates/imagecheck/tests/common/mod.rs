//! Shared by the integration tests: fixtures, overlays and finding lookups.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_imagecheck::{check, Finding, ImageConfig, Options};
use ironroot_layers::{Gathered, Overlay};
use ironroot_pkgdb::Package;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn file(layer: usize, mode: u32, content: Option<&[u8]>) -> Gathered {
    Gathered {
        layer,
        mode,
        uid: 0,
        gid: 0,
        size: content.map_or(0, |c| c.len() as u64),
        content: content.map(<[u8]>::to_vec),
    }
}

/// An overlay of config files (mode 0644) in layer 0.
pub fn with_files(files: &[(&str, &[u8])]) -> Overlay {
    let mut o = Overlay::new();
    for (path, bytes) in files {
        o.put(path, file(0, 0o644, Some(bytes)));
    }
    o
}

/// A config that triggers nothing by itself: non-root, with a healthcheck.
pub fn quiet_config() -> ImageConfig {
    ImageConfig::from_oci_config_json(&fixture("config-hardened.json")).unwrap()
}

pub fn run(files: &Overlay, packages: &[Package]) -> Vec<Finding> {
    check(files, packages, &quiet_config(), &Options::default())
}

pub fn run_with(files: &Overlay, opts: &Options) -> Vec<Finding> {
    check(files, &[], &quiet_config(), opts)
}

pub fn with_id<'a>(findings: &'a [Finding], id: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.id == id).collect()
}

pub fn evidence_of(findings: &[Finding], id: &str) -> Vec<String> {
    with_id(findings, id)
        .into_iter()
        .map(|f| f.evidence.clone().unwrap_or_default())
        .collect()
}
