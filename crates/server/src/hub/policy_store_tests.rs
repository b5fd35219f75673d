//! The policy versions' store by organisation (`policy_store.rs`), run inside the hub
//! store's scenario on SQLite and on PostgreSQL (`tests.rs`), after `default`'s version 1.

use super::tests::version;
use crate::identity::store::ObjectKind;
use crate::store::Store;
use ironroot_api::PolicyVersion;

/// Versions by organisation: one counter, a number taken once whoever asks, each
/// organisation's current set its highest, reads inside the organisation named.
pub(super) async fn policy_orgs(store: &Store) {
    assert!(
        !store
            .insert_policy_version("blue", &version(1, &["b"]), "blue1")
            .await
            .unwrap(),
        "a number is taken once across organisations"
    );
    assert!(store
        .insert_policy_version("blue", &version(2, &["b"]), "blue2")
        .await
        .unwrap());
    assert_eq!(store.last_policy_version().await.unwrap(), Some(2));
    assert_eq!(
        store.current_policy_version("default").await.unwrap(),
        Some(1)
    );
    assert_eq!(store.current_policy_version("blue").await.unwrap(), Some(2));
    assert_eq!(store.current_policy_version("red").await.unwrap(), None);
    assert!(store.current_policy("red", true).await.unwrap().is_none());
    let (_, doc) = store
        .policy_version(2, Some("blue"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc, "blue2");
    assert!(store
        .policy_version(2, Some("default"))
        .await
        .unwrap()
        .is_none());
    assert!(store.policy_version(2, None).await.unwrap().is_some());
    let numbers = |v: Vec<PolicyVersion>| v.iter().map(|v| v.version).collect::<Vec<_>>();
    assert_eq!(
        numbers(store.policy_versions(Some("blue")).await.unwrap()),
        [2]
    );
    assert_eq!(numbers(store.policy_versions(None).await.unwrap()), [2, 1]);
    let sets = store.current_policies().await.unwrap();
    assert_eq!(
        (
            sets["default"].version.version,
            sets["blue"].version.version,
            sets.len()
        ),
        (1, 2, 2)
    );
    // A cluster without an owner row is the platform's.
    let (org, v) = store.cluster_policy_version("cl-none").await.unwrap();
    assert_eq!((org.as_str(), v), ("default", Some(1)));
    sqlx::query("INSERT INTO organisations (id, created) VALUES ('blue', 1)")
        .execute(store.pool())
        .await
        .unwrap();
    store
        .set_owner(ObjectKind::Cluster, "cl-blue", "blue")
        .await
        .unwrap();
    let (org, v) = store.cluster_policy_version("cl-blue").await.unwrap();
    assert_eq!((org.as_str(), v), ("blue", Some(2)));
}
