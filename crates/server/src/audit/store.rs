//! The log's rows: appending under one lock, reading entries, and producing tree heads
//! and proofs from the stored perfect-subtree hashes (O(log n) rows, fetched in one query
//! each time from the list `ironroot_tlog`'s planners give).

use super::edge::{Edge, EdgeCache};
use super::NewEntry;
use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_api::{canonical_json, AuditEntry};
use ironroot_tlog::merkle::{self, Frontier, Hash, MemoryTree, Subtree};
use sqlx::{AnyConnection, Row};
use std::ops::Range;

/// The PostgreSQL advisory lock every append takes ("ironlog!"): replicas append one at
/// a time, each after reading the size the previous one committed.
const APPEND_LOCK: i64 = 0x6972_6f6e_6c6f_6721;
/// Parameters of one entry's row: its seven columns and the three its organisation is
/// computed from.
const ENTRY_PARAMS: usize = 10;
/// Rows per multi-row INSERT: 10 or 3 parameters each, under SQLite's 999-variable limit
/// of old builds and PostgreSQL's 65,535.
const ENTRY_ROWS: usize = 90;
const SUBTREE_ROWS: usize = 300;
/// Subtrees per lookup query (two parameters each).
const LOOKUP_ROWS: usize = 400;

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("audit log: {what}"))
}

/// Commits `tx` with `entry` in the log when the change it made happened (`changed`);
/// returns `changed`. The one way a store function records a single change.
pub(crate) async fn audited(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    changed: bool,
    entry: NewEntry,
) -> Result<bool, StoreError> {
    if changed {
        append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Appends `entries`, in order, inside `tx` and returns their indexes. Call it as the last
/// statement before commit: it holds the log's lock until then, and a transaction that
/// holds it never waits for another lock (so it cannot deadlock with one that does).
pub(crate) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entries: &[NewEntry],
) -> Result<Range<u64>, StoreError> {
    append_with(None, tx, entries).await
}

/// [`append`], starting from `edge`'s copy of the tree's right edge when it is still the
/// database's (the attestation path's appends).
pub(crate) async fn append_with(
    edge: Option<&EdgeCache>,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entries: &[NewEntry],
) -> Result<Range<u64>, StoreError> {
    let conn: &mut AnyConnection = tx;
    // SQLite: the caller's BEGIN IMMEDIATE already holds the database's one write lock.
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let (size, last_leaf) = last(&mut *conn).await?;
    let mut frontier = match edge.and_then(|e| e.matching(size, last_leaf.as_ref())) {
        Some(cached) => cached,
        None => {
            let wanted = merkle::root_subtrees(size).map_err(corrupt)?;
            let stored = lookup(&mut *conn, &wanted).await?;
            Frontier::load(&stored, size).map_err(corrupt)?
        }
    };
    let mut rows = Vec::with_capacity(entries.len());
    let mut subtrees = Vec::with_capacity(entries.len() * 2 + 64);
    let mut last_leaf = last_leaf;
    for e in entries {
        let index = frontier.size();
        let data = e.at_index(index).leaf_data().map_err(corrupt)?;
        let body = canonical_json(&e.body).map_err(corrupt)?;
        let leaf = merkle::leaf_hash(&data);
        let completed = frontier
            .push(leaf)
            .ok_or_else(|| corrupt("the log is full"))?;
        subtrees.extend(completed);
        rows.push((index, e, body, leaf));
        last_leaf = Some(leaf);
    }
    for chunk in rows.chunks(ENTRY_ROWS) {
        let mut sql = String::from(
            "INSERT INTO audit_entries (idx, at, kind, actor, subject, body, leaf_hash, org) VALUES ",
        );
        for r in 0..chunk.len() {
            let p = r * ENTRY_PARAMS;
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, {})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                super::orgs::org_expression(p + 8)
            ));
        }
        let mut q = sqlx::query(&sql);
        for (index, e, body, leaf) in chunk {
            let (kind, id, fallback) = super::orgs::owner_lookup(e);
            q = q
                .bind(to_i64(*index))
                .bind(to_i64(e.at))
                .bind(e.kind)
                .bind(e.actor.as_str())
                .bind(e.subject.as_str())
                .bind(body.as_str())
                .bind(leaf.to_vec())
                .bind(kind)
                .bind(id)
                .bind(fallback);
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in subtrees.chunks(SUBTREE_ROWS) {
        let sql = multi_row_insert(
            "INSERT INTO audit_subtrees (level, idx, hash) VALUES ",
            3,
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for (s, hash) in chunk {
            q = q
                .bind(i64::from(s.level))
                .bind(to_i64(s.index))
                .bind(hash.to_vec());
        }
        q.execute(&mut *conn).await?;
    }
    let appended = size..frontier.size();
    if let Some(edge) = edge {
        edge.keep(Edge {
            frontier,
            last_leaf,
        });
    }
    Ok(appended)
}

/// `INSERT ... VALUES ($1,...,$cols), (...)` for `rows` rows.
pub(super) fn multi_row_insert(head: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 5);
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(r * cols + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// The number of entries (one past the highest index) and the last one's leaf hash.
async fn last(conn: &mut AnyConnection) -> Result<(u64, Option<Hash>), StoreError> {
    let row = sqlx::query("SELECT idx, leaf_hash FROM audit_entries ORDER BY idx DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok((0, None));
    };
    let idx: i64 = row.try_get(0)?;
    let leaf: Vec<u8> = row.try_get(1)?;
    let leaf = Hash::try_from(leaf.as_slice())
        .map_err(|_| corrupt(format!("entry {idx}'s leaf hash is not 32 bytes")))?;
    Ok((to_u64(idx) + 1, Some(leaf)))
}

/// The number of entries: one past the highest index.
async fn size(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(idx) FROM audit_entries")
        .fetch_one(&mut *conn)
        .await?;
    Ok(max.map_or(0, |m| to_u64(m) + 1))
}

/// The stored hashes of `wanted`, as a map the tree generators read.
async fn lookup(conn: &mut AnyConnection, wanted: &[Subtree]) -> Result<MemoryTree, StoreError> {
    let mut found = Vec::with_capacity(wanted.len());
    for chunk in wanted.chunks(LOOKUP_ROWS) {
        let mut sql = String::from("SELECT level, idx, hash FROM audit_subtrees WHERE ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(level = ${} AND idx = ${})",
                2 * i + 1,
                2 * i + 2
            ));
        }
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q.bind(i64::from(s.level)).bind(to_i64(s.index));
        }
        for row in q.fetch_all(&mut *conn).await? {
            let level: i64 = row.try_get(0)?;
            let index: i64 = row.try_get(1)?;
            let hash: Vec<u8> = row.try_get(2)?;
            let subtree = Subtree {
                level: u8::try_from(level)
                    .map_err(|_| corrupt("a subtree level is out of range"))?,
                index: to_u64(index),
            };
            let hash = Hash::try_from(hash.as_slice())
                .map_err(|_| corrupt(format!("subtree {level}/{index} is not 32 bytes")))?;
            found.push((subtree, hash));
        }
    }
    // A missing one surfaces as `MissingSubtree` when a generator asks for it.
    Ok(MemoryTree::from_subtrees(found))
}

/// The latest signed checkpoint as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

impl Store {
    /// The number of entries in the log.
    pub(crate) async fn audit_size(&self) -> Result<u64, StoreError> {
        size(&mut *self.pool().acquire().await?).await
    }

    /// Entries `range` (those that exist), oldest first; with `org`, only those that
    /// concern that organisation.
    pub(crate) async fn audit_entries(
        &self,
        range: Range<u64>,
        org: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = if org.is_some() {
            "SELECT idx, at, kind, actor, subject, body FROM audit_entries \
             WHERE idx >= $1 AND idx < $2 AND org = $3 ORDER BY idx"
        } else {
            "SELECT idx, at, kind, actor, subject, body FROM audit_entries \
             WHERE idx >= $1 AND idx < $2 ORDER BY idx"
        };
        let mut q = sqlx::query(sql)
            .bind(to_i64(range.start))
            .bind(to_i64(range.end));
        if let Some(org) = org {
            q = q.bind(org);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let index = to_u64(r.try_get("idx")?);
                let body: String = r.try_get("body")?;
                Ok(AuditEntry {
                    index,
                    at: to_u64(r.try_get("at")?),
                    kind: r.try_get("kind")?,
                    actor: r.try_get("actor")?,
                    subject: r.try_get("subject")?,
                    body: serde_json::from_str(&body)
                        .map_err(|e| corrupt(format!("entry {index}'s body: {e}")))?,
                })
            })
            .collect()
    }

    /// MTH of the first `size` entries.
    pub(crate) async fn audit_root(&self, size: u64) -> Result<Hash, StoreError> {
        let wanted = merkle::root_subtrees(size).map_err(corrupt)?;
        let tree = lookup(&mut *self.pool().acquire().await?, &wanted).await?;
        merkle::root(&tree, size).map_err(corrupt)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries; the caller
    /// checked `index < size <= audit_size()`.
    pub(crate) async fn audit_inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        let wanted = merkle::inclusion_proof_subtrees(index, size).map_err(corrupt)?;
        let tree = lookup(&mut *self.pool().acquire().await?, &wanted).await?;
        merkle::inclusion_proof(&tree, index, size).map_err(corrupt)
    }

    /// The consistency proof from `from` to `to` entries; the caller checked
    /// `from <= to <= audit_size()`.
    pub(crate) async fn audit_consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        let wanted = merkle::consistency_proof_subtrees(from, to).map_err(corrupt)?;
        let tree = lookup(&mut *self.pool().acquire().await?, &wanted).await?;
        merkle::consistency_proof(&tree, from, to).map_err(corrupt)
    }

    pub(crate) async fn audit_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query("SELECT size, root, note FROM audit_checkpoint WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let root: Vec<u8> = row.try_get("root")?;
        Ok(Some(StoredCheckpoint {
            size: to_u64(row.try_get("size")?),
            root: Hash::try_from(root.as_slice())
                .map_err(|_| corrupt("the checkpoint's root is not 32 bytes"))?,
            note: row.try_get("note")?,
        }))
    }

    /// Stores a signed checkpoint unless one at least as large is already there: replicas
    /// signing at once never move the published checkpoint backwards.
    pub(crate) async fn put_audit_checkpoint(
        &self,
        size: u64,
        root: &Hash,
        note: &str,
        at: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_checkpoint (id, size, root, note, signed_at) VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root, \
             note = excluded.note, signed_at = excluded.signed_at \
             WHERE audit_checkpoint.size < excluded.size",
        )
        .bind(to_i64(size))
        .bind(root.to_vec())
        .bind(note)
        .bind(to_i64(at))
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
