//! Trust changes are events, a missed deadline makes a node expired (fail closed), and
//! floods from one node or of enrollments are rate-limited without hurting others.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_agent::AgentError;
use ironroot_api::{AssignGroup, ErrorKind, FlavorList, FlavorsFromHostRequest, TrustState};
use ironroot_e2e::{peers_available, EventReader, Node, Platform, TempDir};
use ironroot_server::RateBudget;
use ironroot_verifier::{FlavorGroup, Schedule};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_changes_are_streamed_and_a_missed_deadline_expires_the_node() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("events").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.trust_validity_secs = 2;
        c.attestation_interval_secs = 1;
    })
    .await
    .unwrap();
    let mut events = EventReader::open(&p.admin, None).await.unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    let e = events.next(Duration::from_secs(5)).await.unwrap().1;
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Unknown, TrustState::Untrusted)
    );
    assert!(
        e.reasons.iter().any(|r| r.contains("PLATFORM")),
        "{:?}",
        e.reasons
    );
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "g".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    assert!(s.attest_once().await.unwrap().trusted);
    let e = events.next(Duration::from_secs(5)).await.unwrap().1;
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Untrusted, TrustState::Trusted)
    );
    assert!(e.report_jws.is_some());
    // A trusted report with an unchanged verdict is not an event; a missed deadline is.
    assert!(s.attest_once().await.unwrap().trusted);
    let e = events.next(Duration::from_secs(5)).await.unwrap().1;
    assert_eq!(
        (e.previous, e.trust, e.host_id.as_str()),
        (TrustState::Trusted, TrustState::Expired, host_id.as_str())
    );
    let hosts = p.admin.hosts().await.unwrap();
    assert_eq!(hosts[0].trust, TrustState::Expired);
    // Attesting again restores trust, and says so.
    assert!(s.attest_once().await.unwrap().trusted);
    let e = events.next(Duration::from_secs(5)).await.unwrap().1;
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Expired, TrustState::Trusted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_node_is_limited_and_an_honest_one_is_not() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("flood").unwrap();
    let a = Node::boot(&dir.0, "noisy").await.unwrap();
    let b = Node::boot(&dir.0, "honest").await.unwrap();
    let cas = a.ca.iter().chain(&b.ca).cloned().collect();
    let p = Platform::start(dir, cas, |c| {
        c.attest_rate = RateBudget {
            burst: 5,
            per_second: 1,
        };
        c.enroll_rate = RateBudget {
            burst: 6,
            per_second: 1,
        };
    })
    .await
    .unwrap();
    let mut noisy = a.session(&p.url(), &p.service.ca_pem).unwrap();
    let mut honest = b.session(&p.url(), &p.service.ca_pem).unwrap();
    noisy.ensure_enrolled().await.unwrap();
    honest.ensure_enrolled().await.unwrap();
    let mut limited = 0;
    for _ in 0..20 {
        match noisy.challenge().await {
            Ok(_) => {}
            Err(AgentError::Refused(e)) if e.kind == ErrorKind::RateLimited => limited += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(
        limited >= 14,
        "a flood of 20 against a burst of 5 is mostly refused ({limited})"
    );
    honest
        .attest_once()
        .await
        .expect("the honest node is not limited");
    // Bogus enrollments from one address run out of budget too (4 used by the two
    // enrollments above: enroll + activate each).
    let bogus = ironroot_api::EnrollRequest {
        hostname: "x".into(),
        hardware_uuid: "x".into(),
        ek_public: ironroot_api::B64(vec![0; 10]),
        ek_certificate: None,
        ak_public: ironroot_api::B64(vec![0; 10]),
    };
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let r: Result<ironroot_api::EnrollChallenge, _> = honest.anonymous().enroll(&bogus).await;
        match r.map_err(AgentError::from) {
            Err(AgentError::Refused(e)) => kinds.push(e.kind),
            other => panic!("bogus enrollment accepted: {other:?}"),
        }
    }
    assert!(
        kinds.contains(&ErrorKind::EnrollmentRejected) && kinds.contains(&ErrorKind::RateLimited),
        "{kinds:?}"
    );
}

/// The schedule is policy per flavor group: a host moved into a group with a short
/// schedule is told to attest at its interval and expires at its deadline, while the
/// service's defaults (30 s of trust here) would have kept it trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flavor_group_has_its_own_schedule() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("group-schedule").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.trust_validity_secs = 30;
        c.attestation_interval_secs = 10;
    })
    .await
    .unwrap();
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    let host_id = s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "g".into(),
        parts: vec![],
        flavor_group: None,
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    let r = s.attest_once().await.unwrap();
    assert!(r.trusted);
    assert_eq!(r.next_attestation_in, 10, "the service's default interval");

    // A group like the default one, with its own schedule, and its own flavors.
    let mut fast = FlavorGroup::default_group("fast");
    fast.schedule = Some(Schedule {
        interval_secs: 1,
        grace_secs: 1,
    });
    let _: FlavorGroup = p.admin.post("/v1/flavor-groups", &fast).await.unwrap();
    let req = FlavorsFromHostRequest {
        host_id: host_id.clone(),
        label: "g-fast".into(),
        parts: vec![],
        flavor_group: Some("fast".into()),
    };
    let _: FlavorList = p.admin.post("/v1/flavors/from-host", &req).await.unwrap();
    let _: serde_json::Value = p
        .admin
        .put(
            &format!("/v1/hosts/{host_id}/group"),
            &AssignGroup {
                flavor_group: "fast".into(),
            },
        )
        .await
        .unwrap();
    let mut events = EventReader::open(&p.admin, None).await.unwrap();
    let r = s.attest_once().await.unwrap();
    assert!(r.trusted);
    assert_eq!(r.next_attestation_in, 1, "the group's interval");
    let h = p.admin.hosts().await.unwrap().remove(0);
    assert_eq!(h.flavor_group, "fast");
    let valid_for = h.trust_expires_at.unwrap() - h.last_attested_at.unwrap();
    assert_eq!(valid_for, 2, "interval + grace");
    let (_, e) = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (e.previous, e.trust),
        (TrustState::Trusted, TrustState::Expired),
        "missed the group's deadline"
    );

    // Schedules and assignments are checked.
    fast.schedule = Some(Schedule {
        interval_secs: 0,
        grace_secs: 1,
    });
    let err = p
        .admin
        .post::<_, FlavorGroup>("/v1/flavor-groups", &fast)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("interval_secs"), "{err:#}");
    let err = p
        .admin
        .put::<_, serde_json::Value>(
            &format!("/v1/hosts/{host_id}/group"),
            &AssignGroup {
                flavor_group: "nonexistent".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("nonexistent"), "{err:#}");
}
