//! Why a feed document was refused. Every variant names the record (OSV id) or the tracker
//! entry at fault, so an operator can find it in the feed.

use thiserror::Error;

/// A feed document that could not be loaded. Nothing of it was added to the database.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than the limit for its kind of document.
    #[error("{what} of {len} bytes exceeds the {max}-byte limit (id {id:?})")]
    TooLarge {
        /// `OSV record` or `Debian tracker document`.
        what: &'static str,
        /// The record's id if a bounded look found one.
        id: Option<String>,
        /// Size of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not the JSON shape expected.
    #[error("malformed {what} (id {id:?}): {reason}")]
    Malformed {
        /// `OSV record` or `Debian tracker document`.
        what: &'static str,
        /// The record's id, when it was readable.
        id: Option<String>,
        /// serde_json's or our own description, with line and column where known.
        reason: String,
    },
    /// A count inside a record is over its limit (affected entries, events, versions...).
    #[error("{id}: {count} {item} exceed the limit of {max}")]
    TooMany {
        /// The OSV id, or `package/issue` for the tracker.
        id: String,
        /// What was counted.
        item: &'static str,
        /// How many there were.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An OSV event object that is not exactly one of introduced/fixed/last_affected/limit.
    #[error("{id}: range event must have exactly one of introduced, fixed, last_affected, limit")]
    BadEvent {
        /// The OSV id.
        id: String,
    },
    /// A tracker release entry whose status this crate does not know, or resolved without a
    /// fixed version. Refused rather than guessed (fail closed).
    #[error("Debian tracker {package}/{issue} release {release}: {reason}")]
    BadTrackerEntry {
        /// Source package.
        package: String,
        /// CVE or TEMP id.
        issue: String,
        /// Release codename.
        release: String,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// A stable machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::Malformed { .. } => "malformed",
            Error::TooMany { .. } => "too_many",
            Error::BadEvent { .. } => "bad_event",
            Error::BadTrackerEntry { .. } => "bad_tracker_entry",
        }
    }
}
