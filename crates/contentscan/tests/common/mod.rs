#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]
//! Shared by the integration tests: the built-in scanner, compiled once per test binary
//! (compiling YARA to WebAssembly is the slow part).

use std::sync::OnceLock;

use ironroot_contentscan::{Config, Finding, Scanner};

pub fn builtin() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| Scanner::new(Config::default()).expect("built-in rules compile"))
}

pub fn rule_ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule_id.as_str()).collect()
}

/// The EICAR test string (built from two halves so that this source file is not itself
/// mistaken for the test file by an anti-virus on a developer's machine).
pub fn eicar() -> String {
    let first = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR";
    let second = "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    format!("{first}{second}")
}
