use crate::{io_err, DevNodeError, NodeLayout};
use ironroot_crypto::HashAlg;
use ironroot_evidence::{boot_aggregate, ImaListBuilder, ImaLog};
use ironroot_tpm::TpmDevice;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// IMA's PCR.
const IMA_PCR: u32 = 10;

/// Plays the kernel's IMA for a development node: measures each runtime file when it is
/// first seen and again whenever its content changes (real IMA measures on execution
/// and re-measures a changed file), appending to the list and extending PCR 10.
pub struct ImaEmulator {
    layout: NodeLayout,
    banks: Vec<HashAlg>,
    measured: HashMap<String, Vec<u8>>,
    /// File metadata at the last measurement: unchanged metadata means unchanged content
    /// (the kernel's IMA uses the inode's i_version the same way), so idle polls cost
    /// one `stat` per file and no reading or hashing.
    seen: HashMap<String, FileStamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn stamp(path: &std::path::Path) -> Result<FileStamp, DevNodeError> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).map_err(io_err(path))?;
    Ok(FileStamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode: m.ino(),
    })
}

/// SHA-256 of a file, streamed so that large binaries (podman) never sit in memory.
fn file_digest(path: &std::path::Path) -> Result<Vec<u8>, DevNodeError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut h = ironroot_crypto::Hasher::new(HashAlg::Sha256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

impl ImaEmulator {
    /// Starts IMA on a node. On a fresh boot (no list yet) it records boot_aggregate
    /// first; on an agent restart it resumes from the list already written.
    pub fn start(layout: NodeLayout, tpm: &mut dyn TpmDevice) -> Result<ImaEmulator, DevNodeError> {
        let banks = tpm.banks()?;
        let path = layout.ima_log_path();
        let mut measured = HashMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let list = ImaLog::parse(&bytes).map_err(|e| DevNodeError::Log(e.to_string()))?;
                for e in list.entries {
                    measured.insert(e.path.clone(), e.file_digest.0.clone());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let selection: Vec<(HashAlg, Vec<u32>)> =
                    vec![(HashAlg::Sha256, (0..=9).collect())];
                let pcrs = tpm.pcr_read(&selection)?;
                let mut b = ImaListBuilder::default();
                let entry = b
                    .boot_aggregate(&boot_aggregate(&pcrs, HashAlg::Sha256))
                    .map_err(|e| DevNodeError::Log(e.to_string()))?;
                let mut emu = ImaEmulator {
                    layout,
                    banks,
                    measured,
                    seen: HashMap::new(),
                };
                emu.append(tpm, &b, &entry)?;
                return Ok(emu);
            }
            Err(e) => return Err(io_err(&path)(e)),
        }
        Ok(ImaEmulator {
            layout,
            banks,
            measured,
            seen: HashMap::new(),
        })
    }

    fn append(
        &mut self,
        tpm: &mut dyn TpmDevice,
        b: &ImaListBuilder,
        entry: &ironroot_evidence::ImaEntry,
    ) -> Result<(), DevNodeError> {
        let digests: BTreeMap<HashAlg, Vec<u8>> = self
            .banks
            .iter()
            .map(|bank| (*bank, entry.template_hash(*bank)))
            .collect();
        let path = self.layout.ima_log_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        // Append before extending: a crash in between leaves a list that does not replay,
        // which the verifier reports, rather than a PCR with nothing to explain it.
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        f.write_all(b.to_ascii().as_bytes())
            .map_err(io_err(&path))?;
        f.sync_data().map_err(io_err(&path))?;
        tpm.pcr_extend(IMA_PCR, &digests)?;
        self.measured
            .insert(entry.path.clone(), entry.file_digest.0.clone());
        Ok(())
    }

    /// Measures files that are new or changed since they were last measured; returns how many.
    pub fn measure_changes(&mut self, tpm: &mut dyn TpmDevice) -> Result<usize, DevNodeError> {
        let mut n = 0;
        for (host_path, file) in self.layout.runtime_files()? {
            let st = stamp(&file)?;
            if self.seen.get(&host_path) == Some(&st) {
                continue;
            }
            let d = file_digest(&file)?;
            self.seen.insert(host_path.clone(), st);
            if self.measured.get(&host_path) == Some(&d) {
                continue;
            }
            let mut b = ImaListBuilder::default();
            let entry = b
                .measure(&host_path, HashAlg::Sha256, &d)
                .map_err(|e| DevNodeError::Log(e.to_string()))?;
            self.append(tpm, &b, &entry)?;
            tracing::info!(path = %host_path, digest = %hex_short(&d), "IMA measured file");
            n += 1;
        }
        Ok(n)
    }
}

fn hex_short(d: &[u8]) -> String {
    hex::encode(&d[..d.len().min(6)])
}
