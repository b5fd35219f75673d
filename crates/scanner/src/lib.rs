//! The image scanner's core (issue 5): one streaming pass over an image's layers.
//!
//! A [`Scan`] takes layer blobs lowest first, checks each against the digest its manifest
//! names while it streams (a mismatch fails the scan: an altered layer's findings would
//! describe another image), walks it with `ironroot-layers` (bounded, hostile-input
//! safe), keeps the few files that matter in an overlay with whiteouts applied (package
//! databases, os-release, what the configuration checks ask for) and shows every other
//! file an [`Inspector`] wants in passing (secrets, malware), without keeping it. At the
//! end, the package databases become an inventory in which each package carries the
//! layer it came from.
//!
//! [`assemble`] makes the report from what the pass, the configuration [`checks`] and a
//! content scanner found, and [`ScanReport::match_against`] matches it with a
//! vulnerability database; [`policy`] applies the user's ignore rules and thresholds.
//!
//! [`render`] turns the finished [`ScanReport`] into the formats other tools read (SARIF,
//! CycloneDX, SPDX, the cosign vulnerability attestation), as pure functions.
//!
//! This crate must never do I/O: blobs come in as readers, SQLite is read through the
//! caller's [`RpmSqlite`], and nothing is written anywhere, so a layer cannot place a
//! file outside the scan. It must never report "no packages" for a database it could
//! not read: that is an [`InventoryProblem`].
#![forbid(unsafe_code)]

mod assemble;
pub mod checks;
mod digest;
mod inventory;
mod osrelease;
pub mod policy;
pub mod render;
mod report;
mod scan;

pub use assemble::{assemble, ScanParts};
pub use digest::{BlobDigest, DigestReader};
pub use inventory::{is_package_db, InventoryProblem, NoRpmSqlite, RpmSqlite};
pub use osrelease::OsRelease;
pub use render::{RenderError, RuleText};
pub use report::{
    layer_finding, match_problems, vulnerabilities, CheckFinding, DatabaseInfo, ImageInfo,
    ProblemKind, ReportProblem, ScanReport, Severity, Suppressed, Vulnerability, SCHEMA,
};
pub use scan::{
    Collected, Inspector, InventoryItem, LayerFinding, LayerSummary, NoInspector, Scan, ScanError,
    Want,
};
