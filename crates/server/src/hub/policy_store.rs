//! The policy versions of every organisation (`0009_hub.sql`, `0016_policy_orgs.sql`).
//! Version numbers are one counter shared by every organisation (the table's key): an
//! organisation's current set is its highest version, and its history is not contiguous.
//! Every read here names the organisation it reads for, or says it reads them all.

use super::store::{PolicyMeta, VersionRow};
use crate::audit::audited;
use crate::identity::store::ObjectKind;
use crate::identity::DEFAULT_ORG;
use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_api::PolicyVersion;
use sqlx::Row;
use std::collections::HashMap;

const VERSION_COLUMNS: &str = "version, sha256, changed_by, changed_at, comment, policies";

fn version_row(r: &sqlx::any::AnyRow) -> Result<VersionRow, StoreError> {
    let policies: Vec<PolicyMeta> = serde_json::from_str(&r.try_get::<String, _>("policies")?)
        .map_err(|e| StoreError::Corrupt(format!("policy version's policies: {e}")))?;
    Ok(VersionRow {
        version: PolicyVersion {
            version: to_u64(r.try_get("version")?),
            sha256: r.try_get("sha256")?,
            by: r.try_get("changed_by")?,
            at: to_u64(r.try_get("changed_at")?),
            comment: r.try_get("comment")?,
            policies: policies.iter().map(|p| p.id.clone()).collect(),
        },
        policies,
    })
}

impl Store {
    /// The highest version number of any organisation: the next change of any
    /// organisation must carry this plus one.
    pub(crate) async fn last_policy_version(&self) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM hub_policy_versions")
            .fetch_one(self.pool())
            .await?;
        Ok(v.map(to_u64))
    }

    /// Organisation `org`'s current version number.
    pub(crate) async fn current_policy_version(
        &self,
        org: &str,
    ) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM hub_policy_versions WHERE org = $1")
                .bind(org)
                .fetch_one(self.pool())
                .await?;
        Ok(v.map(to_u64))
    }

    /// The organisation of cluster `id` and that organisation's current version number,
    /// in one query (every cluster asks for its bundle at each poll).
    pub(crate) async fn cluster_policy_version(
        &self,
        id: &str,
    ) -> Result<(String, Option<u64>), StoreError> {
        let row = sqlx::query(
            "SELECT o.org AS org, \
             (SELECT MAX(v.version) FROM hub_policy_versions v WHERE v.org = o.org) AS version \
             FROM (SELECT COALESCE((SELECT org FROM owners WHERE kind = $1 AND id = $2), $3) \
             AS org) o",
        )
        .bind(ObjectKind::Cluster.as_str())
        .bind(id)
        .bind(DEFAULT_ORG)
        .fetch_one(self.pool())
        .await?;
        let version: Option<i64> = row.try_get("version")?;
        Ok((row.try_get("org")?, version.map(to_u64)))
    }

    /// Records version `v.version` of `org`; `false` when another change (of any
    /// organisation) took that number first.
    pub(crate) async fn insert_policy_version(
        &self,
        org: &str,
        v: &VersionRow,
        document: &str,
    ) -> Result<bool, StoreError> {
        let policies = serde_json::to_string(&v.policies)
            .map_err(|e| StoreError::Corrupt(format!("policy list: {e}")))?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO hub_policy_versions (version, org, document, sha256, changed_by, \
             changed_at, comment, policies) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING",
        )
        .bind(to_i64(v.version.version))
        .bind(org)
        .bind(document)
        .bind(&v.version.sha256)
        .bind(&v.version.by)
        .bind(to_i64(v.version.at))
        .bind(v.version.comment.clone())
        .bind(policies)
        .execute(&mut *tx)
        .await?;
        let entry = crate::audit::entries::policy_version(org, &v.version);
        audited(tx, done.rows_affected() == 1, entry).await
    }

    /// Organisation `org`'s current version, with its document when `with_document`.
    pub(crate) async fn current_policy(
        &self,
        org: &str,
        with_document: bool,
    ) -> Result<Option<(VersionRow, Option<String>)>, StoreError> {
        let doc = if with_document { ", document" } else { "" };
        let q = format!(
            "SELECT {VERSION_COLUMNS}{doc} FROM hub_policy_versions WHERE org = $1 \
             ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(&q)
            .bind(org)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let document = if with_document {
            Some(r.try_get::<String, _>("document")?)
        } else {
            None
        };
        Ok(Some((version_row(&r)?, document)))
    }

    /// Version `n` with its document, if it is `org`'s (any organisation's with `None`).
    pub(crate) async fn policy_version(
        &self,
        n: u64,
        org: Option<&str>,
    ) -> Result<Option<(VersionRow, String)>, StoreError> {
        let q = format!(
            "SELECT {VERSION_COLUMNS}, document FROM hub_policy_versions \
             WHERE version = $1 AND ($2 = '' OR org = $2)"
        );
        let row = sqlx::query(&q)
            .bind(to_i64(n))
            .bind(org.unwrap_or_default())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((version_row(&r)?, r.try_get("document")?)))
    }

    /// `org`'s versions (every organisation's with `None`), newest first.
    pub(crate) async fn policy_versions(
        &self,
        org: Option<&str>,
    ) -> Result<Vec<PolicyVersion>, StoreError> {
        let q = format!(
            "SELECT {VERSION_COLUMNS} FROM hub_policy_versions WHERE ($1 = '' OR org = $1) \
             ORDER BY version DESC"
        );
        let rows = sqlx::query(&q)
            .bind(org.unwrap_or_default())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| version_row(r).map(|v| v.version))
            .collect()
    }

    /// Each organisation's current version (without documents), by organisation: for
    /// judging clusters of several organisations at once.
    pub(crate) async fn current_policies(&self) -> Result<HashMap<String, VersionRow>, StoreError> {
        let q = format!(
            "SELECT org, {VERSION_COLUMNS} FROM hub_policy_versions WHERE version IN \
             (SELECT MAX(version) FROM hub_policy_versions GROUP BY org)"
        );
        let rows = sqlx::query(&q).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("org")?, version_row(r)?)))
            .collect()
    }
}
