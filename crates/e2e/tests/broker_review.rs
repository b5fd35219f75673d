//! Regressions of the broker security review, with real swtpm TPMs: a release still goes
//! through every new check of the binding key (modulus size, signer and qualified name
//! under the host's EK); a key policy that states nothing, and a flavor group that can
//! never require a rule, are refused; a huge key id is refused before anything is
//! stored, and an unknown key is recorded once, under a bounded id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::AgentError;
use ironroot_api::{ApiError, CreateKey, ErrorKind, KeyInfo, KeyPolicy, ReleaseRecord};
use ironroot_e2e::{peers_available, tagged_fleet};
use serde_json::json;
use std::collections::BTreeMap;

fn refused<T>(r: Result<T, AgentError>) -> ApiError {
    match r {
        Err(AgentError::Refused(e)) => e,
        Err(e) => panic!("failed otherwise: {e}"),
        Ok(_) => panic!("released"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_findings_stay_fixed_at_the_broker() {
    if !peers_available() {
        return;
    }
    let fleet = tagged_fleet("review", &[("eu-1", "EU")]).await.unwrap();
    let (p, s) = (fleet.platform, &fleet.sessions[0]);

    // A stated policy: released, through the binding key's modulus, signer and
    // qualified-name checks, to a real TPM that opens it.
    let eu = KeyPolicy {
        asset_tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
        ..Default::default()
    };
    let key: KeyInfo = p
        .admin
        .post(
            "/v1/keys",
            &CreateKey {
                name: "eu-key".into(),
                policy: eu,
                material: None,
            },
        )
        .await
        .unwrap();
    let released = s.release_key(&key.name).await.unwrap();
    assert_eq!(
        (released.key_id.as_str(), released.material.len()),
        (key.key_id.as_str(), 32)
    );

    // `{}` is refused, and so is a request without a policy; "any trusted node" must be
    // asked for, and then means it.
    let e = p
        .admin
        .post::<_, KeyInfo>("/v1/keys", &json!({"name": "anyone", "policy": {}}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not say who may receive the key"), "{e}");
    let e = p
        .admin
        .post::<_, KeyInfo>("/v1/keys", &json!({"name": "anyone"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("policy"), "{e}");
    let any: KeyInfo = p
        .admin
        .post(
            "/v1/keys",
            &json!({"name": "anyone", "policy": {"any_trusted_node": true}}),
        )
        .await
        .unwrap();
    assert!(any.policy.any_trusted_node);
    s.release_key("anyone").await.unwrap();

    // A flavor group whose policies are all REQUIRED_IF_DEFINED is not saved.
    let lax = json!({"name": "lax", "policies": [
        {"part": "PLATFORM", "match_type": "ANY_OF", "required": "REQUIRED_IF_DEFINED"},
        {"part": "SOFTWARE", "match_type": "ALL_OF", "required": "REQUIRED_IF_DEFINED"},
    ]});
    let e = p
        .admin
        .post::<_, serde_json::Value>("/v1/flavor-groups", &lax)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("REQUIRED_IF_DEFINED") && e.contains("BadRequest"),
        "{e}"
    );

    // A 60 kB key id is refused before it is looked up or stored.
    let before: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases").await.unwrap();
    let req = s.prepare_release().await.unwrap().request;
    let huge = "k".repeat(60_000);
    let e = refused(s.post_release(&huge, &req).await);
    assert_eq!(e.kind, ErrorKind::BadRequest, "{e:?}");
    assert!(
        e.message.len() < 300,
        "the id is not echoed: {}",
        e.message.len()
    );
    let after: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases").await.unwrap();
    assert_eq!(after.len(), before.len(), "nothing recorded");

    // An unknown but well-formed key is refused and recorded once, under its id.
    let e = refused(s.post_release("no-such-key", &req).await);
    assert_eq!(e.kind, ErrorKind::NotFound, "{e:?}");
    let log: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases").await.unwrap();
    assert_eq!(log.len(), before.len() + 1);
    let r = &log[0];
    assert_eq!((r.key_id.as_str(), r.released), ("no-such-key", false));
    assert_eq!(r.reason, "the key does not exist");
    assert_eq!(r.evidence, json!({}));
}
