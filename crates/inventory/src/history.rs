//! The rescans a service ran, kept in the store beside the inventories, so that what a
//! database update made vulnerable is still there after a restart.

use crate::store::{open, InventoryError};
use crate::RescanRecord;
use sqlx::Row;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rescans (
  generation INTEGER PRIMARY KEY, finished_at INTEGER NOT NULL, record TEXT NOT NULL);
";

/// Keeps `record`, and only the newest `keep` records.
pub async fn record_rescan(
    dir: &Path,
    record: &RescanRecord,
    keep: u32,
) -> Result<(), InventoryError> {
    let mut conn = open(dir).await?;
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
    sqlx::query("INSERT OR REPLACE INTO rescans VALUES (?, ?, ?)")
        .bind(record.generation as i64)
        .bind(record.finished_at as i64)
        .bind(serde_json::to_string(record)?)
        .execute(&mut conn)
        .await?;
    sqlx::query(
        "DELETE FROM rescans WHERE generation NOT IN
         (SELECT generation FROM rescans ORDER BY generation DESC LIMIT ?)",
    )
    .bind(keep)
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// The newest `limit` rescans, newest first.
pub async fn recent_rescans(dir: &Path, limit: u32) -> Result<Vec<RescanRecord>, InventoryError> {
    let mut conn = open(dir).await?;
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
    let rows = sqlx::query("SELECT record FROM rescans ORDER BY generation DESC LIMIT ?")
        .bind(limit)
        .fetch_all(&mut conn)
        .await?;
    rows.iter()
        .map(|r| Ok(serde_json::from_str(r.try_get::<&str, _>(0)?)?))
        .collect()
}
