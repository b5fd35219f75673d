//! The trust-event log: one row per change of a host's trust state, written in the same
//! transaction as the change, read back in `seq` order by every replica's event tailer.

use super::{to_i64, Store, StoreError};
use ironroot_api::TrustEvent;
use sqlx::Row;

/// A trust event with its position in the log (the SSE `id`).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: TrustEvent,
}

/// Inserts `event` into the log inside the caller's transaction.
pub(super) async fn insert(
    conn: &mut sqlx::AnyConnection,
    event: &TrustEvent,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(event)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode a trust event: {e}")))?;
    sqlx::query("INSERT INTO trust_events (created, host_id, event) VALUES ($1, $2, $3)")
        .bind(to_i64(event.at))
        .bind(&event.host_id)
        .bind(text)
        .execute(&mut *conn)
        .await?;
    crate::alerts::on_trust_event(conn, event).await?;
    Ok(())
}

impl Store {
    /// Up to `limit` events with `seq > after`, oldest first.
    pub async fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, event FROM trust_events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                let text: String = r.try_get(1)?;
                let event = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("trust event {seq}: {e}")))?;
                Ok(StoredEvent { seq, event })
            })
            .collect()
    }

    /// The newest event's `seq`, or 0 for an empty log: where a new tailer starts.
    pub async fn latest_event_seq(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT MAX(seq) FROM trust_events")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
    }

    /// Deletes up to `limit` events created before `cutoff`; returns how many went.
    pub async fn prune_events(&self, cutoff: u64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM trust_events WHERE seq IN \
             (SELECT seq FROM trust_events WHERE created < $1 ORDER BY seq LIMIT $2)",
        )
        .bind(to_i64(cutoff))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
