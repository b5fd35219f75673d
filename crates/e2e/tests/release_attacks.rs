//! Attacks on key release, with real swtpm TPMs: a release request replayed by another
//! node or by the same node, a forged quote, a binding key the node's AK did not certify,
//! a wrapped key taken to another TPM, a key that does not exist, and a broker that cannot
//! be reached. Each is refused with a clear error, and each refusal at the broker is in
//! its log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{AgentError, NodeUnwrapper, ReleaseRequest, Session};
use ironroot_api::{CreateKey, ErrorKind, KeyInfo, KeyPolicy, ReleaseRecord, B64};
use ironroot_e2e::{peers_available, tagged_fleet, Node, Platform};
use ironroot_keyprovider::{Packet, ProviderError, Unwrapper};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn refused(r: Result<impl Sized, AgentError>) -> ironroot_api::ApiError {
    match r {
        Err(AgentError::Refused(e)) => e,
        Err(e) => panic!("failed otherwise: {e}"),
        Ok(_) => panic!("released"),
    }
}

async fn setup(tag: &str, names: &[&str]) -> (Platform, Vec<Node>, Vec<Session>, KeyInfo) {
    let nodes: Vec<(&str, &str)> = names.iter().map(|n| (*n, "EU")).collect();
    let fleet = tagged_fleet(tag, &nodes).await.unwrap();
    let (p, nodes, sessions) = (fleet.platform, fleet.nodes, fleet.sessions);
    let eu = BTreeMap::from([("region".to_string(), "EU".to_string())]);
    let key: KeyInfo = p
        .admin
        .post(
            "/v1/keys",
            &CreateKey {
                name: "eu-key".into(),
                policy: KeyPolicy {
                    asset_tags: eu,
                    ..Default::default()
                },
                material: None,
            },
        )
        .await
        .unwrap();
    (p, nodes, sessions, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_forged_and_uncertified_release_requests_are_refused_and_logged() {
    if !peers_available() {
        return;
    }
    let (p, _nodes, s, key) = setup("attacks", &["eu-1", "eu-2"]).await;
    let k = key.key_id.as_str();

    // eu-1's request, sent by eu-2 (its own mutual-TLS identity): the challenge was eu-1's.
    let a = s[0].prepare_release().await.unwrap();
    let e = refused(s[1].post_release(k, &a.request).await);
    assert_eq!(e.kind, ErrorKind::NonceInvalid, "{e:?}");

    // eu-1's own request, released once, then sent again: the quote is not fresh.
    let first = s[0].post_release(k, &a.request).await.unwrap();
    let e = refused(s[0].post_release(k, &a.request).await);
    assert!(
        matches!(
            e.kind,
            ErrorKind::NonceInvalid | ErrorKind::EvidenceRejected
        ),
        "{e:?}"
    );

    // The key wrapped for eu-1's TPM does not open in eu-2's, with either binding key.
    let b = s[1].prepare_release().await.unwrap();
    assert!(s[1]
        .open_release(&b.binding, first.wrapped_key.0.clone())
        .await
        .is_err());
    assert!(s[1]
        .open_release(&a.binding, first.wrapped_key.0.clone())
        .await
        .is_err());
    // ... while eu-1's opens it.
    let m = s[0]
        .open_release(&a.binding, first.wrapped_key.0.clone())
        .await
        .unwrap();
    assert_eq!(m.len(), 32);

    // A forged quote signature.
    let mut forged: ReleaseRequest = s[0].prepare_release().await.unwrap().request;
    let sig = &mut forged.evidence.signature.0;
    let last = sig.len() - 1;
    sig[last] ^= 1;
    let e = refused(s[0].post_release(k, &forged).await);
    assert!(
        matches!(e.kind, ErrorKind::EvidenceRejected | ErrorKind::Forbidden),
        "{e:?}"
    );

    // A binding key the node's AK did not certify (eu-2's key and certification, eu-1's quote).
    let mut swapped = s[0].prepare_release().await.unwrap().request;
    swapped.binding_key = b.request.binding_key.clone();
    let e = refused(s[0].post_release(k, &swapped).await);
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(
        e.message.contains("binding key refused") && e.message.contains("not certified"),
        "{}",
        e.message
    );
    // ... or a certification whose signature was altered.
    let mut altered = s[0].prepare_release().await.unwrap().request;
    altered.binding_key.certify_signature.0[20] ^= 1;
    let e = refused(s[0].post_release(k, &altered).await);
    assert!(e.message.contains("binding key refused"), "{}", e.message);
    // ... or a binding key that could leave its TPM: not even parsed as acceptable.
    let mut junk = s[0].prepare_release().await.unwrap().request;
    junk.binding_key.public = B64(vec![0, 4, 1, 2, 3, 4]);
    let e = refused(s[0].post_release(k, &junk).await);
    assert!(e.message.contains("binding key refused"), "{}", e.message);

    // A key that does not exist.
    let req = s[0].prepare_release().await.unwrap().request;
    assert_eq!(
        refused(s[0].post_release("no-such-key", &req).await).kind,
        ErrorKind::NotFound
    );

    // Every refusal is in the log with the node it came from; the one release too.
    let log: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases").await.unwrap();
    let summary: Vec<(&str, bool)> = log
        .iter()
        .rev()
        .map(|r| (r.hostname.as_deref().unwrap(), r.released))
        .collect();
    assert_eq!(
        summary,
        [
            ("eu-2", false),
            ("eu-1", true),
            ("eu-1", false),
            ("eu-1", false),
            ("eu-1", false),
            ("eu-1", false),
            ("eu-1", false),
            ("eu-1", false),
        ]
    );
    assert!(log.iter().all(|r| !r.reason.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_and_an_unknown_key_are_clear_errors_for_skopeo() {
    if !peers_available() {
        return;
    }
    let (p, nodes, sessions, key) = setup("unreach", &["eu-1"]).await;

    // Wrap: a build host pointed at a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let token = std::fs::read_to_string(p.config.data_dir.join("admin.token")).unwrap();
    let w = ironroot_keyprovider::broker::BrokerWrapper::new(
        &format!("https://{closed}"),
        p.service.ca_pem.as_bytes(),
        &token,
    )
    .unwrap();
    let spec = ironroot_keyprovider::KeySpec::parse(b"eu-key").unwrap();
    let e = ironroot_keyprovider::Wrapper::wrap(&w, &spec, b"{}")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Unreachable(m) if m.contains("cannot reach the ironroot key broker")),
        "{e}"
    );

    // A real wrap, for the packets below.
    let w = ironroot_keyprovider::broker::BrokerWrapper::new(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        &token,
    )
    .unwrap();
    let packet = ironroot_keyprovider::Wrapper::wrap(&w, &spec, b"{\"k\":1}")
        .await
        .unwrap();
    assert_eq!(packet.key_id, key.key_id);

    // Unwrap on the node: a packet naming a key the broker does not have.
    let node = Arc::new(tokio::sync::RwLock::new(
        sessions.into_iter().next().unwrap(),
    ));
    let u = NodeUnwrapper::new(
        node.clone(),
        Duration::from_secs(30),
        Duration::from_secs(2),
    );
    let unknown = Packet {
        key_id: "00000000-0000-4000-8000-000000000000".into(),
        ..packet.clone()
    };
    let e = u.unwrap(&unknown).await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::Refused(m) if m.contains("has no key")),
        "{e}"
    );
    assert_eq!(u.unwrap(&packet).await.unwrap().as_slice(), b"{\"k\":1}");

    // The node's agent with its broker unreachable.
    let mut away = nodes[0]
        .session(&format!("https://{closed}"), &p.service.ca_pem)
        .unwrap();
    away.ensure_enrolled().await.ok();
    let u = NodeUnwrapper::new(
        Arc::new(tokio::sync::RwLock::new(away)),
        Duration::from_secs(30),
        Duration::from_secs(2),
    );
    let e = u.unwrap(&packet).await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::Unreachable(m) if m.contains("cannot reach the ironroot broker")),
        "{e}"
    );
}
