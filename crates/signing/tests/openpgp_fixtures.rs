#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Offline verification of messages real gpg 2.2 signed (tests/fixtures/make-fixtures.sh):
//! the same bytes `skopeo copy --sign-by` produces through gpgme.

use ironroot_signing::openpgp::{verify_message, Keyring, OpenPgpError};
use ironroot_signing::{PayloadType, SimpleSigningPayload};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("fixtures/openpgp/", $name)).as_slice()
    };
}

fn fpr(text: &[u8]) -> String {
    String::from_utf8(text.to_vec()).unwrap().trim().to_owned()
}

fn keyring() -> Keyring {
    Keyring::parse(fixture!("keyring.pub.gpg")).unwrap()
}

#[test]
fn binary_and_armored_exports_parse_with_gpg_fingerprints() {
    for (bin, asc, want) in [
        (
            fixture!("rsa.pub.gpg"),
            fixture!("rsa.pub.asc"),
            fpr(fixture!("rsa.fpr")),
        ),
        (
            fixture!("ed25519.pub.gpg"),
            fixture!("ed25519.pub.asc"),
            fpr(fixture!("ed25519.fpr")),
        ),
    ] {
        let a = Keyring::parse(bin).unwrap();
        let b = Keyring::parse(asc).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.keys.len(), 1);
        assert_eq!(a.keys[0].fingerprint_hex(), want);
        assert!(a.keys[0].user_ids[0].contains("fixtures.ironroot.invalid"));
    }
    assert_eq!(keyring().keys.len(), 2);
}

#[test]
fn every_gpg_signed_variant_verifies_and_names_its_signer() {
    let rsa = fpr(fixture!("rsa.fpr"));
    let ed = fpr(fixture!("ed25519.fpr"));
    for (msg, signer) in [
        (fixture!("rsa-sha256.sig"), &rsa),
        (fixture!("rsa-sha256-zip.sig"), &rsa),
        (fixture!("ed25519-default.sig"), &ed),
        (fixture!("ed25519-sha512-zlib.sig"), &ed),
        (fixture!("ed25519-uncompressed.sig"), &ed),
    ] {
        let v = verify_message(msg, &keyring()).unwrap();
        assert_eq!(&v.signer_fingerprint_hex(), signer);
        assert_eq!(v.payload, fixture!("payload.json"));
        let p = SimpleSigningPayload::parse(&v.payload, PayloadType::Atomic).unwrap();
        assert_eq!(p.docker_reference, "registry.example/app:1.0");
        assert!(p.manifest_digest.as_str().starts_with("sha256:0123"));
    }
}

#[test]
fn sha1_signature_is_refused() {
    assert_eq!(
        verify_message(fixture!("rsa-sha1.sig"), &keyring()),
        Err(OpenPgpError::WeakHash(2))
    );
}

#[test]
fn tampered_payload_is_refused() {
    assert_eq!(
        verify_message(fixture!("tampered.sig"), &keyring()),
        Err(OpenPgpError::BadSignature)
    );
}

#[test]
fn untrusted_signer_is_refused_and_named() {
    let err = verify_message(fixture!("untrusted.sig"), &keyring()).unwrap_err();
    assert_eq!(
        err,
        OpenPgpError::UnknownSigner {
            issuer: fpr(fixture!("untrusted.fpr"))
        }
    );
}

#[test]
fn signature_by_a_key_outside_the_keyring_does_not_verify() {
    // Only the RSA key is trusted: the Ed25519 signature must not verify.
    let only_rsa = Keyring::parse(fixture!("rsa.pub.gpg")).unwrap();
    assert!(matches!(
        verify_message(fixture!("ed25519-default.sig"), &only_rsa),
        Err(OpenPgpError::UnknownSigner { .. })
    ));
}

#[test]
fn truncated_inputs_never_panic() {
    for msg in [
        fixture!("rsa-sha256.sig"),
        fixture!("ed25519-uncompressed.sig"),
    ] {
        for n in 0..msg.len() {
            assert!(verify_message(&msg[..n], &keyring()).is_err());
        }
    }
    let key = fixture!("rsa.pub.gpg");
    for n in 0..key.len() {
        let _ = Keyring::parse(&key[..n]);
    }
}
