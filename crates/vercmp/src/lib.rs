//! Package version ordering for the three distribution ecosystems the image scanner reads:
//! Debian's dpkg, RPM, and Alpine's apk. A scanner decides "installed version is older than
//! the fixed version" with these comparisons, so they must agree with the package managers
//! exactly, including their odd corners (`~` before everything, `1.09 == 1.9`, rpm's `^`,
//! apk's `_pre` suffixes).
//!
//! Each ordering is written here from its documented algorithm, not translated from the
//! package managers' code: [`dpkg`] from deb-version(7) and Debian Policy 5.6.12, [`rpm`]
//! from the rpmvercmp description, [`apk`] from apk-tools' version format. The golden tests
//! replay the upstream test vectors and cross-check against the real `dpkg` and `rpm`.
//!
//! Version strings come from image layers, so they are untrusted: parsing rejects malformed
//! versions with a typed [`VersionError`] (fail closed, never a guessed order), bounds the
//! length, and numbers of any length are compared as digit strings, never overflowing.
//!
//! This crate must never do I/O, allocate without bound, or panic on any input.

#![forbid(unsafe_code)]

pub mod apk;
mod digits;
pub mod dpkg;
mod error;
pub mod rpm;

use std::cmp::Ordering;

pub use apk::ApkVersion;
pub use dpkg::DpkgVersion;
pub use error::{ApkSyntax, DpkgSyntax, RpmSyntax, VersionError};
pub use rpm::RpmVersion;

/// Longest version string accepted, in bytes. Real versions are far shorter; the bound keeps
/// a hostile package database from making comparisons expensive.
pub const MAX_VERSION_LEN: usize = 1024;

/// The packaging ecosystem whose ordering applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Debian, Ubuntu and derivatives (`[epoch:]upstream[-revision]`).
    Dpkg,
    /// Red Hat, Fedora, SUSE, Amazon Linux and derivatives (`[epoch:]version[-release]`).
    Rpm,
    /// Alpine Linux (apk-tools).
    Apk,
}

impl Ecosystem {
    /// A stable lower-case name, for logs and machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Dpkg => "dpkg",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Apk => "apk",
        }
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Orders two version strings of one ecosystem. Both must parse; an invalid version is an
/// error rather than an arbitrary answer.
///
/// For rpm a missing release sorts before any release, as `rpm.vercmp` has it; see
/// [`RpmVersion::cmp_for_dependency`] for rpm's looser dependency-matching rule.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(match ecosystem {
        Ecosystem::Dpkg => DpkgVersion::parse(a)?.cmp(&DpkgVersion::parse(b)?),
        Ecosystem::Rpm => RpmVersion::parse(a)?.cmp(&RpmVersion::parse(b)?),
        Ecosystem::Apk => ApkVersion::parse(a)?.cmp(&ApkVersion::parse(b)?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn compare_dispatches_per_ecosystem() {
        // `1.0~rc1` is older than `1.0` in dpkg and rpm; in apk `~` is not part of the format.
        assert_eq!(
            compare(Ecosystem::Dpkg, "1.0~rc1", "1.0").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            compare(Ecosystem::Rpm, "1.0~rc1", "1.0").unwrap(),
            Ordering::Less
        );
        assert!(compare(Ecosystem::Apk, "1.0~rc1", "1.0").is_err());
        assert_eq!(
            compare(Ecosystem::Apk, "1.0_rc1", "1.0").unwrap(),
            Ordering::Less
        );
    }

    #[test]
    fn invalid_version_is_an_error_not_an_order() {
        let err = compare(Ecosystem::Dpkg, "1.0", "a:1").unwrap_err();
        assert!(matches!(err, VersionError::Dpkg { .. }));
        assert!(err.to_string().contains("epoch"), "{err}");
    }

    #[test]
    fn ecosystem_names_are_stable() {
        assert_eq!(Ecosystem::Dpkg.to_string(), "dpkg");
        assert_eq!(Ecosystem::Rpm.as_str(), "rpm");
        assert_eq!(Ecosystem::Apk.as_str(), "apk");
    }
}
