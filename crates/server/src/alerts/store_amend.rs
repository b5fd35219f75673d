//! Amending an unresolved alert (a remediation the controller reports on a trust-loss
//! alert): the same compare-and-set and outbox as the rest of `store.rs`, kept apart so
//! that file stays small.

use super::{by_key, contention, update, Changed, CAS_TRIES};
use crate::store::StoreError;
use ironroot_alerts::{Alert, AlertInput, AlertKey, AlertState, Occurrence};
use sqlx::AnyConnection;

/// What [`amend_unresolved_in`] did.
#[derive(Debug, Clone)]
pub(crate) enum Amended {
    /// The key has no alert, or only a resolved one: nothing was done (a resolved alert
    /// is reopened only by its cause occurring again, never by an amendment).
    NoneUnresolved,
    /// The alert already said as much.
    Unchanged {
        id: String,
        alert: Alert,
    },
    Changed(Changed),
}

/// Records, inside the caller's transaction, the occurrence `next` derives from the
/// unresolved alert of `key` (`None`: nothing to record), through [`Alert::apply`] and
/// the same compare-and-set as [`raise_in`], so a resolution that races it wins.
pub(crate) async fn amend_unresolved_in(
    conn: &mut AnyConnection,
    key: &AlertKey,
    next: &(dyn Fn(&Alert) -> Option<Occurrence> + Sync),
) -> Result<Amended, StoreError> {
    let bad = |e: ironroot_alerts::IllegalAlertTransition| StoreError::Corrupt(e.to_string());
    for _ in 0..CAS_TRIES {
        let Some(s) = by_key(conn, key).await? else {
            return Ok(Amended::NoneUnresolved);
        };
        if matches!(s.alert.state, AlertState::Resolved { .. }) {
            return Ok(Amended::NoneUnresolved);
        }
        let Some(o) = next(&s.alert) else {
            return Ok(Amended::Unchanged {
                id: s.id,
                alert: s.alert,
            });
        };
        let (alert, change) = s
            .alert
            .apply(AlertInput::Occurred(o.clone()))
            .map_err(bad)?;
        if !update(conn, &s, &alert).await? {
            continue;
        }
        if change.notifies() {
            super::super::outbox::enqueue(conn, &alert.record(&s.id), change, o.at, &s.org).await?;
        }
        return Ok(Amended::Changed(Changed {
            id: s.id,
            alert,
            change,
        }));
    }
    Err(contention(key.subject()))
}
