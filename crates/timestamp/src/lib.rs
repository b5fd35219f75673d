//! The one place ironroot formats, parses and reads wall-clock time.
//!
//! Times cross ironroot as unix seconds (`u64`). [`rfc3339`] turns them into and out of the
//! RFC 3339 text that reports, ignore files, feeds and key release policies carry, on the
//! `time` crate; [`now_unix`] is the one read of the wall clock, for code that has no
//! injected clock. A second parser or clock read elsewhere is a copy waiting to disagree
//! with this one (two parsers accepting different times would let a policy mean one thing
//! to the CLI and another to the server).
//!
//! This crate must never do I/O beyond reading the clock, hold state, or depend on more
//! than `time`: it is a vocabulary, not a policy. Measuring durations is not its business:
//! that is `std::time::Instant`.
#![forbid(unsafe_code)]

pub mod rfc3339;

/// Unix seconds now, from the system clock; 0 if the clock is before 1970 (callers compare
/// against times that are all later, so a broken clock makes everything look expired or
/// not yet valid, never the reverse).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_after_this_code_was_written() {
        // 2024-01-01T00:00:00Z: a clock reading before it is a broken clock, not the present.
        assert!(now_unix() > 1_704_067_200);
    }
}
