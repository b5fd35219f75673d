//! One layer, entry by entry.

use crate::decompress::{self, Compression};
use crate::path::{normalize, symlink_escapes, PathIssue};
use crate::Limits;
use std::cell::Cell;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink {
        target: String,
    },
    /// A hard link to `target` (normalised), an earlier file of the same layer.
    Hardlink {
        target: String,
    },
    /// `.wh.NAME`: `of` (normalised) and everything under it, from lower layers, is gone.
    Whiteout {
        of: String,
    },
    /// `DIR/.wh..wh..opq`: the lower layers' contents of `path` are gone.
    OpaqueDir,
    /// Devices, FIFOs and the like.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the image root, normalised (for a whiteout: the directory holding it).
    pub path: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

/// Something wrong with an entry, reported and skipped; the layer goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    PathRefused {
        raw: String,
        issue: PathIssue,
    },
    SymlinkEscapes {
        path: String,
        target: String,
    },
    HardlinkToMissing {
        path: String,
        target: String,
    },
    /// A file the visitor wanted was larger than `Limits::max_file_bytes`; not read.
    FileTooLarge {
        path: String,
        size: u64,
    },
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    #[error("the layer is truncated or corrupt near byte {offset} of its tar stream: {message}")]
    Corrupt { offset: u64, message: String },
    #[error("the layer has more than {0} entries (a tar bomb?)")]
    TooManyEntries(u64),
    #[error("the layer expands past {0} bytes")]
    TooLarge(u64),
    #[error("the layer expands {ratio} times its compressed size, more than the allowed {max} (a compression bomb?)")]
    Bomb { ratio: u64, max: u64 },
    #[error("reading the layer: {0}")]
    Io(std::io::Error),
    #[error("the scanner stopped: {0}")]
    Visitor(std::io::Error),
}

/// Receives a layer's entries in order.
pub trait Visitor {
    /// Every accepted entry. Return `true` to read a regular file's content.
    fn entry(&mut self, layer: usize, entry: &Entry) -> bool;
    /// The content of a file `entry` asked for (at most `Limits::max_file_bytes`).
    fn content(&mut self, layer: usize, entry: &Entry, data: &mut dyn Read) -> std::io::Result<()>;
    fn finding(&mut self, layer: usize, finding: Finding);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerStats {
    pub compression: Compression,
    pub entries: u64,
    pub compressed_bytes: u64,
    pub bytes: u64,
}

/// Stops the decompressed stream once it passes the size or ratio bound.
struct Guard<R> {
    inner: R,
    out: Rc<Cell<u64>>,
    compressed: Rc<Cell<u64>>,
    limits: Limits,
}

#[derive(Debug)]
enum Tripped {
    TooLarge(u64),
    Bomb { ratio: u64, max: u64 },
}

impl std::fmt::Display for Tripped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Tripped {}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.out.get() + n as u64;
        self.out.set(total);
        if total > self.limits.max_layer_bytes {
            return Err(std::io::Error::other(Tripped::TooLarge(
                self.limits.max_layer_bytes,
            )));
        }
        if total > self.limits.ratio_grace {
            let ratio = total / self.compressed.get().max(1);
            if ratio > self.limits.max_ratio {
                return Err(std::io::Error::other(Tripped::Bomb {
                    ratio,
                    max: self.limits.max_ratio,
                }));
            }
        }
        Ok(n)
    }
}

fn classify(e: std::io::Error, offset: u64) -> LayerError {
    if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<Tripped>()) {
        return match t {
            Tripped::TooLarge(max) => LayerError::TooLarge(*max),
            Tripped::Bomb { ratio, max } => LayerError::Bomb {
                ratio: *ratio,
                max: *max,
            },
        };
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::Other => LayerError::Corrupt {
            offset,
            message: e.to_string(),
        },
        _ => LayerError::Io(e),
    }
}

/// Walks layer number `layer` (for the visitor's records) from `raw`, compressed or not.
pub fn walk_layer<R: Read>(
    layer: usize,
    raw: R,
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> Result<LayerStats, LayerError> {
    let (reader, compression, compressed) = decompress::open(raw).map_err(LayerError::Io)?;
    let out = Rc::new(Cell::new(0u64));
    let guard = Guard {
        inner: reader,
        out: out.clone(),
        compressed: compressed.clone(),
        limits: *limits,
    };
    let mut archive = tar::Archive::new(guard);
    let mut entries = 0u64;
    // Hashes of this layer's regular files, for hard-link checks (16 bytes each).
    let hasher = RandomState::new();
    let mut files: HashSet<u64> = HashSet::new();
    let iter = archive.entries().map_err(|e| classify(e, out.get()))?;
    for item in iter {
        let mut entry = item.map_err(|e| classify(e, out.get()))?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(LayerError::TooManyEntries(limits.max_entries));
        }
        let header = entry.header();
        let raw_path = entry.path_bytes().into_owned();
        let raw_show = String::from_utf8_lossy(&raw_path).into_owned();
        let path = match normalize(&raw_path, limits.max_path_len) {
            Ok(p) => p,
            Err(PathIssue::Empty) => continue, // "./": the root directory itself
            Err(issue) => {
                visitor.finding(
                    layer,
                    Finding::PathRefused {
                        raw: raw_show,
                        issue,
                    },
                );
                continue;
            }
        };
        let (mode, uid, gid) = (
            header.mode().unwrap_or(0),
            header.uid().unwrap_or(0),
            header.gid().unwrap_or(0),
        );
        let size = entry.size();
        let link = || {
            entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default()
        };
        let name = path.rsplit('/').next().unwrap_or(&path);
        let parent = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let kind = if name == ".wh..wh..opq" {
            EntryKind::OpaqueDir
        } else if let Some(hidden) = name.strip_prefix(".wh.") {
            EntryKind::Whiteout {
                of: if parent.is_empty() {
                    hidden.to_owned()
                } else {
                    format!("{parent}/{hidden}")
                },
            }
        } else {
            match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
                tar::EntryType::Directory => EntryKind::Dir,
                tar::EntryType::Symlink => {
                    let target = link();
                    if symlink_escapes(&path, &target) {
                        visitor.finding(
                            layer,
                            Finding::SymlinkEscapes {
                                path: path.clone(),
                                target: target.clone(),
                            },
                        );
                    }
                    EntryKind::Symlink { target }
                }
                tar::EntryType::Link => {
                    let raw_target = link();
                    match normalize(raw_target.as_bytes(), limits.max_path_len) {
                        Ok(t) if files.contains(&hasher.hash_one(&t)) => {
                            EntryKind::Hardlink { target: t }
                        }
                        _ => {
                            visitor.finding(
                                layer,
                                Finding::HardlinkToMissing {
                                    path: path.clone(),
                                    target: raw_target,
                                },
                            );
                            continue;
                        }
                    }
                }
                _ => EntryKind::Other,
            }
        };
        let (path, kind) = match kind {
            EntryKind::OpaqueDir => (parent.to_owned(), EntryKind::OpaqueDir),
            k => (path, k),
        };
        if kind == EntryKind::File {
            files.insert(hasher.hash_one(&path));
        }
        let e = Entry {
            path,
            kind,
            size,
            mode,
            uid,
            gid,
        };
        if visitor.entry(layer, &e) && e.kind == EntryKind::File {
            if size > limits.max_file_bytes {
                visitor.finding(
                    layer,
                    Finding::FileTooLarge {
                        path: e.path.clone(),
                        size,
                    },
                );
            } else {
                let mut body = (&mut entry).take(limits.max_file_bytes);
                visitor.content(layer, &e, &mut body).map_err(|err| {
                    match err.get_ref().map(|i| i.is::<Tripped>()) {
                        Some(true) => classify(err, out.get()),
                        _ => LayerError::Visitor(err),
                    }
                })?;
            }
        }
    }
    // Read to the end of the compressed stream: the gzip trailer (CRC and length) and
    // zstd's checksum are checked only there, and a cut there is a truncated layer.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| classify(e, out.get()))?;
    Ok(LayerStats {
        compression,
        entries,
        compressed_bytes: compressed.get(),
        bytes: out.get(),
    })
}
