//! OCI images, read and written: what the CLI, the scanner's service and the coming
//! admission webhook share about container images.
//!
//! * [`model`]: descriptors, manifests, indexes and media types (pure);
//! * [`layout`] and [`staging`]: OCI image layouts read with every document checked
//!   against its descriptor, and written so that a failure leaves nothing behind;
//! * [`registry`]: the one registry client, with credentials, size limits enforced while
//!   streaming and digests checked as blobs are read; cosign attachments (`.sig`, `.att`);
//! * [`lookaside`]: containers/image lookaside signature storage;
//! * [`source`]: image sources fed to the scanner (layout, `docker save` archive, root
//!   filesystem, registry).
//!
//! Never: trust a byte a registry or an image sent before its digest was checked, read
//! more than a limit allows, decide whether a signature is good (`ironroot-signing` does),
//! or print (progress goes through [`LayerProgress`]).

#![forbid(unsafe_code)]

mod assemble;
mod error;
pub mod layout;
pub mod lookaside;
pub mod model;
mod progress;
pub mod registry;
pub mod source;
pub mod staging;

pub use assemble::write_image;
pub use error::ImageError;
pub use layout::{Image, LayoutRef};
pub use progress::{LayerProgress, Silent};
