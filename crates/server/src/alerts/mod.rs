//! Alerts in the service (brief R11): every loss of trust and every violation becomes a
//! deduplicated alert (`ironroot-alerts` decides its lifecycle and formats), kept in the
//! database, listed, acknowledged and resolved over the admin API, and delivered to the
//! configured sinks from a persisted outbox (docs/alerts.md).
//!
//! - [`raise`] is how the service raises an alert; a host's trust loss is raised (and its
//!   return to trusted resolves it) inside the very transaction that logs the trust event
//!   ([`on_trust_event`]), so an alert exists exactly when the change does.
//! - [`delivery::run`] sends what the outbox holds, with backoff per sink.
//! - Each alert belongs to one organisation, its subject's owner when it is raised, and
//!   each sink to the organisation that made it ([`orgs`]): an organisation lists, reads
//!   and acts on only its own, and an alert's notices go only to its organisation's sinks.

mod delivery;
mod orgs;
#[cfg(test)]
mod orgs_tests;
mod outbox;
mod routes;
mod sinks;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use delivery::run as deliver;
pub(crate) use routes::{ack, get_one, list, list_sinks, put_sink, remove_sink, resolve};
pub(crate) use store::{amend_unresolved_in, raise_in, Amended};

use crate::identity::store::ObjectKind;
use crate::store::StoreError;
use crate::AppState;
use ironroot_alerts::{AlertInput, AlertKey, Occurrence, Remediation, Resolver, Severity};
use ironroot_api::{TrustEvent, TrustState};
use tokio::sync::Notify;

/// This replica's alert runtime: what wakes the delivery worker.
#[derive(Default)]
pub(crate) struct AlertRuntime {
    wake: Notify,
}

impl AlertRuntime {
    /// Tells the worker a notice was queued: deliver now rather than at the next tick.
    pub fn poke(&self) {
        self.wake.notify_one();
    }
}

/// Raises one occurrence of `key` for organisation `org` (the owner of its subject, which
/// the caller knows: the calling cluster's, …) and wakes the delivery worker. Used by
/// whatever in the service detects a violation (policies, the webhook's outage, …).
pub(crate) async fn raise(
    st: &AppState,
    key: &AlertKey,
    occurrence: &Occurrence,
    org: &str,
) -> Result<String, StoreError> {
    let changed = st.store.raise_alert(key, occurrence, org).await?;
    tracing::info!(alert = %changed.id, change = changed.change.as_str(), subject = key.subject(), org, "alert");
    st.alerts.poke();
    Ok(changed.id)
}

/// Text from a node or a report, made fit for an alert: control characters (but lines
/// and tabs where `lines`) become spaces, and it is cut at a character boundary.
fn fit(s: &str, max: usize, lines: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_control() && !(lines && matches!(c, '\n' | '\t')) {
            ' '
        } else {
            c
        };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// Called by the trust-event log for each event it writes, inside the same transaction:
/// a host that becomes untrusted or expired raises its trust-loss alert, in the host's
/// organisation as that transaction reads it; one that becomes trusted again resolves it
/// automatically. A malformed key is logged, never fatal to the trust change; a database
/// error fails the transaction like any other.
pub(crate) async fn on_trust_event(
    conn: &mut sqlx::AnyConnection,
    e: &TrustEvent,
) -> Result<(), StoreError> {
    let key = match AlertKey::trust_loss(&e.host_id) {
        Ok(k) => k,
        Err(err) => {
            tracing::warn!(error = %err, "no trust-loss alert for an unusable host id");
            return Ok(());
        }
    };
    match e.trust {
        TrustState::Untrusted | TrustState::Expired if e.previous != e.trust => {
            let hostname = fit(&e.hostname, 200, false);
            let title = format!("host {} is {}", hostname, e.trust.as_str());
            let details = fit(&e.reasons.join("\n"), ironroot_alerts::MAX_DETAILS, true);
            let o = Occurrence {
                severity: Severity::High,
                title: if title.trim().is_empty() {
                    "host lost trust".into()
                } else {
                    title
                },
                details,
                // The service itself remediates nothing; the controller taints or drains
                // from the trust event and reports what it did in its own alerts.
                remediation: Remediation::None,
                at: e.at,
            };
            let org = orgs::owner_in(conn, ObjectKind::Host, &e.host_id).await?;
            store::raise_in(conn, &key, &o, &org).await?;
        }
        TrustState::Trusted => {
            let input = AlertInput::Resolve {
                by: Resolver::Automatic,
                at: e.at,
            };
            match store::transition_in(conn, store::Target::Key(&key), input, e.at).await {
                Ok(_) | Err(store::ActionError::NotFound) | Err(store::ActionError::Illegal(_)) => {
                }
                Err(store::ActionError::Store(s)) => return Err(s),
            }
        }
        _ => {}
    }
    Ok(())
}

/// Resolves automatically (the cause went away) every unresolved alert of `org` and
/// `source` whose subject starts with `subject_prefix`: a policy that became compliant in
/// a cluster (`policy/P`, `cluster/C/`), a cluster that reports again. An alert of
/// another organisation (a former cluster of that name) is left alone. Returns how many
/// it resolved.
pub(crate) async fn resolve_matching(
    st: &AppState,
    org: &str,
    source: &str,
    subject_prefix: &str,
    at: u64,
) -> Result<usize, StoreError> {
    use sqlx::Row;
    // The prefix is compared here, not with LIKE, so that no character of it is a pattern.
    let rows = sqlx::query(
        "SELECT subject, kind FROM alerts WHERE source = $1 AND org = $2 AND state <> 'resolved'",
    )
    .bind(source)
    .bind(org)
    .fetch_all(st.store.pool())
    .await?;
    let mut resolved = 0;
    for r in rows {
        let subject: String = r.try_get("subject")?;
        if !subject.starts_with(subject_prefix) {
            continue;
        }
        let kind: String = r.try_get("kind")?;
        let Ok(key) = AlertKey::new(source, &subject, &kind) else {
            continue;
        };
        let input = AlertInput::Resolve {
            by: Resolver::Automatic,
            at,
        };
        match st
            .store
            .transition_alert(store::Target::Key(&key), input, at)
            .await
        {
            Ok(_) => resolved += 1,
            Err(store::ActionError::NotFound) | Err(store::ActionError::Illegal(_)) => {}
            Err(store::ActionError::Store(e)) => return Err(e),
        }
    }
    if resolved > 0 {
        st.alerts.poke();
    }
    Ok(resolved)
}

/// Resolves the alert of `key` automatically, if it is unresolved; `true` if it was.
pub(crate) async fn resolve_key(
    st: &AppState,
    key: &AlertKey,
    at: u64,
) -> Result<bool, StoreError> {
    let input = AlertInput::Resolve {
        by: Resolver::Automatic,
        at,
    };
    match st
        .store
        .transition_alert(store::Target::Key(key), input, at)
        .await
    {
        Ok(_) => {
            st.alerts.poke();
            Ok(true)
        }
        Err(store::ActionError::NotFound) | Err(store::ActionError::Illegal(_)) => Ok(false),
        Err(store::ActionError::Store(e)) => Err(e),
    }
}
