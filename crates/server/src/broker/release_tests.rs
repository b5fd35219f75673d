use super::*;

fn attested() -> Step {
    Step::Attested {
        report_id: "r1".into(),
    }
}

fn nonce() -> Reason {
    Reason::Failed(ServiceError::NonceInvalid("stale".into()))
}

fn at(state: &'static str) -> Release {
    let report_id = "r1".to_string();
    match state {
        "requested" => Release::Requested,
        "attested" => Release::Attested { report_id },
        "policy met" => Release::PolicyMet { report_id },
        "released" => Release::Released { report_id },
        _ => Release::Refused {
            report_id: Some(report_id),
            reason: nonce(),
        },
    }
}

fn illegal(from: &'static str, step: Step) {
    let name = step.name();
    assert_eq!(
        at(from).next(step).map(|s| s.name()),
        Err(IllegalStep { from, step: name }),
        "{from} on {name}"
    );
}

#[test]
fn requested_then_attested_carries_the_report() {
    let s = Release::Requested.next(attested()).unwrap();
    assert!(matches!(&s, Release::Attested { report_id } if report_id == "r1"));
}

#[test]
fn attested_then_policy_met_keeps_the_report() {
    let s = at("attested").next(Step::PolicyMet).unwrap();
    assert!(matches!(&s, Release::PolicyMet { report_id } if report_id == "r1"));
}

#[test]
fn policy_met_then_wrapped_is_released() {
    let s = at("policy met").next(Step::Wrapped).unwrap();
    assert!(matches!(&s, Release::Released { report_id } if report_id == "r1"));
    assert_eq!(s.report_id(), Some("r1"));
    assert!(s.outcome("k", "n").is_ok());
}

/// A stale nonce or a bad binding key: refused before any report exists.
#[test]
fn requested_then_refused_has_no_report() {
    let s = Release::Requested.next(Step::Refuse(nonce())).unwrap();
    assert!(matches!(
        &s,
        Release::Refused {
            report_id: None,
            reason: Reason::Failed(ServiceError::NonceInvalid(_))
        }
    ));
    assert_eq!(s.report_id(), None);
}

/// The review's finding: the report id of a policy refusal came back through the JSON
/// audit value. It is the state's own field now.
#[test]
fn attested_then_refused_by_policy_names_the_report() {
    let s = at("attested")
        .next(Step::Refuse(Reason::Policy(Refusal::Expired(150))))
        .unwrap();
    assert_eq!(s.report_id(), Some("r1"));
    match s.outcome("payments", "node-3") {
        Err(ServiceError::Forbidden(m)) => assert_eq!(
            m,
            "key payments was not released to node-3: the key's transfer policy expired at 150"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn policy_met_then_refused_when_wrapping_fails_names_the_report() {
    let s = at("policy met").refuse(Reason::Failed(ServiceError::Internal("m".into())));
    assert_eq!(s.report_id(), Some("r1"));
    assert!(matches!(
        s.outcome("k", "n"),
        Err(ServiceError::Internal(_))
    ));
}

/// Attest, policy, wrap: in that order and once each.
#[test]
fn steps_out_of_order_are_refused() {
    illegal("requested", Step::PolicyMet);
    illegal("requested", Step::Wrapped);
    illegal("attested", attested());
    illegal("attested", Step::Wrapped);
    illegal("policy met", attested());
    illegal("policy met", Step::PolicyMet);
}

#[test]
fn an_ended_release_takes_no_step() {
    for end in ["released", "refused"] {
        illegal(end, attested());
        illegal(end, Step::PolicyMet);
        illegal(end, Step::Wrapped);
        illegal(end, Step::Refuse(nonce()));
    }
    // A refusal after the key left is a handler bug: still refused, report kept.
    let s = at("released").refuse(nonce());
    assert_eq!(s.report_id(), Some("r1"));
    assert!(matches!(
        s.outcome("k", "n"),
        Err(ServiceError::Internal(m)) if m.contains("cannot take step refuse from released")
    ));
}

#[test]
fn a_release_that_stopped_half_way_is_not_released() {
    for state in ["requested", "attested", "policy met"] {
        assert!(
            matches!(at(state).outcome("k", "n"), Err(ServiceError::Internal(_))),
            "{state}"
        );
    }
}
