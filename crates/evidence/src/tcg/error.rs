//! Why an event log was rejected. Every variant names the event (0 is the Spec ID header)
//! and the byte offset where the problem was found, so an operator can find it with a hex
//! dump; none carries the log's content.

/// A TCG event log that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    #[error("event {index} at byte {offset}: log ends inside {field}")]
    Truncated {
        index: u32,
        offset: usize,
        field: &'static str,
    },
    #[error("event {index} at byte {offset}: {what} is {size}, the limit is {limit}")]
    TooLarge {
        index: u32,
        offset: usize,
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("more than {limit} events")]
    TooManyEvents { limit: usize },
    #[error("Spec ID header at byte {offset}: {reason}")]
    BadSpecIdHeader { offset: usize, reason: &'static str },
    #[error("event {index} at byte {offset}: unknown or unsupported algorithm 0x{alg_id:04x}")]
    UnknownAlgorithm {
        index: u32,
        offset: usize,
        alg_id: u16,
    },
    #[error("event {index} at byte {offset}: {found} digests, the header declares {expected}")]
    DigestCountMismatch {
        index: u32,
        offset: usize,
        expected: usize,
        found: usize,
    },
    #[error("event {index} at byte {offset}: digest for {alg} is repeated or not in the header")]
    UnexpectedDigest {
        index: u32,
        offset: usize,
        alg: ironroot_crypto::HashAlg,
    },
    #[error("event {index} at byte {offset}: unknown event type 0x{value:08x}")]
    UnknownEventType {
        index: u32,
        offset: usize,
        value: u32,
    },
    #[error("event {index} at byte {offset}: PCR {pcr} is out of range")]
    PcrIndexOutOfRange { index: u32, offset: usize, pcr: u32 },
    #[error("event {index} at byte {offset}: StartupLocality event {reason}")]
    BadStartupLocality {
        index: u32,
        offset: usize,
        reason: &'static str,
    },
}

/// Why the event log writer refused a request. The writer refuses anything the parser
/// would reject, so a development node can never emit a log its own verifier fails on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("an event log needs at least one PCR bank")]
    NoBanks,
    #[error("PCR {0} is out of range")]
    PcrIndexOutOfRange(u32),
    #[error("event data of {0} bytes is over the limit")]
    EventTooLarge(usize),
    #[error("the log would exceed its size or event-count limit")]
    LogFull,
    #[error("EV_NO_ACTION events are recorded with no_action, not measured")]
    NoActionMeasured,
    #[error("StartupLocality must come once, before anything is measured into PCR 0")]
    MisplacedStartupLocality,
}
