//! The witness's files: the log key it pins, its own cosigning key (created 0600 when
//! absent), its state (the last verified checkpoint, 0600) and what it publishes. Every
//! write goes to a private temporary file in the same directory, is synced, then renamed
//! over the old one, so a crash leaves either the old file or the new one, never half.

use anyhow::{bail, Context};
use ironroot_tlog::cosignature::Cosigner;
use ironroot_tlog::note::Ed25519NoteVerifier;
use ironroot_tlog::witness::key;
use ironroot_tlog::witness::state::{WitnessState, MAX_STATE_BYTES};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The longest key file read.
const MAX_KEY_FILE: u64 = 4096;

/// Reads at most `max` bytes of `path`; more is an error, not a truncation.
fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!("{} is larger than {max} bytes", path.display());
    }
    Ok(bytes)
}

/// The log's verifier key from `--log-key`.
pub fn log_key(path: &Path) -> anyhow::Result<Ed25519NoteVerifier> {
    let bytes = read_limited(path, MAX_KEY_FILE)?;
    let text = String::from_utf8_lossy(&bytes);
    Ed25519NoteVerifier::parse(text.trim()).with_context(|| {
        format!(
            "{} does not hold a log verifier key (<origin>+<key id>+<base64>, as \
             /.well-known/ironroot-log/key serves it)",
            path.display()
        )
    })
}

/// The witness's cosigner from `path`, created (0600) with `name` if the file is absent.
/// Returns it and whether it was created.
pub fn witness_key(path: &Path, name: Option<&str>) -> anyhow::Result<(Cosigner, bool)> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                bail!(
                    "{} is readable by others (mode {:o}): a witness key is a secret; \
                     chmod 600 it",
                    path.display(),
                    meta.permissions().mode() & 0o777
                );
            }
            let bytes = zeroize::Zeroizing::new(read_limited(path, MAX_KEY_FILE)?);
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{} is not text", path.display()))?;
            let cosigner = key::parse(text.trim())
                .with_context(|| format!("{} is not a witness key", path.display()))?;
            let have = cosigner.verifier_key().name;
            if let Some(name) = name.filter(|n| *n != have) {
                bail!(
                    "{} is the key of witness {have:?}, not {name:?}",
                    path.display()
                );
            }
            Ok((cosigner, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some(name) = name else {
                bail!(
                    "{} does not exist: give --name to create the witness's key (a name \
                     others will recognise, e.g. witness.example.com/w1)",
                    path.display()
                );
            };
            let (cosigner, text) =
                key::generate(name).with_context(|| format!("witness name {name:?}"))?;
            let mut line = zeroize::Zeroizing::new(text.as_bytes().to_vec());
            line.push(b'\n');
            write_new(path, &line, 0o600)?;
            Ok((cosigner, true))
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The state in `path`, or `None` if the file does not exist (a witness's first start).
/// A file that exists but does not verify is an error: the witness must not forget.
pub fn load_state(
    path: &Path,
    log_key: &Ed25519NoteVerifier,
) -> anyhow::Result<Option<WitnessState>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        Ok(_) => {}
    }
    let bytes = read_limited(path, MAX_STATE_BYTES as u64)?;
    let state = WitnessState::parse(&bytes, log_key).with_context(|| {
        format!(
            "{}: refusing to start from a state file that does not verify (a witness must \
             not forget what it saw; move the file aside only if you know why)",
            path.display()
        )
    })?;
    Ok(Some(state))
}

/// Creates `path` with `bytes`, atomically, failing if it exists.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = temporary(path, bytes, mode)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked.with_context(|| format!("creating {}", path.display()))
}

/// Replaces `path` with `bytes`, atomically.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = temporary(path, bytes, mode)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("replacing {}", path.display()))
    })
}

/// A synced temporary file beside `path` holding `bytes`.
fn temporary(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<std::path::PathBuf> {
    let suffix = hex::encode(ironroot_crypto::random_bytes(8)?);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{suffix}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    Ok(tmp)
}
