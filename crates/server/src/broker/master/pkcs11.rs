//! The master key as an AES-256 secret key object inside a PKCS#11 token: sensitive,
//! never extractable, found by label and created there once. `C_Encrypt`/`C_Decrypt`
//! with `CKM_AES_GCM` run inside the token, so the key never reaches this process.
//!
//! A `cryptoki` session is not `Sync`: one session sits behind a mutex (each call is a
//! single short token operation), and is reopened, logged in and the key found again if
//! the token says the session is gone.

use super::{MasterKeyError, DOES_NOT_OPEN, IV, TAG};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::ObjectHandle;
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use zeroize::Zeroizing;

/// Where the broker's master key lives when it is in an HSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// The token's PKCS#11 module (SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The label the token was initialized with.
    pub token_label: String,
    /// A file holding the user PIN (one line). Its content is never logged.
    pub pin_file: PathBuf,
    /// The label of the AES-256 key object; created in the token if missing.
    pub key_label: String,
}

impl Pkcs11Config {
    pub const DEFAULT_KEY_LABEL: &'static str = "ironroot-broker-master";
}

pub(crate) struct HsmKey {
    ctx: Pkcs11,
    slot: Slot,
    pin: AuthPin,
    config: Pkcs11Config,
    live: Mutex<Option<Live>>,
}

/// A logged-in session and the key's handle in it.
struct Live {
    session: Session,
    key: ObjectHandle,
}

impl HsmKey {
    pub fn load(config: &Pkcs11Config) -> Result<HsmKey, MasterKeyError> {
        let pin = read_pin(&config.pin_file)?;
        let ctx = load_module(&config.module)?;
        let slot = find_token(&ctx, &config.token_label)?;
        let hsm = HsmKey {
            ctx,
            slot,
            pin,
            config: config.clone(),
            live: Mutex::new(None),
        };
        let live = hsm.connect(Create::IfMissing)?;
        *hsm.lock() = Some(live);
        tracing::info!(
            token = %config.token_label,
            key_label = %config.key_label,
            "broker master key: AES-256 key in a PKCS#11 token"
        );
        Ok(hsm)
    }

    pub fn seal(&self, key_id: &str, material: &[u8]) -> Result<Vec<u8>, String> {
        let iv = ironroot_crypto::random_bytes(IV).map_err(|e| e.to_string())?;
        let ct_tag = self
            .with_key(|session, key| {
                let mut iv = iv.clone();
                let params = GcmParams::new(&mut iv, key_id.as_bytes(), tag_bits())?;
                session.encrypt(&Mechanism::AesGcm(params), key, material)
            })
            .map_err(|e| self.op_error("C_Encrypt", &e))?;
        // Fail closed on a token that returns something other than ciphertext || tag.
        if ct_tag.len() != material.len() + TAG {
            return Err(format!(
                "PKCS#11 token {:?}: AES-GCM returned {} bytes for {} (expected ciphertext and a 16-byte tag)",
                self.config.token_label,
                ct_tag.len(),
                material.len()
            ));
        }
        let mut out = iv;
        out.extend_from_slice(&ct_tag);
        Ok(out)
    }

    /// `sealed` is at least `IV + TAG` bytes (checked by the caller).
    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let (iv, ct_tag) = sealed.split_at(IV);
        self.with_key(|session, key| {
            let mut iv = iv.to_vec();
            let params = GcmParams::new(&mut iv, key_id.as_bytes(), tag_bits())?;
            session
                .decrypt(&Mechanism::AesGcm(params), key, ct_tag)
                .map(Zeroizing::new)
        })
        .map_err(|e| match e {
            OpError::Token(CkError::Pkcs11(
                RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange,
                _,
            )) => DOES_NOT_OPEN.to_string(),
            // SoftHSM2 (and others) report a GCM tag mismatch as a general failure.
            OpError::Token(CkError::Pkcs11(
                rv @ (RvError::GeneralError | RvError::FunctionFailed),
                _,
            )) => format!("{DOES_NOT_OPEN} (or the token failed: C_Decrypt returned {rv:?})"),
            e => self.op_error("C_Decrypt", &e),
        })
    }

    fn op_error(&self, op: &str, e: &OpError) -> String {
        match e {
            OpError::Token(e) => format!("PKCS#11 token {:?}: {op}: {e}", self.config.token_label),
            OpError::Reconnect(e) => format!("cannot reopen the PKCS#11 session: {e}"),
        }
    }

    /// Runs `op` with the live session, reopening it once if the token lost it.
    fn with_key<T>(
        &self,
        op: impl Fn(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, OpError> {
        let mut live = self.lock();
        if let Some(l) = live.as_ref() {
            match op(&l.session, l.key) {
                Err(e) if session_lost(&e) => {
                    tracing::warn!(token = %self.config.token_label, error = %e, "PKCS#11 session lost; reopening");
                    // Dropping the old session closes it (or finds it already gone).
                    *live = None;
                }
                other => return other.map_err(OpError::Token),
            }
        }
        // A key that vanished while running is an error, never replaced by a new one.
        let fresh = self.connect(Create::Never).map_err(OpError::Reconnect)?;
        let out = op(&fresh.session, fresh.key).map_err(OpError::Token);
        *live = Some(fresh);
        out
    }

    fn lock(&self) -> MutexGuard<'_, Option<Live>> {
        // A panic mid-call may leave the session in any state: start a new one.
        self.live.lock().unwrap_or_else(|poisoned| {
            self.live.clear_poison();
            let mut guard = poisoned.into_inner();
            *guard = None;
            guard
        })
    }

    /// Opens a read-write session, logs in and finds (or creates) the key.
    fn connect(&self, create: Create) -> Result<Live, MasterKeyError> {
        let token = &self.config.token_label;
        let session = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| token_error(token, format!("cannot open a session: {e}")))?;
        match session.login(UserType::User, Some(&self.pin)) {
            // Login state is per process: another session of ours already logged in.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(
                RvError::PinIncorrect
                | RvError::PinInvalid
                | RvError::PinLenRange
                | RvError::PinExpired
                | RvError::PinLocked,
                _,
            )) => {
                return Err(MasterKeyError::WrongPin {
                    token: token.clone(),
                    pin_file: self.config.pin_file.display().to_string(),
                })
            }
            Err(e) => return Err(token_error(token, format!("login: {e}"))),
        }
        let key = super::hsm_object::find_or_create(&session, &self.config, create)?;
        Ok(Live { session, key })
    }
}

/// Whether a missing key object may be generated: at startup only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Create {
    IfMissing,
    Never,
}

fn tag_bits() -> cryptoki::types::Ulong {
    ((TAG * 8) as u64).into()
}

/// Why a seal or open did not run to the end.
enum OpError {
    /// The token refused the operation.
    Token(CkError),
    /// The session was gone and could not be reopened.
    Reconnect(MasterKeyError),
}

/// Errors after which a new session may succeed where the old one failed.
fn session_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _,
        )
    )
}

pub(super) fn token_error(token: &str, reason: String) -> MasterKeyError {
    MasterKeyError::Token {
        token: token.to_string(),
        reason,
    }
}

fn read_pin(path: &Path) -> Result<AuthPin, MasterKeyError> {
    let err = |reason: String| MasterKeyError::PinFile {
        path: path.display().to_string(),
        reason,
    };
    let raw = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?);
    let pin = raw.trim_end_matches(['\r', '\n']);
    if pin.is_empty() {
        return Err(err("the file is empty".into()));
    }
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o004 != 0 {
            tracing::warn!(pin_file = %path.display(), "the PKCS#11 PIN file is world-readable");
        }
    }
    Ok(AuthPin::from(pin))
}

fn load_module(module: &Path) -> Result<Pkcs11, MasterKeyError> {
    let err = |reason: String| MasterKeyError::Module {
        module: module.display().to_string(),
        reason,
    };
    let ctx = Pkcs11::new(module).map_err(|e| err(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // C_Initialize is once per process; a second master key shares it.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(ctx),
        Err(e) => Err(err(e.to_string())),
    }
}

fn find_token(ctx: &Pkcs11, label: &str) -> Result<Slot, MasterKeyError> {
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| token_error(label, format!("cannot list tokens: {e}")))?;
    let mut found = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| token_error(label, format!("cannot read token information: {e}")))?;
        if info.label() == label {
            matching.push(slot);
        }
        found.push(info.label().to_string());
    }
    match matching.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(MasterKeyError::TokenNotFound {
            label: label.to_string(),
            found,
        }),
        more => Err(MasterKeyError::TokenAmbiguous {
            label: label.to_string(),
            count: more.len(),
        }),
    }
}
