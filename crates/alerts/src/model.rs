//! An alert and its lifecycle: open → acknowledged → resolved, as one transition function
//! ([`Alert::apply`]) that every caller goes through, so the service, its store and its
//! tests cannot disagree on what an occurrence, an acknowledgement or a resolution does.

use ironroot_severity::Severity;
use serde::{Deserialize, Serialize};

/// The longest source, subject or kind of a key, in bytes.
pub const MAX_KEY_PART: usize = 512;
/// The longest title, in bytes.
pub const MAX_TITLE: usize = 512;
/// The longest details text, in bytes.
pub const MAX_DETAILS: usize = 16 * 1024;
/// The longest name of who acknowledged or resolved an alert, in bytes.
pub const MAX_ACTOR: usize = 256;

/// What makes two occurrences the same alert: who raised it, what it is about, and what
/// happened (`trust` / `host/H` / `trust-lost`; `policy/P` / `cluster/C/ns/kind/name` /
/// `violation`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    source: String,
    subject: String,
    kind: String,
}

/// Why a key, a title or a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlertInputError {
    #[error("an alert's {0} must not be empty")]
    Empty(&'static str),
    #[error("an alert's {0} is longer than {1} bytes")]
    TooLong(&'static str, usize),
    #[error("an alert's {0} must not contain control characters")]
    Control(&'static str),
}

fn check(
    what: &'static str,
    s: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<(), AlertInputError> {
    if s.trim().is_empty() {
        return Err(AlertInputError::Empty(what));
    }
    if s.len() > max {
        return Err(AlertInputError::TooLong(what, max));
    }
    if s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\t')))
    {
        return Err(AlertInputError::Control(what));
    }
    Ok(())
}

impl AlertKey {
    /// A key from its three parts, each non-empty, bounded and free of control characters.
    pub fn new(source: &str, subject: &str, kind: &str) -> Result<AlertKey, AlertInputError> {
        check("source", source, MAX_KEY_PART, false)?;
        check("subject", subject, MAX_KEY_PART, false)?;
        check("kind", kind, MAX_KEY_PART, false)?;
        Ok(AlertKey {
            source: source.to_owned(),
            subject: subject.to_owned(),
            kind: kind.to_owned(),
        })
    }

    /// The loss of trust of host `host_id`.
    pub fn trust_loss(host_id: &str) -> Result<AlertKey, AlertInputError> {
        AlertKey::new("trust", &format!("host/{host_id}"), "trust-lost")
    }

    /// Policy `policy` violated by `object` (`namespace/kind/name`) in cluster `cluster`.
    pub fn policy_violation(
        policy: &str,
        cluster: &str,
        object: &str,
    ) -> Result<AlertKey, AlertInputError> {
        AlertKey::new(
            &format!("policy/{policy}"),
            &format!("cluster/{cluster}/{object}"),
            "violation",
        )
    }

    pub fn source(&self) -> &str {
        &self.source
    }
    pub fn subject(&self) -> &str {
        &self.subject
    }
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

/// What was done about the cause of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Remediation {
    /// Nothing (audit mode, or nothing applies).
    #[default]
    None,
    /// The node was tainted.
    Taint,
    /// The node was drained through the eviction API.
    Drain,
    /// The request was denied at admission.
    Deny,
    /// A remediation was due but the brake (its rate or cut-off) held it back.
    HeldByBrake,
}

impl Remediation {
    pub const ALL: [Remediation; 5] = [
        Remediation::None,
        Remediation::Taint,
        Remediation::Drain,
        Remediation::Deny,
        Remediation::HeldByBrake,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Remediation::None => "none",
            Remediation::Taint => "taint",
            Remediation::Drain => "drain",
            Remediation::Deny => "deny",
            Remediation::HeldByBrake => "held-by-brake",
        }
    }

    pub fn parse(s: &str) -> Option<Remediation> {
        Remediation::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who resolved an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "name")]
pub enum Resolver {
    /// A person, by the name they gave.
    Person(String),
    /// The service, because the cause went away (a host trusted again).
    Automatic,
}

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum AlertState {
    Open,
    Acknowledged { by: String, at: u64 },
    Resolved { by: Resolver, at: u64 },
}

impl AlertState {
    pub const fn name(&self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged { .. } => "acknowledged",
            AlertState::Resolved { .. } => "resolved",
        }
    }
}

/// One occurrence of what an alert is about, as its raiser describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub severity: Severity,
    pub title: String,
    pub details: String,
    pub remediation: Remediation,
    pub at: u64,
}

impl Occurrence {
    /// Checks the title (one line) and details (lines allowed) before anything is stored.
    pub fn check(&self) -> Result<(), AlertInputError> {
        check("title", &self.title, MAX_TITLE, false)?;
        if !self.details.is_empty() {
            check("details", &self.details, MAX_DETAILS, true)?;
        }
        Ok(())
    }
}

/// What moves an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertInput {
    Occurred(Occurrence),
    Acknowledge { by: String, at: u64 },
    Resolve { by: Resolver, at: u64 },
}

/// What a transition did, and so what sinks are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// A new alert.
    Opened,
    /// A resolved alert occurred again.
    Reopened,
    /// An open alert occurred again.
    Repeated,
    /// An acknowledged alert occurred again: counted, not announced.
    RepeatedWhileAcknowledged,
    Acknowledged,
    Resolved,
}

impl Change {
    /// Whether sinks hear of it: every occurrence of an alert nobody has taken on, and
    /// its resolution. Someone who acknowledged an alert is working on it already.
    pub const fn notifies(self) -> bool {
        matches!(
            self,
            Change::Opened | Change::Reopened | Change::Repeated | Change::Resolved
        )
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Change::Opened => "opened",
            Change::Reopened => "reopened",
            Change::Repeated => "repeated",
            Change::RepeatedWhileAcknowledged => "repeated-while-acknowledged",
            Change::Acknowledged => "acknowledged",
            Change::Resolved => "resolved",
        }
    }
}

/// A transition [`Alert::apply`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IllegalAlertTransition {
    #[error("the alert is already acknowledged")]
    AlreadyAcknowledged,
    #[error("the alert is resolved: only a new occurrence reopens it")]
    AcknowledgeResolved,
    #[error("the alert is already resolved")]
    AlreadyResolved,
    #[error("{0}")]
    Input(#[from] AlertInputError),
}

/// A deduplicated alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub key: AlertKey,
    pub severity: Severity,
    pub title: String,
    pub details: String,
    pub first_seen: u64,
    pub last_seen: u64,
    pub count: u64,
    pub state: AlertState,
    pub remediation: Remediation,
}

impl Alert {
    /// The alert a first occurrence opens.
    pub fn open(key: AlertKey, o: Occurrence) -> Result<Alert, IllegalAlertTransition> {
        o.check()?;
        Ok(Alert {
            key,
            severity: o.severity,
            title: o.title,
            details: o.details,
            first_seen: o.at,
            last_seen: o.at,
            count: 1,
            state: AlertState::Open,
            remediation: o.remediation,
        })
    }

    /// The one transition function. The latest occurrence sets severity, title, details
    /// and remediation (the alert shows the situation as it is now), except that an
    /// occurrence stating no remediation leaves the one taken while the alert stayed
    /// unresolved (a host that goes from untrusted to expired is still tainted: the
    /// service raising it again does not know, the controller reported it). A reopened
    /// alert starts over.
    pub fn apply(&self, input: AlertInput) -> Result<(Alert, Change), IllegalAlertTransition> {
        let mut next = self.clone();
        let change = match (input, &self.state) {
            (AlertInput::Occurred(o), state) => {
                o.check()?;
                next.severity = o.severity;
                next.title = o.title;
                next.details = o.details;
                let resolved = matches!(state, AlertState::Resolved { .. });
                if resolved || o.remediation != Remediation::None {
                    next.remediation = o.remediation;
                }
                next.last_seen = next.last_seen.max(o.at);
                next.count = next.count.saturating_add(1);
                match state {
                    AlertState::Open => Change::Repeated,
                    AlertState::Acknowledged { .. } => Change::RepeatedWhileAcknowledged,
                    AlertState::Resolved { .. } => {
                        next.state = AlertState::Open;
                        Change::Reopened
                    }
                }
            }
            (AlertInput::Acknowledge { by, at }, AlertState::Open) => {
                check("acknowledger", &by, MAX_ACTOR, false)?;
                next.state = AlertState::Acknowledged { by, at };
                Change::Acknowledged
            }
            (AlertInput::Acknowledge { .. }, AlertState::Acknowledged { .. }) => {
                return Err(IllegalAlertTransition::AlreadyAcknowledged)
            }
            (AlertInput::Acknowledge { .. }, AlertState::Resolved { .. }) => {
                return Err(IllegalAlertTransition::AcknowledgeResolved)
            }
            (
                AlertInput::Resolve { by, at },
                AlertState::Open | AlertState::Acknowledged { .. },
            ) => {
                if let Resolver::Person(name) = &by {
                    check("resolver", name, MAX_ACTOR, false)?;
                }
                next.state = AlertState::Resolved { by, at };
                Change::Resolved
            }
            (AlertInput::Resolve { .. }, AlertState::Resolved { .. }) => {
                return Err(IllegalAlertTransition::AlreadyResolved)
            }
        };
        Ok((next, change))
    }
}
