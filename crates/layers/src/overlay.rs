//! The files a scanner gathers, across layers, with whiteouts applied.

use crate::{Entry, EntryKind};
use std::collections::BTreeMap;

/// A gathered file: its bytes, metadata, and the layer that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    pub layer: usize,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// `None` when only the metadata was kept (a setuid binary, say).
    pub content: Option<Vec<u8>>,
}

/// Gathered files by path. Layers must be applied lowest first.
#[derive(Debug, Default, Clone)]
pub struct Overlay {
    files: BTreeMap<String, Gathered>,
}

impl Overlay {
    pub fn new() -> Self {
        Overlay::default()
    }

    /// Applies an entry's effect on what lower layers gathered: a whiteout removes the
    /// path and all below it, an opaque directory all below it, and any new entry at a
    /// gathered path replaces it (a file by a directory or a link, too).
    pub fn apply(&mut self, entry: &Entry) {
        match &entry.kind {
            EntryKind::Whiteout { of } => self.remove_tree(of, true),
            EntryKind::OpaqueDir => self.remove_tree(&entry.path, false),
            _ => {
                self.files.remove(&entry.path);
            }
        }
    }

    fn remove_tree(&mut self, root: &str, with_root: bool) {
        if with_root {
            self.files.remove(root);
        }
        let prefix = format!("{root}/");
        let doomed: Vec<String> = self
            .files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.files.remove(&k);
        }
    }

    /// Records a gathered file (after [`Overlay::apply`] for the same entry).
    pub fn put(&mut self, path: &str, file: Gathered) {
        self.files.insert(path.to_owned(), file);
    }

    pub fn get(&self, path: &str) -> Option<&Gathered> {
        self.files.get(path)
    }

    /// Gathered files whose path starts with `prefix`, in path order.
    pub fn under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Gathered)> + 'a {
        self.files
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
