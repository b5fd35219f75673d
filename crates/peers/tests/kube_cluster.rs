#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The real control plane of `scripts/kube-cluster.sh`, checked with real requests: the
//! administrator labels and taints a node; the node's own kubelet identity cannot touch labels
//! under `node-restriction.kubernetes.io/` nor taints (NodeRestriction is really on) but can set
//! an ordinary label on itself; a Deployment's pods are scheduled by the real scheduler and run
//! on kwok's fake nodes, and a deleted pod really goes away. Fails when the control plane is
//! missing, or skips where a developer allowed it (`ironroot_testkit::skip_missing_peer`).

use ironroot_peers::kube::{missing, Cluster};
use ironroot_peers::Output;
use std::path::Path;

const TRUST: &str = "ironroot.node-restriction.kubernetes.io/trust";
const TAG: &str = "tag.ironroot.node-restriction.kubernetes.io/zone";
const TAINT: &str = "ironroot.node-restriction.kubernetes.io/untrusted";

fn ok(what: &str, out: Output) -> String {
    assert!(out.ok, "{what} failed: {}", out.stderr);
    out.stdout
}

async fn labels(c: &Cluster, node: &str) -> String {
    let out = c
        .kubectl(&["get", "node", node, "-o", "jsonpath={.metadata.labels}"])
        .await
        .unwrap();
    ok("reading labels", out)
}

async fn taints(c: &Cluster, node: &str) -> String {
    let out = c
        .kubectl(&["get", "node", node, "-o", "jsonpath={.spec.taints}"])
        .await
        .unwrap();
    ok("reading taints", out)
}

/// Runs kubectl as `kubeconfig` and asserts the API server refused it with `why`.
async fn refused(c: &Cluster, kubeconfig: &Path, args: &[&str], why: &str) {
    let out = c.kubectl_with(kubeconfig, args).await.unwrap();
    assert!(!out.ok, "kubectl {args:?} was allowed: {}", out.stdout);
    assert!(
        out.stderr.contains("Forbidden") && out.stderr.contains(why),
        "kubectl {args:?} failed, but not as forbidden ({why}): {}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn node_restriction_is_enforced_and_pods_run_on_fake_nodes() {
    if let Some(why) = missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return;
    }
    let c = Cluster::start(2).await.unwrap();
    assert!(c.apiserver().starts_with("https://127.0.0.1:"));
    assert!(c.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));

    // (1) The administrator labels and taints node-1.
    let trusted = format!("{TRUST}=trusted");
    let tag = format!("{TAG}=eu");
    let out = c
        .kubectl(&["label", "node", "node-1", &trusted, &tag])
        .await
        .unwrap();
    ok("admin labels node-1", out);
    let taint = format!("{TAINT}=untrusted:NoSchedule");
    ok(
        "admin taints node-1",
        c.kubectl(&["taint", "node", "node-1", &taint])
            .await
            .unwrap(),
    );
    let before = (labels(&c, "node-1").await, taints(&c, "node-1").await);
    assert!(
        before.0.contains(&format!("\"{TRUST}\":\"trusted\"")),
        "{}",
        before.0
    );
    assert!(before.1.contains(TAINT), "{}", before.1);

    // (2) node-1's kubelet may not add, change or remove those labels, nor touch its taints.
    let node1 = c.node_kubeconfig("node-1").unwrap();
    let labels_why = "is not allowed to modify labels";
    for args in [
        vec![
            "label",
            "node",
            "node-1",
            "--overwrite",
            "ironroot.node-restriction.kubernetes.io/trust=untrusted",
        ],
        vec![
            "label",
            "node",
            "node-1",
            "ironroot.node-restriction.kubernetes.io/trust-",
        ],
        vec![
            "label",
            "node",
            "node-1",
            "ironroot.node-restriction.kubernetes.io/other=x",
        ],
        vec![
            "label",
            "node",
            "node-1",
            "--overwrite",
            "tag.ironroot.node-restriction.kubernetes.io/zone=us",
        ],
        vec![
            "label",
            "node",
            "node-1",
            "tag.ironroot.node-restriction.kubernetes.io/zone-",
        ],
        vec![
            "label",
            "node",
            "node-1",
            "tag.ironroot.node-restriction.kubernetes.io/new=x",
        ],
    ] {
        refused(&c, &node1, &args, labels_why).await;
    }
    let taints_why = "is not allowed to modify taints";
    let remove = format!("{TAINT}-");
    refused(
        &c,
        &node1,
        &["taint", "node", "node-1", &remove],
        taints_why,
    )
    .await;
    let change = format!("{TAINT}=trusted:NoSchedule");
    refused(
        &c,
        &node1,
        &["taint", "node", "node-1", "--overwrite", &change],
        taints_why,
    )
    .await;
    assert_eq!(
        before,
        (labels(&c, "node-1").await, taints(&c, "node-1").await)
    );
    // The Node authorizer keeps it to its own Node object.
    let other = ["label", "node", "node-2", "example.com/x=y"];
    let out = c.kubectl_with(&node1, &other).await.unwrap();
    assert!(
        !out.ok && out.stderr.contains("Forbidden"),
        "{}",
        out.stderr
    );
    // An ordinary label on its own node is allowed: the refusals above are NodeRestriction's.
    let own = ["label", "node", "node-1", "example.com/x=y"];
    ok(
        "node-1 labels itself",
        c.kubectl_with(&node1, &own).await.unwrap(),
    );
    assert!(labels(&c, "node-1")
        .await
        .contains("\"example.com/x\":\"y\""));

    // (3) With the taint gone, the real scheduler places pods on both fake nodes; kwok runs them.
    ok(
        "admin removes the taint",
        c.kubectl(&["taint", "node", "node-1", &remove])
            .await
            .unwrap(),
    );
    let deploy = [
        "create",
        "deployment",
        "web",
        "--image=registry.invalid/web:1",
        "--replicas=2",
    ];
    ok("creating the deployment", c.kubectl(&deploy).await.unwrap());
    let wait = [
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "--timeout=60s",
    ];
    ok(
        "waiting for the deployment",
        c.kubectl(&wait).await.unwrap(),
    );
    let jp =
        "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{\"\\n\"}{end}";
    let pods = ok(
        "listing pods",
        c.kubectl(&["get", "pods", "-l", "app=web", "-o", jp])
            .await
            .unwrap(),
    );
    let pods: Vec<Vec<&str>> = pods.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(pods.len(), 2, "{pods:?}");
    for p in &pods {
        assert!(
            ["node-1", "node-2"].contains(&p[1]) && p[2] == "Running",
            "{pods:?}"
        );
    }
    // A deleted pod is finalised by kwok (there is no kubelet) and replaced.
    let gone = ["delete", "pod", pods[0][0], "--wait=true", "--timeout=30s"];
    ok("deleting a pod", c.kubectl(&gone).await.unwrap());
    ok("the replacement runs", c.kubectl(&wait).await.unwrap());
}
