//! Why an IMA measurement list was rejected. Errors say where (line or entry) and what,
//! never echo more than a short, sanitised template name.

/// Where in a list a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImaPosition {
    /// The input as a whole (its size).
    Input,
    /// A line of the ASCII form, counting from 1.
    Line(usize),
    /// An entry of the binary form (or of a builder), counting from 0.
    Entry(usize),
}

impl std::fmt::Display for ImaPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImaPosition::Input => f.write_str("input"),
            ImaPosition::Line(n) => write!(f, "line {n}"),
            ImaPosition::Entry(n) => write!(f, "entry {n}"),
        }
    }
}

/// An IMA measurement list that could not be parsed, or an entry the builder refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImaError {
    #[error("{at}: {what} is {size} bytes, the limit is {limit}")]
    TooLarge {
        at: ImaPosition,
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("{at}: input ends inside {field}")]
    Truncated {
        at: ImaPosition,
        field: &'static str,
    },
    #[error("{at}: malformed line: {reason}")]
    MalformedLine {
        at: ImaPosition,
        reason: &'static str,
    },
    #[error("{at}: PCR index is missing or out of range")]
    PcrIndexOutOfRange { at: ImaPosition },
    #[error("{at}: {field} is not valid hex")]
    BadHex {
        at: ImaPosition,
        field: &'static str,
    },
    #[error("{at}: unknown or unsupported digest algorithm")]
    UnknownAlgorithm { at: ImaPosition },
    #[error("{at}: {field} is {found} bytes, expected {expected}")]
    DigestLength {
        at: ImaPosition,
        field: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{at}: unsupported template {name:?}")]
    UnsupportedTemplate { at: ImaPosition, name: String },
    #[error("{at}: bad path: {reason}")]
    BadPath {
        at: ImaPosition,
        reason: &'static str,
    },
    #[error("{at}: bad template data: {reason}")]
    BadTemplateData {
        at: ImaPosition,
        reason: &'static str,
    },
    #[error("{at}: template hash does not match the template data")]
    TemplateHashMismatch { at: ImaPosition },
}

/// A template name fit to put in an error: short and printable.
pub(super) fn sanitised_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .chars()
        .take(32)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}
