//! Stored image inventories and rescans (brief R16).
//!
//! A scan's package inventory is kept in SQLite with the packages that images share
//! stored once; when the vulnerability database changes, [`rescan`] matches every
//! distinct package once and tells each image what became vulnerable (and what was fixed)
//! without reading any image again. The CLI keeps a store in the user's cache
//! (`ironroot scan`, `ironroot rescan`); the service keeps one beside its data and
//! rescans on its own whenever the database it watches changes.
//!
//! [`install`] validates vulnerability feeds and installs them as the database directory
//! (`ironroot db update`; the caller fetches URLs), and [`database`] reads it back: its
//! metadata (whose `updated_at` is the generation stored matches are
//! compared by) and the records, loaded for matching.

pub mod database;
mod history;
pub mod install;
mod store;
mod summary;

pub use database::{check_age, DatabaseError, Metadata};
pub use history::{recent_rescans, record_rescan};
pub use install::{Feed, InstallError, Staging};
pub use store::{key, open, rescan, save, ImageChange, InventoryError, Rescan, Timings};
pub use summary::{record_match, stored_keys, stored_scan, StoredScan};

use serde::{Deserialize, Serialize};

/// One rescan the service ran on its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescanRecord {
    /// The database generation (its `updated_at`) matched against.
    pub generation: u64,
    /// Unix seconds when the rescan finished.
    pub finished_at: u64,
    /// Unix seconds of the newest advisory in that database.
    pub database_built_at: u64,
    /// The database is older than the service's maximum age: what it did not find may
    /// still be there.
    pub stale: bool,
    #[serde(flatten)]
    pub rescan: Rescan,
}

/// `GET /v1/images/rescans`: the database the service watches and its latest rescans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescanLog {
    /// The database in use; `None` until one has loaded.
    pub database: Option<Metadata>,
    /// Why the watched database could not be (re)loaded, if it could not: the service
    /// keeps matching with the last good one.
    pub problem: Option<String>,
    /// Newest first.
    pub rescans: Vec<RescanRecord>,
}

/// `POST /v1/images/inventories`: what the service kept of a submitted scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    /// The image's key: its manifest digest, else `source:reference`.
    pub image: String,
    pub packages: usize,
    /// Matches found by the service's own database (the submitter's are not trusted).
    pub vulnerabilities: usize,
    /// The database generation matched against; 0 when none has loaded yet (the first
    /// rescan then reports everything it finds as new).
    pub generation: u64,
}

/// Replaces the report's vulnerabilities with `db`'s matches for its packages: what a
/// service keeps comes from its own database, never from the submitter's word.
pub fn rematch(report: &mut ironroot_scanner::ScanReport, db: &ironroot_vulndb::Database) {
    report.vulnerabilities = match &report.os {
        Some(os) => {
            let packages: Vec<ironroot_pkgdb::Package> =
                report.packages.iter().map(|i| i.package.clone()).collect();
            let found = db.match_inventory(&os.distro(), &packages);
            ironroot_scanner::vulnerabilities(&found, &report.packages)
        }
        None => Vec::new(),
    };
}
