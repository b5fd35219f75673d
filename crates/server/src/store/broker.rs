//! Asset tags, broker keys and the release log.

use super::{to_i64, to_u64, FlavorRow, Store, StoreError};
use sqlx::Row;

/// One issued tag certificate.
#[derive(Debug, Clone)]
pub struct TagRow {
    pub serial: String,
    pub host_id: String,
    pub certificate: String,
    pub digest: String,
    pub tags_json: String,
    pub issued_at: u64,
    pub revoked_at: Option<u64>,
}

/// A key as stored: material sealed under the master key.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub key_id: String,
    pub name: String,
    pub sealed: Vec<u8>,
    pub policy_json: String,
    pub created_at: u64,
    pub imported: bool,
}

/// One release decision.
#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub seq: i64,
    pub key_id: String,
    pub host_id: Option<String>,
    pub hostname: Option<String>,
    pub at: u64,
    pub released: bool,
    pub reason: String,
    pub report_id: Option<String>,
    pub evidence_json: String,
}

fn tag_from(r: &sqlx::any::AnyRow) -> Result<TagRow, StoreError> {
    Ok(TagRow {
        serial: r.try_get("serial")?,
        host_id: r.try_get("host_id")?,
        certificate: r.try_get("certificate")?,
        digest: r.try_get("digest")?,
        tags_json: r.try_get("tags")?,
        issued_at: to_u64(r.try_get("issued_at")?),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(to_u64),
    })
}

fn key_from(r: &sqlx::any::AnyRow) -> Result<KeyRow, StoreError> {
    Ok(KeyRow {
        key_id: r.try_get("key_id")?,
        name: r.try_get("name")?,
        sealed: r.try_get("sealed")?,
        policy_json: r.try_get("policy")?,
        created_at: to_u64(r.try_get("created_at")?),
        imported: r.try_get::<i64, _>("imported")? != 0,
    })
}

impl Store {
    /// Issues `tag` as the host's only current tag, in one transaction: earlier tags are
    /// revoked and their ASSET_TAG flavors deleted, the new flavor joins `group`, the
    /// host row carries the new digest, and the trust-event log says the host's tags
    /// changed (a re-read event, for the Kubernetes controller's tag labels).
    pub async fn issue_tag(
        &self,
        tag: &TagRow,
        flavor: &FlavorRow,
        group: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        revoke_in(&mut tx, &tag.host_id, tag.issued_at).await?;
        super::flavors::insert_in(&mut tx, flavor, group).await?;
        sqlx::query(
            "INSERT INTO asset_tags (serial, host_id, certificate, digest, tags, issued_at, flavor_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&tag.serial)
        .bind(&tag.host_id)
        .bind(&tag.certificate)
        .bind(&tag.digest)
        .bind(&tag.tags_json)
        .bind(to_i64(tag.issued_at))
        .bind(&flavor.flavor_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE hosts SET tag_digest = $1, tag_json = $2 WHERE host_id = $3")
            .bind(&tag.digest)
            .bind(&tag.tags_json)
            .bind(&tag.host_id)
            .execute(&mut *tx)
            .await?;
        let reason = "asset tags changed".to_owned();
        super::nodes::facts_changed(&mut tx, &tag.host_id, reason, tag.issued_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes the host's current tag (if any); returns whether there was one. A
    /// revocation logs a re-read event in the same transaction.
    pub async fn revoke_tag(&self, host_id: &str, now: u64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = revoke_in(&mut tx, host_id, now).await?;
        if n > 0 {
            let reason = "asset tags revoked".to_owned();
            super::nodes::facts_changed(&mut tx, host_id, reason, now).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The host's current tag as its row holds it (hex digest, tags as JSON), read now:
    /// an attestation reads it after its quote verified, so a revocation committed
    /// before that is honoured.
    pub async fn current_tag(
        &self,
        host_id: &str,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let row = sqlx::query("SELECT tag_digest, tag_json FROM hosts WHERE host_id = $1")
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok((r.try_get("tag_digest")?, r.try_get("tag_json")?)),
            None => Ok((None, None)),
        }
    }

    /// The host's current tag digest (hex), read now.
    pub async fn current_tag_digest(&self, host_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.current_tag(host_id).await?.0)
    }

    /// Every tag issued to the host, newest first.
    pub async fn tags(&self, host_id: &str) -> Result<Vec<TagRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, host_id, certificate, digest, tags, issued_at, revoked_at FROM asset_tags \
             WHERE host_id = $1 ORDER BY issued_at DESC, serial",
        )
        .bind(host_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(tag_from).collect()
    }

    /// Stores a new key; a name already taken is refused.
    pub async fn insert_key(&self, k: &KeyRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO broker_keys (key_id, name, sealed, policy, created_at, imported) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&k.key_id)
        .bind(&k.name)
        .bind(&k.sealed)
        .bind(&k.policy_json)
        .bind(to_i64(k.created_at))
        .bind(i64::from(k.imported))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A key by id or by name.
    pub async fn key(&self, id_or_name: &str) -> Result<Option<KeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT key_id, name, sealed, policy, created_at, imported FROM broker_keys \
             WHERE key_id = $1 OR name = $1",
        )
        .bind(id_or_name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(key_from).transpose()
    }

    pub async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT key_id, name, sealed, policy, created_at, imported FROM broker_keys ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_from).collect()
    }

    /// Appends one decision to the release log, and its entry to the audit log.
    pub async fn record_release(&self, r: &ReleaseRow) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO key_releases (key_id, host_id, hostname, at, released, reason, report_id, evidence) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.key_id)
        .bind(&r.host_id)
        .bind(&r.hostname)
        .bind(to_i64(r.at))
        .bind(i64::from(r.released))
        .bind(&r.reason)
        .bind(&r.report_id)
        .bind(&r.evidence_json)
        .execute(&mut *tx)
        .await?;
        let entry = [crate::audit::entries::key_release(r)];
        crate::audit::append_with(self.audit_edge(), &mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes up to `limit` release-log records made before `cutoff`, oldest first;
    /// returns how many went. Small batches keep the hot path's locks short.
    pub async fn prune_releases(&self, cutoff: u64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM key_releases WHERE seq IN \
             (SELECT seq FROM key_releases WHERE at < $1 ORDER BY seq LIMIT $2)",
        )
        .bind(to_i64(cutoff))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The newest `limit` decisions, newest first, for one key or all.
    pub async fn releases(
        &self,
        key_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReleaseRow>, StoreError> {
        const COLS: &str =
            "seq, key_id, host_id, hostname, at, released, reason, report_id, evidence";
        let rows = match key_id {
            Some(k) => {
                sqlx::query(&format!(
                    "SELECT {COLS} FROM key_releases WHERE key_id = $1 ORDER BY seq DESC LIMIT $2"
                ))
                .bind(k)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLS} FROM key_releases ORDER BY seq DESC LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(ReleaseRow {
                    seq: r.try_get("seq")?,
                    key_id: r.try_get("key_id")?,
                    host_id: r.try_get("host_id")?,
                    hostname: r.try_get("hostname")?,
                    at: to_u64(r.try_get("at")?),
                    released: r.try_get::<i64, _>("released")? != 0,
                    reason: r.try_get("reason")?,
                    report_id: r.try_get("report_id")?,
                    evidence_json: r.try_get("evidence")?,
                })
            })
            .collect()
    }
}

/// Revokes the host's current tags inside `tx`, deletes their flavors and clears the
/// host's digest; returns how many were revoked.
async fn revoke_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    host_id: &str,
    now: u64,
) -> Result<u64, StoreError> {
    sqlx::query(
        "DELETE FROM flavors WHERE flavor_id IN \
         (SELECT flavor_id FROM asset_tags WHERE host_id = $1 AND revoked_at IS NULL AND flavor_id IS NOT NULL)",
    )
    .bind(host_id)
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query(
        "UPDATE asset_tags SET revoked_at = $1 WHERE host_id = $2 AND revoked_at IS NULL",
    )
    .bind(to_i64(now))
    .bind(host_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE hosts SET tag_digest = NULL, tag_json = NULL WHERE host_id = $1")
        .bind(host_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
#[path = "broker_tests.rs"]
mod tests;
