//! Container image layers, read once, as streams (issue 5: the scanner's input).
//!
//! A layer is a tar archive, maybe gzip- or zstd-compressed, from an untrusted source.
//! [`walk_layer`] decompresses it (the format is sniffed from its first bytes, not taken
//! from a media type), walks its entries with the `tar` crate, and hands each one, with a
//! normalised path, to a [`Visitor`]; files the visitor asks for come with a reader over
//! their content. Nothing is written anywhere: a layer cannot place a file outside the
//! scan, because the scan has no filesystem.
//!
//! Untrusted input is bounded ([`Limits`]): entries per layer (tar bombs), bytes after
//! decompression and the expansion ratio (gzip bombs), path length, and the size of a
//! file a visitor reads. Path traversal (`../`), absolute paths, symlinks whose relative
//! target climbs out of the image, and hard links to files the layer never held are
//! [`Finding`]s: reported, and the entry skipped, not fatal. A truncated or corrupt layer
//! is an error naming the offset.
//!
//! [`Overlay`] applies layers in order, honouring whiteouts (`.wh.NAME`) and opaque
//! directories (`.wh..wh..opq`), for the files a scanner gathers (package databases,
//! `/etc/shadow`, ...), remembering which layer each came from. It holds only what was
//! gathered, so memory does not grow with the size of the layers.

#![forbid(unsafe_code)]

mod decompress;
mod limits;
mod overlay;
mod path;
mod walk;

pub use decompress::Compression;
pub use limits::Limits;
pub use overlay::{Gathered, Overlay};
pub use path::{normalize, symlink_escapes, PathIssue};
pub use walk::{walk_layer, Entry, EntryKind, Finding, LayerError, LayerStats, Visitor};
