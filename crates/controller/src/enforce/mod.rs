//! The admission webhook enforcing the policy set in force (brief R10): the facts a pod is
//! judged by ([`facts`]), the evaluation under a time limit that cannot wedge the webhook,
//! and what the API server and the hub hear of the decision ([`judge`]).
//!
//! A pod is judged on CREATE (and on an UPDATE that changes its images, or that adds
//! ephemeral containers: those alone, see [`crate::webhook::ephemeral`]); a Binding is
//! judged by the node-scoped policies only (node trust, pid limits, region placement),
//! with the facts of the Node it binds to. What is refused is refused with each denying
//! policy named; audit-mode violations and undecided policies become warnings; every
//! violation goes to the [`ViolationQueue`] for the hub (never on a dry run).
//!
//! Never: guess a fact, let a slow fact source or a failing evaluation hold the API
//! server past the deadline, or refuse a pod for a policy that is not `enforce`+`deny`.

pub mod facts;
pub mod judge;
pub mod scans;
pub mod signatures;

pub use facts::{FixedFacts, ServiceFacts};
pub use judge::{judge, Judgement, MAX_MESSAGE, MAX_WARNING, MAX_WARNINGS};
pub use scans::{ScanSource, ScanSummaries};
pub use signatures::{SignatureCheck, SignatureKeys};

use crate::policies::{Active, FactSource, Policies, ViolationQueue};
use ironroot_policy::{Decision, Facts, Input, PolicyVerdict, Rule, Verdict};
use k8s_openapi::api::core::v1::Pod;
use std::sync::Arc;
use std::time::Duration;

/// How long one evaluation of the whole set may take (it takes well under a millisecond;
/// Rego has its own instruction limit): past it, every policy counts as undecided.
pub const EVALUATION_LIMIT: Duration = Duration::from_millis(500);

/// The policy set in force, where facts come from, and where violations go.
#[derive(Clone)]
pub struct Enforcement {
    pub policies: Arc<Policies>,
    pub facts: Arc<dyn FactSource>,
    /// `None`: violations are not reported (a cluster without a hub).
    pub violations: Option<ViolationQueue>,
}

/// Which policies judge a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A pod created or changed: every policy.
    Pod,
    /// A pod bound to a Node: the policies about where it runs.
    Binding,
}

/// Whether a policy's rule is about where the pod runs.
pub fn is_placement_rule(rule: &Rule) -> bool {
    rule.is_node_rule() || matches!(rule, Rule::RegionPlacement)
}

impl Enforcement {
    /// The decision of the set in force on `pod` in `namespace` (`None`: no set in force),
    /// with facts gathered within `deadline`.
    pub async fn decide(
        &self,
        pod: &Pod,
        namespace: &str,
        scope: Scope,
        deadline: Duration,
    ) -> Option<Decision> {
        let active = self.policies.current()?;
        let facts = self.facts.facts(pod, deadline).await;
        let now = ironroot_timestamp::now_unix();
        let pod = Arc::new(pod.clone());
        let mut decision = evaluate(active.clone(), pod, namespace.to_owned(), facts, now).await;
        if scope == Scope::Binding {
            let placement: Vec<&str> = active
                .set
                .policies()
                .iter()
                .filter(|p| is_placement_rule(&p.rule))
                .map(|p| p.id.as_str())
                .collect();
            decision
                .verdicts
                .retain(|v| placement.contains(&v.id.as_str()));
            decision.allowed = !decision.verdicts.iter().any(PolicyVerdict::denies);
        }
        Some(decision)
    }
}

/// `active`'s decision, on a blocking thread under [`EVALUATION_LIMIT`]: a panic or an
/// overrun becomes "undecided" for every policy in scope, which each policy's `failure`
/// then turns into admit or refuse.
pub async fn evaluate(
    active: Arc<Active>,
    pod: Arc<Pod>,
    namespace: String,
    facts: Facts,
    now: u64,
) -> Decision {
    let job = {
        let active = active.clone();
        let (pod, namespace) = (pod.clone(), namespace.clone());
        tokio::task::spawn_blocking(move || {
            let input = Input {
                pod: &pod,
                namespace: &namespace,
                cluster: &active.cluster,
                facts: &facts,
            };
            active.set.evaluate(&input, now)
        })
    };
    let why = match tokio::time::timeout(EVALUATION_LIMIT, job).await {
        Ok(Ok(decision)) => return decision,
        Ok(Err(e)) => format!("the policy evaluation failed ({e})"),
        Err(_) => format!(
            "the policy evaluation did not finish within {:?}",
            EVALUATION_LIMIT
        ),
    };
    tracing::error!(reason = %why, "policy evaluation");
    undecided(&active, &pod, &namespace, now, &why)
}

/// Every policy that applies to the pod undecided for `why`.
pub fn undecided(active: &Active, pod: &Pod, namespace: &str, now: u64, why: &str) -> Decision {
    let name = judge::pod_name(pod);
    let verdicts: Vec<PolicyVerdict> = active
        .set
        .policies()
        .iter()
        .map(|p| {
            let applies = p.scope.clusters.contains(&active.cluster)
                && p.scope.namespaces.contains(namespace)
                && !p
                    .scope
                    .exclusions
                    .iter()
                    .any(|e| e.excludes(namespace, &name, now));
            PolicyVerdict {
                id: p.id.clone(),
                severity: p.severity,
                mode: p.mode,
                remediation: p.remediation,
                failure: p.failure,
                verdict: if applies {
                    Verdict::Unknown(vec![why.to_owned()])
                } else {
                    Verdict::NotApplicable(ironroot_policy::NotApplicable::NothingToCheck {
                        why: "out of the policy's scope".into(),
                    })
                },
            }
        })
        .collect();
    Decision {
        allowed: !verdicts.iter().any(PolicyVerdict::denies),
        verdicts,
    }
}

/// The cluster name a local policy file is judged under (scopes naming clusters match
/// the hub's names; a cluster without a hub is `local`).
pub const LOCAL_CLUSTER: &str = "local";

/// Why a local policy file could not be put in force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyFileError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the policy set {path}: {source}")]
    Invalid {
        path: String,
        source: ironroot_policy::LoadError,
    },
}

/// A policy set from a local file (`.json` as JSON, anything else as YAML), validated,
/// as the set in force for [`LOCAL_CLUSTER`].
pub fn policy_file(path: &std::path::Path) -> Result<Active, PolicyFileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| PolicyFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let json = path.extension().is_some_and(|e| e == "json");
    let set = match json {
        true => ironroot_policy::PolicySet::from_json(&bytes),
        false => ironroot_policy::PolicySet::from_yaml(&bytes),
    }
    .map_err(|source| PolicyFileError::Invalid {
        path: shown,
        source,
    })?;
    Ok(Active {
        version: set.version,
        set,
        cluster: LOCAL_CLUSTER.into(),
    })
}

#[cfg(test)]
mod tests;
