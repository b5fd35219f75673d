//! An offline vulnerability database for the image scanner, and the matching of installed
//! packages against it.
//!
//! Feeds: OSV records (schema 1.7; [`parse_osv`]) for Debian, Alpine and the rpm
//! distributions, and the Debian security tracker's JSON export ([`parse_debian_tracker`]).
//! A [`Database`] indexes them by namespace (distribution family and release) and package
//! name; [`Database::match_inventory`] turns a package list from `ironroot-pkgdb` into
//! [`Finding`]s, deduplicated per CVE across feeds, and [`Problem`]s for whatever could not
//! be decided. Versions are compared with `ironroot-vercmp`, OSV ranges by the OSV
//! specification's sweep, severities computed from CVSS vectors by `ironroot-cvss`.
//!
//! Feeds are untrusted bytes: parsers enforce [`Limits`] and return a typed [`Error`] naming
//! the record. This crate must never do I/O (fetching and unpacking feeds is the caller's
//! job), never panic, and never turn an unreadable version into "not affected".
#![forbid(unsafe_code)]

mod database;
mod error;
mod matching;
mod namespace;
mod osv;
mod severity;
mod tracker;
mod version;

pub use database::{Added, Database, FeedSource, LoadStats};
pub use error::Error;
pub use matching::{Finding, MatchReport, PackageRef, Problem, ProblemKind};
pub use namespace::{debian_codename_release, osv_namespace, Distro, Family, Namespace};
pub use osv::{parse_osv, Affected, OsvEvent, OsvRange, OsvRecord, RangeKind, SeverityVector};
pub use severity::{Rating, SeverityBasis};
pub use tracker::{parse_debian_tracker, TrackerIssue, TrackerRelease, TrackerStatus};

/// Bounds on feed input. The defaults hold every real record with a wide margin: the largest
/// OSV records (kernel CVEs listing every Debian version) are a few hundred KiB; the tracker's
/// JSON export is under 100 MB with about 400,000 issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest OSV record, in bytes.
    pub max_osv_record_bytes: usize,
    /// Most `affected[]` entries in one record.
    pub max_affected: usize,
    /// Most ranges in one affected entry.
    pub max_ranges: usize,
    /// Most events in one range.
    pub max_events: usize,
    /// Most `versions[]` in one affected entry.
    pub max_versions: usize,
    /// Most aliases and upstream ids in one record.
    pub max_aliases: usize,
    /// Largest tracker document, in bytes.
    pub max_tracker_bytes: usize,
    /// Most issues in one tracker document.
    pub max_tracker_issues: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_osv_record_bytes: 4 * 1024 * 1024,
            max_affected: 4096,
            max_ranges: 256,
            max_events: 1024,
            max_versions: 16_384,
            max_aliases: 256,
            max_tracker_bytes: 512 * 1024 * 1024,
            max_tracker_issues: 2_000_000,
        }
    }
}
