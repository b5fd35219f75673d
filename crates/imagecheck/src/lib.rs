//! Configuration checks for container images, in the spirit of ISO/IEC 27002 and the CIS
//! benchmarks: each [`Finding`] has a stable id, a description and a remediation, and
//! [`rules`] lists them all (for SARIF output and docs).
//!
//! The scanner streams an image's layers once and asks, for each regular file or symlink,
//! [`wanted`]`(path, mode, size)`: [`Want::Content`] for the few config files read here
//! (accounts, password policy, sshd), [`Want::Metadata`] for setuid/setgid files, SSH server
//! binaries and init-system links, [`Want::Skip`] for the rest. What it kept goes into an
//! [`ironroot_layers::Overlay`] (whiteouts applied); with the packages `ironroot-pkgdb` found
//! and the image configuration ([`ImageConfig::from_oci_config_json`]) it calls
//! [`check`]`(files, packages, config, &Options::default())` and gets the findings.
//!
//! What is checked:
//! - remote login: an SSH server installed, enabled at boot, `PermitRootLogin yes`,
//!   `PasswordAuthentication yes` (OpenSSH's default when unset), `PermitEmptyPasswords yes`,
//!   port 22 exposed;
//! - accounts: empty password fields, and hashes of the account's name or one of
//!   [`COMMON_PASSWORDS`], verified with the real schemes (yescrypt, sha512-crypt,
//!   sha256-crypt, md5-crypt). Other schemes are reported as not checked, never as fine.
//!   The work is capped: [`Options::max_guesses_per_account`] guesses per account, hashes
//!   whose parameters exceed [`Options::max_sha_crypt_rounds`] or
//!   [`Options::max_yescrypt_memory`] are not verified, and all accounts of an image share
//!   [`Options::password_work_budget`] (by default about 200 yescrypt guesses at Debian's
//!   default cost, a few seconds; a locked-down image costs nothing);
//! - password aging and length in etc/login.defs, the PAM password stack and pwquality.conf;
//! - setuid/setgid files, one finding each;
//! - the image running as root (User empty, root, 0, or a name etc/passwd maps to uid 0);
//! - no healthcheck;
//! - secrets in the configuration's environment, redacted in the finding.
//!
//! This crate must never do I/O, never panic on any input (all of it comes from whoever
//! pushed the image), and never put a secret or a password hash into a finding. The crypt(3)
//! schemes it verifies live in `ironroot_crypto::unix_crypt`, with every other primitive.
#![forbid(unsafe_code)]

mod accounts;
mod config;
mod finding;
mod image;
mod passwords;
mod policy;
mod secrets;
mod setuid;
mod ssh;
mod text;
mod want;

pub use config::{ImageConfig, MAX_CONFIG_BYTES};
pub use finding::{rules, Finding, RuleInfo, Severity};
pub use passwords::COMMON_PASSWORDS;
pub use want::{wanted, Want, MAX_CONTENT_BYTES};

use ironroot_layers::Overlay;
use ironroot_pkgdb::Package;

/// Why an input could not be read at all (files that are partly unreadable give findings).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    #[error("image configuration is {size} bytes, over the limit of {limit}")]
    ConfigTooLarge { size: usize, limit: usize },
    #[error("image configuration is not valid JSON of the expected shape: {0}")]
    ConfigJson(String),
}

/// Thresholds and work caps. The defaults follow the CIS benchmarks' recommendations; a
/// user with another policy changes them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// PASS_MAX_DAYS above this is a finding (default 90).
    pub max_password_age_days: u64,
    /// PASS_MIN_DAYS below this is a finding (default 1).
    pub min_password_age_days: u64,
    /// Minimum lengths below this (login.defs, PAM, pwquality.conf) are findings (default 8).
    pub min_password_length: u64,
    /// Guesses per account hash: the account name plus the first of [`COMMON_PASSWORDS`]
    /// (default: all of them, 53).
    pub max_guesses_per_account: usize,
    /// Guessing work shared by all accounts, in units where one md5-crypt guess is 1,
    /// sha-crypt at 5,000 rounds 5, yescrypt at Debian's default cost (16 MiB) 16.
    /// Default 3,200: about 200 yescrypt guesses, a few seconds in a release build.
    pub password_work_budget: u64,
    /// sha-crypt hashes with more rounds are not verified (default 1,000,000; the usual is 5,000).
    pub max_sha_crypt_rounds: u32,
    /// yescrypt hashes needing more memory are not verified (default 64 MiB; Debian's is 16 MiB).
    pub max_yescrypt_memory: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_password_age_days: 90,
            min_password_age_days: 1,
            min_password_length: 8,
            max_guesses_per_account: 1 + COMMON_PASSWORDS.len(),
            password_work_budget: 3_200,
            max_sha_crypt_rounds: 1_000_000,
            max_yescrypt_memory: 64 * 1024 * 1024,
        }
    }
}

/// Runs every check on what the scanner gathered and returns the findings, most severe first.
pub fn check(
    files: &Overlay,
    packages: &[Package],
    config: &ImageConfig,
    opts: &Options,
) -> Vec<Finding> {
    let mut out = Vec::new();
    ssh::check(files, packages, config, &mut out);
    passwords::check(files, opts, &mut out);
    policy::check(files, opts, &mut out);
    setuid::check(files, &mut out);
    image::check(files, config, &mut out);
    secrets::check(config, &mut out);
    // Stable order for reports and tests: severity, then id, then path.
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.id.cmp(b.id))
            .then(a.path.cmp(&b.path))
    });
    out
}
