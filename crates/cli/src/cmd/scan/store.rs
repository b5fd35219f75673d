//! Stored inventories (brief R16): each scanned image's report is kept, so that a new
//! database can be matched against every image without reading any image again.
//! One JSON file per image, named by its manifest digest (or its reference's digest for
//! sources without a manifest).

use anyhow::Context;
use ironroot_crypto::HashAlg;
use ironroot_scanner::{ScanReport, Vulnerability};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MAX_STORED: u64 = 256 << 20;

pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("IRONROOT_INVENTORIES") {
        return d.into();
    }
    super::db::cache_home().join("ironroot/inventories")
}

fn file_name(report: &ScanReport) -> String {
    let key = match &report.image.manifest_digest {
        Some(d) => d.clone(),
        None => format!("{}:{}", report.image.source, report.image.reference),
    };
    let h = ironroot_crypto::digest(HashAlg::Sha256, key.as_bytes());
    format!("{}.json", hex::encode(&h[..16]))
}

/// Keeps `report` (before the user's ignore and severity filters: those are views).
pub fn save(dir: &Path, report: &ScanReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    let path = dir.join(file_name(report));
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(report)?)
        .with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// What one rescan changed for one image.
#[derive(Debug, Serialize)]
pub struct ImageChange {
    pub image: String,
    pub new: Vec<Vulnerability>,
    pub fixed: Vec<Vulnerability>,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct Rescan {
    pub inventories: usize,
    pub packages: usize,
    pub images: Vec<ImageChange>,
    /// Stored files that could not be read (named, never skipped silently).
    pub unreadable: Vec<String>,
}

fn key(v: &Vulnerability) -> (String, String, String) {
    (v.id.clone(), v.package.clone(), v.version.clone())
}

/// Matches every stored report again with `rematch`, saves it, and reports the changes.
pub fn rescan(dir: &Path, rematch: impl Fn(&mut ScanReport) + Sync) -> anyhow::Result<Rescan> {
    let mut paths = Vec::new();
    if dir.exists() {
        for e in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "json") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .max(1);
    let chunk = paths.len().div_ceil(threads).max(1);
    let results: Vec<Result<(ImageChange, usize), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(|p| one(p, &rematch)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut out = Rescan {
        inventories: 0,
        packages: 0,
        images: Vec::new(),
        unreadable: Vec::new(),
    };
    for r in results {
        match r {
            Ok((change, packages)) => {
                out.inventories += 1;
                out.packages += packages;
                out.images.push(change);
            }
            Err(e) => out.unreadable.push(e),
        }
    }
    Ok(out)
}

fn one(path: &Path, rematch: &impl Fn(&mut ScanReport)) -> Result<(ImageChange, usize), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let len = std::fs::metadata(path).map_err(|e| fail(&e))?.len();
    if len > MAX_STORED {
        return Err(fail(&"too large"));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
    let mut report: ScanReport = serde_json::from_slice(&bytes).map_err(|e| fail(&e))?;
    let before: HashSet<_> = report.vulnerabilities.iter().map(key).collect();
    let old = report.vulnerabilities.clone();
    rematch(&mut report);
    let after: HashSet<_> = report.vulnerabilities.iter().map(key).collect();
    let change = ImageChange {
        image: report.image.reference.clone(),
        new: report
            .vulnerabilities
            .iter()
            .filter(|v| !before.contains(&key(v)))
            .cloned()
            .collect(),
        fixed: old
            .into_iter()
            .filter(|v| !after.contains(&key(v)))
            .collect(),
        total: report.vulnerabilities.len(),
    };
    let packages = report.packages.len();
    if !change.new.is_empty() || !change.fixed.is_empty() {
        let tmp = path.with_extension("tmp");
        let body = serde_json::to_vec(&report).map_err(|e| fail(&e))?;
        std::fs::write(&tmp, body).map_err(|e| fail(&e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail(&e))?;
    }
    Ok((change, packages))
}
