//! The identity tables on both databases: organisations, tokens (only the hash kept,
//! revoked once), people bound per organisation, owners and the release path's
//! one-query comparison, each change with its audit entry in the same transaction.

use super::store::{ObjectKind, TokenRow};
use crate::audit::NewEntry;
use crate::store::Store;
use ironroot_api::{Role, TokenInfo};
use ironroot_testkit::databases::{PgCluster, TempDir};

fn entry(kind: &'static str) -> NewEntry {
    super::access::identity_change(kind, 7, "bootstrap", "x/1".into(), serde_json::json!({}))
}

async fn scenario(store: Store) {
    assert!(store.organisation_exists("default").await.unwrap());
    assert!(store
        .create_organisation("red", 5, entry("organisation.created"))
        .await
        .unwrap());
    assert!(!store
        .create_organisation("red", 6, entry("organisation.created"))
        .await
        .unwrap());
    let ids: Vec<String> = store
        .organisations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, ["default", "red"]);

    let token = TokenRow {
        info: TokenInfo {
            id: "00112233aabbccdd".into(),
            name: "ci".into(),
            role: Role::Build,
            organisation: "red".into(),
            created: 10,
            created_by: "bootstrap".into(),
            expires: 100,
            revoked_at: None,
        },
        secret_sha256: vec![9; 32],
    };
    store
        .insert_token(&token, entry("token.created"))
        .await
        .unwrap();
    let back = store.token("00112233aabbccdd").await.unwrap().unwrap();
    assert_eq!(
        (back.info, back.secret_sha256),
        (token.info.clone(), vec![9; 32])
    );
    assert_eq!(store.tokens(Some("red")).await.unwrap().len(), 1);
    assert!(store.tokens(Some("default")).await.unwrap().is_empty());
    assert_eq!(store.tokens(None).await.unwrap().len(), 1);
    assert!(store
        .revoke_token("00112233aabbccdd", 50, entry("token.revoked"))
        .await
        .unwrap());
    assert!(!store
        .revoke_token("00112233aabbccdd", 51, entry("token.revoked"))
        .await
        .unwrap());
    let revoked = store.token("00112233aabbccdd").await.unwrap().unwrap();
    assert_eq!(revoked.info.revoked_at, Some(50));

    store
        .bind_person(
            "ada@example.com",
            "red",
            Role::Viewer,
            1,
            "bootstrap",
            entry("person.bound"),
        )
        .await
        .unwrap();
    store
        .bind_person(
            "ada@example.com",
            "red",
            Role::Auditor,
            2,
            "bootstrap",
            entry("person.bound"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.person("ada@example.com").await.unwrap(),
        [("red".to_string(), Role::Auditor)]
    );
    assert_eq!(store.people(Some("default")).await.unwrap().len(), 0);
    assert!(store
        .unbind_person("ada@example.com", "red", entry("person.unbound"))
        .await
        .unwrap());
    assert!(store.person("ada@example.com").await.unwrap().is_empty());

    assert_eq!(
        store.owner(ObjectKind::Host, "h1").await.unwrap(),
        "default"
    );
    let (host, key) = ((ObjectKind::Host, "h1"), (ObjectKind::Key, "k1"));
    assert!(store.same_owner(host, key).await.unwrap(), "both default");
    store.set_owner(ObjectKind::Key, "k1", "red").await.unwrap();
    assert!(!store.same_owner(host, key).await.unwrap());
    store
        .change_owner(ObjectKind::Host, "h1", "red", entry("owner.changed"))
        .await
        .unwrap();
    assert!(store.same_owner(host, key).await.unwrap());
    assert_eq!(store.owners(ObjectKind::Key).await.unwrap()["k1"], "red");

    // Every change above, and only the changes, was logged: 1 organisation, 1 token
    // issued and 1 revoked, 2 bindings and 1 unbinding, 1 owner change.
    assert_eq!(store.audit_size().await.unwrap(), 7);
}

#[tokio::test]
async fn identity_store_on_sqlite() {
    let dir = TempDir::new("identity");
    scenario(Store::open_sqlite(&dir.path().join("id.db")).await.unwrap()).await;
}

#[tokio::test]
async fn identity_store_on_postgres() {
    let Some(pg) = PgCluster::start() else { return };
    scenario(Store::open_postgres(&pg.url()).await.unwrap()).await;
}
