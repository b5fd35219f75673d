//! Alerts in the database: raise, acknowledge, resolve and list, each change a
//! compare-and-set on the row's `revision` through [`Alert::apply`], and the notices it
//! makes written to the outbox in the same transaction (so a notice exists exactly when
//! its change does). The outbox and sinks are in `outbox.rs`.

use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_alerts::{
    Alert, AlertInput, AlertKey, AlertRecord, AlertState, Change, Occurrence, Remediation,
    Resolver, Severity,
};
use sqlx::{AnyConnection, Row};

#[path = "store_amend.rs"]
mod amend;
pub(crate) use amend::{amend_unresolved_in, Amended};

/// Tries of one compare-and-set before giving up as contention.
const CAS_TRIES: usize = 8;

/// An alert as stored, with its id and revision.
#[derive(Debug, Clone)]
pub(crate) struct StoredAlert {
    pub id: String,
    pub revision: i64,
    pub alert: Alert,
}

/// What a change did: the alert after it, and the change (for the caller's log).
#[derive(Debug, Clone)]
pub(crate) struct Changed {
    pub id: String,
    pub alert: Alert,
    pub change: Change,
}

/// Why an acknowledgement or a resolution was not made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ActionError {
    #[error("no such alert")]
    NotFound,
    #[error("{0}")]
    Illegal(#[from] ironroot_alerts::IllegalAlertTransition),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const COLUMNS: &str = "alert_id, source, subject, kind, severity, title, details, first_seen, \
    last_seen, count, state, acknowledged_by, acknowledged_at, resolved_by, resolved_at, \
    remediation, revision";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("alert {what} {v:?}"))
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoredAlert, StoreError> {
    let opt = |c: &str| r.try_get::<Option<i64>, _>(c).map(|v| v.map(to_u64));
    let key = AlertKey::new(
        &r.try_get::<String, _>("source")?,
        &r.try_get::<String, _>("subject")?,
        &r.try_get::<String, _>("kind")?,
    )
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let state_name: String = r.try_get("state")?;
    let state = match state_name.as_str() {
        "open" => AlertState::Open,
        "acknowledged" => AlertState::Acknowledged {
            by: r
                .try_get::<Option<String>, _>("acknowledged_by")?
                .unwrap_or_default(),
            at: opt("acknowledged_at")?.unwrap_or(0),
        },
        "resolved" => AlertState::Resolved {
            by: match r.try_get::<Option<String>, _>("resolved_by")? {
                Some(p) => Resolver::Person(p),
                None => Resolver::Automatic,
            },
            at: opt("resolved_at")?.unwrap_or(0),
        },
        other => return Err(corrupt("state", other)),
    };
    let sev: String = r.try_get("severity")?;
    let rem: String = r.try_get("remediation")?;
    Ok(StoredAlert {
        id: r.try_get("alert_id")?,
        revision: r.try_get("revision")?,
        alert: Alert {
            key,
            severity: Severity::from_name(&sev).ok_or_else(|| corrupt("severity", &sev))?,
            title: r.try_get("title")?,
            details: r.try_get("details")?,
            first_seen: to_u64(r.try_get("first_seen")?),
            last_seen: to_u64(r.try_get("last_seen")?),
            count: to_u64(r.try_get("count")?),
            state,
            remediation: Remediation::parse(&rem).ok_or_else(|| corrupt("remediation", &rem))?,
        },
    })
}

/// The acknowledgement and resolution columns of a state.
type StateCols = (
    &'static str,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn state_cols(s: &AlertState) -> StateCols {
    match s {
        AlertState::Open => ("open", None, None, None, None),
        AlertState::Acknowledged { by, at } => (
            "acknowledged",
            Some(by.clone()),
            Some(to_i64(*at)),
            None,
            None,
        ),
        AlertState::Resolved { by, at } => {
            let who = match by {
                Resolver::Person(p) => Some(p.clone()),
                Resolver::Automatic => None,
            };
            ("resolved", None, None, who, Some(to_i64(*at)))
        }
    }
}

async fn by_key(
    conn: &mut AnyConnection,
    key: &AlertKey,
) -> Result<Option<StoredAlert>, StoreError> {
    let q =
        format!("SELECT {COLUMNS} FROM alerts WHERE source = $1 AND subject = $2 AND kind = $3");
    let row = sqlx::query(&q)
        .bind(key.source())
        .bind(key.subject())
        .bind(key.kind())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredAlert>, StoreError> {
    let q = format!("SELECT {COLUMNS} FROM alerts WHERE alert_id = $1");
    let row = sqlx::query(&q).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

async fn insert(conn: &mut AnyConnection, id: &str, a: &Alert) -> Result<bool, StoreError> {
    let (state, ab, aa, rb, ra) = state_cols(&a.state);
    let q = format!(
        "INSERT INTO alerts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, 0) ON CONFLICT (source, subject, kind) DO NOTHING"
    );
    let done = sqlx::query(&q)
        .bind(id)
        .bind(a.key.source())
        .bind(a.key.subject())
        .bind(a.key.kind())
        .bind(a.severity.name())
        .bind(&a.title)
        .bind(&a.details)
        .bind(to_i64(a.first_seen))
        .bind(to_i64(a.last_seen))
        .bind(to_i64(a.count))
        .bind(state)
        .bind(ab)
        .bind(aa)
        .bind(rb)
        .bind(ra)
        .bind(a.remediation.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

async fn update(conn: &mut AnyConnection, s: &StoredAlert, a: &Alert) -> Result<bool, StoreError> {
    let (state, ab, aa, rb, ra) = state_cols(&a.state);
    let done = sqlx::query(
        "UPDATE alerts SET severity = $1, title = $2, details = $3, last_seen = $4, count = $5, \
         state = $6, acknowledged_by = $7, acknowledged_at = $8, resolved_by = $9, \
         resolved_at = $10, remediation = $11, revision = revision + 1 \
         WHERE alert_id = $12 AND revision = $13",
    )
    .bind(a.severity.name())
    .bind(&a.title)
    .bind(&a.details)
    .bind(to_i64(a.last_seen))
    .bind(to_i64(a.count))
    .bind(state)
    .bind(ab)
    .bind(aa)
    .bind(rb)
    .bind(ra)
    .bind(a.remediation.as_str())
    .bind(&s.id)
    .bind(s.revision)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn contention(what: &str) -> StoreError {
    StoreError::Unavailable(format!("alert {what} kept changing under contention"))
}

/// Records one occurrence of `key` inside the caller's transaction: opens the alert,
/// counts it, or reopens it, and queues its notice for every sink.
pub(crate) async fn raise_in(
    conn: &mut AnyConnection,
    key: &AlertKey,
    o: &Occurrence,
) -> Result<Changed, StoreError> {
    let bad = |e: ironroot_alerts::IllegalAlertTransition| StoreError::Corrupt(e.to_string());
    for _ in 0..CAS_TRIES {
        let (id, alert, change) = match by_key(conn, key).await? {
            None => {
                let alert = Alert::open(key.clone(), o.clone()).map_err(bad)?;
                let id = format!("al-{}", uuid::Uuid::new_v4());
                if !insert(conn, &id, &alert).await? {
                    continue;
                }
                (id, alert, Change::Opened)
            }
            Some(s) => {
                let (alert, change) = s
                    .alert
                    .apply(AlertInput::Occurred(o.clone()))
                    .map_err(bad)?;
                if !update(conn, &s, &alert).await? {
                    continue;
                }
                (s.id, alert, change)
            }
        };
        if change.notifies() {
            super::outbox::enqueue(conn, &alert.record(&id), change, o.at).await?;
        }
        return Ok(Changed { id, alert, change });
    }
    Err(contention(key.subject()))
}

/// Applies an acknowledgement or resolution to the alert `id` (or, with `key`, the alert
/// of that key) inside the caller's transaction.
pub(crate) async fn transition_in(
    conn: &mut AnyConnection,
    target: Target<'_>,
    input: AlertInput,
    now: u64,
) -> Result<Changed, ActionError> {
    for _ in 0..CAS_TRIES {
        let found = match target {
            Target::Id(id) => by_id(conn, id).await?,
            Target::Key(key) => by_key(conn, key).await?,
        };
        let s = found.ok_or(ActionError::NotFound)?;
        let (alert, change) = s.alert.apply(input.clone())?;
        if !update(conn, &s, &alert).await? {
            continue;
        }
        if change.notifies() {
            super::outbox::enqueue(conn, &alert.record(&s.id), change, now).await?;
        }
        return Ok(Changed {
            id: s.id,
            alert,
            change,
        });
    }
    Err(ActionError::Store(contention("state")))
}

/// Which alert a transition is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Id(&'a str),
    Key(&'a AlertKey),
}

/// `GET /v1/alerts`'s filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertFilter {
    pub state: Option<String>,
    pub min_severity: Option<Severity>,
    pub since: Option<u64>,
    /// Seen at or before (unix seconds of `last_seen`).
    pub until: Option<u64>,
    /// The source, exactly (`policy/P`).
    pub source: Option<String>,
    /// What the source starts with (`policy/`: every violation).
    pub source_prefix: Option<String>,
    /// What the subject starts with; every one must hold (`cluster/C/`, `cluster/C/NS/`).
    pub subject_prefixes: Vec<String>,
    /// `(last_seen, alert_id)` of the previous page's last alert.
    pub after: Option<(u64, String)>,
    pub limit: u32,
}

/// The SQL condition "column starts with parameter `$n`". Not `LIKE`: SQLite's `LIKE` is
/// case-insensitive for ASCII and PostgreSQL's is not, and `%` or `_` in the caller's text
/// would need escaping; comparing the first `length($n)` characters is exact, the same
/// in both, and has no wildcard to escape.
fn starts_with(column: &str, n: usize) -> String {
    format!(" AND substr({column}, 1, length(${n})) = ${n}")
}

impl Store {
    /// Alerts, most recently seen first, filtered; ties broken by id for stable pages.
    pub(crate) async fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let severities: Vec<&str> = Severity::ALL
            .iter()
            .filter(|s| f.min_severity.is_none_or(|m| **s >= m))
            .map(|s| s.name())
            .collect();
        let sev_list = severities
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",");
        let (after_seen, after_id) = f.after.clone().unwrap_or((u64::MAX, String::new()));
        // The text filters are bound parameters `$7` onwards, in this order.
        let mut texts: Vec<String> = Vec::new();
        let mut extra = String::new();
        if let Some(source) = &f.source {
            texts.push(source.clone());
            extra.push_str(&format!(" AND source = ${}", 6 + texts.len()));
        }
        if let Some(prefix) = &f.source_prefix {
            texts.push(prefix.clone());
            extra.push_str(&starts_with("source", 6 + texts.len()));
        }
        for prefix in &f.subject_prefixes {
            texts.push(prefix.clone());
            extra.push_str(&starts_with("subject", 6 + texts.len()));
        }
        // `severities` are this crate's own constant names, never the caller's text.
        let q = format!(
            "SELECT {COLUMNS} FROM alerts WHERE ($1 = '' OR state = $1) AND severity IN ({sev_list}) \
             AND last_seen >= $2 AND last_seen <= $6 \
             AND (last_seen < $3 OR (last_seen = $3 AND alert_id > $4)){extra} \
             ORDER BY last_seen DESC, alert_id LIMIT $5"
        );
        let mut query = sqlx::query(&q)
            .bind(f.state.clone().unwrap_or_default())
            .bind(to_i64(f.since.unwrap_or(0)))
            .bind(to_i64(after_seen))
            .bind(after_id)
            .bind(i64::from(f.limit))
            .bind(to_i64(f.until.unwrap_or(u64::MAX)));
        for t in texts {
            query = query.bind(t);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| from_row(r).map(|s| s.alert.record(&s.id)))
            .collect()
    }

    /// One alert by id.
    pub(crate) async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        Ok(by_id(&mut conn, id).await?.map(|s| s.alert.record(&s.id)))
    }

    /// Raises `key` in a transaction of its own.
    pub(crate) async fn raise_alert(
        &self,
        key: &AlertKey,
        o: &Occurrence,
    ) -> Result<Changed, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = raise_in(&mut tx, key, o).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Acknowledges or resolves in a transaction of its own.
    pub(crate) async fn transition_alert(
        &self,
        target: Target<'_>,
        input: AlertInput,
        now: u64,
    ) -> Result<Changed, ActionError> {
        let mut tx = self.begin_write().await.map_err(StoreError::from)?;
        let changed = transition_in(&mut tx, target, input, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(changed)
    }
}
