//! One test per verdict: accepted, and rejected for each reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::cosign::CosignSigningKey;
use crate::openpgp::{Keyring, OpenPgpSigningKey};
use crate::trust::TrustedCosignKey;

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER: &str = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const NOW: u32 = 1_700_000_000;

fn image() -> PinnedImage {
    PinnedImage::parse(&format!("127.0.0.1:5000/app@sha256:{HEX}")).unwrap()
}

fn cosign_key(name: &str) -> (CosignSigningKey, TrustedCosignKey) {
    let key = CosignSigningKey::generate().unwrap();
    let pem = key.public_key().unwrap().to_pem().unwrap();
    let trusted = TrustedCosignKey::from_pem(pem.as_bytes(), name).unwrap();
    (key, trusted)
}

fn payload(t: PayloadType, reference: &str, digest: &str) -> Vec<u8> {
    SimpleSigningPayload::new(t, reference, ManifestDigest::parse(digest).unwrap())
        .unwrap()
        .to_json()
        .unwrap()
}

fn cosign_layer(key: &CosignSigningKey, reference: &str, digest: &str) -> CosignLayer {
    let p = payload(PayloadType::Cosign, reference, digest);
    CosignLayer {
        index: 0,
        media_type: crate::cosign::PAYLOAD_MEDIA_TYPE.into(),
        signature_b64: Some(key.sign(&p).unwrap()),
        payload: Ok(p),
    }
}

fn judge_one(trust: &Trust<'_>, layer: CosignLayer) -> Candidate {
    let evidence = SignatureEvidence {
        cosign: Some(vec![layer]),
        lookaside: None,
    };
    let mut report = verify_signatures(&image(), trust, &evidence);
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.verified, report.signatures[0].verified);
    report.signatures.remove(0)
}

fn trust(keys: &[TrustedCosignKey], keyring: Option<&Keyring>) -> Trust<'static> {
    Trust {
        cosign: Vec::leak(keys.to_vec()),
        keyring: keyring.map(|k| &*Box::leak(Box::new(k.clone()))),
        rule: IdentityRule::RepoDigestOrExact,
    }
}

fn digest() -> String {
    format!("sha256:{HEX}")
}

#[test]
fn a_cosign_signature_by_a_trusted_key_for_this_image_is_accepted() {
    let (key, trusted) = cosign_key("cosign.pub");
    let label = trusted.label.clone();
    assert!(label.starts_with("cosign.pub (sha256:"), "{label}");
    let c = judge_one(
        &trust(&[trusted], None),
        cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest()),
    );
    assert!(c.verified);
    assert_eq!(c.signer.as_deref(), Some(label.as_str()));
    assert_eq!(c.docker_reference.as_deref(), Some("127.0.0.1:5000/app:v1"));
    assert_eq!(c.reason, None);
    assert_eq!(c.format, Format::Cosign);
    assert_eq!(
        c.source,
        format!("127.0.0.1:5000/app:sha256-{HEX}.sig layer 1")
    );
}

#[test]
fn a_cosign_layer_that_could_not_be_fetched_is_rejected() {
    let (key, trusted) = cosign_key("k");
    let mut layer = cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest());
    layer.payload = Err("blob x: the registry sent other content".into());
    let c = judge_one(&trust(&[trusted], None), layer);
    assert_eq!(
        c.reason,
        Some(Rejection::Unreadable(
            "blob x: the registry sent other content".into()
        ))
    );
}

#[test]
fn a_cosign_layer_without_its_signature_annotation_is_rejected() {
    let (key, trusted) = cosign_key("k");
    let mut layer = cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest());
    layer.signature_b64 = None;
    let c = judge_one(&trust(&[trusted], None), layer);
    assert_eq!(
        c.reason.unwrap().to_string(),
        "layer (application/vnd.dev.cosign.simplesigning.v1+json) has no \
         dev.cosignproject.cosign/signature annotation"
    );
}

#[test]
fn a_cosign_signature_with_no_cosign_key_trusted_is_rejected() {
    let (key, _) = cosign_key("k");
    let c = judge_one(
        &trust(&[], None),
        cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest()),
    );
    assert_eq!(c.reason, Some(Rejection::NoCosignKey));
}

#[test]
fn a_cosign_signature_by_an_untrusted_key_is_rejected() {
    let (key, _) = cosign_key("k");
    let (_, trusted) = cosign_key("other.pub");
    let layer = cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest());
    let c = judge_one(&trust(std::slice::from_ref(&trusted), None), layer.clone());
    assert_eq!(
        c.reason,
        Some(Rejection::NotByTheKey(CosignError::BadSignature))
    );
    assert_eq!(
        c.reason.unwrap().to_string(),
        "signature does not verify with the trusted key"
    );
    let (_, third) = cosign_key("third.pub");
    let c = judge_one(&trust(&[trusted, third], None), layer);
    assert_eq!(
        c.reason.unwrap().to_string(),
        "not a good signature by any of the 2 trusted keys"
    );
}

#[test]
fn a_good_signature_for_another_manifest_is_rejected() {
    let (key, trusted) = cosign_key("k");
    let c = judge_one(
        &trust(std::slice::from_ref(&trusted), None),
        cosign_layer(&key, "127.0.0.1:5000/app:v1", OTHER),
    );
    assert!(!c.verified);
    assert_eq!(c.docker_reference.as_deref(), Some("127.0.0.1:5000/app:v1"));
    assert_eq!(
        c.reason.unwrap().to_string(),
        format!(
            "good signature by {}, but signed for manifest {OTHER}, not this image's {}",
            trusted.label,
            digest()
        )
    );
}

#[test]
fn a_good_signature_for_another_repository_is_rejected() {
    let (key, trusted) = cosign_key("k");
    let c = judge_one(
        &trust(std::slice::from_ref(&trusted), None),
        cosign_layer(&key, "127.0.0.1:5000/other:v1", &digest()),
    );
    let Some(Rejection::Claims { signer, mismatch }) = c.reason else {
        panic!("{:?}", c.reason)
    };
    assert_eq!(signer, trusted.label);
    assert!(matches!(
        mismatch,
        ClaimMismatch::Identity(IdentityMismatch::OtherRepository { .. })
    ));
}

fn openpgp_signature(key: &OpenPgpSigningKey, payload: &[u8]) -> LookasideSignature {
    LookasideSignature {
        location: "/srv/sigstore/app@sha256=x/signature-1".into(),
        bytes: Ok(key.sign_message(payload, NOW).unwrap()),
    }
}

fn openpgp_key() -> (OpenPgpSigningKey, Keyring) {
    let key = OpenPgpSigningKey::generate(NOW).unwrap();
    let ring = Keyring::parse(&key.export_public_key("Test <t@example>", NOW).unwrap()).unwrap();
    (key, ring)
}

fn judge_simple(keyring: Option<&Keyring>, sig: LookasideSignature) -> Candidate {
    let evidence = SignatureEvidence {
        cosign: None,
        lookaside: Some(("/srv/sigstore".into(), vec![sig])),
    };
    let mut report = verify_signatures(&image(), &trust(&[], keyring), &evidence);
    report.signatures.remove(0)
}

#[test]
fn a_simple_signature_by_a_trusted_openpgp_key_is_accepted() {
    let (key, ring) = openpgp_key();
    let p = payload(PayloadType::Atomic, "127.0.0.1:5000/app:v1", &digest());
    let c = judge_simple(Some(&ring), openpgp_signature(&key, &p));
    assert!(c.verified, "{:?}", c.reason);
    assert_eq!(c.format, Format::SimpleSigning);
    assert_eq!(
        c.signer,
        Some(format!("OpenPGP key {}", key.fingerprint_hex()))
    );
}

#[test]
fn simple_signatures_are_rejected_for_each_reason() {
    let (key, ring) = openpgp_key();
    let (stranger, _) = openpgp_key();
    let good = payload(PayloadType::Atomic, "127.0.0.1:5000/app:v1", &digest());
    // No keyring.
    let c = judge_simple(None, openpgp_signature(&key, &good));
    assert_eq!(c.reason, Some(Rejection::NoKeyring));
    // Unreadable.
    let c = judge_simple(
        Some(&ring),
        LookasideSignature {
            location: "l".into(),
            bytes: Err("HTTP 500".into()),
        },
    );
    assert_eq!(c.reason, Some(Rejection::Unreadable("HTTP 500".into())));
    // Another key.
    let c = judge_simple(Some(&ring), openpgp_signature(&stranger, &good));
    assert!(matches!(c.reason, Some(Rejection::OpenPgp(_))));
    // A good signature over a payload of the wrong type.
    let cosign_type = payload(PayloadType::Cosign, "127.0.0.1:5000/app:v1", &digest());
    let c = judge_simple(Some(&ring), openpgp_signature(&key, &cosign_type));
    assert!(
        matches!(&c.reason, Some(Rejection::BadPayload { .. })),
        "{:?}",
        c.reason
    );
    assert!(c
        .reason
        .unwrap()
        .to_string()
        .starts_with("good signature by OpenPGP key"));
    // A good signature whose claim is a bare repository.
    let bare = payload(PayloadType::Atomic, "127.0.0.1:5000/app", &digest());
    let c = judge_simple(Some(&ring), openpgp_signature(&key, &bare));
    assert!(matches!(
        c.reason,
        Some(Rejection::Claims {
            mismatch: ClaimMismatch::Identity(IdentityMismatch::RepositoryOnly(_)),
            ..
        })
    ));
}

#[test]
fn nothing_found_is_not_verified_and_says_where_it_looked() {
    let (_, trusted) = cosign_key("k");
    let evidence = SignatureEvidence {
        cosign: Some(Vec::new()),
        lookaside: Some(("/srv/sigstore".into(), Vec::new())),
    };
    let report = verify_signatures(&image(), &trust(&[trusted], None), &evidence);
    assert!(!report.verified);
    assert_eq!(
        report.searched,
        vec![
            format!("127.0.0.1:5000/app:sha256-{HEX}.sig (no cosign signatures)"),
            format!("/srv/sigstore (no simple signatures for app@sha256={HEX})"),
        ]
    );
    let none = verify_signatures(&image(), &trust(&[], None), &SignatureEvidence::default());
    assert!(!none.verified && none.signatures.is_empty() && none.searched.is_empty());
}

#[test]
fn reasons_are_serialized_as_their_text() {
    let (key, _) = cosign_key("k");
    let c = judge_one(
        &trust(&[], None),
        cosign_layer(&key, "127.0.0.1:5000/app:v1", &digest()),
    );
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["reason"], "no cosign public key given (--key)");
    assert_eq!(v["format"], "cosign");
    assert_eq!(v["signer"], serde_json::Value::Null);
}
