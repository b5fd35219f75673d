//! A freshly manufactured swtpm per test, in its own directory, removed afterwards.
#![allow(dead_code)]

use ironroot_tpm::swtpm::{LocalCa, SetupOptions, Swtpm};
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::path::Path;
use std::process::Command;

pub struct TestTpm {
    // Declared before `dir` so swtpm stops before its state is deleted.
    pub swtpm: Swtpm,
    pub ca: LocalCa,
    pub dir: TestDir,
}

impl TestTpm {
    /// `None` (with a note on stderr) when swtpm is not installed.
    pub fn start(name: &str) -> Option<TestTpm> {
        if !Swtpm::available() {
            ironroot_testkit::skip_missing_peer(
                "swtpm/swtpm_setup not on PATH (apt-get install swtpm swtpm-tools)",
            );
            return None;
        }
        let dir = TestDir::new(name);
        let ca = Swtpm::setup(dir.path(), &SetupOptions::default()).unwrap();
        let swtpm = Swtpm::start(dir.path()).unwrap();
        Some(TestTpm { swtpm, ca, dir })
    }

    pub fn open(&self) -> EsapiTpm {
        EsapiTpm::open(&self.swtpm.tcti(), AkConfig::default()).unwrap()
    }

    /// Runs a tpm2-tools command against this swtpm; `None` when tpm2-tools is missing.
    pub fn tool(&self, args: &[&str]) -> Option<std::process::Output> {
        tool(Some(&self.swtpm.tcti()), args)
    }
}

/// Runs a tpm2-tools binary (first of `args`), with `tcti` or `-T none`.
pub fn tool(tcti: Option<&str>, args: &[&str]) -> Option<std::process::Output> {
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]);
    match tcti {
        Some(t) => cmd.env("TPM2TOOLS_TCTI", t),
        None => cmd.env_remove("TPM2TOOLS_TCTI"),
    };
    match cmd.output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ironroot_testkit::skip_missing_peer(&format!(
                "{} not installed, no tpm2-tools cross-check (apt-get install tpm2-tools)",
                args[0]
            ));
            None
        }
        Err(e) => panic!("running {}: {e}", args[0]),
    }
}

/// A scratch directory, removed on drop.
pub struct TestDir(tempfile::TempDir);

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        TestDir(
            tempfile::Builder::new()
                .prefix(&format!("ironroot-tpm-{name}-"))
                .tempdir()
                .unwrap(),
        )
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}
