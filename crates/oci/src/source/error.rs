//! What can go wrong reading an image into a scan.

use crate::registry::RegistryError;
use crate::ImageError;
use ironroot_scanner::ScanError;

/// An image source could not be read, or was refused (altered, inconsistent, encrypted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Refused(String),
}

impl SourceError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> SourceError {
        SourceError::Io {
            what: what.into(),
            source,
        }
    }
}
