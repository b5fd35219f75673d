//! What can go wrong talking to a registry.

use oci_client::errors::OciDistributionError;

/// A registry could not be read or written, or sent something refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("{0:?} is not an image reference")]
    Reference(String),
    #[error("the registry client: {0}")]
    Client(String),
    /// A request failed; `what` says which (and, for an anonymous pull, how to log in).
    #[error("{what}")]
    Request {
        what: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("{what} is {size} bytes, more than the {max} allowed")]
    TooLarge { what: String, size: u64, max: u64 },
    #[error("{what}: the registry sent content whose digest is {actual}, not {expected}; refused")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what}: {digest:?} is not a digest")]
    BadDigest { what: String, digest: String },
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The credentials files (containers-auth.json(5), docker's config.json).
    #[error("{0}")]
    Credentials(String),
}

impl RegistryError {
    pub(crate) fn request(what: impl Into<String>, source: OciDistributionError) -> Self {
        RegistryError::Request {
            what: what.into(),
            source,
        }
    }
}

/// An error and its causes on one line, `a: b: c`, for reports that keep it as text.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}
