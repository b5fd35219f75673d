//! Writing an image into the destination layout so that a failure leaves nothing behind:
//! every blob goes to a temporary file in `DST/blobs/sha256/`, is renamed to its digest
//! only once checked, and every file and directory this run created is removed again
//! unless [`Staging::finish`] wrote index.json, which happens last.

use crate::layout::blob_path;
use crate::model::{Descriptor, Index};
use crate::ImageError;
use ironroot_crypto::{HashAlg, Hasher};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file being written in `blobs/sha256/`; removed on drop unless renamed.
pub struct TempBlob {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    sink: std::io::Sink,
}

impl TempBlob {
    fn create(dir: &Path) -> Result<TempBlob, ImageError> {
        let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".ironroot-tmp-{}-{n}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ImageError::io(path.display().to_string(), e))?;
        Ok(TempBlob {
            path,
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            sink: std::io::sink(),
        })
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self.file.as_mut() {
            Some(f) => f,
            // Only after `persist`, which consumes the blob.
            None => &mut self.sink,
        }
    }

    fn persist(mut self, to: &Path) -> Result<(), ImageError> {
        let what = self.path.display().to_string();
        if let Some(f) = self.file.take() {
            let f = f
                .into_inner()
                .map_err(|e| ImageError::io(&what, e.into_error()))?;
            f.sync_all().map_err(|e| ImageError::io(&what, e))?;
        }
        std::fs::rename(&self.path, to).map_err(|e| ImageError::io(&what, e))
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        self.file.take();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The destination layout while an image is written into it.
pub struct Staging {
    dir: PathBuf,
    blobs: PathBuf,
    index: Index,
    created_files: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
    done: bool,
}

impl Staging {
    /// Opens (creating what is missing) the layout at `dir`. An existing index.json must
    /// parse: the new image is added to it.
    pub fn open(dir: &Path) -> Result<Staging, ImageError> {
        let index_path = dir.join("index.json");
        let index = if index_path.exists() {
            let bytes = std::fs::read(&index_path)
                .map_err(|e| ImageError::io(index_path.display().to_string(), e))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| ImageError::Malformed(format!("{}: {e}", index_path.display())))?
        } else {
            Index::empty()
        };
        let mut s = Staging {
            dir: dir.to_owned(),
            blobs: dir.join("blobs").join("sha256"),
            index,
            created_files: Vec::new(),
            created_dirs: Vec::new(),
            done: false,
        };
        for d in [dir.to_owned(), dir.join("blobs"), s.blobs.clone()] {
            if !d.exists() {
                std::fs::create_dir(&d).map_err(|e| ImageError::io(d.display().to_string(), e))?;
                s.created_dirs.push(d);
            }
        }
        Ok(s)
    }

    pub fn temp(&self) -> Result<TempBlob, ImageError> {
        TempBlob::create(&self.blobs)
    }

    /// Moves a checked temporary blob to its name. A blob of that digest already there
    /// is the same content, and was not created by this run.
    pub fn commit(&mut self, tmp: TempBlob, digest: &str) -> Result<(), ImageError> {
        let to = blob_path(&self.dir, digest)?;
        let existed = to.exists();
        tmp.persist(&to)?;
        if !existed {
            self.created_files.push(to);
        }
        Ok(())
    }

    /// Writes a small document as a blob; returns its digest and size.
    pub fn put_bytes(&mut self, bytes: &[u8]) -> Result<(String, u64), ImageError> {
        let mut h = Hasher::new(HashAlg::Sha256);
        h.update(bytes);
        let digest = format!("sha256:{}", hex::encode(h.finish()));
        let mut tmp = self.temp()?;
        tmp.writer()
            .write_all(bytes)
            .map_err(|e| ImageError::io("writing a blob", e))?;
        self.commit(tmp, &digest)?;
        Ok((digest, bytes.len() as u64))
    }

    /// Copies a blob from the source layout, unchanged, checking its digest and size on
    /// the way (a corrupt source blob is not passed on).
    pub fn copy_blob(&mut self, src_dir: &Path, desc: &Descriptor) -> Result<(), ImageError> {
        let from = blob_path(src_dir, &desc.digest)?;
        let to = blob_path(&self.dir, &desc.digest)?;
        if same_file(&from, &to) {
            return read_verified_blob_streaming(&from, desc);
        }
        let mut tmp = self.temp()?;
        let (digest, size) = copy_hashing(&from, tmp.writer())?;
        check_digest(desc, &digest, size)?;
        self.commit(tmp, &digest)
    }

    /// Adds `entry` to index.json (replacing the entry of the same name) and keeps
    /// everything written: the image is complete.
    pub fn finish(mut self, entry: Descriptor) -> Result<(), ImageError> {
        let layout = self.dir.join("oci-layout");
        if !layout.exists() {
            write_atomically(&self.blobs, &layout, OCI_LAYOUT)?;
            self.created_files.push(layout);
        }
        self.index.put(entry);
        let json = serde_json::to_vec(&self.index)
            .map_err(|e| ImageError::Malformed(format!("index.json: {e}")))?;
        write_atomically(&self.blobs, &self.dir.join("index.json"), &json)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for f in self.created_files.iter().rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d); // only if empty: never someone else's files
        }
    }
}

fn write_atomically(tmp_dir: &Path, to: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let mut tmp = TempBlob::create(tmp_dir)?;
    tmp.writer()
        .write_all(bytes)
        .map_err(|e| ImageError::io(to.display().to_string(), e))?;
    tmp.persist(to)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn read_verified_blob_streaming(path: &Path, desc: &Descriptor) -> Result<(), ImageError> {
    let (digest, size) = copy_hashing(path, &mut std::io::sink())?;
    check_digest(desc, &digest, size)
}

/// Streams `from` into `to`, returning the sha256 digest and size of what went through.
pub fn copy_hashing(from: &Path, to: &mut dyn Write) -> Result<(String, u64), ImageError> {
    let what = from.display().to_string();
    let mut f = File::open(from).map_err(|e| ImageError::io(&what, e))?;
    let mut h = Hasher::new(HashAlg::Sha256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ImageError::io(&what, e)),
        };
        h.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(|e| ImageError::io("writing a blob", e))?;
        size += n as u64;
    }
    Ok((format!("sha256:{}", hex::encode(h.finish())), size))
}

pub fn check_digest(desc: &Descriptor, digest: &str, size: u64) -> Result<(), ImageError> {
    if digest == desc.digest && size == desc.size {
        return Ok(());
    }
    Err(ImageError::DigestMismatch {
        what: format!("blob {} ({} bytes)", desc.digest, desc.size),
        found: format!("{digest}, {size} bytes"),
    })
}
