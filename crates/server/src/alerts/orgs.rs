//! Which organisation an alert and a sink belong to (docs/alerts.md). An alert is its
//! subject's owner's at the time it is raised; a sink is its creator's (`owners` kind
//! `sink`, by name; a sink without a row is `default`'s). Creating, replacing and
//! deleting a sink check its owner in the same write transaction as the change, so two
//! organisations racing for one name cannot both get it.

use crate::identity::store::ObjectKind;
use crate::identity::DEFAULT_ORG;
use crate::store::{to_i64, Store, StoreError};
use ironroot_api::SinkSpec;
use sqlx::{AnyConnection, Row};

/// SQL: the organisation of the sink in the row of `alert_sinks` at hand; the default
/// organisation's name is parameter `$2`.
pub(super) const SINK_ORG: &str = "COALESCE((SELECT o.org FROM owners o \
    WHERE o.kind = 'sink' AND o.id = alert_sinks.name), $2)";

/// The organisation `id` of `kind` belongs to, read inside the caller's transaction (a
/// trust event's, so that the alert and the change agree); `default` when it has no row.
pub(crate) async fn owner_in(
    conn: &mut AnyConnection,
    kind: ObjectKind,
    id: &str,
) -> Result<String, StoreError> {
    let row = sqlx::query("SELECT org FROM owners WHERE kind = $1 AND id = $2")
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(r.try_get("org")?),
        None => Ok(DEFAULT_ORG.to_owned()),
    }
}

/// The organisation of sink `name`: its owner row, else `default` when the sink exists
/// (made before sinks had owners); `None` when the name is free.
async fn sink_owner_in(conn: &mut AnyConnection, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT org FROM owners WHERE kind = $1 AND id = $2")
        .bind(ObjectKind::Sink.as_str())
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(r) = row {
        return Ok(Some(r.try_get("org")?));
    }
    let exists = sqlx::query("SELECT 1 FROM alert_sinks WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    Ok(exists.then(|| DEFAULT_ORG.to_owned()))
}

/// What [`Store::put_sink`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SinkPut {
    Stored,
    /// Another organisation owns the name: nothing was changed.
    Taken,
}

impl Store {
    /// Creates or replaces the sink `name` for `org` (`None`: the bootstrap credential,
    /// which may replace any sink and creates `default`'s). A new name is given to its
    /// organisation first, in the same transaction; a name another organisation owns is
    /// [`SinkPut::Taken`] and nothing changes. Queued notices stay queued.
    pub(crate) async fn put_sink(
        &self,
        name: &str,
        spec: &SinkSpec,
        sealed_secret: Option<&[u8]>,
        now: u64,
        org: Option<&str>,
    ) -> Result<SinkPut, StoreError> {
        let text = serde_json::to_string(spec)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode a sink: {e}")))?;
        let mut tx = self.begin_write().await?;
        let owner = match sink_owner_in(&mut tx, name).await? {
            Some(owner) => owner,
            None => {
                let claim = org.unwrap_or(DEFAULT_ORG);
                // Another transaction may claim the name first (PostgreSQL): then its
                // owner is read back below and decides.
                sqlx::query(
                    "INSERT INTO owners (kind, id, org) VALUES ($1, $2, $3) \
                     ON CONFLICT (kind, id) DO NOTHING",
                )
                .bind(ObjectKind::Sink.as_str())
                .bind(name)
                .bind(claim)
                .execute(&mut *tx)
                .await?;
                sink_owner_in(&mut tx, name)
                    .await?
                    .unwrap_or_else(|| claim.to_owned())
            }
        };
        if org.is_some_and(|o| o != owner) {
            return Ok(SinkPut::Taken);
        }
        sqlx::query(
            "INSERT INTO alert_sinks (name, spec, sealed_secret, updated) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET spec = $2, sealed_secret = $3, updated = $4",
        )
        .bind(name)
        .bind(text)
        .bind(sealed_secret.map(<[u8]>::to_vec))
        .bind(to_i64(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SinkPut::Stored)
    }

    /// Deletes the sink `name` of `org` (`None`: whoever's it is), its queued notices and
    /// its owner row, which frees the name; false if `org` has no such sink.
    pub(crate) async fn delete_sink(
        &self,
        name: &str,
        org: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(owner) = sink_owner_in(&mut tx, name).await? else {
            return Ok(false);
        };
        if org.is_some_and(|o| o != owner) {
            return Ok(false);
        }
        sqlx::query("DELETE FROM alert_outbox WHERE sink = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM alert_sinks WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM owners WHERE kind = $1 AND id = $2")
            .bind(ObjectKind::Sink.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
