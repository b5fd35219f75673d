//! Why a scanner could not be built. Scanning itself never fails: a file that could not be
//! fully scanned yields a finding that says so (see `malware-scan-incomplete`).

/// An error building a [`crate::Scanner`]; each names the rules file or YARA source at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("secret rules `{file}`: not a valid rules file: {message}")]
    RulesSyntax { file: String, message: String },
    #[error("secret rules `{file}`, rule `{rule}`: {reason}")]
    InvalidRule {
        file: String,
        rule: String,
        reason: String,
    },
    #[error("allow-list `{file}`, entry {index}: {reason}")]
    InvalidAllow {
        file: String,
        index: usize,
        reason: String,
    },
    #[error("rule id `{id}` is defined twice (in `{first}` and `{second}`)")]
    DuplicateRule {
        id: String,
        first: String,
        second: String,
    },
    #[error("YARA source `{file}`: {message}")]
    Yara { file: String, message: String },
    #[error("invalid configuration: {0}")]
    Config(String),
}
