//! The cluster side of the policy hub against a real control plane (kube-apiserver
//! v1.37 with etcd, kube-controller-manager, kube-scheduler and kwok Nodes): the
//! background audit over real pods writes one bounded `wgpolicyk8s.io` PolicyReport per
//! namespace and reports compliance and new violations to the hub; the built-ins become
//! ValidatingAdmissionPolicies that the real API server enforces, and leave with their
//! policy. The hub is a recording one here (the bundle's way from a real service is in
//! hub.rs); the facts are fixed (these rules read the pod alone).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "k8s/governance_support.rs"]
mod support;

use ironroot_api::{ComplianceStatus, ViolationAction};
use ironroot_controller::hub::{policy_report, vap, vap_apply, HubStats};
use ironroot_controller::policies::{Policies, ViolationQueue};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_over_real_pods_writes_one_bounded_policy_report_per_namespace() {
    let Some((_c, kube)) = start().await else {
        return;
    };
    assert!(
        policy_report::ensure_crd(&kube).await.unwrap(),
        "the CRD applies"
    );
    for ns in ["apps", "web", "ironroot-system"] {
        namespace(&kube, ns).await;
    }
    let img = "registry.local:5000/app:1";
    create_pod(&kube, "apps", "good", img, false).await.unwrap();
    create_pod(&kube, "apps", "bad", img, true).await.unwrap();
    create_pod(&kube, "web", "ok", img, false).await.unwrap();
    // The controller's own namespace is never audited.
    create_pod(&kube, "ironroot-system", "self", img, true)
        .await
        .unwrap();

    let policies = Arc::new(Policies::new(Some(active(SET))));
    let hub = Arc::new(RecordingHub::default());
    let (queue, mut found) = ViolationQueue::new();
    let auditor = auditor(&kube, hub.clone(), policies, queue);
    let mut reported = BTreeSet::new();
    // ensure_crd returned once the new CRD is served.
    reports_api(&kube, "apps")
        .list(&Default::default())
        .await
        .unwrap();
    auditor.pass(&mut reported).await.unwrap().unwrap();

    let apps = reports_api(&kube, "apps").get("ironroot").await.unwrap();
    // 2 pods × 4 policies in scope (registries is scoped to `regs`): good passes all 4;
    // bad fails no-privileged and read-only-root warns.
    assert_eq!(
        apps.data["summary"],
        json!({ "pass": 6, "fail": 1, "warn": 1, "error": 0, "skip": 0 })
    );
    assert_eq!(apps.data["results"][0]["result"], "fail");
    assert_eq!(apps.data["results"][0]["policy"], "no-privileged");
    assert_eq!(apps.data["results"][0]["resources"][0]["name"], "bad");
    let web = reports_api(&kube, "web").get("ironroot").await.unwrap();
    assert_eq!(web.data["summary"]["pass"], 4);
    assert!(reports_api(&kube, "ironroot-system")
        .get_opt("ironroot")
        .await
        .unwrap()
        .is_none());

    let sent = hub.compliance.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].policy_version, 7);
    assert!(!sent[0].webhook_serving, "no webhook served here");
    let np = sent[0]
        .policies
        .iter()
        .find(|p| p.policy == "no-privileged")
        .unwrap();
    assert_eq!(
        (np.status, np.checked, np.violations),
        (ComplianceStatus::NonCompliant, 3, 1)
    );
    let regs = sent[0]
        .policies
        .iter()
        .find(|p| p.policy == "registries")
        .unwrap();
    assert_eq!(
        (regs.status, regs.checked),
        (ComplianceStatus::Compliant, 0)
    );

    let mut events = Vec::new();
    while let Ok(v) = found.try_recv() {
        events.push(v);
    }
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .all(|v| v.action == ViolationAction::Found && v.object.name == "bad"));
    // The next pass finds the same violations: nothing new is sent.
    auditor.pass(&mut reported).await.unwrap();
    assert!(found.try_recv().is_err());

    // A namespace with nothing left loses its report.
    let pods: Api<Pod> = Api::namespaced(kube.clone(), "web");
    pods.delete(
        "ok",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait("the pod is gone", || async {
        pods.get_opt("ok").await.unwrap().is_none()
    })
    .await;
    auditor.pass(&mut reported).await.unwrap();
    assert!(reports_api(&kube, "web")
        .get_opt("ironroot")
        .await
        .unwrap()
        .is_none());
    assert!(reports_api(&kube, "apps")
        .get_opt("ironroot")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_enforces_the_generated_admission_policies_and_drops_a_removed_one() {
    let Some((_c, kube)) = start().await else {
        return;
    };
    assert!(vap_apply::served(&kube).await.unwrap());
    for ns in ["apps", "regs", "ironroot-system"] {
        namespace(&kube, ns).await;
    }
    let skip = vec!["kube-system".to_owned(), "ironroot-system".to_owned()];
    let desired = vap::desired(&active(SET), &skip, 1_700_000_000);
    let synced = vap_apply::sync(&kube, &desired).await.unwrap();
    assert_eq!(synced.applied.len(), 6);

    // Every generated expression type-checks against the real Pod schema.
    let vaps: Api<k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy> =
        Api::all(kube.clone());
    let mut warnings = Vec::new();
    for name in desired.keys() {
        wait("type checking", || async {
            let p = vaps.get(name).await.unwrap();
            p.status.and_then(|s| s.observed_generation).is_some()
        })
        .await;
        let status = vaps.get(name).await.unwrap().status.unwrap();
        for w in status
            .type_checking
            .and_then(|t| t.expression_warnings)
            .unwrap_or_default()
        {
            warnings.push(format!("{name}: {}", w.warning));
        }
    }
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));

    let img = "registry.local:5000/app:1";
    // Each policy and its binding reach the API server's admission a moment after they
    // are written, each on its own informer: wait until every one refuses before
    // asserting on what it lets through.
    until_refused(
        &kube,
        "apps",
        pod_json("", img, true),
        "no-privileged: privileged containers are not allowed",
    )
    .await;
    until_refused(
        &kube,
        "regs",
        pod_json("", "evil.example.com/app:1", false),
        "registries: images must come from an approved registry",
    )
    .await;
    create_pod(&kube, "apps", "compliant", img, false)
        .await
        .unwrap();
    // kubectl debug: only the ephemeral container an update adds is judged.
    let apps: Api<Pod> = Api::namespaced(kube.clone(), "apps");
    let debug = |name: &str, privileged: bool| {
        let c =
            json!({ "name": name, "image": img, "securityContext": { "privileged": privileged } });
        Patch::Strategic(json!({ "spec": { "ephemeralContainers": [c] } }))
    };
    let on = PatchParams::default();
    let err = apps
        .patch_subresource(
            "ephemeralcontainers",
            "compliant",
            &on,
            &debug("dbg-priv", true),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no-privileged: privileged containers are not allowed"),
        "{err}"
    );
    apps.patch_subresource(
        "ephemeralcontainers",
        "compliant",
        &on,
        &debug("dbg", false),
    )
    .await
    .unwrap();
    // Excluded: the controller's own namespace.
    create_pod(&kube, "ironroot-system", "priv", img, true)
        .await
        .unwrap();
    // approved-registries, scoped to `regs`, with Docker's normalization.
    // (refused above); an unexpired exclusion by name holds at the API server too.
    create_pod(&kube, "regs", "legacy-1", "evil.example.com/app:1", false)
        .await
        .unwrap();
    for (i, ok) in ["busybox:1.36", "docker.io/library/busybox", "registry.local:5000/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000"].iter().enumerate() {
        create_pod(&kube, "regs", &format!("ok-{i}"), ok, false).await.unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for (i, bad) in [
        "bitnami/nginx",
        "registry.local:5001/app",
        "registry.local.evil.com:5000/app",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            create_pod(&kube, "regs", &format!("bad-{i}"), bad, false)
                .await
                .is_err(),
            "{bad} was admitted"
        );
    }

    // resource-limits: a pod without a memory limit is refused, one with a pod-level
    // limit is admitted.
    let pods: Api<Pod> = Api::namespaced(kube.clone(), "regs");
    let mut bare = pod_json("bare", img, false);
    bare["spec"]["containers"][0]["resources"] = json!({});
    until_refused(
        &kube,
        "regs",
        bare.clone(),
        "limits-enforced: every container must have a memory limit",
    )
    .await;
    bare["metadata"]["name"] = json!("pod-level");
    bare["spec"]["resources"] = json!({ "limits": { "memory": "64Mi" } });
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(bare).unwrap(),
    )
    .await
    .unwrap();

    // no-privileged leaves the set: its policy and binding go, and the pod is admitted.
    let without = without_no_privileged();
    let desired = vap::desired(&active(&without), &skip, 1_700_000_000);
    let synced = vap_apply::sync(&kube, &desired).await.unwrap();
    assert_eq!(synced.removed, vec!["ironroot-no-privileged".to_owned()]);
    assert!(vaps
        .get_opt("ironroot-no-privileged")
        .await
        .unwrap()
        .is_none());
    let bindings: Api<
        k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    > = Api::all(kube.clone());
    assert!(bindings
        .get_opt("ironroot-no-privileged")
        .await
        .unwrap()
        .is_none());
    let mut n = 0;
    wait("a privileged pod is admitted again", || {
        n += 1;
        let kube = kube.clone();
        async move {
            create_pod(&kube, "apps", &format!("after-{n}"), img, true)
                .await
                .is_ok()
        }
    })
    .await;
}

/// A policy set once at a real hub (the service) reaches two real clusters (two API
/// servers, each with its controller's hub part and its own certificate) through their
/// signed bundles, and a change there reaches both API servers' admission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_changed_at_the_hub_is_enforced_in_both_clusters() {
    if start_hub_check() {
        return;
    }
    let dir = ironroot_e2e::TempDir::new("k8s-hub").unwrap();
    let state = dir.0.clone();
    let p = ironroot_e2e::Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
    })
    .await
    .unwrap();
    p.admin.put_policies(&change(1, SET)).await.unwrap();
    let mut members = Vec::new();
    for name in ["east", "west"] {
        members.push(Member::join(&p, name, &state.join(name)).await);
    }
    let img = "registry.local:5000/app:1";
    for m in &members {
        let mut n = 0;
        wait("the hub's no-privileged refuses a privileged pod", || {
            n += 1;
            let kube = m.kube.clone();
            async move {
                create_pod(&kube, "apps", &format!("priv-{n}"), img, true)
                    .await
                    .is_err()
            }
        })
        .await;
        assert_eq!(m.policies.current().unwrap().version, 1);
        assert!(
            m.state_dir.join("bundle.jws").exists(),
            "the last good bundle is kept"
        );
    }

    // no-privileged leaves the set at the hub: both clusters admit the pod again.
    let t0 = std::time::Instant::now();
    p.admin
        .put_policies(&change(2, &without_no_privileged()))
        .await
        .unwrap();
    for m in &members {
        let vaps: Api<k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy> =
            Api::all(m.kube.clone());
        wait("the VAP leaves with its policy", || async {
            vaps.get_opt("ironroot-no-privileged")
                .await
                .unwrap()
                .is_none()
        })
        .await;
    }
    eprintln!(
        "a change at the hub reached both clusters' admission in {:?}",
        t0.elapsed()
    );
    for m in &members {
        assert_eq!(m.policies.current().unwrap().version, 2);
        assert_eq!(HubStats::get(&m.stats.bundles_refused), 0);
        let mut n = 0;
        wait("a privileged pod is admitted again", || {
            n += 1;
            let kube = m.kube.clone();
            async move {
                create_pod(&kube, "apps", &format!("after-{n}"), img, true)
                    .await
                    .is_ok()
            }
        })
        .await;
    }
    // Each audit after the bundle reported under version 2.
    wait("the hub hears version 2 from both", || async {
        let clusters = p.admin.clusters().await.unwrap();
        clusters.len() == 2 && clusters.iter().all(|c| c.policy_version == Some(2))
    })
    .await;
}

/// Creates pods `probe-N` from `template` in `namespace` until the API server refuses
/// one, then checks the refusal names `message`. A pod admitted meanwhile (the policy
/// not yet loaded) is left behind under its own name.
async fn until_refused(
    kube: &kube::Client,
    namespace: &str,
    template: serde_json::Value,
    message: &str,
) {
    let pods: Api<Pod> = Api::namespaced(kube.clone(), namespace);
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    wait(&format!("{message} (in {namespace})"), || {
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut pod = template.clone();
        pod["metadata"]["name"] = json!(format!("probe-{n}"));
        let pods = pods.clone();
        async move {
            match pods
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(pod).unwrap(),
                )
                .await
            {
                Err(kube::Error::Api(e)) => {
                    assert!(e.message.contains(message), "{}", e.message);
                    true
                }
                Err(e) => panic!("{e}"),
                Ok(_) => false,
            }
        }
    })
    .await;
}
