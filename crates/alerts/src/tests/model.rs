//! One test per transition of the alert lifecycle, the illegal ones included.

use super::{occurrence, opened};
use crate::*;

fn acked() -> Alert {
    let (a, c) = opened()
        .apply(AlertInput::Acknowledge {
            by: "alice".into(),
            at: 1_700_000_010,
        })
        .unwrap();
    assert_eq!(c, Change::Acknowledged);
    a
}

fn resolved(by: Resolver) -> Alert {
    let (a, c) = opened()
        .apply(AlertInput::Resolve {
            by,
            at: 1_700_000_020,
        })
        .unwrap();
    assert_eq!(c, Change::Resolved);
    a
}

#[test]
fn a_first_occurrence_opens_an_alert_seen_once() {
    let a = opened();
    assert_eq!(a.state, AlertState::Open);
    assert_eq!(
        (a.count, a.first_seen, a.last_seen),
        (1, 1_700_000_000, 1_700_000_000)
    );
    assert_eq!(a.key.source(), "trust");
    assert_eq!(a.key.subject(), "host/h1");
    assert_eq!(a.key.kind(), "trust-lost");
}

#[test]
fn open_then_occurred_counts_and_stays_open() {
    let mut o = occurrence(1_700_000_050);
    o.severity = Severity::Critical;
    o.remediation = Remediation::HeldByBrake;
    let (a, c) = opened().apply(AlertInput::Occurred(o)).unwrap();
    assert_eq!(c, Change::Repeated);
    assert!(c.notifies());
    assert_eq!(
        (a.count, a.first_seen, a.last_seen),
        (2, 1_700_000_000, 1_700_000_050)
    );
    assert_eq!(a.state, AlertState::Open);
    assert_eq!(
        a.severity,
        Severity::Critical,
        "the latest occurrence rates it"
    );
    assert_eq!(a.remediation, Remediation::HeldByBrake);
}

#[test]
fn an_occurrence_stating_no_remediation_keeps_the_one_taken_until_resolved() {
    let silent = |at| Occurrence {
        remediation: Remediation::None,
        ..occurrence(at)
    };
    let (a, _) = opened()
        .apply(AlertInput::Occurred(occurrence(1_700_000_010)))
        .unwrap();
    assert_eq!(a.remediation, Remediation::Taint);
    let (a, _) = a
        .apply(AlertInput::Occurred(silent(1_700_000_020)))
        .unwrap();
    assert_eq!(a.remediation, Remediation::Taint, "still tainted");
    let (a, _) = a
        .apply(AlertInput::Resolve {
            by: Resolver::Automatic,
            at: 1_700_000_030,
        })
        .unwrap();
    let (a, c) = a
        .apply(AlertInput::Occurred(silent(1_700_000_040)))
        .unwrap();
    assert_eq!(c, Change::Reopened);
    assert_eq!(
        a.remediation,
        Remediation::None,
        "a new episode starts over"
    );
}

#[test]
fn an_older_occurrence_never_moves_last_seen_back() {
    let (a, _) = opened().apply(AlertInput::Occurred(occurrence(5))).unwrap();
    assert_eq!(a.last_seen, 1_700_000_000);
    assert_eq!(a.count, 2);
}

#[test]
fn open_then_acknowledge_records_who_and_when() {
    let a = acked();
    assert_eq!(
        a.state,
        AlertState::Acknowledged {
            by: "alice".into(),
            at: 1_700_000_010
        }
    );
    assert!(!Change::Acknowledged.notifies());
}

#[test]
fn open_then_resolve_by_a_person_or_automatically() {
    assert_eq!(
        resolved(Resolver::Person("bob".into())).state,
        AlertState::Resolved {
            by: Resolver::Person("bob".into()),
            at: 1_700_000_020
        }
    );
    assert_eq!(
        resolved(Resolver::Automatic).state,
        AlertState::Resolved {
            by: Resolver::Automatic,
            at: 1_700_000_020
        }
    );
}

#[test]
fn acknowledged_then_occurred_counts_and_stays_acknowledged_quietly() {
    let (a, c) = acked()
        .apply(AlertInput::Occurred(occurrence(1_700_000_030)))
        .unwrap();
    assert_eq!(c, Change::RepeatedWhileAcknowledged);
    assert!(!c.notifies(), "whoever acknowledged it is on it");
    assert_eq!(a.count, 2);
    assert!(matches!(a.state, AlertState::Acknowledged { ref by, .. } if by == "alice"));
}

#[test]
fn acknowledged_then_resolve() {
    let (a, c) = acked()
        .apply(AlertInput::Resolve {
            by: Resolver::Automatic,
            at: 1_700_000_040,
        })
        .unwrap();
    assert_eq!(c, Change::Resolved);
    assert!(c.notifies());
    assert_eq!(a.state.name(), "resolved");
}

#[test]
fn resolved_then_occurred_reopens_and_forgets_the_acknowledgement() {
    let (r, _) = acked()
        .apply(AlertInput::Resolve {
            by: Resolver::Automatic,
            at: 1_700_000_040,
        })
        .unwrap();
    let (a, c) = r
        .apply(AlertInput::Occurred(occurrence(1_700_000_090)))
        .unwrap();
    assert_eq!(c, Change::Reopened);
    assert!(c.notifies());
    assert_eq!(a.state, AlertState::Open);
    assert_eq!(
        (a.count, a.first_seen, a.last_seen),
        (2, 1_700_000_000, 1_700_000_090)
    );
}

#[test]
fn acknowledging_twice_is_illegal() {
    let e = acked()
        .apply(AlertInput::Acknowledge {
            by: "carol".into(),
            at: 1,
        })
        .unwrap_err();
    assert_eq!(e, IllegalAlertTransition::AlreadyAcknowledged);
}

#[test]
fn acknowledging_a_resolved_alert_is_illegal() {
    let e = resolved(Resolver::Automatic)
        .apply(AlertInput::Acknowledge {
            by: "carol".into(),
            at: 1,
        })
        .unwrap_err();
    assert_eq!(e, IllegalAlertTransition::AcknowledgeResolved);
}

#[test]
fn resolving_twice_is_illegal() {
    for by in [Resolver::Automatic, Resolver::Person("dan".into())] {
        let e = resolved(Resolver::Automatic)
            .apply(AlertInput::Resolve { by, at: 1 })
            .unwrap_err();
        assert_eq!(e, IllegalAlertTransition::AlreadyResolved);
    }
}

#[test]
fn bad_names_and_texts_are_refused_before_any_change() {
    let bad_ack = opened().apply(AlertInput::Acknowledge {
        by: " ".into(),
        at: 1,
    });
    assert_eq!(
        bad_ack.unwrap_err(),
        IllegalAlertTransition::Input(AlertInputError::Empty("acknowledger"))
    );
    let bad_resolver = opened().apply(AlertInput::Resolve {
        by: Resolver::Person("a\nb".into()),
        at: 1,
    });
    assert!(bad_resolver.is_err());
    let mut o = occurrence(1);
    o.title = "two\nlines".into();
    assert!(opened().apply(AlertInput::Occurred(o.clone())).is_err());
    assert!(Alert::open(AlertKey::trust_loss("h").unwrap(), o).is_err());
    let mut o = occurrence(1);
    o.details = "x".repeat(MAX_DETAILS + 1);
    assert!(opened().apply(AlertInput::Occurred(o)).is_err());
    let mut o = occurrence(1);
    o.details = "line one\nline two\twith a tab".into();
    assert!(
        opened().apply(AlertInput::Occurred(o)).is_ok(),
        "details may have lines"
    );
}

#[test]
fn keys_are_bounded_and_single_line() {
    assert!(AlertKey::new("", "s", "k").is_err());
    assert!(AlertKey::new("s", &"x".repeat(MAX_KEY_PART + 1), "k").is_err());
    assert!(AlertKey::new("s", "a\u{7}b", "k").is_err());
    let k = AlertKey::policy_violation("every-node-trusted", "prod", "default/Pod/web").unwrap();
    assert_eq!(k.source(), "policy/every-node-trusted");
    assert_eq!(k.subject(), "cluster/prod/default/Pod/web");
    assert_eq!(k.kind(), "violation");
}

#[test]
fn remediations_round_trip_by_name() {
    for r in Remediation::ALL {
        assert_eq!(Remediation::parse(r.as_str()), Some(r));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{}\"", r.as_str()));
    }
    assert_eq!(Remediation::parse("evict"), None);
}
