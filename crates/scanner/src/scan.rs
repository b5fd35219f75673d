//! One pass over an image's layers: digests checked while streaming, the files that
//! matter gathered into an [`Overlay`], every other file offered to an [`Inspector`].

use crate::digest::{BlobDigest, DigestReader};
use crate::inventory::{self, InventoryProblem, RpmSqlite};
use crate::osrelease::{self, OsRelease};
use ironroot_layers::{
    walk_layer, Entry, EntryKind, Finding, Gathered, LayerError, LayerStats, Limits, Overlay,
    Visitor,
};
use ironroot_pkgdb::Package;
use std::collections::HashMap;
use std::io::Read;

/// What a check wants of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Want {
    Skip,
    /// Its mode, owner and layer (a setuid binary).
    Metadata,
    /// Its bytes too, kept to the end of the scan (a small configuration file).
    Content,
}

/// The checks riding on the scan: which files they keep (configuration), and which they
/// see in passing (secrets, malware). Passing files are seen in every layer, also those a
/// later layer deletes, because deleted files still ship in the image.
pub trait Inspector {
    fn gather(&self, path: &str, mode: u32, size: u64) -> Want;
    fn wants_content(&self, path: &str, size: u64) -> bool;
    /// A file it wanted in passing, handed over whole (no copy: a worker thread can take
    /// it as it is).
    fn content(&mut self, layer: usize, path: &str, data: Vec<u8>);
}

/// An inspector that wants nothing (inventory only).
pub struct NoInspector;

impl Inspector for NoInspector {
    fn gather(&self, _: &str, _: u32, _: u64) -> Want {
        Want::Skip
    }
    fn wants_content(&self, _: &str, _: u64) -> bool {
        false
    }
    fn content(&mut self, _: usize, _: &str, _: Vec<u8>) {}
}

/// Most bytes reserved up front for one file's content.
const MAX_PREALLOCATED: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("layer {layer} ({expected}): the blob's digest is {actual}; it was altered or corrupted, nothing of it is trusted")]
    DigestMismatch {
        layer: usize,
        expected: BlobDigest,
        actual: BlobDigest,
    },
    #[error("layer {layer} ({digest}): {source}")]
    Layer {
        layer: usize,
        digest: String,
        source: LayerError,
    },
}

/// A problem with an entry of a layer (path traversal, escaping link...), which the scan
/// skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFinding {
    pub layer: usize,
    pub finding: Finding,
}

/// One scanned layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerSummary {
    pub index: usize,
    /// The blob's digest as computed while reading it.
    pub digest: String,
    pub compressed_bytes: u64,
    pub bytes: u64,
    pub entries: u64,
    pub compression: String,
}

/// What a finished pass collected.
pub struct Collected {
    pub files: Overlay,
    pub os_release: Option<OsRelease>,
    pub packages: Vec<InventoryItem>,
    pub inventory_problems: Vec<InventoryProblem>,
    pub layer_findings: Vec<LayerFinding>,
    pub layers: Vec<LayerSummary>,
}

/// One installed package and the layer that installed (or last changed) it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InventoryItem {
    #[serde(flatten)]
    pub package: Package,
    /// The lowest layer from which this exact package (name, version, architecture) was
    /// in the database without a break.
    pub layer: usize,
    /// The database file that lists it.
    pub db_path: String,
}

type PackageKey = (ironroot_pkgdb::Ecosystem, String, String, Option<String>);

/// A scan in progress. Feed layers lowest first ([`Scan::layer`]), or entries by hand for
/// a root filesystem ([`Scan::begin_layer`], the [`Visitor`] methods, [`Scan::end_layer`]).
pub struct Scan<'a> {
    limits: Limits,
    pkg_limits: ironroot_pkgdb::Limits,
    max_gathered_bytes: u64,
    inspector: &'a mut dyn Inspector,
    rpm: &'a dyn RpmSqlite,
    files: Overlay,
    /// Package → the layer from which it has been present.
    origins: HashMap<PackageKey, usize>,
    layer_touched_db: bool,
    layer_findings: Vec<LayerFinding>,
    layers: Vec<LayerSummary>,
    current: usize,
    /// Whether `entry` asked for the content to gather it, to see it in passing, or both.
    pending: (bool, bool),
}

impl<'a> Scan<'a> {
    pub fn new(limits: Limits, inspector: &'a mut dyn Inspector, rpm: &'a dyn RpmSqlite) -> Self {
        Scan {
            limits,
            pkg_limits: ironroot_pkgdb::Limits::default(),
            // A package database is the largest file kept (a big rpmdb.sqlite is ~100 MB).
            max_gathered_bytes: 256 << 20,
            inspector,
            rpm,
            files: Overlay::new(),
            origins: HashMap::new(),
            layer_touched_db: false,
            layer_findings: Vec::new(),
            layers: Vec::new(),
            current: 0,
            pending: (false, false),
        }
    }

    /// Scans the next layer from its blob, checking the blob against `expected` when given
    /// (a registry, an OCI layout) while it streams. A mismatch fails the whole scan: the
    /// findings of an altered layer would describe some other image.
    pub fn layer<R: Read>(
        &mut self,
        expected: Option<&BlobDigest>,
        raw: R,
    ) -> Result<&LayerSummary, ScanError> {
        let index = self.layers.len();
        let alg = expected
            .map(BlobDigest::alg)
            .unwrap_or(ironroot_crypto::HashAlg::Sha256);
        let mut reader = DigestReader::new(raw, alg);
        self.begin_layer();
        let limits = self.limits;
        let walked = walk_layer(index, &mut reader, &limits, self);
        if walked.is_err() {
            // The walk stopped early (a bomb, a corrupt tar): read the rest of the blob,
            // which is only compressed bytes, so that an altered blob is called altered
            // and a genuine hostile one is called what it is.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        }
        let (actual, _) = reader.finish();
        if let Some(expected) = expected {
            if *expected != actual {
                return Err(ScanError::DigestMismatch {
                    layer: index,
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        let stats = walked.map_err(|source| ScanError::Layer {
            layer: index,
            digest: expected.unwrap_or(&actual).to_string(),
            source,
        })?;
        Ok(self.end_layer(actual.to_string(), stats))
    }

    /// Starts a layer fed entry by entry (see [`Visitor`]).
    pub fn begin_layer(&mut self) {
        self.current = self.layers.len();
        self.layer_touched_db = false;
    }

    /// Ends a layer: the package databases it changed are read again so that each
    /// package keeps the layer that brought it.
    pub fn end_layer(&mut self, digest: String, stats: LayerStats) -> &LayerSummary {
        let index = self.current;
        if self.layer_touched_db {
            let (read, _) = inventory::read_packages(&self.files, self.rpm, &self.pkg_limits);
            let present: std::collections::HashSet<PackageKey> =
                read.iter().map(|r| inventory::key(&r.package)).collect();
            self.origins.retain(|k, _| present.contains(k));
            for k in present {
                self.origins.entry(k).or_insert(index);
            }
        }
        self.layers.push(LayerSummary {
            index,
            digest,
            compressed_bytes: stats.compressed_bytes,
            bytes: stats.bytes,
            entries: stats.entries,
            compression: format!("{:?}", stats.compression).to_lowercase(),
        });
        let last = self.layers.len() - 1;
        &self.layers[last]
    }

    /// Ends the pass: the inventory of the top of the image.
    pub fn finish(self) -> Collected {
        let (read, inventory_problems) =
            inventory::read_packages(&self.files, self.rpm, &self.pkg_limits);
        let packages = read
            .into_iter()
            .map(|r| InventoryItem {
                layer: self
                    .origins
                    .get(&inventory::key(&r.package))
                    .copied()
                    .unwrap_or(r.db_layer),
                package: r.package,
                db_path: r.db_path,
            })
            .collect();
        let os_release = osrelease::PATHS.iter().find_map(|p| {
            self.files
                .get(p)?
                .content
                .as_deref()
                .and_then(osrelease::parse)
        });
        Collected {
            files: self.files,
            os_release,
            packages,
            inventory_problems,
            layer_findings: self.layer_findings,
            layers: self.layers,
        }
    }
}

impl Visitor for Scan<'_> {
    fn entry(&mut self, layer: usize, entry: &Entry) -> bool {
        self.files.apply(entry);
        let path = entry.path.as_str();
        let is_db = inventory::is_package_db(path);
        if is_db {
            self.layer_touched_db = true;
        }
        if let EntryKind::Symlink { .. } = entry.kind {
            // A link's existence can matter (a service enabled at boot): metadata only.
            if self.inspector.gather(path, entry.mode, entry.size) != Want::Skip {
                self.files.put(path, gathered(layer, entry, None));
            }
            return false;
        }
        if entry.kind != EntryKind::File {
            return false;
        }
        let gather = if is_db || osrelease::PATHS.contains(&path) {
            Want::Content
        } else {
            self.inspector.gather(path, entry.mode, entry.size)
        };
        if gather == Want::Metadata
            || (gather == Want::Content && entry.size > self.max_gathered_bytes)
        {
            self.files.put(path, gathered(layer, entry, None));
        }
        let keep = gather == Want::Content && entry.size <= self.max_gathered_bytes;
        let pass = self.inspector.wants_content(path, entry.size);
        self.pending = (keep, pass);
        keep || pass
    }

    fn content(&mut self, layer: usize, entry: &Entry, data: &mut dyn Read) -> std::io::Result<()> {
        // Only files within the inspector's or the gathering limit get here, so the
        // header's size is bounded; capped again in case a header lies.
        let mut buf = Vec::with_capacity(entry.size.min(MAX_PREALLOCATED) as usize);
        data.read_to_end(&mut buf)?;
        match self.pending {
            (true, true) => {
                self.inspector.content(layer, &entry.path, buf.clone());
                self.files
                    .put(&entry.path, gathered(layer, entry, Some(buf)));
            }
            (false, true) => self.inspector.content(layer, &entry.path, buf),
            (true, false) => self
                .files
                .put(&entry.path, gathered(layer, entry, Some(buf))),
            (false, false) => {}
        }
        Ok(())
    }

    fn finding(&mut self, layer: usize, finding: Finding) {
        self.layer_findings.push(LayerFinding { layer, finding });
    }
}

fn gathered(layer: usize, entry: &Entry, content: Option<Vec<u8>>) -> Gathered {
    Gathered {
        layer,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: entry.size,
        content,
    }
}
