//! Key files for `ironroot sign`: generating them, reading them, and the password that
//! protects a cosign private key.
//!
//! Passwords come from a file (`--password-file`) or from `COSIGN_PASSWORD`, the variable
//! cosign itself reads, never from the command line (other users can read a process's
//! arguments) and never into a log. Private key files are created 0600 and never replaced.

use anyhow::{bail, Context};
use ironroot_signing::cosign::{CosignError, CosignSigningKey, KeyPassword};
use ironroot_signing::openpgp::{Keyring, OpenPgpSigningKey};
use ironroot_signing::TrustedCosignKey;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const PASSWORD_ENV: &str = "COSIGN_PASSWORD";
const MAX_KEY_FILE: u64 = 1 << 20;

/// The password for a cosign private key: the file's first line, else `COSIGN_PASSWORD`.
/// An empty `COSIGN_PASSWORD` is an explicit choice of no password, as with cosign.
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    pub fn from_file_or_env(file: Option<&Path>) -> anyhow::Result<Password> {
        if let Some(path) = file {
            let raw = Zeroizing::new(read_limited(path, 4096)?);
            // skopeo's --sign-passphrase-file and cosign take the first line.
            let line = raw.split(|b| *b == b'\n').next().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                bail!(
                    "{} holds an empty password; set {PASSWORD_ENV}= (empty) to choose no password",
                    path.display()
                );
            }
            return Ok(Password(Zeroizing::new(line.to_vec())));
        }
        match std::env::var_os(PASSWORD_ENV) {
            Some(v) => Ok(Password(Zeroizing::new(
                std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec(),
            ))),
            None => bail!(
                "the private key's password is needed: give --password-file FILE or set {PASSWORD_ENV}"
            ),
        }
    }

    pub fn as_key_password(&self) -> KeyPassword<'_> {
        if self.0.is_empty() {
            KeyPassword::Empty
        } else {
            KeyPassword::Given(&self.0)
        }
    }
}

pub fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.len() > max {
        bail!("{} is larger than {max} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes a new file (refusing to replace one) with the given mode.
pub fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| {
            format!(
                "creating {} (an existing file is never replaced)",
                path.display()
            )
        })?;
    // The umask may have narrowed the mode; a public key must stay readable.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Warns when a private key file is readable by others: it still works, as with cosign.
fn warn_if_exposed(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} is readable by other users; chmod 600 it",
                path.display()
            );
        }
    }
}

pub struct CosignFiles {
    pub private: PathBuf,
    pub public: PathBuf,
}

/// `sign keygen --format cosign`: PREFIX.key (encrypted, 0600) and PREFIX.pub.
pub fn keygen_cosign(prefix: &str, password: &Password) -> anyhow::Result<CosignFiles> {
    let files = CosignSigningKey::generate_files(password.as_key_password())
        .context("generating the cosign key")?;
    let private = PathBuf::from(format!("{prefix}.key"));
    let public = PathBuf::from(format!("{prefix}.pub"));
    if public.exists() {
        bail!(
            "{} exists; an existing key is never replaced",
            public.display()
        );
    }
    write_new(&private, files.private_pem.as_bytes(), 0o600)?;
    write_new(&public, files.public_pem.as_bytes(), 0o644)?;
    Ok(CosignFiles { private, public })
}

pub struct GpgFiles {
    pub private: PathBuf,
    pub public: PathBuf,
    pub public_armored: PathBuf,
    pub fingerprint: String,
}

/// `sign keygen --format gpg`: PREFIX.key (ironroot's own Ed25519 file, 0600), and the
/// public key as gpg exports it, binary (PREFIX.pub.gpg) and armored (PREFIX.pub.asc).
pub fn keygen_gpg(prefix: &str, user_id: &str) -> anyhow::Result<GpgFiles> {
    let now = unix_now()?;
    let key = OpenPgpSigningKey::generate(now).context("generating the OpenPGP key")?;
    let private = PathBuf::from(format!("{prefix}.key"));
    let public = PathBuf::from(format!("{prefix}.pub.gpg"));
    let public_armored = PathBuf::from(format!("{prefix}.pub.asc"));
    for p in [&public, &public_armored] {
        if p.exists() {
            bail!("{} exists; an existing key is never replaced", p.display());
        }
    }
    let exported = key.export_public_key(user_id, now)?;
    let armored = key.export_public_key_armored(user_id, now)?;
    write_new(&private, key.to_private_key_file()?.as_bytes(), 0o600)?;
    write_new(&public, &exported, 0o644)?;
    write_new(&public_armored, armored.as_bytes(), 0o644)?;
    Ok(GpgFiles {
        private,
        public,
        public_armored,
        fingerprint: key.fingerprint_hex(),
    })
}

pub fn load_cosign_private(path: &Path, password: &Password) -> anyhow::Result<CosignSigningKey> {
    warn_if_exposed(path);
    let pem = Zeroizing::new(read_limited(path, MAX_KEY_FILE)?);
    CosignSigningKey::from_encrypted_pem(&pem, password.as_key_password()).map_err(|e| match e {
        CosignError::WrongPassword => {
            anyhow::anyhow!(
                "{}: wrong password, or the file is corrupted",
                path.display()
            )
        }
        e => anyhow::Error::new(e).context(path.display().to_string()),
    })
}

pub fn load_gpg_private(path: &Path) -> anyhow::Result<OpenPgpSigningKey> {
    warn_if_exposed(path);
    let pem = Zeroizing::new(read_limited(path, MAX_KEY_FILE)?);
    OpenPgpSigningKey::from_private_key_file(&pem).with_context(|| path.display().to_string())
}

pub fn load_cosign_public(path: &Path) -> anyhow::Result<TrustedCosignKey> {
    let pem = read_limited(path, MAX_KEY_FILE)?;
    TrustedCosignKey::from_pem(&pem, &path.display().to_string())
        .with_context(|| path.display().to_string())
}

/// All the keys of every keyring file (binary or armored, as `gpg --export` writes them).
pub fn load_keyrings(paths: &[PathBuf]) -> anyhow::Result<Option<Keyring>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut all = Keyring { keys: Vec::new() };
    for p in paths {
        let ring = Keyring::parse(&read_limited(p, MAX_KEY_FILE)?)
            .with_context(|| format!("{}: not an OpenPGP keyring", p.display()))?;
        all.keys.extend(ring.keys);
    }
    Ok(Some(all))
}

/// Now as an OpenPGP signature time (32-bit unix seconds).
pub fn unix_now() -> anyhow::Result<u32> {
    u32::try_from(ironroot_timestamp::now_unix()).context("the clock is past 2106")
}
