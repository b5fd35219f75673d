//! A root filesystem directory (a debootstrap tree, an unpacked image) scanned as one
//! layer. Links are never followed: a symlink is an entry, like in a layer.

use super::SourceError;
use ironroot_layers::{Compression, Entry, EntryKind, LayerStats, Visitor};
use ironroot_scanner::Scan;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Pseudo-filesystems of a live system, skipped at the top of the tree.
const SKIP_TOP: [&str; 3] = ["proc", "sys", "dev"];

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> SourceError {
    let what = p.display().to_string();
    move |e| SourceError::io(what, e)
}

pub fn feed(root: &Path, scan: &mut Scan<'_>) -> Result<(), SourceError> {
    let meta = std::fs::symlink_metadata(root).map_err(io(root))?;
    if !meta.is_dir() {
        return Err(SourceError::Refused(format!(
            "{} is not a directory",
            root.display()
        )));
    }
    scan.begin_layer();
    let mut stats = LayerStats {
        compression: Compression::None,
        entries: 0,
        compressed_bytes: 0,
        bytes: 0,
    };
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .filter_map(Result::ok)
            .collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if rel.is_empty() && SKIP_TOP.contains(&name.as_str()) {
                continue;
            }
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            stats.entries += 1;
            let kind = if m.file_type().is_symlink() {
                let target = std::fs::read_link(e.path()).unwrap_or_default();
                EntryKind::Symlink {
                    target: target.to_string_lossy().into_owned(),
                }
            } else if m.is_dir() {
                stack.push(path.clone());
                EntryKind::Dir
            } else if m.is_file() {
                stats.bytes += m.len();
                EntryKind::File
            } else {
                EntryKind::Other
            };
            let entry = Entry {
                path,
                kind,
                size: m.len(),
                mode: m.mode(),
                uid: u64::from(m.uid()),
                gid: u64::from(m.gid()),
            };
            if scan.entry(0, &entry) && entry.kind == EntryKind::File {
                let path = e.path();
                let file = std::fs::File::open(&path).map_err(io(&path))?;
                scan.content(0, &entry, &mut std::io::Read::take(file, 256 << 20))
                    .map_err(io(&path))?;
            }
        }
    }
    stats.compressed_bytes = stats.bytes;
    scan.end_layer(format!("dir:{}", root.display()), stats);
    Ok(())
}
