use super::*;
use crate::enroll::CertificateAge::{Expired, Fresh, RenewalDue};
use Enrollment as S;
use EnrollmentEvent as E;

type State = Enrollment<&'static str>;
type Event = EnrollmentEvent<&'static str>;

fn ok(from: State, event: Event, to: State) {
    let mut s = from.clone();
    let name = event.name();
    assert_eq!(s.apply(event), Ok(()), "{} on {name}", from.name());
    assert_eq!(s, to, "{} on {name}", from.name());
}

/// Refused, and the state (with its identity) is left as it was.
fn refused(from: State, event: Event) {
    let mut s = from.clone();
    let name = event.name();
    assert_eq!(
        s.apply(event),
        Err(IllegalEnrollment {
            from: from.name(),
            event: name
        })
    );
    assert_eq!(s, from);
}

#[test]
fn unenrolled_loads_a_fresh_identity_and_is_enrolled() {
    ok(S::Unenrolled, E::Loaded("old", Fresh), S::Enrolled("old"));
}

#[test]
fn unenrolled_loads_an_identity_due_for_renewal() {
    ok(
        S::Unenrolled,
        E::Loaded("old", RenewalDue),
        S::RenewalDue("old"),
    );
}

/// A certificate that expired while the agent was stopped: enroll again.
#[test]
fn unenrolled_loads_an_expired_identity_and_stays_unenrolled() {
    ok(S::Unenrolled, E::Loaded("old", Expired), S::Unenrolled);
}

#[test]
fn unenrolled_is_challenged() {
    ok(S::Unenrolled, E::Challenged, S::Challenged);
}

#[test]
fn challenged_is_activated_and_enrolled() {
    ok(S::Challenged, E::Activated("new"), S::Enrolled("new"));
}

#[test]
fn challenged_fails_and_is_unenrolled() {
    ok(S::Challenged, E::Failed, S::Unenrolled);
}

#[test]
fn enrolled_ages_and_stays_enrolled() {
    ok(S::Enrolled("id"), E::Aged(Fresh), S::Enrolled("id"));
}

#[test]
fn enrolled_ages_past_half_life_and_is_due_for_renewal() {
    ok(S::Enrolled("id"), E::Aged(RenewalDue), S::RenewalDue("id"));
}

#[test]
fn enrolled_ages_past_expiry_and_is_unenrolled() {
    ok(S::Enrolled("id"), E::Aged(Expired), S::Unenrolled);
}

/// A renewal that failed for a while (the service unreachable) keeps the identity.
#[test]
fn renewal_due_ages_and_stays_due() {
    ok(
        S::RenewalDue("id"),
        E::Aged(RenewalDue),
        S::RenewalDue("id"),
    );
}

/// The clock was set back: the age decides, whatever was thought before.
#[test]
fn renewal_due_ages_fresh_and_is_enrolled() {
    ok(S::RenewalDue("id"), E::Aged(Fresh), S::Enrolled("id"));
}

#[test]
fn renewal_due_ages_past_expiry_and_is_unenrolled() {
    ok(S::RenewalDue("id"), E::Aged(Expired), S::Unenrolled);
}

#[test]
fn renewal_due_is_renewed_and_enrolled_with_the_new_identity() {
    ok(S::RenewalDue("old"), E::Renewed("new"), S::Enrolled("new"));
}

/// Revoked by a re-enrollment, a deleted host, or the caller: enroll again.
#[test]
fn any_state_is_forgotten_to_unenrolled() {
    for from in [
        S::Unenrolled,
        S::Challenged,
        S::Enrolled("id"),
        S::RenewalDue("id"),
    ] {
        ok(from, E::Forgotten, S::Unenrolled);
    }
}

#[test]
fn an_identity_is_loaded_only_when_there_is_none() {
    for from in [S::Challenged, S::Enrolled("id"), S::RenewalDue("id")] {
        refused(from, E::Loaded("other", Fresh));
    }
}

#[test]
fn only_an_unenrolled_agent_is_challenged() {
    for from in [S::Challenged, S::Enrolled("id"), S::RenewalDue("id")] {
        refused(from, E::Challenged);
    }
}

/// An answer without a challenge, or a second answer, activates nothing.
#[test]
fn only_a_challenged_agent_is_activated_or_fails() {
    for from in [S::Unenrolled, S::Enrolled("id"), S::RenewalDue("id")] {
        refused(from.clone(), E::Activated("new"));
        refused(from, E::Failed);
    }
}

#[test]
fn only_an_identity_ages() {
    refused(S::Unenrolled, E::Aged(Fresh));
    refused(S::Challenged, E::Aged(Expired));
}

#[test]
fn only_a_certificate_due_for_renewal_is_renewed() {
    for from in [S::Unenrolled, S::Challenged, S::Enrolled("id")] {
        refused(from, E::Renewed("new"));
    }
}

#[test]
fn the_identity_lives_in_the_enrolled_states_only() {
    assert_eq!(S::Enrolled("a").identity(), Some(&"a"));
    assert_eq!(S::RenewalDue("a").identity(), Some(&"a"));
    assert_eq!(State::Unenrolled.identity(), None);
    assert_eq!(State::Challenged.identity(), None);
}
