//! The sinks table and the delivery outbox. A notice is queued once per sink in the
//! transaction that made it; a replica claims a due row with a lease (a compare-and-set
//! on `lease_until_ms`), delivers it, and marks it delivered or failed. A crash between
//! sending and marking sends it again after the lease: delivery is at least once, and
//! receivers drop a `delivery_id` they have seen.

use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_alerts::{AlertRecord, Change, Notice};
use ironroot_api::SinkSpec;
use sqlx::{AnyConnection, Row};

/// How long a claimed row is left to its claimer before another replica may take it.
pub(crate) const LEASE_MS: u64 = 30_000;

/// A sink as stored: its spec without the secret, and the sealed secret.
#[derive(Debug, Clone)]
pub(crate) struct SinkRow {
    pub name: String,
    pub spec: SinkSpec,
    pub sealed_secret: Option<Vec<u8>>,
}

/// A due notice, claimed.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub seq: i64,
    pub sink: String,
    pub notice: Notice,
    pub attempts: u64,
}

fn spec_from(text: &str) -> Result<SinkSpec, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("sink spec: {e}")))
}

fn sink_from(r: &sqlx::any::AnyRow) -> Result<SinkRow, StoreError> {
    Ok(SinkRow {
        name: r.try_get(0)?,
        spec: spec_from(&r.try_get::<String, _>(1)?)?,
        sealed_secret: r.try_get(2)?,
    })
}

/// The sinks of `org`: those it owns, and for `default` also those without an owner
/// (made before sinks had owners).
async fn sinks_of(conn: &mut AnyConnection, org: &str) -> Result<Vec<SinkRow>, StoreError> {
    let q = format!(
        "SELECT name, spec, sealed_secret FROM alert_sinks WHERE {} = $1 ORDER BY name",
        super::orgs::SINK_ORG
    );
    let rows = sqlx::query(&q)
        .bind(org)
        .bind(crate::identity::DEFAULT_ORG)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(sink_from).collect()
}

/// Queues `alert`'s notice for every sink of `org` (the alert's organisation) that wants
/// its severity: another organisation's sink never hears of it.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    alert: &AlertRecord,
    change: Change,
    now: u64,
    org: &str,
) -> Result<(), StoreError> {
    for sink in sinks_of(conn, org).await? {
        if sink.spec.min_severity().is_some_and(|m| alert.severity < m) {
            continue;
        }
        let notice = Notice {
            delivery_id: format!("dl-{}", uuid::Uuid::new_v4()),
            change,
            alert: alert.clone(),
        };
        let text = serde_json::to_string(&notice)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode a notice: {e}")))?;
        sqlx::query(
            "INSERT INTO alert_outbox (delivery_id, sink, alert_id, notice, created, attempts, \
             next_attempt_ms, lease_until_ms) VALUES ($1, $2, $3, $4, $5, 0, 0, 0)",
        )
        .bind(&notice.delivery_id)
        .bind(&sink.name)
        .bind(&alert.id)
        .bind(text)
        .bind(to_i64(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Every sink, of every organisation (the delivery worker's view).
    pub(crate) async fn sinks(&self) -> Result<Vec<SinkRow>, StoreError> {
        let rows = sqlx::query("SELECT name, spec, sealed_secret FROM alert_sinks ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(sink_from).collect()
    }

    /// Per sink: notices waiting, and the last error of the oldest one that failed.
    pub(crate) async fn sink_backlog(
        &self,
        name: &str,
    ) -> Result<(u64, Option<String>), StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM alert_outbox WHERE sink = $1 AND delivered IS NULL")
                .bind(name)
                .fetch_one(self.pool())
                .await?;
        let pending = to_u64(row.try_get(0)?);
        let err = sqlx::query(
            "SELECT last_error FROM alert_outbox WHERE sink = $1 AND delivered IS NULL \
             AND last_error IS NOT NULL ORDER BY seq LIMIT 1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok((pending, err.map(|r| r.try_get(0)).transpose()?))
    }

    /// Claims up to `limit` undelivered notices, oldest first, skipping the sinks in
    /// `skip` (backing off) and any sink with an older notice leased elsewhere, so each
    /// sink hears of changes in the order they were made. Backoff lives in the worker,
    /// not here: a restarted service tries every sink at once.
    pub(crate) async fn claim_due(
        &self,
        now_ms: u64,
        limit: u32,
        skip: &[String],
    ) -> Result<Vec<Pending>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, sink, notice, attempts, lease_until_ms FROM alert_outbox o \
             WHERE delivered IS NULL AND lease_until_ms <= $1 AND NOT EXISTS \
             (SELECT 1 FROM alert_outbox e WHERE e.sink = o.sink AND e.delivered IS NULL \
             AND e.seq < o.seq AND e.lease_until_ms > $1) ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(now_ms))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        // A sink whose row another replica holds is left alone this pass: taking its
        // later rows would send them before the held one.
        let mut held: Vec<String> = skip.to_vec();
        for r in rows {
            let (seq, sink): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
            if held.contains(&sink) {
                continue;
            }
            let lease: i64 = r.try_get(4)?;
            let done = sqlx::query(
                "UPDATE alert_outbox SET lease_until_ms = $1 WHERE seq = $2 AND lease_until_ms = $3 \
                 AND delivered IS NULL",
            )
            .bind(to_i64(now_ms + LEASE_MS))
            .bind(seq)
            .bind(lease)
            .execute(self.pool())
            .await?;
            if done.rows_affected() != 1 {
                held.push(sink);
                continue;
            }
            let text: String = r.try_get(2)?;
            let notice = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("outbox notice {seq}: {e}")))?;
            claimed.push(Pending {
                seq,
                sink,
                notice,
                attempts: to_u64(r.try_get(3)?),
            });
        }
        Ok(claimed)
    }

    pub(crate) async fn mark_delivered(&self, seq: i64, now: u64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_outbox SET delivered = $1, lease_until_ms = 0, last_error = NULL, \
             attempts = attempts + 1 WHERE seq = $2",
        )
        .bind(to_i64(now))
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Releases a claimed notice, recording why it failed and when the worker plans to
    /// retry its sink (`retry_at_ms`, shown to operators; the worker's backoff decides).
    pub(crate) async fn mark_failed(
        &self,
        seq: i64,
        retry_at_ms: u64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_ms = $1, \
             lease_until_ms = 0, last_error = $2 WHERE seq = $3",
        )
        .bind(to_i64(retry_at_ms))
        .bind(error)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes up to `limit` notices delivered before `cutoff`.
    pub(crate) async fn prune_outbox(&self, cutoff: u64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM alert_outbox WHERE seq IN (SELECT seq FROM alert_outbox \
             WHERE delivered IS NOT NULL AND delivered < $1 ORDER BY seq LIMIT $2)",
        )
        .bind(to_i64(cutoff))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
