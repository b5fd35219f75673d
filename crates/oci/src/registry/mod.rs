//! One client for OCI registries, used to scan, sign and verify: `oci-client` set up the
//! same way everywhere ([`client`]), the user's credentials ([`auth`]), and every read
//! bounded ([`limits`]): blobs stream through a size limit and a digest check
//! ([`Registry::fetch_blob`], [`Registry::layer_reader`]), manifests are refused above
//! [`limits::MAX_DOCUMENT`] and checked against the digest that names them.
//!
//! Everything a registry sends is untrusted; whether a signature in it is good is decided
//! by the caller (`ironroot-signing`).

mod attachments;
pub mod auth;
mod blob;
pub mod client;
mod error;
mod image;
pub mod limits;

pub use attachments::{Attachment, FoundLayer, FoundSignature};
pub use blob::BlockingBlob;
pub use error::{error_chain, RegistryError};
pub use image::PulledManifest;

use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::time::Duration;

/// How long a signature or attachment read may stall (they are small).
pub const SIGNATURE_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an image layer read may stall.
pub const LAYER_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// A registry client with the user's credentials for one repository.
pub struct Registry {
    client: Client,
    auth: RegistryAuth,
}

impl Registry {
    /// For signatures and attachments: [`SIGNATURE_READ_TIMEOUT`]. Plain HTTP only when
    /// asked, for a loopback test registry.
    pub fn new(reference: &Reference, plain_http: bool) -> Result<Registry, RegistryError> {
        Registry::connect(reference, plain_http, SIGNATURE_READ_TIMEOUT)
    }

    pub fn connect(
        reference: &Reference,
        plain_http: bool,
        read_timeout: Duration,
    ) -> Result<Registry, RegistryError> {
        Ok(Registry {
            client: client::client(reference, plain_http, read_timeout)?,
            auth: auth::for_reference(reference)?,
        })
    }
}
