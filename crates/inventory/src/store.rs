//! Stored inventories (brief R16), in SQLite through sqlx: each scanned image's packages,
//! with the packages shared between images stored once, and the last match of each
//! distinct package. `ironroot rescan` matches every distinct package once against the
//! current database and tells each image what appeared for its packages since the image's
//! findings were last reported: no image is read again, and the work grows with the
//! number of distinct packages, not with images times packages.
//!
//! Generations are the database's `updated_at`: a match row records the generation that
//! first saw it (`since`), an image the generation its findings were last reported at.

use futures_util::TryStreamExt;
use ironroot_pkgdb::{Ecosystem, Package};
use ironroot_scanner::{ScanReport, Vulnerability};
use ironroot_vulndb::{Database, Distro};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    #[error("cannot create the inventory store's directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the inventory store {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("the inventory store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("a stored finding is not what this version wrote: {0}")]
    Detail(#[from] serde_json::Error),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS images (
  key TEXT PRIMARY KEY, reference TEXT NOT NULL, source TEXT NOT NULL, manifest_digest TEXT,
  distro_id TEXT NOT NULL, distro_version TEXT NOT NULL, reported_gen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS packages (
  id INTEGER PRIMARY KEY, distro_id TEXT NOT NULL, distro_version TEXT NOT NULL,
  ecosystem TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, source_name TEXT NOT NULL,
  source_version TEXT NOT NULL, arch TEXT NOT NULL,
  UNIQUE (distro_id, distro_version, ecosystem, name, version, source_name, source_version, arch));
CREATE TABLE IF NOT EXISTS image_packages (
  image_key TEXT NOT NULL, package_id INTEGER NOT NULL, layer INTEGER NOT NULL,
  PRIMARY KEY (image_key, package_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS image_packages_by_package ON image_packages (package_id);
CREATE TABLE IF NOT EXISTS package_vulns (
  package_id INTEGER NOT NULL, vuln_id TEXT NOT NULL, since INTEGER NOT NULL, detail TEXT NOT NULL,
  PRIMARY KEY (package_id, vuln_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS package_vulns_by_since ON package_vulns (since);
";

/// Opens (creating if need be) the store `DIR/inventories.sqlite`.
pub async fn open(dir: &Path) -> Result<SqliteConnection, InventoryError> {
    std::fs::create_dir_all(dir).map_err(|source| InventoryError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    let path = dir.join("inventories.sqlite");
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(|source| InventoryError::Open {
            path: path.display().to_string(),
            source,
        })?;
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
    Ok(conn)
}

/// The key an image is stored under: its manifest digest, else `source:reference`.
pub fn key(report: &ScanReport) -> String {
    match &report.image.manifest_digest {
        Some(d) => d.clone(),
        None => format!("{}:{}", report.image.source, report.image.reference),
    }
}

fn eco(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::Apk => "apk",
        Ecosystem::Rpm => "rpm",
        _ => "dpkg",
    }
}

fn eco_from(s: &str) -> Ecosystem {
    match s {
        "apk" => Ecosystem::Apk,
        "rpm" => Ecosystem::Rpm,
        _ => Ecosystem::Dpkg,
    }
}

/// Keeps the inventory of `report`, matched at database generation `generation`.
pub async fn save(dir: &Path, report: &ScanReport, generation: u64) -> Result<(), InventoryError> {
    let mut conn = open(dir).await?;
    let mut tx = conn.begin().await?;
    let key = key(report);
    let (did, dver) = report
        .os
        .as_ref()
        .map_or((String::new(), String::new()), |o| {
            let d = o.distro();
            (d.id, d.version_id)
        });
    sqlx::query("INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(&key)
        .bind(&report.image.reference)
        .bind(&report.image.source)
        .bind(&report.image.manifest_digest)
        .bind(&did)
        .bind(&dver)
        .bind(generation as i64)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM image_packages WHERE image_key = ?")
        .bind(&key)
        .execute(&mut *tx)
        .await?;
    let mut ids: HashMap<(String, String), i64> = HashMap::new();
    for item in &report.packages {
        let p = &item.package;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO packages (distro_id, distro_version, ecosystem, name, version, source_name, source_version, arch)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(&did)
        .bind(&dver)
        .bind(eco(p.ecosystem))
        .bind(&p.name)
        .bind(&p.version)
        .bind(p.source_name.as_deref().unwrap_or(""))
        .bind(p.source_version.as_deref().unwrap_or(""))
        .bind(p.arch.as_deref().unwrap_or(""))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT OR REPLACE INTO image_packages VALUES (?, ?, ?)")
            .bind(&key)
            .bind(id)
            .bind(item.layer as i64)
            .execute(&mut *tx)
            .await?;
        ids.insert((p.name.clone(), p.version.clone()), id);
    }
    // This scan's matches are the newest for its packages: rows it confirms keep their
    // `since`, new ones start now, and ones it no longer finds go.
    let found: HashSet<(i64, &str)> = report
        .vulnerabilities
        .iter()
        .filter_map(|v| {
            Some((
                *ids.get(&(v.package.clone(), v.version.clone()))?,
                v.id.as_str(),
            ))
        })
        .collect();
    for &id in ids.values() {
        let rows = sqlx::query("SELECT vuln_id FROM package_vulns WHERE package_id = ?")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        for r in rows {
            let vid: String = r.try_get(0)?;
            if !found.contains(&(id, vid.as_str())) {
                sqlx::query("DELETE FROM package_vulns WHERE package_id = ? AND vuln_id = ?")
                    .bind(id)
                    .bind(&vid)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    for v in &report.vulnerabilities {
        let Some(&id) = ids.get(&(v.package.clone(), v.version.clone())) else {
            continue;
        };
        let mut detail = v.clone();
        detail.layer = None;
        sqlx::query("INSERT OR IGNORE INTO package_vulns VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(&v.id)
            .bind(generation as i64)
            .bind(serde_json::to_string(&detail)?)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What one rescan changed for one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageChange {
    /// The image's reference, as its latest submission named it.
    pub image: String,
    /// The stored image's key: its manifest digest, else `source:reference` (empty in
    /// records written before it was kept). One change per stored image, so that two
    /// images under one tag are told apart.
    #[serde(default)]
    pub key: String,
    pub new_count: usize,
    pub gone_count: usize,
    /// The new findings (empty with `--summary`).
    pub new: Vec<Vulnerability>,
    /// The findings gone (empty with `--summary`).
    pub fixed: Vec<Vulnerability>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rescan {
    /// Images stored.
    pub inventories: u64,
    /// Distinct packages matched.
    pub packages: usize,
    /// Images with something new or gone, by reference (then key).
    pub images: Vec<ImageChange>,
    /// Where the time went, in milliseconds (scripts/bench-rescan.sh reads them).
    pub timings: Timings,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Loading the vulnerability database (the caller's, before the rescan).
    pub database_ms: u64,
    /// Reading the distinct packages and the previous matches.
    pub read_ms: u64,
    /// Matching every distinct package.
    pub match_ms: u64,
    /// Writing the changes and finding the images they concern.
    pub write_ms: u64,
}

fn ms(t: std::time::Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

struct Distinct {
    id: i64,
    distro: (String, String),
    package: Package,
}

/// Matches every distinct stored package against `db` (generation `generation`) and
/// reports, per image, what is new since it was last reported and what is gone.
pub async fn rescan(
    dir: &Path,
    db: &Database,
    generation: u64,
    detail: bool,
) -> Result<Rescan, InventoryError> {
    let mut conn = open(dir).await?;
    let mut timings = Timings::default();
    let t = std::time::Instant::now();
    let rows = sqlx::query("SELECT id, distro_id, distro_version, ecosystem, name, version, source_name, source_version, arch FROM packages")
        .fetch_all(&mut conn)
        .await?;
    let mut distinct = Vec::with_capacity(rows.len());
    for r in rows {
        let mut p = Package::new(eco_from(r.try_get(3)?), r.try_get(4)?, r.try_get(5)?);
        let opt = |s: String| (!s.is_empty()).then_some(s);
        p.source_name = opt(r.try_get(6)?);
        p.source_version = opt(r.try_get(7)?);
        p.arch = opt(r.try_get(8)?);
        distinct.push(Distinct {
            id: r.try_get(0)?,
            distro: (r.try_get(1)?, r.try_get(2)?),
            package: p,
        });
    }
    timings.read_ms = ms(t);
    let t = std::time::Instant::now();
    let current = match_distinct(db, &distinct);
    timings.match_ms = ms(t);
    let t = std::time::Instant::now();
    let mut old: HashSet<(i64, String)> = HashSet::new();
    {
        let mut rows =
            sqlx::query("SELECT package_id, vuln_id FROM package_vulns").fetch(&mut conn);
        while let Some(r) = rows.try_next().await? {
            old.insert((r.try_get(0)?, r.try_get(1)?));
        }
    }
    let mut tx = conn.begin().await?;
    let mut gone: HashMap<i64, Vec<Vulnerability>> = HashMap::new();
    for (pid, vid) in &old {
        if !current.contains_key(&(*pid, vid.clone())) {
            let detail: String = sqlx::query_scalar(
                "DELETE FROM package_vulns WHERE package_id = ? AND vuln_id = ? RETURNING detail",
            )
            .bind(pid)
            .bind(vid)
            .fetch_one(&mut *tx)
            .await?;
            gone.entry(*pid)
                .or_default()
                .push(serde_json::from_str(&detail)?);
        }
    }
    for ((pid, vid), v) in &current {
        if !old.contains(&(*pid, vid.clone())) {
            sqlx::query("INSERT INTO package_vulns VALUES (?, ?, ?, ?)")
                .bind(pid)
                .bind(vid)
                .bind(generation as i64)
                .bind(serde_json::to_string(v)?)
                .execute(&mut *tx)
                .await?;
        }
    }
    // New for an image: match rows younger than the image's last report. Done in two
    // indexed steps (new rows by `since`, then their images by package), because
    // SQLite's planner walks every image's packages for the three-way join.
    let mut images: HashMap<String, (String, i64)> = HashMap::new();
    for r in sqlx::query("SELECT key, reference, reported_gen FROM images")
        .fetch_all(&mut *tx)
        .await?
    {
        images.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    let oldest = images.values().map(|(_, g)| *g).min().unwrap_or(0);
    let fresh = sqlx::query("SELECT package_id, since, detail FROM package_vulns WHERE since > ?")
        .bind(oldest)
        .fetch_all(&mut *tx)
        .await?;
    let mut by_package: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for r in fresh {
        by_package
            .entry(r.try_get(0)?)
            .or_default()
            .push((r.try_get(1)?, r.try_get(2)?));
    }
    let mut changes: HashMap<String, ImageChange> = HashMap::new();
    for (pid, rows) in &by_package {
        let holders =
            sqlx::query("SELECT image_key, layer FROM image_packages WHERE package_id = ?")
                .bind(pid)
                .fetch_all(&mut *tx)
                .await?;
        for h in holders {
            let key: String = h.try_get(0)?;
            let Some((reference, reported)) = images.get(&key) else {
                continue;
            };
            for (since, detail_json) in rows {
                if since <= reported {
                    continue;
                }
                let c = change(&mut changes, &key, reference);
                c.new_count += 1;
                if detail {
                    let mut v: Vulnerability = serde_json::from_str(detail_json)?;
                    v.layer = Some(h.try_get::<i64, _>(1)? as usize);
                    c.new.push(v);
                }
            }
        }
    }
    for (pid, list) in &gone {
        let images = sqlx::query(
            "SELECT i.key, i.reference FROM image_packages ip JOIN images i ON i.key = ip.image_key WHERE ip.package_id = ?",
        )
        .bind(pid)
        .fetch_all(&mut *tx)
        .await?;
        for r in images {
            let (key, image): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            let c = change(&mut changes, &key, &image);
            c.gone_count += list.len();
            if detail {
                c.fixed.extend(list.iter().cloned());
            }
        }
    }
    sqlx::query("UPDATE images SET reported_gen = ? WHERE reported_gen < ?")
        .bind(generation as i64)
        .bind(generation as i64)
        .execute(&mut *tx)
        .await?;
    let inventories: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut images: Vec<ImageChange> = changes.into_values().collect();
    images.sort_by(|a, b| (&a.image, &a.key).cmp(&(&b.image, &b.key)));
    timings.write_ms = ms(t);
    Ok(Rescan {
        inventories: inventories as u64,
        packages: distinct.len(),
        images,
        timings,
    })
}

fn change<'c>(
    changes: &'c mut HashMap<String, ImageChange>,
    key: &str,
    image: &str,
) -> &'c mut ImageChange {
    changes
        .entry(key.to_owned())
        .or_insert_with(|| ImageChange {
            image: image.to_owned(),
            key: key.to_owned(),
            new_count: 0,
            gone_count: 0,
            new: Vec::new(),
            fixed: Vec::new(),
        })
}

/// Every distinct package matched once, per distribution, on all cores.
fn match_distinct(db: &Database, distinct: &[Distinct]) -> HashMap<(i64, String), Vulnerability> {
    let mut by_distro: HashMap<&(String, String), Vec<&Distinct>> = HashMap::new();
    for d in distinct {
        by_distro.entry(&d.distro).or_default().push(d);
    }
    let mut out = HashMap::new();
    for ((id, version_id), group) in by_distro {
        if id.is_empty() {
            continue;
        }
        let distro = Distro {
            id: id.clone(),
            version_id: version_id.clone(),
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = group.len().div_ceil(threads).max(1);
        let parts: Vec<Vec<((i64, String), Vulnerability)>> = std::thread::scope(|s| {
            let handles: Vec<_> = group
                .chunks(chunk)
                .map(|part| {
                    let distro = &distro;
                    s.spawn(move || {
                        let packages: Vec<Package> =
                            part.iter().map(|d| d.package.clone()).collect();
                        let report = db.match_inventory(distro, &packages);
                        let vulns = ironroot_scanner::vulnerabilities(&report, &[]);
                        let mut ids: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
                        for d in part {
                            ids.entry((d.package.name.as_str(), d.package.version.as_str()))
                                .or_default()
                                .push(d.id);
                        }
                        let mut out = Vec::new();
                        for v in vulns {
                            for &pid in ids
                                .get(&(v.package.as_str(), v.version.as_str()))
                                .into_iter()
                                .flatten()
                            {
                                out.push(((pid, v.id.clone()), v.clone()));
                            }
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        out.extend(parts.into_iter().flatten());
    }
    out
}
