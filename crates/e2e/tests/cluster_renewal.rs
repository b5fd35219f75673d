//! A cluster's certificate renewed by its controller, against a real service and a real
//! API server: the new certificate and key reach the cluster's Secret and the state
//! directory before the client switches to them; the old certificate keeps working until
//! the new one is first used, and dies then; a restart picks the newer one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "k8s/governance_support.rs"]
mod support;

use ironroot_api::ErrorKind;
use ironroot_client::Client;
use ironroot_controller::hub::identity;
use ironroot_controller::hub::renewal::{self, Renewal, SecretTarget};
use ironroot_controller::hub::store::{BundleStore, StoredIdentity};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use std::collections::BTreeMap;

fn unauthenticated(e: &ironroot_client::ClientError) -> bool {
    e.api().map(|a| a.kind) == Some(ErrorKind::Unauthenticated)
}

/// A read any registered cluster may make.
async fn reach(c: &Client) -> Result<serde_json::Value, ironroot_client::ClientError> {
    c.get("/v1/nodes").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_cluster_certificate_reaches_its_secret_and_retires_the_old_one() {
    let Some((_control_plane, kube)) = support::start().await else {
        return;
    };
    let dir = ironroot_e2e::TempDir::new("cluster-renewal").unwrap();
    let state = dir.0.join("controller-state");
    // Short enough that renewal is due at once (the hub backdates a minute).
    let p = ironroot_e2e::Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
        c.cluster_cert_lifetime_secs = 40;
    })
    .await
    .unwrap();
    let (key_pem, csr_pem) = ironroot_client::new_key_and_csr("east").unwrap();
    let reg = p
        .admin
        .register_cluster(&ironroot_api::RegisterCluster {
            name: "east".into(),
            csr_pem,
        })
        .await
        .unwrap();
    let ca = reg.ca_pem.as_bytes();
    let connect = |cert: &str, key: &str| Client::agent(&p.url(), ca, Some((cert, key))).unwrap();
    let first = StoredIdentity {
        cert_pem: reg.cert_pem.clone(),
        key_pem: key_pem.to_string(),
    };
    let old = connect(&first.cert_pem, &first.key_pem);

    // The Secret the certificate is mounted from, as an administrator made it.
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), "default");
    let data = |s: &StoredIdentity| {
        BTreeMap::from([
            (
                "cluster.crt".to_owned(),
                ByteString(s.cert_pem.clone().into_bytes()),
            ),
            (
                "cluster.key".to_owned(),
                ByteString(s.key_pem.clone().into_bytes()),
            ),
        ])
    };
    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("ironroot-cluster-identity".into()),
            ..Default::default()
        },
        data: Some(data(&first)),
        ..Secret::default()
    };
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();

    let client = connect(&first.cert_pem, &first.key_pem);
    let validity = identity::validity(first.cert_pem.as_bytes()).unwrap();
    assert!(
        validity.renew_at() <= ironroot_timestamp::now_unix(),
        "due at once: {validity:?}"
    );
    let store = BundleStore::open(&state).unwrap();
    let r = Renewal {
        client: client.clone(),
        cluster_id: reg.id.clone(),
        validity,
        store: Some(store.clone()),
        secret: Some(SecretTarget {
            api: secrets.clone(),
            name: "ironroot-cluster-identity".into(),
            cert_key: "cluster.crt".into(),
            key_key: "cluster.key".into(),
        }),
    };
    let renewed = r.renew_once().await.unwrap();
    assert!(renewed.not_after >= validity.not_after, "{renewed:?}");

    // Kept in both places, the same certificate, for this cluster.
    let kept = store
        .load_identity()
        .unwrap()
        .expect("kept in the state dir");
    assert_ne!(kept.cert_pem, first.cert_pem);
    assert_eq!(
        identity::cluster_id(kept.cert_pem.as_bytes()).unwrap(),
        reg.id
    );
    let in_secret = secrets
        .get("ironroot-cluster-identity")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(in_secret, data(&kept), "the Secret holds the renewed pair");
    let chosen = renewal::choose(first.clone(), Some(kept.clone()));
    assert_eq!(
        chosen.cert_pem, kept.cert_pem,
        "a restart starts with the newer one"
    );

    // The old certificate works until the new one is used, then never again.
    reach(&old).await.unwrap();
    reach(&client).await.unwrap();
    let e = reach(&old).await.err().unwrap();
    assert!(unauthenticated(&e), "{e}");
    let e = old
        .renew_cluster_certificate(ironroot_client::new_key_and_csr("east").unwrap().1)
        .await
        .err()
        .unwrap();
    assert!(
        unauthenticated(&e),
        "a retired certificate renews nothing: {e}"
    );

    // The hub's list shows the new expiry; the renewed client renews again.
    let listed = p.admin.clusters().await.unwrap();
    assert_eq!(listed[0].cert_not_after, renewed.not_after);
    r.renew_once().await.unwrap();
    reach(&client).await.unwrap();
    let reread = connect(&kept.cert_pem, &kept.key_pem);
    assert!(
        unauthenticated(&reach(&reread).await.err().unwrap()),
        "the second renewal retired the first renewed certificate"
    );
}
