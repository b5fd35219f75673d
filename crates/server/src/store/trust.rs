//! Trust state, the TPM-clock high-water mark, shared secrets and report retention:
//! the statements that must be atomic when several replicas share one database.

use super::{to_i64, to_u64, Store, StoreError};
use ironroot_api::{TrustEvent, TrustInput, TrustState};
use sqlx::Row;

/// What a quote's TPM counters say relative to the last accepted quote of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockCheck {
    /// Strictly later (a new boot, a resume, or a later clock): recorded.
    Advanced,
    /// The very same counters: this quote (or its twin) was accepted before.
    Repeated,
    /// Earlier than a quote already accepted: the TPM's state was rolled back, or the
    /// quote is older than one already seen.
    WentBackwards,
}

/// A trusted verdict whose deadline passed, claimed by exactly one replica.
#[derive(Debug, Clone)]
pub struct LapsedTrust {
    pub host_id: String,
    pub hostname: String,
    pub deadline: u64,
}

impl Store {
    /// Records `(reset, restart, clock)` as the host's high-water mark if it is
    /// lexicographically later than the stored one. One conditional UPDATE, so two
    /// replicas racing with the same quote cannot both accept it.
    pub async fn advance_clock(
        &self,
        host_id: &str,
        reset: u32,
        restart: u32,
        clock: u64,
    ) -> Result<ClockCheck, StoreError> {
        let (reset, restart, clock) = (i64::from(reset), i64::from(restart), to_i64(clock));
        let done = sqlx::query(
            "UPDATE hosts SET reset_count = $1, restart_count = $2, clock = $3 WHERE host_id = $4 AND \
             (reset_count IS NULL OR $1 > reset_count OR ($1 = reset_count AND \
             ($2 > restart_count OR ($2 = restart_count AND $3 > clock))))",
        )
        .bind(reset)
        .bind(restart)
        .bind(clock)
        .bind(host_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(ClockCheck::Advanced);
        }
        let row =
            sqlx::query("SELECT reset_count, restart_count, clock FROM hosts WHERE host_id = $1")
                .bind(host_id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("host {host_id} vanished")))?;
        let stored: (Option<i64>, Option<i64>, Option<i64>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(if stored == (Some(reset), Some(restart), Some(clock)) {
            ClockCheck::Repeated
        } else {
            ClockCheck::WentBackwards
        })
    }

    /// Flips every trusted host whose deadline is at or before `now` to expired, logs a
    /// trust event for each in the same transaction, and returns them. Each flip happens
    /// once, whichever replica runs it.
    pub async fn expire_lapsed(&self, now: u64) -> Result<Vec<LapsedTrust>, StoreError> {
        // Only a trusted verdict has a deadline; the transition function says where it
        // leads, and one conditional UPDATE makes it for every lapsed host at once.
        let from = TrustState::Trusted;
        let to = from
            .next(TrustInput::DeadlinePassed)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE hosts SET trust_state = $1 WHERE trust_state = $2 AND trust_deadline <= $3 \
             RETURNING host_id, hostname, trust_deadline",
        )
        .bind(to.as_str())
        .bind(from.as_str())
        .bind(to_i64(now))
        .fetch_all(&mut *tx)
        .await?;
        let lapsed = rows
            .iter()
            .map(|r| {
                Ok(LapsedTrust {
                    host_id: r.try_get(0)?,
                    hostname: r.try_get(1)?,
                    deadline: to_u64(r.try_get::<Option<i64>, _>(2)?.unwrap_or(0)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for l in &lapsed {
            let event = TrustEvent {
                host_id: l.host_id.clone(),
                hostname: l.hostname.clone(),
                previous: from,
                trust: to,
                at: now,
                report_id: None,
                report_jws: None,
                reasons: vec![format!(
                    "no passing attestation before the deadline ({})",
                    l.deadline
                )],
            };
            super::events::insert(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(lapsed)
    }

    /// The host's trust state as recorded, and the deadline of a trusted one.
    pub async fn trust_state(
        &self,
        host_id: &str,
    ) -> Result<Option<(TrustState, Option<u64>)>, StoreError> {
        let row = sqlx::query("SELECT trust_state, trust_deadline FROM hosts WHERE host_id = $1")
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok((
                stored_state(r.try_get(0)?)?,
                r.try_get::<Option<i64>, _>(1)?.map(to_u64),
            ))
        })
        .transpose()
    }

    /// A secret shared by every replica, created by whichever replica asks first.
    pub async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query("INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(self.pool())
            .await?;
        let row = sqlx::query("SELECT value FROM service_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Deletes up to `limit` reports created before `cutoff`, never a host's latest
    /// report; returns how many went. Small batches keep the hot path's locks short.
    pub async fn prune_reports(&self, cutoff: u64, limit: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM reports WHERE report_id IN (SELECT report_id FROM reports WHERE created < $1 \
             AND report_id NOT IN (SELECT last_report_id FROM hosts WHERE last_report_id IS NOT NULL) LIMIT $2)",
        )
        .bind(to_i64(cutoff))
        .bind(i64::from(limit))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

/// A trust state read from the database; a name the service never writes is corruption,
/// never silently some state.
pub(super) fn stored_state(name: String) -> Result<TrustState, StoreError> {
    TrustState::parse(&name)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown trust state {name:?}")))
}

/// One attestation's outcome to persist: its report, whose verdict moves the host's
/// trust state ([`TrustState::next`]), and the deadline of a trusted verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub report: super::ReportRow,
    pub deadline: Option<u64>,
    /// The state the caller last saw, tried first as the compare-and-set value.
    pub expected: Option<TrustState>,
    /// For the trust event logged when the state changes.
    pub hostname: String,
    pub reasons: Vec<String>,
}

impl Store {
    /// Persists many verdicts in one transaction (group commit) and returns, for each,
    /// the trust state its host had before. A verdict that changes the state also logs
    /// a trust event, signed report attached. All or nothing: if the transaction fails,
    /// no report, state or event of the batch was written.
    pub async fn write_verdicts(&self, batch: &[Verdict]) -> Result<Vec<TrustState>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut previous = Vec::with_capacity(batch.len());
        let mut audit = Vec::with_capacity(batch.len());
        for v in batch {
            let r = &v.report;
            super::reports::insert_query(r).execute(&mut *tx).await?;
            let input = TrustInput::from_verdict(r.trusted);
            let mut guess = v.expected;
            let mut done = None;
            for _ in 0..5 {
                let before = match guess.take() {
                    Some(g) => g,
                    None => stored_state(
                        sqlx::query("SELECT trust_state FROM hosts WHERE host_id = $1")
                            .bind(&r.host_id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Corrupt(format!("host {} vanished", r.host_id))
                            })?
                            .try_get(0)?,
                    )?,
                };
                let after = before
                    .next(input)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let updated = sqlx::query(
                    "UPDATE hosts SET trust_state = $1, trust_deadline = $2, last_report_id = $3 \
                     WHERE host_id = $4 AND trust_state = $5",
                )
                .bind(after.as_str())
                .bind(v.deadline.map(to_i64))
                .bind(&r.report_id)
                .bind(&r.host_id)
                .bind(before.as_str())
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 1 {
                    done = Some((before, after));
                    break;
                }
            }
            let (before, after) = done.ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "trust state of {} kept changing under contention",
                    r.host_id
                ))
            })?;
            if before != after {
                let event = TrustEvent {
                    host_id: r.host_id.clone(),
                    hostname: v.hostname.clone(),
                    previous: before,
                    trust: after,
                    at: r.created,
                    report_id: Some(r.report_id.clone()),
                    report_jws: Some(r.jws.clone()),
                    reasons: v.reasons.clone(),
                };
                super::events::insert(&mut tx, &event).await?;
            }
            previous.push(before);
            audit.push(crate::audit::entries::trust_decision(r, &v.hostname, after));
        }
        #[cfg(feature = "bench-enrollment")]
        if crate::bench_enroll::without_trust_audit() {
            audit.clear();
        }
        // Every verdict's audit entry commits with it, or neither does.
        if !audit.is_empty() {
            crate::audit::append_with(self.audit_edge(), &mut tx, &audit).await?;
        }
        tx.commit().await?;
        Ok(previous)
    }
}
