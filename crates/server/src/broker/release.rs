//! One key release as a state machine: requested, the node attested afresh, the key's
//! transfer policy met, released; or refused, at any step before the key leaves, with a
//! typed reason. The report behind the decision is a field from the moment the fresh
//! attestation recorded it, so the release log names it whether the key left or not.
//! Pure: the handler in `mod.rs` does the I/O and reports each step here.

use super::policy::Refusal;
use crate::error::ServiceError;

/// Where one release request is.
#[derive(Debug)]
pub(crate) enum Release {
    /// A node asked for a key.
    Requested,
    /// A fresh attestation of the node recorded report `report_id`.
    Attested { report_id: String },
    /// The key's transfer policy accepts the node as that report describes it.
    PolicyMet { report_id: String },
    /// The key was wrapped to the node's binding key: the key leaves.
    Released { report_id: String },
    /// The key does not leave; `report_id` when the refusal came after the attestation.
    Refused {
        report_id: Option<String>,
        reason: Reason,
    },
}

/// What the handler did next.
#[derive(Debug)]
pub(crate) enum Step {
    Attested { report_id: String },
    PolicyMet,
    Wrapped,
    Refuse(Reason),
}

/// Why a key was not released.
#[derive(Debug)]
pub(crate) enum Reason {
    /// The key's transfer policy does not accept the node as it was just attested.
    Policy(Refusal),
    /// The request or the service failed: a stale nonce, a binding key the AK did not
    /// certify, a replayed quote, an unreadable stored policy, the store, the master key.
    Failed(ServiceError),
}

impl Reason {
    /// The error the node receives; the release log keeps its text.
    pub fn into_error(self, key: &str, hostname: &str) -> ServiceError {
        match self {
            Reason::Policy(r) => {
                ServiceError::Forbidden(format!("key {key} was not released to {hostname}: {r}"))
            }
            Reason::Failed(e) => e,
        }
    }
}

/// A step [`Release::next`] refuses: a bug in the handler, never a node's doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key release cannot take step {step} from {from}")]
pub(crate) struct IllegalStep {
    pub from: &'static str,
    pub step: &'static str,
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Attested { .. } => "attested",
            Step::PolicyMet => "policy met",
            Step::Wrapped => "wrapped",
            Step::Refuse(_) => "refuse",
        }
    }
}

impl Release {
    /// The transition function: attest, then the policy, then wrap, in that order and
    /// once each; a refusal ends any release that has not ended; an ended one stays so.
    pub fn next(&self, step: Step) -> Result<Release, IllegalStep> {
        let id = |r: &String| r.clone();
        match (self, step) {
            (Release::Requested, Step::Attested { report_id }) => {
                Ok(Release::Attested { report_id })
            }
            (Release::Attested { report_id }, Step::PolicyMet) => Ok(Release::PolicyMet {
                report_id: id(report_id),
            }),
            (Release::PolicyMet { report_id }, Step::Wrapped) => Ok(Release::Released {
                report_id: id(report_id),
            }),
            (Release::Requested, Step::Refuse(reason)) => Ok(Release::Refused {
                report_id: None,
                reason,
            }),
            (
                Release::Attested { report_id } | Release::PolicyMet { report_id },
                Step::Refuse(reason),
            ) => Ok(Release::Refused {
                report_id: Some(id(report_id)),
                reason,
            }),
            (from, step) => Err(IllegalStep {
                from: from.name(),
                step: step.name(),
            }),
        }
    }

    /// Refuses the release; a release that cannot be refused (it ended) is refused all
    /// the same, as the bug it is, keeping its report.
    pub fn refuse(&self, reason: Reason) -> Release {
        self.next(Step::Refuse(reason))
            .unwrap_or_else(|illegal| Release::Refused {
                report_id: self.report_id().map(str::to_owned),
                reason: Reason::Failed(ServiceError::Internal(illegal.to_string())),
            })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Release::Requested => "requested",
            Release::Attested { .. } => "attested",
            Release::PolicyMet { .. } => "policy met",
            Release::Released { .. } => "released",
            Release::Refused { .. } => "refused",
        }
    }

    /// The report the decision rests on, once the fresh attestation recorded one.
    pub fn report_id(&self) -> Option<&str> {
        match self {
            Release::Requested => None,
            Release::Attested { report_id }
            | Release::PolicyMet { report_id }
            | Release::Released { report_id } => Some(report_id),
            Release::Refused { report_id, .. } => report_id.as_deref(),
        }
    }

    /// The end of the release: `Ok` only when the key left. A release that stopped
    /// half-way was not released (fail closed).
    pub fn outcome(self, key: &str, hostname: &str) -> Result<(), ServiceError> {
        match self {
            Release::Released { .. } => Ok(()),
            Release::Refused { reason, .. } => Err(reason.into_error(key, hostname)),
            other => Err(ServiceError::Internal(format!(
                "the key release stopped at {}",
                other.name()
            ))),
        }
    }
}

#[cfg(test)]
#[path = "release_tests.rs"]
mod tests;
