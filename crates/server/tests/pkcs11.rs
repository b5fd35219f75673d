//! The broker's master key in a real PKCS#11 token (Debian's SoftHSM2, in a private
//! token directory): sealing and opening run inside the token, the key cannot be read
//! out, a second instance finds the same key, and every misconfiguration is a clear
//! startup error. Fails when SoftHSM2 is not installed (`scripts/install-deps.sh` installs
//! it), or skips where a developer allowed it (`ironroot_testkit::skip_missing_peer`).
//!
//! SOFTHSM2_CONF is process-wide and PKCS#11 is initialized once per process, so the
//! scenarios run in sequence in one test function.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use ironroot_server::{MasterKey, MasterKeyError, Pkcs11Config};
use ironroot_testkit::databases::TempDir;
use std::path::PathBuf;
use std::process::Command;

const TOKEN: &str = "ironroot-test";
const PIN: &str = "1234";
const MODULES: [&str; 2] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
];

struct SoftHsm {
    dir: TempDir,
    module: PathBuf,
}

impl SoftHsm {
    /// A private SoftHSM2 configuration and one initialized token, or `None` (after
    /// saying why) when SoftHSM2 is not installed.
    fn start() -> Option<SoftHsm> {
        let Some(module) = MODULES.iter().map(PathBuf::from).find(|p| p.exists()) else {
            ironroot_testkit::skip_missing_peer(
                "SoftHSM2's module is not installed (apt-get install softhsm2)",
            );
            return None;
        };
        if Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_err()
        {
            ironroot_testkit::skip_missing_peer(
                "softhsm2-util is not installed (apt-get install softhsm2)",
            );
            return None;
        }
        let dir = TempDir::new("softhsm");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        // Set once, before the module is first loaded, by the only test in this binary.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", TOKEN])
            .args(["--pin", PIN, "--so-pin", "5678"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(SoftHsm { dir, module })
    }

    fn pin_file(&self, name: &str, pin: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("{pin}\n")).unwrap();
        path
    }

    fn config(&self, key_label: &str) -> Pkcs11Config {
        Pkcs11Config {
            module: self.module.clone(),
            token_label: TOKEN.into(),
            pin_file: self.pin_file("pin", PIN),
            key_label: key_label.into(),
        }
    }

    /// A session of the test's own, to inspect the token from outside the broker.
    fn inspector(&self) -> Session {
        let ctx = Pkcs11::new(&self.module).unwrap();
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => panic!("C_Initialize: {e}"),
        }
        let slot = ctx
            .get_slots_with_initialized_token()
            .unwrap()
            .into_iter()
            .find(|s| ctx.get_token_info(*s).unwrap().label() == TOKEN)
            .unwrap();
        let session = ctx.open_rw_session(slot).unwrap();
        match session.login(UserType::User, Some(&AuthPin::from(PIN))) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => panic!("C_Login: {e}"),
        }
        session
    }
}

fn open_err(config: &Pkcs11Config) -> MasterKeyError {
    match MasterKey::open_pkcs11(config) {
        Ok(_) => panic!("{config:?} opened"),
        Err(e) => e,
    }
}

fn key_objects(session: &Session, label: &str) -> Vec<cryptoki::object::ObjectHandle> {
    session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap()
}

#[test]
fn master_key_in_softhsm2() {
    let Some(hsm) = SoftHsm::start() else { return };
    misconfigurations_are_clear_startup_errors(&hsm);
    let label = Pkcs11Config::DEFAULT_KEY_LABEL;
    let first = MasterKey::open_pkcs11(&hsm.config(label)).unwrap();
    sealed_material_opens_only_for_its_key_id(&first);
    the_key_cannot_be_read_out_of_the_token(&hsm, label);
    let second = MasterKey::open_pkcs11(&hsm.config(label)).unwrap();
    let sealed = first.seal("k1", b"material").unwrap();
    assert_eq!(second.open("k1", &sealed).unwrap().as_slice(), b"material");
    let back = second.seal("k2", b"other").unwrap();
    assert_eq!(first.open("k2", &back).unwrap().as_slice(), b"other");
    assert_eq!(
        key_objects(&hsm.inspector(), label).len(),
        1,
        "created once"
    );
    a_lost_login_is_recovered(&hsm, &first, &sealed);
    a_second_key_with_the_label_is_refused(&hsm, label, &first, &sealed);
    racing_replicas_never_use_two_keys(&hsm);
    a_key_deleted_while_running_is_not_replaced(&hsm);
}

fn misconfigurations_are_clear_startup_errors(hsm: &SoftHsm) {
    let good = hsm.config("ironroot-broker-master");

    let mut c = good.clone();
    c.module = hsm.dir.path().join("no-such-module.so");
    let e = open_err(&c);
    assert!(matches!(e, MasterKeyError::Module { .. }), "{e}");
    assert!(e.to_string().contains("no-such-module.so"), "{e}");

    let mut c = good.clone();
    c.token_label = "no-such-token".into();
    let e = open_err(&c);
    assert!(matches!(e, MasterKeyError::TokenNotFound { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("\"no-such-token\"") && msg.contains("\"ironroot-test\""),
        "{msg}"
    );

    // Before any successful login: the token's login state is per process.
    let mut c = good.clone();
    c.pin_file = hsm.pin_file("wrong-pin", "9999");
    let e = open_err(&c);
    assert!(matches!(e, MasterKeyError::WrongPin { .. }), "{e}");
    assert!(
        !e.to_string().contains("9999"),
        "the PIN is never in a message: {e}"
    );

    let mut c = good.clone();
    c.pin_file = hsm.pin_file("empty-pin", "");
    assert!(matches!(open_err(&c), MasterKeyError::PinFile { .. }));
    c.pin_file = hsm.dir.path().join("missing-pin");
    assert!(matches!(open_err(&c), MasterKeyError::PinFile { .. }));

    assert!(
        key_objects(&hsm.inspector(), &good.key_label).is_empty(),
        "no key is created by a start that failed"
    );
}

fn sealed_material_opens_only_for_its_key_id(m: &MasterKey) {
    let sealed = m.seal("k1", b"material").unwrap();
    assert_eq!(sealed.len(), 12 + b"material".len() + 16, "iv || ct || tag");
    assert_eq!(m.open("k1", &sealed).unwrap().as_slice(), b"material");
    let again = m.seal("k1", b"material").unwrap();
    assert_ne!(sealed[..12], again[..12], "a fresh IV each time");
    let e = m.open("k2", &sealed).unwrap_err();
    assert!(
        e.contains("does not open"),
        "moved to another key's row: {e}"
    );
    let mut flipped = sealed.clone();
    flipped[14] ^= 1;
    assert!(m.open("k1", &flipped).is_err());
    assert!(m.open("k1", &sealed[..27]).is_err(), "too short");
    // The session still works after refusals.
    assert_eq!(m.open("k1", &again).unwrap().as_slice(), b"material");
}

fn the_key_cannot_be_read_out_of_the_token(hsm: &SoftHsm, label: &str) {
    let session = hsm.inspector();
    let [key] = key_objects(&session, label)[..] else {
        panic!("one key object")
    };
    let attrs = session
        .get_attributes(
            key,
            &[
                AttributeType::Token,
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::KeyType,
                AttributeType::ValueLen,
                AttributeType::Value,
            ],
        )
        .unwrap();
    for want in [
        Attribute::Token(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::AlwaysSensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32u64.into()),
    ] {
        assert!(attrs.contains(&want), "{want:?} not in {attrs:?}");
    }
    assert!(
        !attrs.iter().any(|a| matches!(a, Attribute::Value(_))),
        "CKA_VALUE was returned"
    );
    let info = session
        .get_attribute_info(key, &[AttributeType::Value])
        .unwrap();
    assert!(matches!(info[..], [AttributeInfo::Sensitive]), "{info:?}");
    // Nor can it be wrapped out under a key the caller holds.
    let wrapping = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32u64.into()),
                Attribute::Token(false),
                Attribute::Wrap(true),
            ],
        )
        .unwrap();
    let wrapped = session.wrap_key(&Mechanism::AesKeyWrap, wrapping, key);
    assert!(wrapped.is_err(), "the master key was wrapped out");
}

/// The token forgets the login (here: the test logs the process out): the next call
/// reopens the session and logs in again.
fn a_lost_login_is_recovered(hsm: &SoftHsm, m: &MasterKey, sealed: &[u8]) {
    hsm.inspector().logout().unwrap();
    assert_eq!(m.open("k1", sealed).unwrap().as_slice(), b"material");
    let fresh = m.seal("k3", b"after").unwrap();
    assert_eq!(m.open("k3", &fresh).unwrap().as_slice(), b"after");
}

fn a_second_key_with_the_label_is_refused(
    hsm: &SoftHsm,
    label: &str,
    m: &MasterKey,
    sealed: &[u8],
) {
    let session = hsm.inspector();
    let extra = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32u64.into()),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(b"extra".to_vec()),
            ],
        )
        .unwrap();
    let e = open_err(&hsm.config(label));
    assert!(
        matches!(e, MasterKeyError::KeyAmbiguous { count: 2, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains(&hex::encode(b"extra")),
        "names the ids: {e}"
    );
    session.destroy_object(extra).unwrap();
    assert_eq!(m.open("k1", sealed).unwrap().as_slice(), b"material");
}

/// Two replicas starting together on a token without the key: whatever happens, they
/// never seal under two different keys (either they share one, or a start is refused).
fn racing_replicas_never_use_two_keys(hsm: &SoftHsm) {
    let config = hsm.config("raced-master");
    let barrier = std::sync::Barrier::new(2);
    let (a, b) = std::thread::scope(|s| {
        let start = || {
            barrier.wait();
            MasterKey::open_pkcs11(&config)
        };
        let a = s.spawn(start);
        let b = s.spawn(start);
        (a.join().unwrap(), b.join().unwrap())
    });
    let objects = key_objects(&hsm.inspector(), "raced-master").len();
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(objects, 1);
            let sealed = a.seal("k", b"raced").unwrap();
            assert_eq!(b.open("k", &sealed).unwrap().as_slice(), b"raced");
        }
        (a, b) => {
            assert_eq!(objects, 2, "a start is refused only for a real duplicate");
            for e in [a.err(), b.err()].into_iter().flatten() {
                assert!(matches!(e, MasterKeyError::KeyAmbiguous { .. }), "{e}");
            }
        }
    }
}

/// Sealing under a fresh key after the old one vanished would strand every stored key
/// and split replicas: a reconnect finds, never creates.
fn a_key_deleted_while_running_is_not_replaced(hsm: &SoftHsm) {
    let m = MasterKey::open_pkcs11(&hsm.config("vanishing")).unwrap();
    let session = hsm.inspector();
    let [key] = key_objects(&session, "vanishing")[..] else {
        panic!("one key object")
    };
    session.destroy_object(key).unwrap();
    let e = m.seal("k", b"x").unwrap_err();
    assert!(e.contains("no longer in the token"), "{e}");
    assert!(key_objects(&session, "vanishing").is_empty(), "recreated");
}
