//! Alerts: every violation and every loss of trust, deduplicated by what it is about,
//! with first and last seen, a count, acknowledgement and resolution as an explicit state
//! machine ([`Alert::apply`]), and the remediation taken; and the wire formats of the
//! sinks that hear of them: a signed webhook body ([`webhook`]), RFC 5424 syslog with
//! RFC 6587 framing ([`syslog`]) and CEF ([`cef`]).
//!
//! Pure: this crate must never open a socket, read a clock or touch a database. The
//! service stores alerts, keeps the delivery outbox and sends; this crate decides and
//! formats. The formats are specified in docs/alerts.md.

#![forbid(unsafe_code)]

pub mod cef;
mod model;
mod record;
pub mod syslog;
pub mod webhook;

pub use ironroot_severity::Severity;
pub use model::{
    Alert, AlertInput, AlertInputError, AlertKey, AlertState, Change, IllegalAlertTransition,
    Occurrence, Remediation, Resolver, MAX_ACTOR, MAX_DETAILS, MAX_KEY_PART, MAX_TITLE,
};
pub use record::{notice_severity, AlertRecord, Notice};

#[cfg(test)]
mod tests;
