//! `docker save` archives: a tar holding `manifest.json`, the image config and the layer
//! tars (`<id>/layer.tar` from Docker before 25, `blobs/sha256/<hex>` after). The archive
//! is indexed once, then each member is read in place: nothing is extracted.

use super::SourceError;
use crate::progress::LayerProgress;
use ironroot_crypto::HashAlg;
use ironroot_scanner::{BlobDigest, Scan};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// More members than any real `docker save` of one image holds.
const MAX_MEMBERS: usize = 100_000;
const MAX_JSON: u64 = 4 << 20;

pub struct Fed {
    pub config: Vec<u8>,
    pub config_digest: String,
}

#[derive(serde::Deserialize)]
struct Entry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Config {
    rootfs: RootFs,
}

#[derive(serde::Deserialize)]
struct RootFs {
    diff_ids: Vec<String>,
}

fn refused<T>(why: String) -> Result<T, SourceError> {
    Err(SourceError::Refused(why))
}

/// Member name → (offset of its data, size).
fn index(path: &Path) -> Result<HashMap<String, (u64, u64)>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path.display().to_string(), e))?;
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    for entry in archive
        .entries()
        .map_err(|e| SourceError::io(format!("{}: not a tar archive", path.display()), e))?
    {
        let entry = entry
            .map_err(|e| SourceError::io(format!("{}: corrupt tar archive", path.display()), e))?;
        if members.len() >= MAX_MEMBERS {
            return refused(format!(
                "{}: more than {MAX_MEMBERS} members; not a docker save archive",
                path.display()
            ));
        }
        let name = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_owned();
        members.insert(name, (entry.raw_file_position(), entry.size()));
    }
    Ok(members)
}

fn member<'f>(
    file: &'f mut File,
    members: &HashMap<String, (u64, u64)>,
    name: &str,
) -> Result<(std::io::Take<&'f mut File>, u64), SourceError> {
    let Some(&(offset, size)) = members.get(name.trim_start_matches("./")) else {
        return refused(format!(
            "the archive's manifest names {name:?}, which it does not hold"
        ));
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| SourceError::io(name, e))?;
    Ok((file.take(size), size))
}

fn small(
    file: &mut File,
    members: &HashMap<String, (u64, u64)>,
    name: &str,
) -> Result<Vec<u8>, SourceError> {
    let (mut r, size) = member(file, members, name)?;
    if size > MAX_JSON {
        return refused(format!(
            "{name} is {size} bytes, more than the {MAX_JSON} allowed"
        ));
    }
    let mut buf = Vec::new();
    r.read_to_end(&mut buf)
        .map_err(|e| SourceError::io(name, e))?;
    Ok(buf)
}

/// The digest a member's name states (`blobs/sha256/<hex>`, `<hex>.json`), if any.
fn named_digest(name: &str) -> Option<BlobDigest> {
    let base = name.rsplit('/').next()?;
    let hex = base.strip_suffix(".json").unwrap_or(base);
    BlobDigest::parse(&format!("sha256:{hex}"))
}

fn json<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, SourceError> {
    serde_json::from_slice(bytes).map_err(|source| SourceError::Json {
        what: what.to_owned(),
        source,
    })
}

pub fn feed(
    path: &Path,
    scan: &mut Scan<'_>,
    progress: &dyn LayerProgress,
) -> Result<Fed, SourceError> {
    let members = index(path)?;
    let mut file = File::open(path).map_err(|e| SourceError::io(path.display().to_string(), e))?;
    let manifest = small(&mut file, &members, "manifest.json").map_err(|e| {
        SourceError::Refused(format!("not a docker save archive (no manifest.json): {e}"))
    })?;
    let entries: Vec<Entry> = json("manifest.json of the archive", &manifest)?;
    let [entry] = entries.as_slice() else {
        return refused(format!(
            "the archive holds {} images; save one image per archive to scan it",
            entries.len()
        ));
    };
    let config = small(&mut file, &members, &entry.config)?;
    let config_digest = BlobDigest::of(HashAlg::Sha256, &config);
    match named_digest(&entry.config) {
        Some(named) if named != config_digest => return refused(format!(
            "{}: the config's digest is {config_digest}, not the {named} its name states; the archive was altered",
            entry.config
        )),
        _ => {}
    }
    let diff_ids = json::<Config>("the image config", &config)?.rootfs.diff_ids;
    if diff_ids.len() != entry.layers.len() {
        return refused(format!(
            "the config lists {} layers and the manifest {}; the archive is inconsistent",
            diff_ids.len(),
            entry.layers.len()
        ));
    }
    let n = entry.layers.len();
    for (i, name) in entry.layers.iter().enumerate() {
        // A layer stored under its blob digest (possibly compressed) is checked against
        // that; a `layer.tar` is the uncompressed tar, whose digest is the diff_id.
        let expected = match named_digest(name).filter(|_| name.contains("blobs/")) {
            Some(d) => d,
            None => BlobDigest::parse(&diff_ids[i]).ok_or_else(|| {
                SourceError::Refused(format!(
                    "layer {i}: diff_id {:?} is not a digest",
                    diff_ids[i]
                ))
            })?,
        };
        let (reader, _) = member(&mut file, &members, name)?;
        let reader = std::io::BufReader::with_capacity(1 << 20, reader);
        super::layer(scan, i, n, &expected, reader, progress)?;
    }
    Ok(Fed {
        config,
        config_digest: config_digest.to_string(),
    })
}
