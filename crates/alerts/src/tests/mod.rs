mod formats;
mod model;

use crate::{Alert, AlertKey, Change, Notice, Occurrence, Remediation, Severity};

pub(super) fn occurrence(at: u64) -> Occurrence {
    Occurrence {
        severity: Severity::High,
        title: "host node-1 lost trust".into(),
        details: "pcr 7 mismatch".into(),
        remediation: Remediation::Taint,
        at,
    }
}

pub(super) fn opened() -> Alert {
    Alert::open(
        AlertKey::trust_loss("h1").unwrap(),
        occurrence(1_700_000_000),
    )
    .unwrap()
}

pub(super) fn notice(alert: &Alert, change: Change) -> Notice {
    Notice {
        delivery_id: "d-1".into(),
        change,
        alert: alert.record("al-1"),
    }
}
