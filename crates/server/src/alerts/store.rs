//! Alerts in the database: raise, acknowledge, resolve and list, each change a
//! compare-and-set on the row's `revision` through [`Alert::apply`], and the notices it
//! makes written to the outbox in the same transaction (so a notice exists exactly when
//! its change does). The outbox and sinks are in `outbox.rs`.

use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_alerts::{
    Alert, AlertInput, AlertKey, AlertState, Change, Occurrence, Remediation, Resolver, Severity,
};
use sqlx::{AnyConnection, Row};

#[path = "store_amend.rs"]
mod amend;
#[path = "store_list.rs"]
mod list;
pub(crate) use amend::{amend_unresolved_in, Amended};
pub(crate) use list::AlertFilter;

/// Tries of one compare-and-set before giving up as contention.
const CAS_TRIES: usize = 8;

/// An alert as stored, with its id and revision.
#[derive(Debug, Clone)]
pub(crate) struct StoredAlert {
    pub id: String,
    pub revision: i64,
    pub alert: Alert,
    /// The organisation it belongs to: its subject's owner when it was raised.
    pub org: String,
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
    remediation, revision, org";

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
        org: r.try_get("org")?,
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

async fn insert(
    conn: &mut AnyConnection,
    id: &str,
    a: &Alert,
    org: &str,
) -> Result<bool, StoreError> {
    let (state, ab, aa, rb, ra) = state_cols(&a.state);
    let q = format!(
        "INSERT INTO alerts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, 0, $17) ON CONFLICT (source, subject, kind) DO NOTHING"
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
        .bind(org)
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

/// Gives the row of `s` to `org` as the fresh alert `a` under the new id `id`, with the
/// same compare-and-set as [`update`].
async fn reassign(
    conn: &mut AnyConnection,
    s: &StoredAlert,
    id: &str,
    a: &Alert,
    org: &str,
) -> Result<bool, StoreError> {
    let (state, ab, aa, rb, ra) = state_cols(&a.state);
    let done = sqlx::query(
        "UPDATE alerts SET alert_id = $1, org = $2, severity = $3, title = $4, details = $5, \
         first_seen = $6, last_seen = $7, count = $8, state = $9, acknowledged_by = $10, \
         acknowledged_at = $11, resolved_by = $12, resolved_at = $13, remediation = $14, \
         revision = revision + 1 WHERE alert_id = $15 AND revision = $16",
    )
    .bind(id)
    .bind(org)
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
    .bind(&s.id)
    .bind(s.revision)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn new_id() -> String {
    format!("al-{}", uuid::Uuid::new_v4())
}

fn contention(what: &str) -> StoreError {
    StoreError::Unavailable(format!("alert {what} kept changing under contention"))
}

/// Records one occurrence of `key` for organisation `org` (its subject's owner now)
/// inside the caller's transaction: opens the alert, counts it, or reopens it, and queues
/// its notice for every sink of `org`.
///
/// The same key of another organisation (a host given to another organisation since, a
/// cluster name now taken by another's cluster) becomes `org`'s as a new alert with a new
/// id, keeping nothing of the former owner's history: an alert is never shared, and the
/// new owner is not told what the former one saw.
pub(crate) async fn raise_in(
    conn: &mut AnyConnection,
    key: &AlertKey,
    o: &Occurrence,
    org: &str,
) -> Result<Changed, StoreError> {
    let bad = |e: ironroot_alerts::IllegalAlertTransition| StoreError::Corrupt(e.to_string());
    for _ in 0..CAS_TRIES {
        let (id, alert, change) = match by_key(conn, key).await? {
            None => {
                let alert = Alert::open(key.clone(), o.clone()).map_err(bad)?;
                let id = new_id();
                if !insert(conn, &id, &alert, org).await? {
                    continue;
                }
                (id, alert, Change::Opened)
            }
            Some(s) if s.org != org => {
                let alert = Alert::open(key.clone(), o.clone()).map_err(bad)?;
                let id = new_id();
                if !reassign(conn, &s, &id, &alert, org).await? {
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
            super::outbox::enqueue(conn, &alert.record(&id), change, o.at, org).await?;
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
            // Another organisation's alert is not found, exactly like an unknown id.
            Target::IdIn(id, org) => by_id(conn, id).await?.filter(|s| s.org == org),
            Target::Key(key) => by_key(conn, key).await?,
        };
        let s = found.ok_or(ActionError::NotFound)?;
        let (alert, change) = s.alert.apply(input.clone())?;
        if !update(conn, &s, &alert).await? {
            continue;
        }
        if change.notifies() {
            super::outbox::enqueue(conn, &alert.record(&s.id), change, now, &s.org).await?;
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
    /// By id, whoever's it is (the bootstrap credential).
    Id(&'a str),
    /// By id, only when it belongs to the organisation named second.
    IdIn(&'a str, &'a str),
    Key(&'a AlertKey),
}

impl Store {
    /// Raises `key` for `org` in a transaction of its own.
    pub(crate) async fn raise_alert(
        &self,
        key: &AlertKey,
        o: &Occurrence,
        org: &str,
    ) -> Result<Changed, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = raise_in(&mut tx, key, o, org).await?;
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
