use super::*;
use crate::store::tests::host;
use ironroot_testkit::databases::{PgCluster, TempDir};

fn release(key_id: &str, at: u64) -> ReleaseRow {
    ReleaseRow {
        seq: 0,
        key_id: key_id.into(),
        host_id: None,
        hostname: None,
        at,
        released: false,
        reason: "the key does not exist".into(),
        report_id: None,
        evidence_json: "{}".into(),
    }
}

/// The review's finding: the release log was never pruned.
async fn the_release_log_is_pruned_past_its_retention(store: &Store) {
    for (i, at) in [100, 200, 300, 400].into_iter().enumerate() {
        store
            .record_release(&release(&format!("k{i}"), at))
            .await
            .unwrap();
    }
    assert_eq!(store.prune_releases(300, 1).await.unwrap(), 1, "batched");
    assert_eq!(store.prune_releases(300, 100).await.unwrap(), 1);
    assert_eq!(store.prune_releases(300, 100).await.unwrap(), 0);
    let left: Vec<String> = store
        .releases(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key_id)
        .collect();
    assert_eq!(left, ["k3", "k2"]);
}

/// A revocation is seen by the next read of the host's tag, whatever the caller read
/// with the host row before.
async fn a_revoked_tag_is_read_at_once(store: &Store) {
    store.upsert_group("automatic", "{}").await.unwrap();
    store
        .put_host(&host("t1", "tagged", b"ek-t1"))
        .await
        .unwrap();
    assert_eq!(store.current_tag("t1").await.unwrap(), (None, None));
    let tag = TagRow {
        serial: "s1".into(),
        host_id: "t1".into(),
        certificate: "cert".into(),
        digest: "ab".repeat(32),
        tags_json: r#"{"region":"EU"}"#.into(),
        issued_at: 10,
        revoked_at: None,
    };
    let flavor = FlavorRow {
        flavor_id: "tag-flavor".into(),
        part: "ASSET_TAG".into(),
        label: "asset tag s1".into(),
        created: 10,
        flavor: "{}".into(),
    };
    store.issue_tag(&tag, &flavor, "automatic").await.unwrap();
    let before = store.host("t1").await.unwrap().unwrap();
    assert_eq!(
        store.current_tag("t1").await.unwrap(),
        (Some(tag.digest.clone()), Some(tag.tags_json.clone()))
    );
    assert!(store.revoke_tag("t1", 20).await.unwrap());
    assert_eq!(before.tag_digest, Some(tag.digest), "a row read before");
    assert_eq!(store.current_tag_digest("t1").await.unwrap(), None);
    assert_eq!(store.current_tag("nobody").await.unwrap(), (None, None));
}

/// Migration 0006: a policy stored with neither tags nor groups was created to mean
/// "any trusted node" and now says so; every other policy is left as it was.
async fn stored_empty_policies_state_any_trusted_node(store: &Store, migration: &str) {
    let key = |id: &str, policy: &str| KeyRow {
        key_id: id.into(),
        name: id.into(),
        sealed: vec![1],
        policy_json: policy.into(),
        created_at: 1,
        imported: false,
    };
    let old_any = r#"{"asset_tags":{},"flavor_groups":[],"expires_at":null}"#;
    let old_expiring = r#"{"asset_tags":{},"flavor_groups":[],"expires_at":4000000000}"#;
    let tagged = r#"{"asset_tags":{"region":"EU"},"flavor_groups":[],"expires_at":null}"#;
    let grouped = r#"{"asset_tags":{},"flavor_groups":["prod"],"expires_at":null}"#;
    for (id, p) in [
        ("any", old_any),
        ("expiring", old_expiring),
        ("tagged", tagged),
        ("grouped", grouped),
    ] {
        assert!(store.insert_key(&key(id, p)).await.unwrap());
    }
    // Twice: the migration leaves what it already rewrote as it is.
    for _ in 0..2 {
        sqlx::raw_sql(migration)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let policy = |id: &'static str| async move {
        let row = store.key(id).await.unwrap().unwrap();
        serde_json::from_str::<ironroot_api::KeyPolicy>(&row.policy_json).unwrap()
    };
    assert_eq!(
        policy("any").await,
        ironroot_api::KeyPolicy::any_trusted_node()
    );
    let expiring = policy("expiring").await;
    assert!(expiring.any_trusted_node && expiring.expires_at == Some(4_000_000_000));
    for id in ["tagged", "grouped"] {
        let p = policy(id).await;
        assert!(!p.any_trusted_node && p.check_stated().is_ok(), "{id}");
    }
}

async fn scenarios(store: &Store, migration: &str) {
    the_release_log_is_pruned_past_its_retention(store).await;
    a_revoked_tag_is_read_at_once(store).await;
    stored_empty_policies_state_any_trusted_node(store, migration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_broker_store_scenarios() {
    let dir = TempDir::new("sqlite-broker");
    let store = Store::open(&dir.path().join("t.db").display().to_string())
        .await
        .unwrap();
    scenarios(
        &store,
        include_str!("../../migrations/sqlite/0006_stated_key_policies.sql"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_broker_store_scenarios() {
    let Some(pg) = PgCluster::start() else { return };
    let store = Store::open(&pg.url()).await.unwrap();
    scenarios(
        &store,
        include_str!("../../migrations/postgres/0006_stated_key_policies.sql"),
    )
    .await;
}
