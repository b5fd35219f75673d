//! The Kubernetes act's workloads: Deployments written as a developer would (no
//! affinity), pods bound by hand, and what the act reads back about them.

use anyhow::{bail, Context};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use std::time::Duration;

const NAMESPACE: &str = "default";

/// The pod spec of every workload here: one small container that leaves at once.
fn pod_spec(image: &str) -> serde_json::Value {
    json!({
        "containers": [{"name": "app", "image": image,
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
        "terminationGracePeriodSeconds": 0
    })
}

/// A Deployment of `replicas` pods labelled `app=NAME`.
pub(super) async fn deploy(
    kube: &kube::Client,
    name: &str,
    replicas: i32,
    image: &str,
) -> anyhow::Result<()> {
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(image)}}
    }))?;
    Api::<Deployment>::namespaced(kube.clone(), NAMESPACE)
        .create(&PostParams::default(), &d)
        .await
        .with_context(|| format!("creating the Deployment {name}"))?;
    Ok(())
}

/// Waits for exactly `n` Running pods matching `selector`, none terminating and none on
/// a Node of `not_on`.
pub(super) async fn wait_settled(
    kube: &kube::Client,
    selector: &str,
    n: usize,
    not_on: &[&str],
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(kube.clone(), NAMESPACE);
    let params = ListParams::default().labels(selector);
    super::wait_until(Duration::from_secs(60), || async {
        let Ok(list) = api.list(&params).await else {
            return false;
        };
        list.items.len() == n
            && list.items.iter().all(|p| {
                let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
                p.metadata.deletion_timestamp.is_none()
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    && node.is_some_and(|node| !not_on.contains(&node))
            })
    })
    .await
    .with_context(|| {
        format!("{n} pods {selector} did not all run (outside {not_on:?}) within 60 s")
    })
}

/// The required node affinity of the first pod matching `selector`, on one line.
pub(super) async fn affinity_of(kube: &kube::Client, selector: &str) -> anyhow::Result<String> {
    let api: Api<Pod> = Api::namespaced(kube.clone(), NAMESPACE);
    let pods = api.list(&ListParams::default().labels(selector)).await?;
    let terms = pods
        .items
        .first()
        .and_then(|p| p.spec.as_ref()?.affinity.as_ref()?.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default();
    if terms.is_empty() {
        bail!("the webhook added no node affinity to the pods {selector}");
    }
    let term = |t: &k8s_openapi::api::core::v1::NodeSelectorTerm| {
        t.match_expressions
            .iter()
            .flatten()
            .map(|e| {
                format!(
                    "{} {} [{}]",
                    e.key,
                    e.operator,
                    e.values.clone().unwrap_or_default().join(",")
                )
            })
            .collect::<Vec<_>>()
            .join(" and ")
    };
    Ok(terms.iter().map(term).collect::<Vec<_>>().join(" or "))
}

/// Creates a pod bound by hand to `node`; returns admission's refusal, or fails when
/// the pod was admitted (after deleting it).
pub(super) async fn refused(
    kube: &kube::Client,
    name: &str,
    image: &str,
    node: &str,
) -> anyhow::Result<String> {
    let mut spec = pod_spec(image);
    spec["nodeName"] = json!(node);
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec
    }))?;
    let api: Api<Pod> = Api::namespaced(kube.clone(), NAMESPACE);
    match api.create(&PostParams::default(), &pod).await {
        Ok(_) => {
            let _ = api.delete(name, &DeleteParams::default()).await;
            bail!("admission let the pod {name} be bound by hand to {node}")
        }
        Err(kube::Error::Api(status)) if (400..500).contains(&status.code) => {
            // The API server prefixes the webhook's words with its name.
            Ok(match status.message.split_once("denied the request: ") {
                Some((_, why)) => why.to_owned(),
                None => status.message,
            })
        }
        Err(e) => Err(e).with_context(|| format!("creating the pod {name}")),
    }
}
