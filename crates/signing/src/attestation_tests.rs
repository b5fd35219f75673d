//! One test per verdict: accepted, and rejected for each reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::cosign::CosignSigningKey;
use crate::dsse::IN_TOTO_PAYLOAD_TYPE;

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn image() -> PinnedImage {
    PinnedImage::parse(&format!("127.0.0.1:5000/app@sha256:{HEX}")).unwrap()
}

fn cosign_key(name: &str) -> (CosignSigningKey, TrustedCosignKey) {
    let key = CosignSigningKey::generate().unwrap();
    let pem = key.public_key().unwrap().to_pem().unwrap();
    (
        key,
        TrustedCosignKey::from_pem(pem.as_bytes(), name).unwrap(),
    )
}

fn statement(subject: &str, predicate_type: &str, predicate: Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": subject}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .unwrap()
}

fn layer(key: &CosignSigningKey, payload_type: &str, body: &[u8]) -> AttestationLayer {
    AttestationLayer {
        index: 0,
        envelope: Ok(Envelope::sign(key, payload_type, body)
            .unwrap()
            .to_json()
            .unwrap()),
        predicate_type_annotation: Some("claimed".into()),
    }
}

fn judge_one(keys: &[TrustedCosignKey], layer: AttestationLayer) -> Found {
    let mut report = verify_attestations(&image(), keys, &[layer]);
    assert_eq!(report.verified, report.attestations[0].verified);
    report.attestations.remove(0)
}

#[test]
fn vuln_summary_counts_ironroot_reports_by_severity() {
    let predicate = serde_json::json!({
        "scanner": {"uri": "u", "version": "1", "result": {"schema": IRONROOT_REPORT_SCHEMA,
            "vulnerabilities": [{"severity": "high"}, {"severity": "high"},
                                {"severity": "low"}, {"severity": "bogus"}]}},
        "metadata": {"scanFinishedOn": "2026-01-01T00:00:00Z"}});
    let s = vuln_summary(&predicate);
    let c = s.vulnerabilities.unwrap();
    assert_eq!(
        (c["high"], c["low"], c["unknown"], c["critical"]),
        (2, 1, 1, 0)
    );
    assert_eq!(s.scan_finished_on.as_deref(), Some("2026-01-01T00:00:00Z"));
    let other = serde_json::json!({"scanner": {"result": {"Results": []}}});
    assert_eq!(vuln_summary(&other).vulnerabilities, None);
}

#[test]
fn an_attestation_by_a_trusted_key_about_this_image_is_accepted() {
    let (key, trusted) = cosign_key("cosign.pub");
    let predicate = serde_json::json!({"scanner": {"uri": "u", "result": {}}});
    let body = statement(HEX, VULN_PREDICATE_TYPE, predicate);
    let f = judge_one(
        std::slice::from_ref(&trusted),
        layer(&key, IN_TOTO_PAYLOAD_TYPE, &body),
    );
    assert!(f.verified, "{:?}", f.reason);
    assert_eq!(f.signer, Some(trusted.label));
    assert_eq!(f.predicate_type.as_deref(), Some(VULN_PREDICATE_TYPE));
    assert_eq!(f.vuln.unwrap().scanner_uri.as_deref(), Some("u"));
    assert_eq!(
        f.source,
        format!("127.0.0.1:5000/app:sha256-{HEX}.att layer 1")
    );
}

#[test]
fn attestations_are_rejected_for_each_reason() {
    let (key, trusted) = cosign_key("k");
    let (_, stranger) = cosign_key("s");
    let good = statement(HEX, "p", Value::Null);
    let keys = [trusted.clone()];
    // Unreadable.
    let unreadable = AttestationLayer {
        index: 0,
        envelope: Err("too large".into()),
        predicate_type_annotation: None,
    };
    let f = judge_one(&keys, unreadable);
    assert_eq!(
        f.reason,
        Some(AttestationRejection::Unreadable("too large".into()))
    );
    // Malformed envelope.
    let mut bad = layer(&key, IN_TOTO_PAYLOAD_TYPE, &good);
    bad.envelope = Ok(b"{}".to_vec());
    let f = judge_one(&keys, bad);
    assert!(matches!(f.reason, Some(AttestationRejection::Envelope(_))));
    // Unauthenticated annotation reported as claimed.
    assert_eq!(f.predicate_type.as_deref(), Some("claimed"));
    // Another key: one, then two.
    let f = judge_one(
        std::slice::from_ref(&stranger),
        layer(&key, IN_TOTO_PAYLOAD_TYPE, &good),
    );
    assert!(matches!(
        f.reason,
        Some(AttestationRejection::NotByTheKey(DsseError::BadSignature(
            1
        )))
    ));
    let f = judge_one(
        &[stranger.clone(), stranger],
        layer(&key, IN_TOTO_PAYLOAD_TYPE, &good),
    );
    assert_eq!(
        f.reason.unwrap().to_string(),
        "not a good attestation by any of the 2 trusted keys \
         (none of the envelope's 1 signature(s) verifies)"
    );
    // A good signature over another payload type.
    let f = judge_one(&keys, layer(&key, "text/plain", &good));
    assert!(matches!(
        f.reason,
        Some(AttestationRejection::PayloadType { .. })
    ));
    // A good signature over what is not a statement.
    let f = judge_one(&keys, layer(&key, IN_TOTO_PAYLOAD_TYPE, b"[]"));
    assert!(matches!(
        f.reason,
        Some(AttestationRejection::Statement { .. })
    ));
    // A good signature over a statement about another image.
    let other = "f".repeat(64);
    let body = statement(&other, "p", Value::Null);
    let f = judge_one(&keys, layer(&key, IN_TOTO_PAYLOAD_TYPE, &body));
    assert_eq!(
        f.reason.unwrap().to_string(),
        format!(
            "good signature by {}, but the statement is about sha256:{other}, not this \
             image's sha256:{HEX}",
            trusted.label
        )
    );
}

#[test]
fn no_attestation_is_not_verified_and_says_where_it_looked() {
    let (_, trusted) = cosign_key("k");
    let report = verify_attestations(&image(), &[trusted], &[]);
    assert!(!report.verified);
    assert_eq!(
        report.searched,
        vec![format!(
            "127.0.0.1:5000/app:sha256-{HEX}.att (no attestations)"
        )]
    );
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["attestations"], serde_json::json!([]));
}
