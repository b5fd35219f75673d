#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ironroot sign` / `ironroot verify` against the real peers (docs/peers.md): skopeo 1.18
//! from the Debian 13 rootfs (with its gpg 2.4 and gpgme) and a loopback `docker-registry`.
//!
//! Both formats, both directions:
//! * cosign: skopeo `--sign-by-sigstore-private-key` with an `ironroot sign keygen` key →
//!   `ironroot verify --key`; `ironroot sign --key` → skopeo policy `sigstoreSigned`.
//! * simple signing: skopeo `--sign-by FPR` (gpg) into lookaside → `ironroot verify
//!   --gpg-keyring`; `ironroot sign --gpg-key` into lookaside → skopeo policy `signedBy`.
//!
//! And the refusals: a tampered signature, a signature for another digest, an untrusted
//! key, no signature at all. Tests print why and pass when the rootfs (`make test` builds
//! it) or `docker-registry` is missing.

mod sign_lab;

use serde_json::Value;
use sign_lab::*;
use std::process::Command;

#[test]
fn keygen_writes_cosign_key_files_private_0600_and_never_replaces_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let no_password = ironroot_in(&dir, &["sign", "keygen"]);
    assert_eq!(no_password.status.code(), Some(1), "{}", text(&no_password));
    assert!(String::from_utf8_lossy(&no_password.stderr).contains("COSIGN_PASSWORD"));
    std::fs::write(dir.join("pw"), format!("{PASSWORD}\n")).unwrap();
    ok(ironroot_in(
        &dir,
        &["sign", "keygen", "--password-file", "pw"],
    ));
    let private = std::fs::read_to_string(dir.join("cosign.key")).unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(!private.contains(PASSWORD));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("cosign.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(dir.join("cosign.pub"))
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let again = ironroot_in(&dir, &["sign", "keygen", "--password-file", "pw"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(dir.join("cosign.key")).unwrap(),
        private
    );

    // COSIGN_PASSWORD, cosign's own variable, works as well as a file.
    let env = Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args(["sign", "keygen", "--output-key-prefix", "env"])
        .current_dir(&dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(env.status.success(), "{}", text(&env));
    assert!(dir.join("env.key").exists());

    let gpg = ok(ironroot_in(
        &dir,
        &[
            "--output",
            "json",
            "sign",
            "keygen",
            "--format",
            "gpg",
            "--user-id",
            "t <t@t.invalid>",
        ],
    ));
    let gpg: Value = serde_json::from_str(&gpg).unwrap();
    assert_eq!(gpg["fingerprint"].as_str().unwrap().len(), 40);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("signing-gpg.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(dir.join("signing-gpg.pub.gpg").exists() && dir.join("signing-gpg.pub.asc").exists());
}

#[test]
fn help_teaches_with_examples_and_unpinned_images_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    for cmd in [
        &["sign", "--help"][..],
        &["verify", "--help"],
        &["sign", "keygen", "--help"],
    ] {
        let help = ok(ironroot_in(&dir, cmd));
        assert!(help.contains("Examples:"), "{help}");
    }
    let verify_help = ok(ironroot_in(&dir, &["verify", "--help"]));
    assert!(
        verify_help.contains("Exit codes: 0 verified"),
        "{verify_help}"
    );
    let o = ironroot_in(&dir, &["verify", "127.0.0.1:1/app:v1", "--key", "x.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not pinned by digest"),
        "{}",
        text(&o)
    );
}

/// skopeo signs with an `ironroot sign keygen` key (cosign format in the registry);
/// ironroot verifies it, names the key and the signed reference, and rejects it with an
/// untrusted key and when the signature is moved to another image's digest.
#[test]
fn skopeo_sigstore_signature_is_verified_by_ironroot() {
    need_peers!();
    let lab = Lab::new("cosign-from-skopeo");
    cosign_keygen(&lab, "cosign");
    cosign_keygen(&lab, "other");
    let image = lab.push(
        "app",
        &[
            "--sign-by-sigstore-private-key",
            &lab.p("cosign.key"),
            "--sign-passphrase-file",
            &lab.p("password"),
        ],
    );

    let (code, report) = verify(&lab, &[&image, "--key", &lab.p("cosign.pub")]);
    assert_eq!(code, 0, "{report:#}");
    let sig = &report["signatures"][0];
    assert_eq!(sig["format"], "cosign");
    assert_eq!(sig["verified"], true);
    assert!(
        sig["signer"]
            .as_str()
            .unwrap()
            .contains("cosign.pub (sha256:"),
        "{sig}"
    );
    assert_eq!(sig["docker_reference"], format!("{}/app:v1", lab.reg));

    // Untrusted key: exit 2, and the report says why.
    let (code, report) = verify(&lab, &[&image, "--key", &lab.p("other.pub")]);
    assert_eq!(code, 2, "{report:#}");
    assert!(
        reasons(&report).contains("signature does not verify"),
        "{report:#}"
    );

    // The same signature copied to another image's .sig tag vouches for nothing there.
    let other = push_other_image(&lab, "app");
    let sig_manifest = get_manifest(&lab, "app", &sig_tag(&image));
    put_manifest(&lab, "app", &sig_tag(&other), &sig_manifest);
    let (code, report) = verify(&lab, &[&other, "--key", &lab.p("cosign.pub")]);
    assert_eq!(code, 2, "{report:#}");
    let digest = image.split('@').nth(1).unwrap();
    assert!(
        reasons(&report).contains(&format!("signed for manifest {digest}")),
        "{report:#}"
    );
}

/// ironroot signs in cosign's format; skopeo's `sigstoreSigned` policy accepts it with our
/// public key and refuses it with another key; a tampered annotation is refused by both.
#[test]
fn ironroot_cosign_signature_satisfies_skopeo_sigstore_signed_policy() {
    need_peers!();
    let lab = Lab::new("cosign-to-skopeo");
    cosign_keygen(&lab, "cosign");
    cosign_keygen(&lab, "other");
    let image = lab.push("app", &[]);
    // A wrong password fails before anything reaches the registry.
    std::fs::write(lab.dir.join("wrong"), "not the password").unwrap();
    let wrong = ironroot(
        &lab,
        &[
            "sign",
            "--plain-http",
            "--key",
            "cosign.key",
            "--password-file",
            "wrong",
            &image,
        ],
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong password"));
    let (code, _) = verify(&lab, &[&image, "--key", &lab.p("cosign.pub")]);
    assert_eq!(code, 2);

    let signed = ok(ironroot(
        &lab,
        &[
            "sign",
            "--plain-http",
            "--key",
            "cosign.key",
            "--password-file",
            "password",
            &image,
        ],
    ));
    assert!(signed.contains(&sig_tag(&image)), "{signed}");

    let requirement =
        |key: &str| serde_json::json!({"type": "sigstoreSigned", "keyPath": lab.p(key)});
    let accepted = lab.skopeo_accepts(&image, requirement("cosign.pub"));
    assert!(accepted.status.success(), "{}", text(&accepted));
    let refused = lab.skopeo_accepts(&image, requirement("other.pub"));
    refused_because(&refused, "cryptographic signature verification failed");
    let (code, report) = verify(&lab, &[&image, "--key", &lab.p("cosign.pub")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["signatures"][0]["docker_reference"],
        format!(
            "{}@{}",
            lab.reg.clone() + "/app",
            image.split('@').nth(1).unwrap()
        )
    );

    // A second signature is appended as another layer of the same .sig manifest.
    ok(ironroot(
        &lab,
        &[
            "sign",
            "--plain-http",
            "--key",
            "other.key",
            "--password-file",
            "password",
            &image,
        ],
    ));
    let mut manifest = get_manifest(&lab, "app", &sig_tag(&image));
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        2,
        "{manifest:#}"
    );
    let (code, report) = verify(
        &lab,
        &[
            &image,
            "--key",
            &lab.p("other.pub"),
            "--key",
            &lab.p("cosign.pub"),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["verified"] == true)
            .count(),
        2
    );

    // Tamper with both signatures: swap a character inside each base64 signature.
    for layer in manifest["layers"].as_array_mut().unwrap() {
        let sig = layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut bytes = sig.into_bytes();
        bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
        layer["annotations"]["dev.cosignproject.cosign/signature"] =
            Value::String(String::from_utf8(bytes).unwrap());
    }
    put_manifest(&lab, "app", &sig_tag(&image), &manifest);
    let (code, report) = verify(
        &lab,
        &[
            &image,
            "--key",
            &lab.p("cosign.pub"),
            "--key",
            &lab.p("other.pub"),
        ],
    );
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["signatures"].as_array().unwrap().len(), 2);
    let refused = lab.skopeo_accepts(&image, requirement("cosign.pub"));
    refused_because(&refused, "cryptographic signature verification failed");
}

/// skopeo `--sign-by` (gpg) writes a simple signature to lookaside storage; ironroot
/// verifies it with the exported key and names its fingerprint; a keyring without that
/// key, a flipped byte, and the signature moved to another digest are all refused.
#[test]
fn skopeo_gpg_simple_signature_is_verified_by_ironroot() {
    need_peers!();
    let lab = Lab::new("gpg-from-skopeo");
    let fpr = gpg_keygen(&lab, "skopeo signer <s@t.invalid>", "skopeo.pub.gpg");
    let image = lab.push("app", &["--sign-by", &fpr]);
    let sigstore = lab.p("sigstore");
    let gpg_verify = |img: &str, ring: &str| {
        verify(
            &lab,
            &[img, "--gpg-keyring", &lab.p(ring), "--lookaside", &sigstore],
        )
    };

    let (code, report) = gpg_verify(&image, "skopeo.pub.gpg");
    assert_eq!(code, 0, "{report:#}");
    let sig = &report["signatures"][0];
    assert_eq!(sig["format"], "simple-signing");
    assert_eq!(sig["signer"], format!("OpenPGP key {fpr}"));
    assert_eq!(sig["docker_reference"], format!("{}/app:v1", lab.reg));
    let digest = image.split('@').nth(1).unwrap();
    let file = lab.dir.join(format!(
        "sigstore/app@{}/signature-1",
        digest.replace(':', "=")
    ));
    assert_eq!(sig["source"], file.to_string_lossy().as_ref());
    // The file:// URL form reads the same store.
    let (code, _) = verify(
        &lab,
        &[
            &image,
            "--gpg-keyring",
            &lab.p("skopeo.pub.gpg"),
            "--lookaside",
            &format!("file://{sigstore}"),
        ],
    );
    assert_eq!(code, 0);

    // A keyring that does not hold the signer's key.
    ok(ironroot(
        &lab,
        &[
            "sign",
            "keygen",
            "--format",
            "gpg",
            "--user-id",
            "u <u@t.invalid>",
            "--output-key-prefix",
            "untrusted",
        ],
    ));
    let (code, report) = gpg_verify(&image, "untrusted.pub.gpg");
    assert_eq!(code, 2, "{report:#}");
    assert!(
        reasons(&report).contains("not in the trusted keyring"),
        "{report:#}"
    );

    // The same signature file stored for another image's digest.
    let other = push_other_image(&lab, "app");
    let other_dir = lab.dir.join(format!(
        "sigstore/app@{}",
        other.split('@').nth(1).unwrap().replace(':', "=")
    ));
    std::fs::create_dir_all(&other_dir).unwrap();
    std::fs::copy(&file, other_dir.join("signature-1")).unwrap();
    let (code, report) = gpg_verify(&other, "skopeo.pub.gpg");
    assert_eq!(code, 2, "{report:#}");
    assert!(
        reasons(&report).contains(&format!("signed for manifest {digest}")),
        "{report:#}"
    );

    // A flipped byte near the end. gpg compresses what it signs, so the byte lands in a
    // deflate stream whose damage shows either as a broken packet or as a bad signature,
    // depending on the key and the compressor's output; both must refuse.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let (code, report) = gpg_verify(&image, "skopeo.pub.gpg");
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["signatures"][0]["verified"], false, "{report:#}");
    let why = reasons(&report);
    assert!(
        ["does not verify", "truncated", "malformed OpenPGP"]
            .iter()
            .any(|r| why.contains(r)),
        "{report:#}"
    );
}

/// ironroot signs in containers' simple-signing format into the lookaside directory that
/// registries.d names; skopeo's `signedBy` policy accepts it with our exported public key,
/// refuses it with another (gpg-made) key, and refuses a tampered copy; gpg itself reads it.
#[test]
fn ironroot_simple_signature_satisfies_skopeo_signed_by_policy() {
    need_peers!();
    let lab = Lab::new("gpg-to-skopeo");
    let keygen = ok(ironroot(
        &lab,
        &[
            "--output",
            "json",
            "sign",
            "keygen",
            "--format",
            "gpg",
            "--user-id",
            "ironroot release <r@t.invalid>",
            "--output-key-prefix",
            "release",
        ],
    ));
    let fpr = serde_json::from_str::<Value>(&keygen).unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    gpg_keygen(&lab, "someone else <e@t.invalid>", "else.pub.gpg");
    let image = lab.push("app", &[]);
    let signed = ok(ironroot(
        &lab,
        &[
            "--output",
            "json",
            "sign",
            "--plain-http",
            "--gpg-key",
            "release.key",
            "--lookaside",
            &lab.p("sigstore"),
            &image,
        ],
    ));
    let signed: Value = serde_json::from_str(&signed).unwrap();
    let file = signed["signatures"][0]["stored"]
        .as_str()
        .unwrap()
        .to_owned();
    let digest = image.split('@').nth(1).unwrap();
    assert!(
        file.ends_with(&format!(
            "/sigstore/app@{}/signature-1",
            digest.replace(':', "=")
        )),
        "{file}"
    );

    let requirement = |key: &str| serde_json::json!({"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.p(key)});
    let accepted = lab.skopeo_accepts(&image, requirement("release.pub.gpg"));
    assert!(accepted.status.success(), "{}", text(&accepted));
    let refused = lab.skopeo_accepts(&image, requirement("else.pub.gpg"));
    refused_because(&refused, "Invalid GPG signature");

    // gpg, given our public key, verifies the file and names our fingerprint.
    ok(lab.gpg(&["--import", &lab.p("release.pub.asc")]));
    let status = ok(lab.gpg(&[
        "--status-fd",
        "1",
        "--output",
        &lab.p("payload.json"),
        "--decrypt",
        &file,
    ]));
    assert!(status.contains(&format!("VALIDSIG {fpr}")), "{status}");
    let payload: Value =
        serde_json::from_slice(&std::fs::read(lab.dir.join("payload.json")).unwrap()).unwrap();
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        digest
    );

    let sigstore = lab.p("sigstore");
    let (code, report) = verify(
        &lab,
        &[
            &image,
            "--gpg-keyring",
            &lab.p("release.pub.gpg"),
            "--lookaside",
            &sigstore,
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["signatures"][0]["signer"],
        format!("OpenPGP key {fpr}")
    );

    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();
    let refused = lab.skopeo_accepts(&image, requirement("release.pub.gpg"));
    refused_because(&refused, "Invalid GPG signature");
    let (code, report) = verify(
        &lab,
        &[
            &image,
            "--gpg-keyring",
            &lab.p("release.pub.gpg"),
            "--lookaside",
            &sigstore,
        ],
    );
    assert_eq!(code, 2, "{report:#}");
}

/// An image with no signature in either place: exit 2, and the report says where it looked.
#[test]
fn missing_signature_exits_2_and_says_where_it_looked() {
    need_peers!();
    let lab = Lab::new("missing");
    cosign_keygen(&lab, "cosign");
    ok(ironroot(
        &lab,
        &[
            "sign",
            "keygen",
            "--format",
            "gpg",
            "--user-id",
            "u <u@t.invalid>",
        ],
    ));
    let image = lab.push("app", &[]);
    let (code, report) = verify(
        &lab,
        &[
            &image,
            "--key",
            &lab.p("cosign.pub"),
            "--gpg-keyring",
            &lab.p("signing-gpg.pub.gpg"),
            "--lookaside",
            &lab.p("sigstore"),
        ],
    );
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["verified"], false);
    assert!(report["signatures"].as_array().unwrap().is_empty());
    let searched = report["searched"].to_string();
    assert!(
        searched.contains(&sig_tag(&image)) && searched.contains("no simple signatures"),
        "{searched}"
    );
    let table = ironroot(
        &lab,
        &[
            "verify",
            "--plain-http",
            &image,
            "--key",
            &lab.p("cosign.pub"),
        ],
    );
    assert_eq!(table.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("NOT VERIFIED"),
        "{}",
        text(&table)
    );
}

/// A registry that asks for credentials: ironroot signs and verifies with the ones
/// `skopeo login` wrote (REGISTRY_AUTH_FILE); skopeo, logged in the same way, accepts the
/// signature under `sigstoreSigned`; without credentials ironroot cannot sign.
#[test]
fn signing_and_verifying_against_a_registry_that_needs_a_login() {
    need_peers!();
    let lab = Lab::with_login("login");
    cosign_keygen(&lab, "cosign");
    let image = lab.push("app", &[]);
    let sign = [
        "sign",
        "--plain-http",
        "--key",
        "cosign.key",
        "--password-file",
        "password",
    ];

    let anonymous = command_in(&lab.dir, &[&sign[..], &[image.as_str()]].concat())
        .output()
        .unwrap();
    assert_eq!(anonymous.status.code(), Some(1), "{}", text(&anonymous));

    ok(ironroot(&lab, &[&sign[..], &[image.as_str()]].concat()));
    let (code, report) = verify(&lab, &[&image, "--key", &lab.p("cosign.pub")]);
    assert_eq!(code, 0, "{report:#}");
    let accepted = lab.skopeo_accepts(
        &image,
        serde_json::json!({"type": "sigstoreSigned", "keyPath": lab.p("cosign.pub")}),
    );
    assert!(accepted.status.success(), "{}", text(&accepted));
}
