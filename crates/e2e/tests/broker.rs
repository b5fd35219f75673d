//! Asset tags and the key broker with real swtpm TPMs: a key whose policy requires a
//! trusted node tagged region=EU is released to the trusted EU node only, wrapped to a
//! binding key in its TPM; the US node, the tampered EU node and an EU node whose tag
//! was revoked are refused in words, and every decision is in the broker's log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{AgentError, Session};
use ironroot_api::{
    CreateKey, ErrorKind, KeyInfo, KeyPolicy, ReleaseRecord, ReportRecord, TagRequest, WrapRequest,
    WrappedBlob, B64,
};
use ironroot_e2e::{peers_available, tagged_fleet, Platform};
use std::collections::BTreeMap;

fn tags(region: &str) -> TagRequest {
    TagRequest {
        tags: BTreeMap::from([("region".into(), region.into())]),
    }
}

fn refusal(r: Result<ironroot_agent::ReleasedKey, AgentError>) -> String {
    match r {
        Err(AgentError::Refused(e)) => {
            assert_eq!(e.kind, ErrorKind::Forbidden, "{e:?}");
            e.message
        }
        Err(e) => panic!("refused for the wrong reason: {e}"),
        Ok(_) => panic!("released"),
    }
}

async fn report_tags(p: &Platform, s: &Session) -> BTreeMap<String, String> {
    let r = s.attest_once().await.unwrap();
    let rec: ReportRecord = p
        .admin
        .get(&format!("/v1/reports/{}", r.report_id))
        .await
        .unwrap();
    serde_json::from_value(rec.report["asset_tags"].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_go_only_to_trusted_nodes_with_the_required_tag() {
    if !peers_available() {
        return;
    }
    let fleet = tagged_fleet("broker", &[("eu-1", "EU"), ("us-1", "US"), ("eu-2", "EU")])
        .await
        .unwrap();
    let (p, mut nodes, sessions) = (fleet.platform, fleet.nodes, fleet.sessions);
    for ((s, t), region) in sessions.iter().zip(&fleet.tags).zip(["EU", "US", "EU"]) {
        assert_eq!(t.digest.len(), 64);
        // The service told the agent; it provisioned the TPM and the quote covers it.
        assert_eq!(report_tags(&p, s).await, tags(region).tags);
    }

    let policy = KeyPolicy {
        asset_tags: tags("EU").tags,
        ..Default::default()
    };
    let key: KeyInfo = p
        .admin
        .post(
            "/v1/keys",
            &CreateKey {
                name: "payments-eu".into(),
                policy,
                material: None,
            },
        )
        .await
        .unwrap();
    // The build side seals data under the key without ever holding it.
    let sealed: WrappedBlob = p
        .admin
        .post(
            &format!("/v1/keys/{}/wrap", key.name),
            &WrapRequest {
                plaintext: B64(b"layer options".to_vec()),
            },
        )
        .await
        .unwrap();

    // EU, trusted: released, unwrapped by its TPM, and it opens what was sealed.
    let got = sessions[0].release_key("payments-eu").await.unwrap();
    assert_eq!(got.key_id, key.key_id);
    let ct = &sealed.ciphertext.0;
    let opened = ironroot_crypto::aes_gcm_open(
        &got.material,
        &sealed.iv.0,
        key.key_id.as_bytes(),
        &ct[..ct.len() - 16],
        &ct[ct.len() - 16..],
    )
    .unwrap();
    assert_eq!(opened.as_slice(), b"layer options");

    // US, trusted: refused, saying which tag.
    let why = refusal(sessions[1].release_key("payments-eu").await);
    assert!(
        why.contains("region=EU") && why.contains("region=US"),
        "{why}"
    );

    // EU but tampered: refused because untrusted.
    nodes[2]
        .tamper_runtime(&sessions[2], "/usr/sbin/runc")
        .await
        .unwrap();
    let why = refusal(sessions[2].release_key("payments-eu").await);
    assert!(
        why.contains("not trusted") && why.contains("/usr/sbin/runc"),
        "{why}"
    );

    // EU, trusted, tag revoked: the tag stops counting at once.
    let _: serde_json::Value = p
        .admin
        .delete(&format!(
            "/v1/hosts/{}/tags",
            sessions[0].host_id().unwrap()
        ))
        .await
        .unwrap();
    let why = refusal(sessions[0].release_key("payments-eu").await);
    assert!(why.contains("no such tag"), "{why}");
    assert!(report_tags(&p, &sessions[0]).await.is_empty());

    // A key that does not exist.
    match sessions[1].release_key("nonexistent").await {
        Err(AgentError::Refused(e)) => assert_eq!(e.kind, ErrorKind::NotFound),
        other => panic!("{:?}", other.map(|k| k.key_id)),
    }

    // ... and that refusal is recorded too.
    let all: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases").await.unwrap();
    assert_eq!(
        (
            all[0].key_id.as_str(),
            all[0].released,
            all[0].hostname.as_deref()
        ),
        ("nonexistent", false, Some("us-1"))
    );
    assert!(
        all[0].reason.contains("does not exist"),
        "{}",
        all[0].reason
    );

    // Every decision is in the log, newest first, with what it rested on.
    let log: Vec<ReleaseRecord> = p
        .admin
        .get("/v1/keys/releases?key=payments-eu")
        .await
        .unwrap();
    let summary: Vec<(&str, bool)> = log
        .iter()
        .map(|r| (r.hostname.as_deref().unwrap(), r.released))
        .collect();
    assert_eq!(
        summary,
        [
            ("eu-1", false),
            ("eu-2", false),
            ("us-1", false),
            ("eu-1", true)
        ]
    );
    assert_eq!(log[3].evidence["asset_tags"]["region"], "EU");
    assert!(log[3].evidence["binding_key_name"].as_str().unwrap().len() > 60);
    assert!(log.iter().all(|r| r.report_id.is_some()));
}
