use crate::{io_err, DevNodeError};
use std::path::{Path, PathBuf};

/// Where a development node keeps what it boots and the logs it writes.
#[derive(Debug, Clone)]
pub struct NodeLayout {
    pub root: PathBuf,
}

/// Container runtime binaries a node measures, as (path on the host, where to copy from).
const RUNTIME_FILES: &[&str] = &[
    "/usr/sbin/runc",
    "/usr/bin/conmon",
    "/usr/bin/podman",
    "/usr/libexec/ironroot/keyprovider",
];

impl NodeLayout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        NodeLayout { root: root.into() }
    }
    pub fn firmware_dir(&self) -> PathBuf {
        self.root.join("firmware")
    }
    pub fn boot_dir(&self) -> PathBuf {
        self.root.join("boot")
    }
    /// The runtime's files, laid out as on the host (`runtime/usr/sbin/runc`).
    pub fn runtime_dir(&self) -> PathBuf {
        self.root.join("runtime")
    }
    pub fn event_log_path(&self) -> PathBuf {
        self.root
            .join("sys/kernel/security/tpm0/binary_bios_measurements")
    }
    pub fn ima_log_path(&self) -> PathBuf {
        self.root
            .join("sys/kernel/security/ima/ascii_runtime_measurements")
    }

    /// Every runtime file: (path as the host sees it, path in the node directory), sorted.
    pub fn runtime_files(&self) -> Result<Vec<(String, PathBuf)>, DevNodeError> {
        let mut out = Vec::new();
        walk(&self.runtime_dir(), &mut out)?;
        let base = self.runtime_dir();
        let mut files: Vec<(String, PathBuf)> = out
            .into_iter()
            .filter_map(|p| {
                p.strip_prefix(&base)
                    .ok()
                    .map(|rel| (format!("/{}", rel.display()), p.clone()))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Creates a node directory with firmware, boot chain and runtime. Firmware and boot
    /// files are deterministic stand-ins (the same for every node made from the same
    /// `platform` string, as identical machines would be); the runtime binaries are copied
    /// from this machine when present, so the IMA list measures the real runc and podman.
    pub fn create(
        root: &Path,
        platform: &str,
        hostname: &str,
        plugin: Option<&Path>,
    ) -> Result<NodeLayout, DevNodeError> {
        let l = NodeLayout::new(root);
        for d in [l.firmware_dir(), l.boot_dir(), l.runtime_dir()] {
            std::fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        write(
            &l.firmware_dir().join("OVMF_CODE.fd"),
            &blob(platform, "firmware code", 64 * 1024),
        )?;
        write(
            &l.firmware_dir().join("microcode.bin"),
            &blob(platform, "cpu microcode", 4096),
        )?;
        write(
            &l.boot_dir().join("shimx64.efi"),
            &blob(platform, "shim", 16 * 1024),
        )?;
        write(
            &l.boot_dir().join("grubx64.efi"),
            &blob(platform, "grub", 32 * 1024),
        )?;
        write(
            &l.boot_dir().join("vmlinuz"),
            &blob(platform, "kernel", 128 * 1024),
        )?;
        write(
            &l.boot_dir().join("initrd.img"),
            &blob(platform, "initrd", 64 * 1024),
        )?;
        let cmdline = format!("BOOT_IMAGE=/vmlinuz root=UUID=00000000-0000-4000-8000-000000000001 ro ima_policy=tcb hostname={hostname}");
        write(&l.boot_dir().join("cmdline"), cmdline.as_bytes())?;
        for host_path in RUNTIME_FILES {
            let dest = l.runtime_dir().join(host_path.trim_start_matches('/'));
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let source = if host_path.ends_with("keyprovider") {
                plugin.map(Path::to_path_buf)
            } else {
                Some(PathBuf::from(host_path))
            };
            match source.filter(|s| s.is_file()) {
                Some(s) => {
                    std::fs::copy(&s, &dest).map_err(io_err(&s))?;
                }
                None => write(&dest, &blob(platform, host_path, 8 * 1024))?,
            }
        }
        Ok(l)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DevNodeError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for e in entries {
        let p = e.map_err(io_err(dir))?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DevNodeError> {
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Deterministic bytes standing in for a firmware or boot file.
fn blob(platform: &str, what: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = ironroot_crypto::digest(
        ironroot_crypto::HashAlg::Sha256,
        format!("{platform}/{what}").as_bytes(),
    );
    while out.len() < len {
        out.extend_from_slice(&block);
        block = ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, &block);
    }
    out.truncate(len);
    out
}
