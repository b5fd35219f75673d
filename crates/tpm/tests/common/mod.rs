//! A freshly manufactured swtpm per test, in its own directory, removed afterwards.
#![allow(dead_code)]

use ironroot_tpm::swtpm::{LocalCa, SetupOptions, Swtpm};
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

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
            assert!(
            std::env::var_os("IRONROOT_ALLOW_SKIP").is_some_and(|v| v == "1"),
            "{}: run `make test` (it installs every peer), or set IRONROOT_ALLOW_SKIP=1 to skip on a developer machine",
            "swtpm is not installed"
            );
            eprintln!("skipping {name}: swtpm/swtpm_setup not on PATH");
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
            assert!(
                std::env::var_os("IRONROOT_ALLOW_SKIP").is_some_and(|v| v == "1"),
                "tpm2-tools is not installed: run `make test` (it installs every peer), or set IRONROOT_ALLOW_SKIP=1"
            );
            eprintln!(
                "{} not installed; skipping the tpm2-tools cross-check",
                args[0]
            );
            None
        }
        Err(e) => panic!("running {}: {e}", args[0]),
    }
}

pub struct TestDir(PathBuf);

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("ironroot-tpm-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TestDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
