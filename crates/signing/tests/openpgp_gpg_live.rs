#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Our OpenPGP output against live gpg: `gpg --import` takes our exported public key, its
//! fingerprint equals ours, and `gpg --verify` accepts our signed message. Fails when gpg
//! is not installed, or skips where a developer allowed it (`ironroot_testkit::skip_missing_peer`).

use ironroot_signing::openpgp::{verify_message, Keyring, OpenPgpSigningKey};
use std::path::Path;
use std::process::Command;

const NOW: u32 = 1_700_000_000;

fn gpg(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--no-tty"])
        .args(args)
        .output()
        .expect("run gpg")
}

#[test]
fn gpg_imports_our_key_and_verifies_our_signature() {
    if Command::new("gpg").arg("--version").output().is_err() {
        ironroot_testkit::skip_missing_peer(
            "gpg is not installed, cannot check interop live (apt-get install gnupg)",
        );
        return;
    }
    // tempfile makes it 0700, as gpg wants its home directory.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();

    let key = OpenPgpSigningKey::generate(NOW).unwrap();
    let key =
        OpenPgpSigningKey::from_private_key_file(key.to_private_key_file().unwrap().as_bytes())
            .unwrap();
    let exported = key
        .export_public_key_armored("ironroot test <t@ironroot.invalid>", NOW)
        .unwrap();
    std::fs::write(dir.join("key.asc"), &exported).unwrap();
    let payload = br#"{"critical":{"identity":{"docker-reference":"r/a:1"},"image":{"docker-manifest-digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},"type":"atomic container signature"},"optional":{}}"#;
    let signed = key.sign_message(payload, NOW + 60).unwrap();
    std::fs::write(dir.join("msg.sig"), &signed).unwrap();

    let import = gpg(&dir, &["--import", dir.join("key.asc").to_str().unwrap()]);
    assert!(
        import.status.success(),
        "import: {}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert!(String::from_utf8_lossy(&import.stderr).contains("imported: 1"));

    let colons = gpg(&dir, &["--with-colons", "--fingerprint"]);
    let text = String::from_utf8_lossy(&colons.stdout).into_owned();
    let gpg_fpr = text
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .map(|l| l.trim_matches(':').to_owned())
        .unwrap();
    assert_eq!(gpg_fpr, key.fingerprint_hex());

    let out = dir.join("payload.out");
    let verify = gpg(
        &dir,
        &[
            "--status-fd",
            "1",
            "--output",
            out.to_str().unwrap(),
            "--decrypt",
            dir.join("msg.sig").to_str().unwrap(),
        ],
    );
    let status = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        status.contains(&format!("[GNUPG:] VALIDSIG {}", key.fingerprint_hex())),
        "{status}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), payload);

    let plain_verify = gpg(&dir, &["--verify", dir.join("msg.sig").to_str().unwrap()]);
    assert!(plain_verify.status.success());

    // And our own verifier accepts the same bytes with the key gpg imported.
    let ring = Keyring::parse(&std::fs::read(dir.join("key.asc")).unwrap()).unwrap();
    assert_eq!(verify_message(&signed, &ring).unwrap().payload, payload);

    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(&dir)
        .args(["--kill", "all"])
        .status();
}
