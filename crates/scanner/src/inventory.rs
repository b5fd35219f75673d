//! The installed packages of an image, read from the package databases a scan gathered.

use ironroot_layers::Overlay;
use ironroot_pkgdb::{Ecosystem, Package};
use serde::Serialize;

const DPKG_STATUS: &str = "var/lib/dpkg/status";
const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
const APK_INSTALLED: &str = "lib/apk/db/installed";
/// rpm 4.16+ keeps its database in SQLite: Fedora, RHEL 9 and their rebuilds use the
/// first path, SUSE and others the second.
const RPM_SQLITE: [&str; 2] = [
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/rpmdb.sqlite",
];
/// Older rpm formats (Berkeley DB, NDB). No well-kept Rust crate reads them; an image
/// with one is reported as not inventoried rather than as having no packages.
const RPM_UNSUPPORTED: [&str; 4] = [
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];

/// Whether the scan must gather `path`'s content to build the inventory.
pub fn is_package_db(path: &str) -> bool {
    path == DPKG_STATUS
        || path == APK_INSTALLED
        || RPM_SQLITE.contains(&path)
        || RPM_UNSUPPORTED.contains(&path)
        || (path.starts_with(DPKG_STATUS_D) && !path.ends_with(".md5sums"))
}

/// Reads rpm's SQLite database: the caller's job, since this crate does no I/O and
/// SQLite is a database engine (the CLI uses sqlx's SQLite).
pub trait RpmSqlite {
    /// The `blob` of every row of the `Packages` table, in `hnum` order.
    fn header_blobs(&self, db: &[u8]) -> Result<Vec<Vec<u8>>, String>;
}

/// An `RpmSqlite` that refuses: for callers that cannot read SQLite. The scan reports
/// the database as not inventoried.
pub struct NoRpmSqlite;

impl RpmSqlite for NoRpmSqlite {
    fn header_blobs(&self, _db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        Err("this scanner was built without an rpm SQLite reader".into())
    }
}

/// A package database the scan found but could not read: the inventory is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryProblem {
    pub path: String,
    pub layer: usize,
    pub message: String,
}

/// A package with the database file it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    pub package: Package,
    pub db_path: String,
    pub db_layer: usize,
}

/// Every package the gathered databases list, and what could not be read.
pub(crate) fn read_packages(
    files: &Overlay,
    rpm: &dyn RpmSqlite,
    limits: &ironroot_pkgdb::Limits,
) -> (Vec<Read>, Vec<InventoryProblem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut push = |path: &str, layer: usize, result: Result<Vec<Package>, String>| match result {
        Ok(list) => out.extend(list.into_iter().map(|package| Read {
            package,
            db_path: path.to_owned(),
            db_layer: layer,
        })),
        Err(message) => problems.push(InventoryProblem {
            path: path.to_owned(),
            layer,
            message,
        }),
    };
    for (path, file) in files.under("") {
        let Some(content) = file.content.as_deref() else {
            continue;
        };
        let result = if path == DPKG_STATUS {
            ironroot_pkgdb::parse_dpkg_status(content, limits).map_err(|e| e.to_string())
        } else if path.starts_with(DPKG_STATUS_D) && !path.ends_with(".md5sums") {
            ironroot_pkgdb::parse_dpkg_status_d(content, limits)
                .map(|p| p.into_iter().collect())
                .map_err(|e| e.to_string())
        } else if path == APK_INSTALLED {
            ironroot_pkgdb::parse_apk_installed(content, limits).map_err(|e| e.to_string())
        } else if RPM_SQLITE.contains(&path) {
            read_rpm(content, rpm, limits)
        } else if RPM_UNSUPPORTED.contains(&path) {
            Err("rpm's Berkeley DB and NDB formats are not read (only rpmdb.sqlite, rpm 4.16 and later): the rpm packages of this image are not inventoried".into())
        } else {
            continue;
        };
        push(path, file.layer, result);
    }
    (out, problems)
}

fn read_rpm(
    db: &[u8],
    rpm: &dyn RpmSqlite,
    limits: &ironroot_pkgdb::Limits,
) -> Result<Vec<Package>, String> {
    let blobs = rpm.header_blobs(db)?;
    let mut list = Vec::with_capacity(blobs.len());
    for (i, blob) in blobs.iter().enumerate() {
        let p = ironroot_pkgdb::parse_rpm_header(blob, limits)
            .map_err(|e| format!("package {} of the database: {e}", i + 1))?;
        // rpm lists its imported signing keys as packages named gpg-pubkey; they are
        // keys, not software.
        if p.name != "gpg-pubkey" {
            list.push(p);
        }
    }
    Ok(list)
}

/// Identity of an installed package for layer-of-origin tracking.
pub(crate) fn key(p: &Package) -> (Ecosystem, String, String, Option<String>) {
    (
        p.ecosystem,
        p.name.clone(),
        p.version.clone(),
        p.arch.clone(),
    )
}
