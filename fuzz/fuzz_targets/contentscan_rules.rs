//! Secret rules files (TOML) from a user, and file contents from an image layer, both untrusted.
#![no_main]

use std::sync::OnceLock;

use ironroot_contentscan::{Config, RulesSource, Scanner};
use libfuzzer_sys::fuzz_target;

/// The built-in rules, compiled once rather than per input. This workspace builds
/// ironroot-contentscan without its `malware` feature (yara-x would bring wasmtime), so these
/// are the secret rules and allow-list only.
fn builtin() -> Option<&'static Scanner> {
    static SCANNER: OnceLock<Option<Scanner>> = OnceLock::new();
    SCANNER
        .get_or_init(|| Scanner::new(Config::default()).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    // The bytes as a file in a layer: no panic, no secret in a finding beyond its prefix.
    if let Some(scanner) = builtin() {
        for finding in scanner.scan("fuzz/input", data) {
            assert!(finding.redacted.chars().count() <= 4 + "…(99999999 chars)".len());
        }
    }
    // The bytes as a secret rules file, then the same bytes scanned by whatever rules it
    // defined.
    if let Ok(text) = std::str::from_utf8(data) {
        let mut config = Config::default();
        config.builtin = false;
        config.max_bytes = 64 * 1024;
        config
            .secret_rules
            .push(RulesSource::new("fuzz.toml", text));
        if let Ok(scanner) = Scanner::new(config) {
            let findings = scanner.scan("fuzz/input", data);
            assert!(findings.len() <= 100);
        }
    }
});
