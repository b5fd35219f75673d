//! Installed-package databases as found in container image layers, parsed into [`Package`]s.
//!
//! - dpkg: `var/lib/dpkg/status` ([`parse_dpkg_status`]) and the one-stanza files of
//!   distroless images' `var/lib/dpkg/status.d/<name>` ([`parse_dpkg_status_d`]);
//! - apk: `lib/apk/db/installed` ([`parse_apk_installed`]);
//! - rpm: one header blob as rpm stores it in its database, e.g. a `blob` of the `Packages`
//!   table of `rpmdb.sqlite` ([`parse_rpm_header`]).
//!
//! Every input is untrusted (it comes from an image someone pushed): each parser takes bytes,
//! enforces [`Limits`], and returns a typed [`Error`] naming the line, package or offset at
//! fault. This crate must never do I/O (finding the files and reading SQLite is the caller's
//! job), never panic on any input, and never guess: a stanza it cannot read is an error, not a
//! skipped package, so that a scanner fails closed instead of missing a vulnerable package.
#![forbid(unsafe_code)]

mod apk;
mod dpkg;
mod error;
mod rpm;
mod rpm_header;
mod text;

pub use apk::parse_apk_installed;
pub use dpkg::{parse_dpkg_status, parse_dpkg_status_d};
pub use error::Error;
pub use rpm::parse_rpm_header;

use serde::{Deserialize, Serialize};

/// Which package manager installed a [`Package`], which decides how its versions compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Ecosystem {
    Dpkg,
    Apk,
    Rpm,
}

/// One installed package, as its database records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Package {
    /// Binary package name (dpkg `Package`, apk `P`, rpm `NAME`).
    pub name: String,
    /// Full version as the ecosystem compares it: dpkg `[epoch:]upstream[-revision]`,
    /// apk `V`, rpm `[epoch:]version-release`.
    pub version: String,
    /// Source package, when the database names one (dpkg `Source`, apk `o`, rpm `SOURCERPM`).
    /// `None` means "same as `name`"; see [`Package::source_name_or_name`].
    pub source_name: Option<String>,
    /// Version of the source package, when it differs from or is recorded apart from `version`.
    pub source_version: Option<String>,
    /// Architecture (`amd64`, `x86_64`, `noarch`, ...); rpm's `gpg-pubkey` entries have none.
    pub arch: Option<String>,
    pub ecosystem: Ecosystem,
}

impl Package {
    /// A package known by other means (a stored inventory, a test): name and version, with
    /// no source or architecture; set those fields after if known.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            name: name.to_owned(),
            version: version.to_owned(),
            source_name: None,
            source_version: None,
            arch: None,
            ecosystem,
        }
    }

    /// The source package name that vulnerability feeds (Debian's, OSV's) key on.
    pub fn source_name_or_name(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.name)
    }

    /// The source package's version, which is the binary's unless the database says otherwise.
    pub fn source_version_or_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

/// Bounds on what a parser accepts. The defaults fit every real database we have seen with a
/// wide margin (a full Debian desktop status file is about 10 MB and 2,000 packages, its
/// longest stanza 12 KB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in bytes (a whole status file, installed db, or one rpm header blob).
    pub max_input_bytes: usize,
    /// Most packages one input may describe.
    pub max_packages: usize,
    /// Longest single field value, in bytes (after joining continuation lines).
    pub max_field_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_packages: 100_000,
            max_field_bytes: 1024 * 1024,
        }
    }
}

impl Limits {
    fn check_input(&self, input: &[u8]) -> Result<(), Error> {
        if input.len() > self.max_input_bytes {
            return Err(Error::InputTooLarge {
                len: input.len(),
                max: self.max_input_bytes,
            });
        }
        Ok(())
    }

    fn check_package_count(&self, count: usize) -> Result<(), Error> {
        if count > self.max_packages {
            return Err(Error::TooManyPackages {
                max: self.max_packages,
            });
        }
        Ok(())
    }
}
