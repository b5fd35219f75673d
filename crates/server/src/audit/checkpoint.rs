//! The log's signing key and its checkpoints. The key is an Ed25519 seed in the data
//! directory (created on first start, mode 0600, shared by replicas like the other
//! keys); its note key name is the log's origin. A checkpoint is signed when the tree has
//! grown: by a background task every second and on demand when one is fetched. Before
//! signing, the new tree head must be consistent with the last signed one, so the service
//! never signs a fork of its own log (a changed or removed row stops it, loudly).

use super::store::StoredCheckpoint;
use crate::config::publish_secret_once;
use crate::store::{Store, StoreError};
use ironroot_crypto::ed25519_seed;
use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::merkle::verify_consistency;
use ironroot_tlog::note::{Ed25519NoteSigner, Note};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The seed file in the data directory.
const SEED_FILE: &str = "audit-log-ed25519.seed";
const SEED_LEN: usize = 32;
/// How often the background task looks for growth.
const SIGN_EVERY: Duration = Duration::from_secs(1);

/// Why a checkpoint could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CheckpointError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored log disagrees with what was signed before: entries were removed or
    /// changed. Nothing is signed until an operator looks.
    #[error("the audit log no longer matches its last checkpoint: {0}")]
    Inconsistent(String),
    #[error("signing the checkpoint failed: {0}")]
    Signing(String),
}

/// The log's identity: its origin and signing key.
pub(crate) struct LogSigner {
    signer: Ed25519NoteSigner,
    verifier_key: String,
    /// One signing at a time on this replica (the database arbitrates between replicas).
    signing: tokio::sync::Mutex<()>,
}

impl LogSigner {
    /// Loads the seed from `dir` (creating it on first start) for the log named `origin`.
    pub(crate) fn load_or_create(dir: &Path, origin: &str) -> Result<LogSigner, String> {
        let path = dir.join(SEED_FILE);
        let seed = match std::fs::read(&path) {
            Ok(seed) => Zeroizing::new(seed),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = Zeroizing::new(
                    ironroot_crypto::random_bytes(SEED_LEN).map_err(|e| e.to_string())?,
                );
                Zeroizing::new(
                    publish_secret_once(&path, &fresh)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                )
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let key = ed25519_seed::from_seed(&seed)
            .map_err(|_| format!("{} must hold a 32-byte Ed25519 seed", path.display()))?;
        let signer = Ed25519NoteSigner::new(origin, key)
            .map_err(|e| format!("audit log origin {origin:?}: {e}"))?;
        Ok(LogSigner {
            verifier_key: signer.verifier_key().to_text(),
            signer,
            signing: tokio::sync::Mutex::new(()),
        })
    }

    /// The note verifier key string (`<origin>+<key id>+<base64 key>`).
    pub(crate) fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The latest checkpoint, signing one first if the log grew since the last.
    pub(crate) async fn current(&self, store: &Store) -> Result<String, CheckpointError> {
        // The usual case, without waiting for a signing in progress: nothing new.
        if let Some(c) = store.audit_checkpoint().await? {
            if c.size == store.audit_size().await? {
                return Ok(c.note);
            }
        }
        let _one = self.signing.lock().await;
        let stored = store.audit_checkpoint().await?;
        let size = store.audit_size().await?;
        if let Some(c) = &stored {
            if c.size == size {
                return Ok(c.note.clone());
            }
            if c.size > size {
                return Err(CheckpointError::Inconsistent(format!(
                    "it holds {size} entries, but a checkpoint of {} was signed",
                    c.size
                )));
            }
        }
        let root = store.audit_root(size).await?;
        if let Some(c) = &stored {
            self.check_consistent(store, c, size, &root).await?;
        }
        let note = self.sign(size, root)?;
        store
            .put_audit_checkpoint(size, &root, &note, crate::now())
            .await?;
        // Another replica may have stored a larger one meanwhile: serve the newest.
        Ok(store.audit_checkpoint().await?.map_or(note, |c| c.note))
    }

    async fn check_consistent(
        &self,
        store: &Store,
        old: &StoredCheckpoint,
        size: u64,
        root: &[u8; 32],
    ) -> Result<(), CheckpointError> {
        let proof = store.audit_consistency(old.size, size).await?;
        verify_consistency(old.size, size, &old.root, root, &proof).map_err(|e| {
            CheckpointError::Inconsistent(format!(
                "from the checkpoint of {} to {size} entries: {e}",
                old.size
            ))
        })
    }

    fn sign(&self, size: u64, root: [u8; 32]) -> Result<String, CheckpointError> {
        let text = Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
        .to_text();
        let signature = self.signer.sign(&text);
        let note = Note::new(text, vec![signature])
            .map_err(|e| CheckpointError::Signing(e.to_string()))?;
        Ok(note.to_text())
    }
}

/// Signs a new checkpoint whenever the log grew, once a second, until the service stops.
/// A failure is logged once until it changes (a broken log would otherwise repeat every
/// second) and retried.
pub(crate) async fn keep_signing(signer: Arc<LogSigner>, store: Store) {
    let mut tick = tokio::time::interval(SIGN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_error: Option<String> = None;
    loop {
        tick.tick().await;
        match signer.current(&store).await {
            Ok(_) => last_error = None,
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::error!(error = %message, "audit log checkpoint not signed");
                }
                last_error = Some(message);
            }
        }
    }
}
