//! A policy decision as the API server and the hub hear it, pure: the refusal (each
//! denying policy and its first violation, bounded), warnings for what is admitted with a
//! violation or undecided (kubectl prints them; a few, each short), and one
//! [`ViolationEvent`] per policy broken.

use ironroot_api::{ObjectRef, ViolationAction, ViolationEvent};
use ironroot_policy::{Decision, Mode, PolicyVerdict, Remediation, Verdict};
use k8s_openapi::api::core::v1::Pod;

/// The longest refusal message (the API server returns it to the client whole).
pub const MAX_MESSAGE: usize = 1024;
/// The longest warning (Kubernetes asks for short ones; kubectl prints each on a line).
pub const MAX_WARNING: usize = 255;
/// Warnings per response from policies (the last one says how many more there were).
pub const MAX_WARNINGS: usize = 4;

/// What to answer and report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    pub refusal: Option<String>,
    pub warnings: Vec<String>,
    pub events: Vec<ViolationEvent>,
}

/// The pod's name, or its generateName when the API server has not named it yet.
pub fn pod_name(pod: &Pod) -> String {
    let meta = &pod.metadata;
    meta.name
        .as_deref()
        .filter(|n| !n.is_empty())
        .or(meta.generate_name.as_deref())
        .unwrap_or_default()
        .to_owned()
}

/// `text` cut to at most `max` bytes on a character boundary, marked when cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The first thing a verdict says, and how many more it has.
fn first(v: &PolicyVerdict) -> Option<(String, usize)> {
    match &v.verdict {
        Verdict::Violation(vs) => vs.first().map(|x| (x.message.clone(), vs.len() - 1)),
        Verdict::Unknown(us) => us
            .first()
            .map(|u| (format!("undecided: {u}"), us.len() - 1)),
        Verdict::Pass | Verdict::NotApplicable(_) => None,
    }
}

fn more(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    }
}

/// The answer to one decision on `object` at `at` (unix seconds).
pub fn judge(decision: &Decision, object: &ObjectRef, at: u64) -> Judgement {
    let mut out = Judgement::default();
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    let action = if decision.allowed {
        ViolationAction::Admitted
    } else {
        ViolationAction::Denied
    };
    for v in &decision.verdicts {
        let Some((said, extra)) = first(v) else {
            continue;
        };
        if v.denies() {
            refusals.push(format!("{}: {said}{}", v.id, more(extra)));
        } else {
            let how = match (v.mode, v.remediation) {
                (Mode::Audit, _) => "audit".to_owned(),
                (Mode::Enforce, r) => r.as_str().to_owned(),
            };
            warnings.push(bounded(
                &format!("policy {} ({how}): {said}{}", v.id, more(extra)),
                MAX_WARNING,
            ));
        }
        if reported(v) {
            let all = match &v.verdict {
                Verdict::Violation(vs) => vs
                    .iter()
                    .map(|x| x.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => said,
            };
            out.events.push(ViolationEvent {
                policy: v.id.clone(),
                object: object.clone(),
                message: bounded(&all, MAX_MESSAGE),
                action,
                at,
            });
        }
    }
    if !refusals.is_empty() {
        out.refusal = Some(bounded(
            &format!("refused by ironroot policy: {}", refusals.join("; ")),
            MAX_MESSAGE,
        ));
    }
    if warnings.len() > MAX_WARNINGS {
        let rest = warnings.len() - (MAX_WARNINGS - 1);
        warnings.truncate(MAX_WARNINGS - 1);
        warnings.push(format!(
            "and {rest} more ironroot policy warnings (see the policy report)"
        ));
    }
    out.warnings = warnings;
    out
}

/// Whether the hub hears of a verdict: every violation, and an undecided policy that
/// would have refused (enforce+deny), whichever way its `failure` went.
fn reported(v: &PolicyVerdict) -> bool {
    match v.verdict {
        Verdict::Violation(_) => true,
        Verdict::Unknown(_) => v.mode == Mode::Enforce && v.remediation == Remediation::Deny,
        Verdict::Pass | Verdict::NotApplicable(_) => false,
    }
}
