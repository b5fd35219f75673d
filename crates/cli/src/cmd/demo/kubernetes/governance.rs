//! The demo's governance scene (issue 14): the service is also the policy hub. The cluster
//! registers with a key made here (its certificate, not the administrator token, is what
//! its controller speaks with), a security officer publishes a policy set once, and the
//! controller pulls it signed, enforces it at admission, audits the running pods and
//! reports compliance back, where the dashboard shows it.

use crate::cmd::admin::AdminClient;
use anyhow::Context;
use ironroot_api::{ComplianceStatus, PolicyChange, RegisterCluster};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

/// The cluster's name at the hub.
pub(super) const CLUSTER: &str = "demo";

/// The set the officer publishes: one enforced, one audited (the demo's workloads state
/// requests but no limits, so the audit finds them).
const POLICIES: &str = r#"version: 1
policies:
  - id: no-privileged
    description: No container runs privileged.
    severity: critical
    mode: enforce
    remediation: deny
    rule: { no-privileged: {} }
  - id: resource-limits
    description: Every container states CPU and memory limits.
    severity: medium
    mode: audit
    remediation: alert
    rule: { resource-limits: { cpu: true, memory: true } }
"#;

/// The cluster's identity at the hub: its certificate and the key made here.
pub(super) struct Identity {
    pub cert_pem: String,
    pub key_pem: zeroize::Zeroizing<String>,
}

/// Registers the cluster and publishes the policy set; returns the identity and when the
/// set was published.
pub(super) async fn register(admin: &AdminClient) -> anyhow::Result<(Identity, Instant)> {
    let (key_pem, csr_pem) = ironroot_client::new_key_and_csr(CLUSTER)?;
    let reg = admin
        .register_cluster(&RegisterCluster {
            name: CLUSTER.into(),
            csr_pem,
        })
        .await
        .context("registering the cluster with the hub")?;
    let version = admin
        .put_policies(&PolicyChange {
            document: POLICIES.into(),
            by: "security-officer".into(),
            comment: Some("the demo's policies".into()),
        })
        .await
        .context("publishing the policy set")?;
    println!(
        "    cluster {CLUSTER} registered ({}); policy set v{} published by {}: \
         no-privileged (enforce), resource-limits (audit)",
        reg.id, version.version, version.by
    );
    Ok((
        Identity {
            cert_pem: reg.cert_pem,
            key_pem,
        },
        Instant::now(),
    ))
}

/// A privileged pod is refused by the hub's policy (waiting for the bundle to arrive),
/// then the compliance the cluster reported is printed.
pub(super) async fn show(
    kube: &kube::Client,
    admin: &AdminClient,
    published: Instant,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(kube.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "debug-shell", "namespace": "default"},
        "spec": {"containers": [{"name": "shell", "image": "busybox",
                 "securityContext": {"privileged": true}}]}
    }))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let why = loop {
        match api.create(&PostParams::default(), &pod).await {
            Err(kube::Error::Api(s)) if s.code == 403 || s.message.contains("no-privileged") => {
                break s
                    .message
                    .split_once("denied the request: ")
                    .map_or(s.message.clone(), |(_, w)| w.to_owned());
            }
            Err(e) => return Err(e).context("creating the privileged pod"),
            Ok(_) => {
                // Admitted before the bundle arrived: take it back and try again.
                let _ = api.delete("debug-shell", &DeleteParams::default()).await;
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "the hub's policy set did not reach the cluster within 30 s"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    println!(
        "    debug-shell (privileged): REFUSED {:.1} s after the set was published: {why}",
        published.elapsed().as_secs_f64()
    );
    // An audit that started after the workloads ran: the first one, right after the
    // bundle arrived, may have seen none of them.
    let since = ironroot_timestamp::now_unix() + 1;
    let overview = loop {
        let o = admin.compliance().await?;
        let reported = o
            .policies
            .iter()
            .flat_map(|p| &p.clusters)
            .all(|c| c.reported_at.is_some_and(|t| t >= since));
        if reported && !o.policies.is_empty() {
            break o;
        }
        anyhow::ensure!(
            published.elapsed() < Duration::from_secs(90),
            "the cluster reported no compliance within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "    compliance the cluster's audit reported to the hub (`ironroot compliance show`): {}",
        overview.status.as_str()
    );
    for p in &overview.policies {
        for c in &p.clusters {
            let mark = if c.status == ComplianceStatus::Compliant {
                ""
            } else {
                "  <- an alert for each, on the dashboard's Violations view"
            };
            println!(
                "      {:<16} {:<8} {:<14} {} violations{mark}",
                p.policy,
                p.severity,
                c.status.as_str(),
                c.violations
            );
        }
    }
    Ok(())
}
