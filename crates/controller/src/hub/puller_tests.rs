use super::*;
use crate::hub::bundle::tests::{payload, sign, DOC};
use crate::hub::fake::FakeHub;
use ironroot_api::SignedBundle;
use ironroot_crypto::ServiceSigningKey;

fn puller(hub: Arc<FakeHub>, store: Option<BundleStore>) -> Puller {
    Puller {
        hub,
        cluster_id: "c1".into(),
        store,
        policies: Arc::new(Policies::new(None)),
        stats: Arc::default(),
        changed: Arc::default(),
        poll: Duration::from_millis(10),
    }
}

fn offer(hub: &FakeHub, key: &ServiceSigningKey, version: u64, cluster: &str, doc: &str) {
    let jws = sign(key, &payload(version, cluster, doc));
    *hub.bundle.lock().unwrap() = Some(SignedBundle { version, jws });
}

#[tokio::test]
async fn a_good_bundle_is_put_in_force_and_kept_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = ServiceSigningKey::generate().unwrap();
    let hub = Arc::new(FakeHub::default());
    hub.jwks.lock().unwrap().keys.push(key.jwk());
    let p = puller(hub.clone(), Some(BundleStore::open(dir.path()).unwrap()));
    let mut st = PullState::default();
    offer(&hub, &key, 3, "c1", DOC);
    p.poll_once(&mut st).await.unwrap();
    assert_eq!(p.policies.current().unwrap().version, 3);
    assert_eq!(p.policies.current().unwrap().cluster, "east");

    // Another cluster's bundle, newer: refused, version 3 stays.
    offer(&hub, &key, 4, "c2", DOC);
    assert!(matches!(
        p.poll_once(&mut st).await,
        Err(PollError::Refused(BundleError::OtherCluster { .. }))
    ));
    // A rollback: refused.
    offer(&hub, &key, 2, "c1", DOC);
    assert!(matches!(
        p.poll_once(&mut st).await,
        Err(PollError::Refused(BundleError::Rollback { .. }))
    ));
    assert_eq!(p.policies.current().unwrap().version, 3);

    // A restart while the hub is down enforces the kept bundle.
    hub.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let again = puller(hub.clone(), Some(BundleStore::open(dir.path()).unwrap()));
    let st2 = again.load_kept();
    assert_eq!(st2.held.as_ref().unwrap().version, 3);
    assert_eq!(again.policies.current().unwrap().version, 3);
}

#[tokio::test]
async fn a_rotated_key_is_learnt_from_the_jwks_once_and_an_unknown_one_is_refused() {
    let old = ServiceSigningKey::generate().unwrap();
    let new = ServiceSigningKey::generate().unwrap();
    let hub = Arc::new(FakeHub::default());
    hub.jwks.lock().unwrap().keys.push(old.jwk());
    let p = puller(hub.clone(), None);
    let mut st = PullState::default();
    offer(&hub, &old, 1, "c1", DOC);
    p.poll_once(&mut st).await.unwrap();
    assert_eq!(hub.jwks_reads.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The hub rotates: the new key is fetched when a bundle names it.
    hub.jwks.lock().unwrap().keys.push(new.jwk());
    offer(&hub, &new, 2, "c1", DOC);
    p.poll_once(&mut st).await.unwrap();
    assert_eq!(p.policies.current().unwrap().version, 2);
    assert_eq!(hub.jwks_reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    // A key the hub does not publish: refused.
    let stranger = ServiceSigningKey::generate().unwrap();
    offer(&hub, &stranger, 3, "c1", DOC);
    assert!(matches!(
        p.poll_once(&mut st).await,
        Err(PollError::Refused(BundleError::UnknownKey(_)))
    ));
    assert_eq!(p.policies.current().unwrap().version, 2);
}

#[tokio::test]
async fn an_unchanged_bundle_is_not_put_in_force_again() {
    let key = ServiceSigningKey::generate().unwrap();
    let hub = Arc::new(FakeHub::default());
    hub.jwks.lock().unwrap().keys.push(key.jwk());
    let p = puller(hub.clone(), None);
    let mut st = PullState::default();
    offer(&hub, &key, 1, "c1", DOC);
    p.poll_once(&mut st).await.unwrap();
    p.poll_once(&mut st).await.unwrap();
    assert_eq!(HubStats::get(&p.stats.bundles_applied), 1);
}
