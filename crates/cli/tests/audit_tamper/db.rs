//! Tampering with the log's tables directly, as someone with database access but not the
//! log's key would: through sqlx on the service's own SQLite file or PostgreSQL database,
//! while the service runs.

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

pub struct Db {
    pool: AnyPool,
}

/// A whole entry row, kept to put it back.
pub struct SavedRow {
    idx: i64,
    at: i64,
    kind: String,
    actor: String,
    subject: String,
    body: String,
    leaf_hash: Vec<u8>,
}

impl Db {
    /// `url`: a `postgres://` URL or a `sqlite://` path.
    pub async fn open(url: &str) -> Db {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .unwrap();
        Db { pool }
    }

    /// Indexes of the entries of `kind`, oldest first.
    pub async fn indexes_of(&self, kind: &str) -> Vec<u64> {
        sqlx::query("SELECT idx FROM audit_entries WHERE kind = $1 ORDER BY idx")
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>(0) as u64)
            .collect()
    }

    pub async fn column(&self, idx: u64, column: &str) -> String {
        sqlx::query(&format!(
            "SELECT {column} FROM audit_entries WHERE idx = $1"
        ))
        .bind(idx as i64)
        .fetch_one(&self.pool)
        .await
        .unwrap()
        .get(0)
    }

    /// Sets a text column (`body`, `actor`, …) of entry `idx`.
    pub async fn set(&self, idx: u64, column: &str, value: &str) {
        let done = sqlx::query(&format!(
            "UPDATE audit_entries SET {column} = $1 WHERE idx = $2"
        ))
        .bind(value)
        .bind(idx as i64)
        .execute(&self.pool)
        .await
        .unwrap();
        assert_eq!(done.rows_affected(), 1);
    }

    /// Deletes entry `idx`, returning it.
    pub async fn delete(&self, idx: u64) -> SavedRow {
        let r = sqlx::query(
            "SELECT idx, at, kind, actor, subject, body, leaf_hash FROM audit_entries WHERE idx = $1",
        )
        .bind(idx as i64)
        .fetch_one(&self.pool)
        .await
        .unwrap();
        let row = SavedRow {
            idx: r.get(0),
            at: r.get(1),
            kind: r.get(2),
            actor: r.get(3),
            subject: r.get(4),
            body: r.get(5),
            leaf_hash: r.get(6),
        };
        sqlx::query("DELETE FROM audit_entries WHERE idx = $1")
            .bind(idx as i64)
            .execute(&self.pool)
            .await
            .unwrap();
        row
    }

    pub async fn restore(&self, row: SavedRow) {
        sqlx::query(
            "INSERT INTO audit_entries (idx, at, kind, actor, subject, body, leaf_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.idx)
        .bind(row.at)
        .bind(row.kind)
        .bind(row.actor)
        .bind(row.subject)
        .bind(row.body)
        .bind(row.leaf_hash)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// Swaps the bodies of entries `a` and `b` (so both rows stay, out of their places).
    pub async fn swap_bodies(&self, a: u64, b: u64) {
        let (body_a, body_b) = (self.column(a, "body").await, self.column(b, "body").await);
        assert_ne!(body_a, body_b);
        self.set(a, "body", &body_b).await;
        self.set(b, "body", &body_a).await;
    }

    /// Cuts the log to its first `keep` entries: the later entries, every perfect subtree
    /// reaching past `keep`, and the stored checkpoint (which would otherwise stop the
    /// service from signing the shorter log), in one transaction.
    pub async fn truncate(&self, keep: u64) {
        let mut tx = self.pool.begin().await.unwrap();
        sqlx::query("DELETE FROM audit_entries WHERE idx >= $1")
            .bind(keep as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        // Subtree (level, idx) covers leaves idx << level .. (idx + 1) << level: it
        // reaches past keep exactly when idx >= keep >> level.
        for level in 0..63i64 {
            sqlx::query("DELETE FROM audit_subtrees WHERE level = $1 AND idx >= $2")
                .bind(level)
                .bind((keep >> level) as i64)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query("DELETE FROM audit_checkpoint")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}
