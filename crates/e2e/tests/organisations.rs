//! Organisations and roles where keys meet nodes, with real swtpm TPMs: a key is released
//! only to a node of its own organisation (another organisation's key does not exist for
//! it, and the refusal is logged), and a build host's token wraps with a key but can
//! neither create one nor tag a host.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::{AgentError, Session};
use ironroot_api::{
    CreateKey, ErrorKind, IssuedToken, KeyInfo, KeyPolicy, NewOrganisation, NewToken,
    ReleaseRecord, Role, TagRequest,
};
use ironroot_e2e::{peers_available, tagged_fleet, Platform};
use ironroot_keyprovider::{KeySpec, ProviderError, Wrapper};
use std::collections::BTreeMap;

fn eu() -> BTreeMap<String, String> {
    BTreeMap::from([("region".to_string(), "EU".to_string())])
}

async fn release(s: &Session, key: &str) -> Result<(), AgentError> {
    let a = s.prepare_release().await.unwrap();
    s.post_release(key, &a.request).await.map(|_| ())
}

async fn give(p: &Platform, kind: &str, id: &str, org: &str) {
    let _: serde_json::Value = p
        .admin
        .put(
            &format!("/v1/owners/{kind}/{id}"),
            &NewOrganisation { id: org.into() },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_released_only_to_a_node_of_its_organisation() {
    if !peers_available() {
        return;
    }
    let fleet = tagged_fleet("orgs", &[("eu-1", "EU")]).await.unwrap();
    let (p, sessions) = (fleet.platform, fleet.sessions);
    let key: KeyInfo = p
        .admin
        .post(
            "/v1/keys",
            &CreateKey {
                name: "eu-key".into(),
                policy: KeyPolicy {
                    asset_tags: eu(),
                    ..Default::default()
                },
                material: None,
            },
        )
        .await
        .unwrap();
    release(&sessions[0], &key.key_id).await.unwrap();

    let _: ironroot_api::Organisation = p
        .admin
        .post("/v1/organisations", &NewOrganisation { id: "acme".into() })
        .await
        .unwrap();
    give(&p, "key", &key.key_id, "acme").await;
    match release(&sessions[0], &key.key_id).await {
        Err(AgentError::Refused(e)) => assert_eq!(e.kind, ErrorKind::NotFound, "{e:?}"),
        other => panic!("another organisation's key: {other:?}"),
    }
    let log: Vec<ReleaseRecord> = p.admin.get("/v1/keys/releases?limit=5").await.unwrap();
    assert!(
        !log[0].released && log[0].reason.contains("does not exist"),
        "{:?}",
        log[0]
    );

    // The node joins the key's organisation: released again.
    give(&p, "host", sessions[0].host_id().unwrap(), "acme").await;
    release(&sessions[0], &key.key_id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_token_wraps_but_creates_no_key_and_tags_no_host() {
    if !peers_available() {
        return;
    }
    let fleet = tagged_fleet("build", &[("eu-1", "EU")]).await.unwrap();
    let (p, sessions) = (fleet.platform, fleet.sessions);
    let key_spec = |s: &str| KeySpec::parse(s.as_bytes()).unwrap();
    let issued: IssuedToken = p
        .admin
        .post(
            "/v1/tokens",
            &NewToken {
                name: "ci-builder".into(),
                role: Role::Build,
                organisation: None,
                lifetime_secs: 3600,
            },
        )
        .await
        .unwrap();
    let build = ironroot_keyprovider::broker::BrokerWrapper::new(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        &issued.token,
    )
    .unwrap();
    // Creating a key needs a key administrator.
    let e = build
        .wrap(&key_spec("new-key+tag:region=EU"), b"{}")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Refused(m) if m.contains("build")),
        "{e}"
    );
    // The key exists: the build token wraps with it.
    let admin = ironroot_keyprovider::broker::BrokerWrapper::new(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        &std::fs::read_to_string(p.config.data_dir.join("admin.token")).unwrap(),
    )
    .unwrap();
    admin
        .wrap(&key_spec("new-key+tag:region=EU"), b"{}")
        .await
        .unwrap();
    let packet = build
        .wrap(&key_spec("new-key"), b"{\"k\":1}")
        .await
        .unwrap();
    assert!(!packet.key_id.is_empty());
    // And it tags no host.
    let client = ironroot_client::Client::admin(
        &p.url(),
        p.service.ca_pem.as_bytes(),
        &issued.token,
        ironroot_client::PlainHttp::Refused,
    )
    .unwrap();
    let r: Result<serde_json::Value, _> = client
        .post(
            &format!("/v1/hosts/{}/tags", sessions[0].host_id().unwrap()),
            &TagRequest { tags: eu() },
        )
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.status().map(|s| s.0), Some(403), "{e}");
}
