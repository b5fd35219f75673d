//! The one outside view of an alert: what `GET /v1/alerts` returns and what a webhook
//! body carries, so a dashboard and a receiver read the same fields.

use crate::model::{Alert, AlertState, Change, Remediation, Resolver};
use ironroot_severity::Severity;
use serde::{Deserialize, Serialize};

/// An alert as it travels: flat, every field always present (null when it does not
/// apply), field order fixed by this declaration (the webhook body's byte layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRecord {
    pub id: String,
    pub source: String,
    pub subject: String,
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub details: String,
    pub first_seen: u64,
    pub last_seen: u64,
    pub count: u64,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<u64>,
    /// Who resolved it; null when the service did (`resolved_automatically`).
    pub resolved_by: Option<String>,
    pub resolved_automatically: bool,
    pub resolved_at: Option<u64>,
    pub remediation: Remediation,
}

impl Alert {
    /// The outside view of this alert, stored under `id`.
    pub fn record(&self, id: &str) -> AlertRecord {
        let (mut ack_by, mut ack_at, mut res_by, mut res_at, mut auto) =
            (None, None, None, None, false);
        match &self.state {
            AlertState::Open => {}
            AlertState::Acknowledged { by, at } => {
                ack_by = Some(by.clone());
                ack_at = Some(*at);
            }
            AlertState::Resolved { by, at } => {
                res_at = Some(*at);
                match by {
                    Resolver::Person(p) => res_by = Some(p.clone()),
                    Resolver::Automatic => auto = true,
                }
            }
        }
        AlertRecord {
            id: id.to_owned(),
            source: self.key.source().to_owned(),
            subject: self.key.subject().to_owned(),
            kind: self.key.kind().to_owned(),
            severity: self.severity,
            title: self.title.clone(),
            details: self.details.clone(),
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            count: self.count,
            state: self.state.name().to_owned(),
            acknowledged_by: ack_by,
            acknowledged_at: ack_at,
            resolved_by: res_by,
            resolved_automatically: auto,
            resolved_at: res_at,
            remediation: self.remediation,
        }
    }
}

/// One message to one sink: an alert as it was when it changed, the change, and the
/// delivery's own id (receivers drop a delivery id they have seen: delivery is at least
/// once, and a retry after a lost answer sends the same id again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub delivery_id: String,
    pub change: Change,
    pub alert: AlertRecord,
}

/// The severity a notice is sent with: a resolution is good news, whatever the alert was.
pub fn notice_severity(n: &Notice) -> Severity {
    if n.change == Change::Resolved {
        Severity::Info
    } else {
        n.alert.severity
    }
}
