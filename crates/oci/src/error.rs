//! What can go wrong reading, writing and rewriting an image in an OCI layout.

/// An image could not be read, written or rewritten. The messages name the layer, blob or
/// file concerned; they never carry key material. (Encryption's own failures are
/// `ironroot-imagecrypt`'s.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("{0}")]
    Reference(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("malformed image: {0}")]
    Malformed(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} does not match its descriptor: it is {found}")]
    DigestMismatch { what: String, found: String },
}

impl ImageError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> ImageError {
        ImageError::Io {
            what: what.into(),
            source,
        }
    }
}
