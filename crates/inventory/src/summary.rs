//! What one stored image's latest match says, for the policy "image scanned under a
//! severity threshold" (`GET /v1/images/{digest}/summary`): the highest severity among
//! its findings, how many there are, the database generation they were matched at, and
//! when the service matched it on submission (kept here, beside the inventory, because
//! the `images` table records generations, not times; a rescan's time is its record's).
//!
//! Every stored finding is a package at a version the advisory says is affected: none has
//! its fix applied in the image, so all count as unfixed.

use crate::store::{open, InventoryError};
use ironroot_scanner::{Severity, Vulnerability};
use sqlx::Row;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS image_matches (key TEXT PRIMARY KEY, matched_at INTEGER NOT NULL);
";

/// One stored image's latest match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScan {
    /// The database generation its findings were last matched (or rescanned) at; 0: never
    /// matched (submitted before the service had a database).
    pub generation: u64,
    /// Its findings at that generation.
    pub findings: u64,
    /// The highest severity among them; `None`: no finding.
    pub highest: Option<Severity>,
    /// Unix seconds of its match on submission, when one was recorded.
    pub matched_at: Option<u64>,
}

/// Records that the inventory stored under `key` was matched at `at` (unix seconds).
pub async fn record_match(dir: &Path, key: &str, at: u64) -> Result<(), InventoryError> {
    let mut conn = open(dir).await?;
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
    sqlx::query("INSERT OR REPLACE INTO image_matches VALUES (?, ?)")
        .bind(key)
        .bind(at as i64)
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// The keys of every stored inventory (the service gives those stored before
/// organisations divided images to the `default` organisation).
pub async fn stored_keys(dir: &Path) -> Result<Vec<String>, InventoryError> {
    let mut conn = open(dir).await?;
    Ok(sqlx::query_scalar::<_, String>("SELECT key FROM images")
        .fetch_all(&mut conn)
        .await?)
}

/// The latest match of the inventory stored under `key`; `None` when there is none.
pub async fn stored_scan(dir: &Path, key: &str) -> Result<Option<StoredScan>, InventoryError> {
    let mut conn = open(dir).await?;
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
    let Some(generation) =
        sqlx::query_scalar::<_, i64>("SELECT reported_gen FROM images WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut conn)
            .await?
    else {
        return Ok(None);
    };
    let matched_at =
        sqlx::query_scalar::<_, i64>("SELECT matched_at FROM image_matches WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut conn)
            .await?;
    let rows = sqlx::query(
        "SELECT pv.detail FROM image_packages ip
         JOIN package_vulns pv ON pv.package_id = ip.package_id WHERE ip.image_key = ?",
    )
    .bind(key)
    .fetch_all(&mut conn)
    .await?;
    let mut highest = None;
    for r in &rows {
        let v: Vulnerability = serde_json::from_str(r.try_get::<&str, _>(0)?)?;
        highest = highest.max(Some(v.severity));
    }
    Ok(Some(StoredScan {
        generation: u64::try_from(generation).unwrap_or(0),
        findings: rows.len() as u64,
        highest,
        matched_at: matched_at.and_then(|t| u64::try_from(t).ok()),
    }))
}
