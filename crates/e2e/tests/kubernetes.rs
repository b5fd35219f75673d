//! Trust reaches Kubernetes, against a real control plane (kube-apiserver with etcd and
//! NodeRestriction, kube-scheduler, kube-controller-manager, kwok nodes) and a real
//! service with development nodes whose swtpm TPMs are really quoted.
//!
//! Each test runs the controller in-process on the library the `ironroot controller`
//! command runs, against the cluster's API server with the administrator's credentials
//! (the RBAC test runs it with its own ServiceAccount's token instead).

mod k8s;

use ironroot_controller::labels::TRUST_LABEL;
use k8s::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn labels_and_taints_follow_trust_and_a_tampered_node_is_drained() {
    let Some(mut f) = Fixture::start(
        "k8s-drain",
        &[("node-1", "EU"), ("node-2", "EU"), ("node-3", "US")],
    )
    .await
    else {
        return;
    };
    let ctl = f.controller(settings()).await;
    for n in ["node-1", "node-2", "node-3"] {
        f.wait_trust(n, "trusted").await;
        assert_eq!(f.taint(n).await, None, "{n} is trusted: no taint");
    }
    assert_eq!(
        f.label(
            "node-1",
            "tag.ironroot.node-restriction.kubernetes.io/region"
        )
        .await
        .as_deref(),
        Some("EU")
    );
    assert_eq!(
        f.label(
            "node-3",
            "tag.ironroot.node-restriction.kubernetes.io/region"
        )
        .await
        .as_deref(),
        Some("US")
    );
    // The published report is the service's signed report, verifiable offline.
    let jws = f
        .annotation("node-1", ironroot_controller::labels::REPORT_ANNOTATION)
        .await
        .expect("a report");
    f.verify_report(&jws).await;

    // Six pods spread by the real scheduler; two of them (at least) on node-3.
    f.deploy("web", 6, None).await;
    f.wait_running("app=web", 6).await;
    let before = f.pods_on("node-3", "app=web").await;

    let t0 = std::time::Instant::now();
    f.tamper(2).await;
    f.wait_trust("node-3", "untrusted").await;
    let tainted = t0.elapsed();
    assert_eq!(
        f.taint("node-3").await,
        Some(("untrusted".into(), "NoSchedule".into()))
    );
    f.wait_until("node-3 emptied", Duration::from_secs(30), || async {
        f.pods_on("node-3", "app=web").await.is_empty()
    })
    .await;
    let drained = t0.elapsed();
    f.wait_running("app=web", 6).await;
    assert!(
        f.pods_on("node-3", "app=web").await.is_empty(),
        "rescheduled elsewhere"
    );
    eprintln!(
        "tamper -> taint {tainted:?}, -> last of {} pods evicted {drained:?}",
        before.len()
    );
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_claiming_another_nodes_name_gains_nothing() {
    // Two hosts, trusted. Only node-2's host is bound (to node-2); whatever node-1 reports,
    // and whatever the hosts call themselves, node-1 gains no trust.
    let Some(mut f) =
        Fixture::start_unbound("k8s-spoof", &[("node-1", "EU"), ("node-2", "EU")]).await
    else {
        return;
    };
    // Only node-2's host is bound (to node-2). node-1 has no binding.
    f.bind(1, "node-2").await;
    let ctl = f.controller(settings()).await;
    f.wait_trust("node-2", "trusted").await;
    f.wait_trust("node-1", "unknown").await;
    assert_eq!(
        f.taint("node-1").await,
        Some(("unknown".into(), "NoSchedule".into()))
    );
    // The attacker makes node-1 report its host's hardware UUID: still nothing, since
    // only an administrator's binding links a host to a Node.
    f.set_system_uuid("node-1", "uuid-node-2").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        f.label("node-1", TRUST_LABEL).await.as_deref(),
        Some("unknown")
    );
    // A binding to a Node whose systemUUID is another machine's is refused trust too.
    f.set_system_uuid("node-2", "uuid-node-1").await;
    f.wait_trust("node-2", "unknown").await;
    let reason = f
        .annotation("node-2", ironroot_controller::labels::REASON_ANNOTATION)
        .await
        .unwrap_or_default();
    assert!(reason.contains("systemUUID"), "{reason}");
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_outage_evicts_nothing_and_a_restart_changes_nothing() {
    let Some(mut f) = Fixture::start("k8s-outage", &[("node-1", "EU"), ("node-2", "EU")]).await
    else {
        return;
    };
    let mut s = settings();
    s.follow.unreachable_grace = Duration::from_secs(2);
    let ctl = f.controller(s.clone()).await;
    f.wait_trust("node-1", "trusted").await;
    f.wait_trust("node-2", "trusted").await;
    f.deploy("web", 4, None).await;
    f.wait_running("app=web", 4).await;
    let pods = f.pod_names("app=web").await;

    // The controller restarts: nothing changes on any Node.
    ctl.abort();
    let versions = f.node_versions().await;
    let ctl = f.controller(s.clone()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        f.node_versions().await,
        versions,
        "a restart wrote to a Node"
    );

    // The service goes away: every Node turns unknown and NoSchedule, no pod is evicted.
    f.stop_service().await;
    f.wait_trust("node-1", "unknown").await;
    f.wait_trust("node-2", "unknown").await;
    assert_eq!(
        f.taint("node-1").await,
        Some(("unknown".into(), "NoSchedule".into()))
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(f.pod_names("app=web").await, pods, "an outage evicted pods");

    // The service is back and the nodes attest: trusted again, the taints go.
    f.restart_service().await;
    f.attest_all().await;
    f.wait_trust("node-1", "trusted").await;
    f.wait_trust("node-2", "trusted").await;
    assert_eq!(f.taint("node-1").await, None);
    assert_eq!(f.pod_names("app=web").await, pods);
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mass_flip_holds_the_drains_and_raises_an_alert() {
    let nodes = [
        ("node-1", "EU"),
        ("node-2", "EU"),
        ("node-3", "EU"),
        ("node-4", "EU"),
        ("node-5", "EU"),
    ];
    let Some(mut f) = Fixture::start("k8s-brake", &nodes).await else {
        return;
    };
    // The three tampers below take a moment each: the settle window covers them, as it
    // covers the moments over which a real mass flip arrives.
    let mut s = settings();
    s.drain_settle = Duration::from_secs(3);
    let ctl = f.controller(s).await;
    for (n, _) in nodes {
        f.wait_trust(n, "trusted").await;
    }
    f.deploy("web", 10, None).await;
    f.wait_running("app=web", 10).await;
    let pods = f.pod_names("app=web").await;
    // Three of five flip together (a bad flavor push looks like this).
    for i in 0..3 {
        f.tamper(i).await;
    }
    for (n, _) in &nodes[..3] {
        f.wait_trust(n, "untrusted").await;
    }
    f.wait_until("a DrainHeld event", Duration::from_secs(10), || async {
        f.events_with_reason("DrainHeld").await > 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        f.pod_names("app=web").await,
        pods,
        "the brake let pods be evicted"
    );
    assert_eq!(f.events_with_reason("DrainStarted").await, 0);
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_execute_empties_a_tampered_node_at_once() {
    let Some(mut f) = Fixture::start(
        "k8s-noexec",
        &[("node-1", "EU"), ("node-2", "EU"), ("node-3", "EU")],
    )
    .await
    else {
        return;
    };
    let mut s = settings();
    s.untrusted_effect = ironroot_controller::desired::TaintEffect::NoExecute;
    s.drain = false; // the taint alone (the real taint-eviction controller) empties it
    let ctl = f.controller(s).await;
    for n in ["node-1", "node-2", "node-3"] {
        f.wait_trust(n, "trusted").await;
    }
    f.deploy("web", 6, None).await;
    f.wait_running("app=web", 6).await;
    f.tamper(2).await;
    f.wait_trust("node-3", "untrusted").await;
    assert_eq!(
        f.taint("node-3").await,
        Some(("untrusted".into(), "NoExecute".into()))
    );
    f.wait_until(
        "node-3 emptied by NoExecute",
        Duration::from_secs(30),
        || async { f.pods_on("node-3", "app=web").await.is_empty() },
    )
    .await;
    f.wait_running("app=web", 6).await;
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_region_bound_pod_is_scheduled_only_on_a_trusted_node_with_the_tag() {
    let Some(mut f) = Fixture::start(
        "k8s-region",
        &[("node-1", "EU"), ("node-2", "US"), ("node-3", "EU")],
    )
    .await
    else {
        return;
    };
    let ctl = f.controller(settings()).await;
    for n in ["node-1", "node-2", "node-3"] {
        f.wait_trust(n, "trusted").await;
    }
    // node-3 (EU) is tampered: only node-1 is trusted and in the EU.
    f.tamper(2).await;
    f.wait_trust("node-3", "untrusted").await;
    f.deploy("gdpr", 3, Some("EU")).await;
    f.wait_running("app=gdpr", 3).await;
    assert_eq!(
        f.pods_on("node-1", "app=gdpr").await.len(),
        3,
        "every EU pod on node-1"
    );
    ctl.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_eu_workload_runs_only_on_trusted_eu_nodes_and_is_refused_elsewhere() {
    let Some(mut f) = Fixture::start(
        "k8s-gdpr",
        &[("node-1", "EU"), ("node-2", "US"), ("node-3", "EU")],
    )
    .await
    else {
        return;
    };
    let registry = ironroot_peers::Registry::start(&f.cluster_dir().join("registry"))
        .await
        .expect("a registry");
    let policy = ironroot_api::KeyPolicy {
        asset_tags: [("region".to_string(), "EU".to_string())].into(),
        ..Default::default()
    };
    let (_, sealed) = ironroot_e2e::images::sealed_key(&f.admin, "gdpr", policy)
        .await
        .expect("a key");
    let annotations = serde_json::json!({ironroot_e2e::images::PROVIDER_ANNOTATION: sealed});
    ironroot_e2e::images::push_annotated(&registry.addr, "apps/gdpr:1", annotations)
        .await
        .expect("pushing");
    ironroot_e2e::images::push_annotated(&registry.addr, "apps/plain:1", serde_json::json!({}))
        .await
        .expect("pushing");
    let eu_image = format!("{}/apps/gdpr:1", registry.addr);
    let plain_image = format!("{}/apps/plain:1", registry.addr);

    // One policy in force besides placement: no privileged containers.
    let mut governed = settings();
    let no_privileged = "version: 1\npolicies:\n  - id: no-privileged\n    description: No privileged containers.\n    severity: critical\n    mode: enforce\n    remediation: deny\n    rule: { no-privileged: {} }\n";
    let set = ironroot_policy::PolicySet::from_yaml(no_privileged.as_bytes()).unwrap();
    governed.policies = std::sync::Arc::new(ironroot_controller::policies::Policies::new(Some(
        ironroot_controller::policies::Active {
            set,
            cluster: "local".into(),
            version: 1,
        },
    )));
    let ctl = f.controller_with_webhook(governed).await;
    for n in ["node-1", "node-2", "node-3"] {
        f.wait_trust(n, "trusted").await;
    }
    f.tamper(2).await; // node-3: EU, but no longer trusted
    f.wait_trust("node-3", "untrusted").await;

    // Nobody wrote a placement: the webhook took it from the key's policy, and the real
    // scheduler put every pod on the one trusted EU node.
    f.deploy_image("gdpr", 3, &eu_image).await;
    f.wait_running("app=gdpr", 3).await;
    assert_eq!(f.pods_on("node-1", "app=gdpr").await.len(), 3);
    let placed = f.pod(&f.pods_on("node-1", "app=gdpr").await[0]).await;
    let terms = serde_json::to_value(&placed.spec.unwrap().affinity).unwrap();
    assert!(
        terms
            .to_string()
            .contains("tag.ironroot.node-restriction.kubernetes.io/region"),
        "{terms}"
    );

    // Created straight onto a node (skipping the scheduler): refused on the US node and
    // on the tampered node, admitted on node-1; a plain image only needs a trusted node.
    let on = |name: &str, node: &str, image: &str| {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}]}})
    };
    let refused = |r: Result<k8s_openapi::api::core::v1::Pod, kube::Error>| match r {
        Err(kube::Error::Api(e)) => e.message,
        Ok(p) => panic!("admitted {:?}", p.metadata.name),
        Err(e) => panic!("{e}"),
    };
    let m = refused(f.create_pod(on("by-hand-us", "node-2", &eu_image)).await);
    assert!(
        m.contains("node node-2 lacks the asset tag region=EU"),
        "{m}"
    );
    let m = refused(
        f.create_pod(on("by-hand-tampered", "node-3", &plain_image))
            .await,
    );
    assert!(m.contains("node-3") && m.contains("untrusted"), "{m}");
    f.create_pod(on("by-hand-eu", "node-1", &eu_image))
        .await
        .expect("admitted on node-1");
    f.create_pod(on("plain-us", "node-2", &plain_image))
        .await
        .expect("a plain pod on a trusted node");

    // Bound by hand through pods/binding (what a scheduler does): refused on the US node.
    let mut pending = on("pending", "", &eu_image);
    pending["spec"].as_object_mut().unwrap().remove("nodeName");
    pending["spec"]["schedulerName"] = serde_json::json!("nobody");
    f.create_pod(pending)
        .await
        .expect("a pod no scheduler takes");
    let m = match f.bind_pod("pending", "node-2").await {
        Err(kube::Error::Api(e)) => e.message,
        other => panic!("binding to node-2: {other:?}"),
    };
    assert!(m.contains("region=EU"), "{m}");
    f.bind_pod("pending", "node-1")
        .await
        .expect("binding to node-1");

    // The policy set in force: the real API server refuses a privileged pod with the
    // policy's message.
    let mut privileged = on("privileged", "", &plain_image);
    privileged["spec"]
        .as_object_mut()
        .unwrap()
        .remove("nodeName");
    privileged["spec"]["containers"][0]["securityContext"] =
        serde_json::json!({"privileged": true});
    let m = refused(f.create_pod(privileged).await);
    assert!(
        m.contains("refused by ironroot policy: no-privileged: container app is privileged"),
        "{m}"
    );
    ctl.abort();
}

/// The repository's `deploy/` directory.
fn deploy_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_manifests_apply_and_the_controller_works_under_its_own_rbac_and_no_more() {
    let Some(mut f) = Fixture::start(
        "k8s-rbac",
        &[("node-1", "EU"), ("node-2", "EU"), ("node-3", "EU")],
    )
    .await
    else {
        return;
    };
    let deploy = deploy_dir();
    let file = |name: &str| deploy.join(name).display().to_string();
    // Every manifest is accepted by the real API server (a server-side dry run: the API
    // server validates and admits each object, and stores nothing).
    f.kubectl_ok(&["apply", "-f", &file("namespace.yaml")])
        .await;
    let dry = f
        .kubectl_ok(&[
            "apply",
            "--dry-run=server",
            "-k",
            &deploy.display().to_string(),
        ])
        .await;
    for object in [
        "deployment.apps/ironroot-controller",
        "clusterrole.rbac.authorization.k8s.io/ironroot-controller",
        "daemonset.apps/ironroot-agent",
        "mutatingwebhookconfiguration.admissionregistration.k8s.io/ironroot-placement",
    ] {
        assert!(
            dry.contains(object),
            "{object} missing from the dry run:\n{dry}"
        );
    }
    // The controller's identity, for real, and a token for it.
    f.kubectl_ok(&["apply", "-f", &file("controller.yaml")])
        .await;
    let token = f
        .kubectl_ok(&[
            "create",
            "token",
            "ironroot-controller",
            "-n",
            "ironroot-system",
        ])
        .await;
    let kubeconfig = f.token_kubeconfig(token.trim());
    let sa = ironroot_controller::run::kube_client(Some(&kubeconfig))
        .await
        .expect("a client with the controller's token");

    // Sufficient: labels, taints, the webhook's pod reads, evictions and events all work.
    let ctl = f.controller_as(sa, settings()).await;
    for n in ["node-1", "node-2", "node-3"] {
        f.wait_trust(n, "trusted").await;
    }
    f.deploy("web", 6, None).await;
    f.wait_running("app=web", 6).await;
    f.tamper(2).await;
    f.wait_trust("node-3", "untrusted").await;
    f.wait_until("node-3 drained", Duration::from_secs(30), || async {
        f.pods_on("node-3", "app=web").await.is_empty()
    })
    .await;
    f.wait_until("a DrainStarted event", Duration::from_secs(10), || async {
        f.events_with_reason("DrainStarted").await > 0
    })
    .await;
    ctl.abort();

    // No wider: what it was not given, it cannot do.
    let kc = kubeconfig.display().to_string();
    for (verb, resource) in [
        ("delete", "pods"),
        ("create", "pods"),
        ("patch", "pods"),
        ("update", "nodes"),
        ("delete", "nodes"),
        ("get", "secrets"),
        ("list", "configmaps"),
        ("create", "pods --subresource=exec"),
        ("patch", "mutatingwebhookconfigurations"),
        ("create", "clusterrolebindings"),
    ] {
        let out = f
            .cluster
            .kubectl(
                &[
                    &["--kubeconfig", &kc, "auth", "can-i", verb][..],
                    &resource.split(' ').collect::<Vec<_>>(),
                    &["-A"],
                ]
                .concat(),
            )
            .await
            .expect("kubectl runs");
        assert_eq!(
            out.stdout.trim(),
            "no",
            "the controller may {verb} {resource}"
        );
    }
    for (verb, resource) in [
        ("patch", "nodes"),
        ("create", "pods --subresource=eviction"),
        ("list", "pods"),
    ] {
        let out = f
            .cluster
            .kubectl(
                &[
                    &["--kubeconfig", &kc, "auth", "can-i", verb][..],
                    &resource.split(' ').collect::<Vec<_>>(),
                    &["-A"],
                ]
                .concat(),
            )
            .await
            .expect("kubectl runs");
        assert_eq!(
            out.stdout.trim(),
            "yes",
            "the controller may not {verb} {resource}"
        );
    }
    // One Secret it may write, in its own namespace: its renewed cluster certificate.
    for (secret, namespace, may) in [
        ("ironroot-cluster-identity", "ironroot-system", "yes"),
        ("ironroot-server-secrets", "ironroot-system", "no"),
        ("ironroot-cluster-identity", "default", "no"),
    ] {
        let target = format!("secrets/{secret}");
        let args = [
            "--kubeconfig",
            &kc,
            "auth",
            "can-i",
            "patch",
            &target,
            "-n",
            namespace,
        ];
        let out = f.cluster.kubectl(&args).await.expect("kubectl runs");
        assert_eq!(out.stdout.trim(), may, "patch {target} in {namespace}");
    }
}
