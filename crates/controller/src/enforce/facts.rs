//! The facts a pod is judged by, gathered for the webhook: each image's digest and layers
//! (through the webhook's [`RegistryResolver`], so an image is fetched and cached once for
//! placement and policies), the broker's record of every key they are sealed under, and
//! the bound Node's trust and certified tags from the controller's own view.
//!
//! Every lookup runs at once and all share one deadline; what has no answer by then (or
//! failed) stays `None`, and the policies answer "undecided". Lookups that overrun go on
//! in the background, so their answers are cached for the API server's retry.
//!
//! Signatures (and the pipeline's) come from [`super::signatures`] when the controller
//! was given trusted keys ([`ServiceFacts::with_signatures`]); without keys they stay
//! `None`. Scans come from [`super::scans`] (the service's stored inventory of each
//! image's digest) when the controller was given them ([`ServiceFacts::with_scans`]), in
//! the same round and under the same deadline as the key lookups. The kubelet's
//! `podPidsLimit` (no Node field carries it) is the one the bound host's agent read from
//! the kubelet's config file and sent with its evidence (docs/policies.md).

use super::scans::ScanSummaries;
use super::signatures::SignatureCheck;
use crate::policies::FactSource;
use crate::view::NodeViews;
use crate::webhook::decide::pod_images;
use crate::webhook::images::{ImageRecord, RegistryResolver};
use crate::webhook::BoxFuture;
use ironroot_api::KeyInfo;
use ironroot_policy::{Facts, ImageFacts, KeyFacts, NodeFacts, ScanSummary};
use k8s_openapi::api::core::v1::Pod;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Facts from the registry, the key broker and the controller's Node views.
pub struct ServiceFacts {
    images: Arc<RegistryResolver>,
    views: Arc<dyn NodeViews>,
    signatures: Option<Arc<SignatureCheck>>,
    scans: Option<Arc<ScanSummaries>>,
}

impl ServiceFacts {
    pub fn new(images: Arc<RegistryResolver>, views: Arc<dyn NodeViews>) -> ServiceFacts {
        ServiceFacts {
            images,
            views,
            signatures: None,
            scans: None,
        }
    }

    /// Also read each image's latest scan (by its digest) from `scans`.
    pub fn with_scans(mut self, scans: ScanSummaries) -> ServiceFacts {
        self.scans = Some(Arc::new(scans));
        self
    }

    /// Also verify each image's signatures (and the pipeline's) with these keys.
    pub fn with_signatures(mut self, check: SignatureCheck) -> ServiceFacts {
        self.signatures = Some(Arc::new(check));
        self
    }

    async fn gather(&self, pod: &Pod, deadline: Duration) -> Facts {
        let until = Instant::now() + deadline;
        let lookups: Vec<_> = pod_images(pod)
            .into_iter()
            .map(|image| {
                let images = self.images.clone();
                let name = image.clone();
                (
                    image,
                    spawn_until(until, async move { images.image(&name).await }),
                )
            })
            .collect();
        let node = node_facts(pod, self.views.as_ref());
        let mut facts = Facts {
            node,
            ..Facts::default()
        };
        let mut records: Vec<Arc<ImageRecord>> = Vec::new();
        let mut signed = Vec::new();
        for (image, lookup) in lookups {
            match lookup.await {
                Some(Ok(record)) => {
                    if let Some(check) = &self.signatures {
                        let (check, name, digest) =
                            (check.clone(), image.clone(), record.digest.clone());
                        let job = async move { check.check(&name, &digest).await };
                        signed.push((image.clone(), spawn_until(until, job)));
                    }
                    facts.images.insert(image, image_facts(&record));
                    records.push(record);
                }
                Some(Err(e)) => tracing::debug!(%image, error = %e, "image facts"),
                None => tracing::debug!(%image, "image facts: past the deadline"),
            }
        }
        let mut ids: Vec<String> = Vec::new();
        for k in records.iter().flat_map(|r| &r.keys) {
            if !ids.contains(&k.id) {
                ids.push(k.id.clone());
            }
        }
        let keys: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let images = self.images.clone();
                let key = id.clone();
                (
                    id,
                    spawn_until(until, async move { images.key_record(&key).await }),
                )
            })
            .collect();
        let scans = match &self.scans {
            Some(scans) => start_scans(scans, &facts, until),
            None => Vec::new(),
        };
        for (image, lookup) in signed {
            match lookup.await {
                Some(Ok((signature, pipeline))) => {
                    if let Some(f) = facts.images.get_mut(&image) {
                        f.signature = Some(signature);
                        f.pipeline_signed = pipeline;
                    }
                }
                Some(Err(e)) => tracing::debug!(%image, error = %e, "signature facts"),
                None => tracing::debug!(%image, "signature facts: past the deadline"),
            }
        }
        for (id, lookup) in keys {
            match lookup.await {
                Some(Ok(record)) => {
                    facts.keys.insert(id, key_facts(record.as_deref()));
                }
                Some(Err(e)) => tracing::debug!(key = %id, error = %e, "key facts"),
                None => tracing::debug!(key = %id, "key facts: past the deadline"),
            }
        }
        finish_scans(&mut facts, scans).await;
        facts
    }
}

/// A scan lookup's answer: `None` past the deadline; `Ok(None)`: no scan is known.
type ScanAnswer = Option<Result<Option<ScanSummary>, String>>;

/// Starts the scan lookup of every image whose digest is known, each until `until`.
fn start_scans(
    scans: &Arc<ScanSummaries>,
    facts: &Facts,
    until: Instant,
) -> Vec<(String, impl Future<Output = ScanAnswer>)> {
    facts
        .images
        .iter()
        .filter_map(|(image, f)| Some((image.clone(), f.digest.clone()?)))
        .map(|(image, digest)| {
            let scans = scans.clone();
            (
                image,
                spawn_until(until, async move { scans.scan(&digest).await }),
            )
        })
        .collect()
}

/// Fills each image's scan from its lookup; what failed or is not known stays `None`.
async fn finish_scans(facts: &mut Facts, lookups: Vec<(String, impl Future<Output = ScanAnswer>)>) {
    for (image, lookup) in lookups {
        match lookup.await {
            Some(Ok(scan)) => {
                if let Some(f) = facts.images.get_mut(&image) {
                    f.scan = scan;
                }
            }
            Some(Err(e)) => tracing::debug!(%image, error = %e, "scan facts"),
            None => tracing::debug!(%image, "scan facts: past the deadline"),
        }
    }
}

impl FactSource for ServiceFacts {
    fn facts<'a>(&'a self, pod: &'a Pod, deadline: Duration) -> BoxFuture<'a, Facts> {
        Box::pin(self.gather(pod, deadline))
    }
}

/// Runs `f` in the background; its answer if it came by `until`.
fn spawn_until<T: Send + 'static>(
    until: Instant,
    f: impl Future<Output = T> + Send + 'static,
) -> impl Future<Output = Option<T>> {
    let task = tokio::spawn(f);
    async move {
        match tokio::time::timeout_at(until, task).await {
            Ok(Ok(v)) => Some(v),
            _ => None,
        }
    }
}

/// What a registry record says about an image (signature, pipeline and scan unknown).
pub fn image_facts(record: &ImageRecord) -> ImageFacts {
    ImageFacts {
        digest: Some(record.digest.clone()),
        layers: Some(record.layers.clone()),
        ..ImageFacts::default()
    }
}

/// A key as the broker describes it (`None`: the broker does not hold it).
pub fn key_facts(record: Option<&KeyInfo>) -> KeyFacts {
    match record {
        Some(info) => KeyFacts {
            exists: true,
            // The broker refuses a key whose policy states nothing; checked again here
            // so an old record with no policy does not count as one.
            transfer_policy: info.policy.check_stated().is_ok(),
            required_tags: info.policy.asset_tags.clone(),
        },
        None => KeyFacts::default(),
    }
}

/// The Node the pod is bound to, as the controller sees it; `None` when it is not bound.
pub fn node_facts(pod: &Pod, views: &dyn NodeViews) -> Option<NodeFacts> {
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())?;
    let view = views.view(name);
    // Tags are certified, and the kubelet's limit reported by an attested agent, only
    // for a Node an administrator bound to a host.
    let bound = view.host_id.is_some();
    Some(NodeFacts {
        name: name.to_owned(),
        trust: Some(view.trust),
        certified_tags: bound.then(|| view.tags.clone()),
        pod_pids_limit: view.pod_pids_limit.filter(|_| bound),
    })
}

/// Fixed facts for every pod (with the Node's from `views` when given), for tests and
/// the benchmark.
pub struct FixedFacts {
    pub facts: Facts,
    pub views: Option<Arc<dyn NodeViews>>,
}

impl FactSource for FixedFacts {
    fn facts<'a>(&'a self, pod: &'a Pod, _deadline: Duration) -> BoxFuture<'a, Facts> {
        let mut facts = self.facts.clone();
        if let Some(views) = &self.views {
            facts.node = node_facts(pod, views.as_ref());
        }
        Box::pin(async move { facts })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::enforce::scans::tests::{fixed, KNOWN};
    use crate::view::NodeView;
    use ironroot_severity::Severity;

    #[tokio::test]
    async fn scans_are_filled_by_digest_and_an_unknown_one_stays_none() {
        let scans = Arc::new(ScanSummaries::new(fixed()));
        let image = |digest: Option<&str>| ImageFacts {
            digest: digest.map(str::to_owned),
            ..ImageFacts::default()
        };
        let other = format!("sha256:{}", "2".repeat(64));
        let mut facts = Facts::default();
        facts.images.insert("scanned".into(), image(Some(KNOWN)));
        facts
            .images
            .insert("not-scanned".into(), image(Some(&other)));
        facts.images.insert("no-digest".into(), image(None));
        let until = Instant::now() + Duration::from_secs(5);
        let lookups = start_scans(&scans, &facts, until);
        assert_eq!(lookups.len(), 2, "only images with a digest are looked up");
        finish_scans(&mut facts, lookups).await;
        assert_eq!(
            facts.images["scanned"].scan,
            Some(ScanSummary {
                highest_unfixed: Some(Severity::High),
                scanned_at: 1_700_000_000,
            })
        );
        assert_eq!(facts.images["not-scanned"].scan, None, "404 is unknown");
        assert_eq!(facts.images["no-digest"].scan, None);
    }

    struct Views(NodeView);

    impl NodeViews for Views {
        fn view(&self, _node: &str) -> NodeView {
            self.0.clone()
        }
    }

    fn pod_on(node: Option<&str>) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"containers": [{"name": "app", "image": "reg/app:1"}], "nodeName": node}
        }))
        .unwrap()
    }

    fn bound(limit: Option<i64>) -> NodeView {
        NodeView {
            trust: ironroot_api::TrustState::Trusted,
            tags: [("region".to_string(), "EU".to_string())].into(),
            host_id: Some("h-1".into()),
            reason: String::new(),
            pod_pids_limit: limit,
        }
    }

    #[test]
    fn a_bound_nodes_pid_limit_is_the_one_its_agent_reported() {
        let node = node_facts(&pod_on(Some("worker-1")), &Views(bound(Some(4096)))).unwrap();
        assert_eq!(node.name, "worker-1");
        assert_eq!(node.pod_pids_limit, Some(4096));
        let unlimited = node_facts(&pod_on(Some("worker-1")), &Views(bound(Some(-1)))).unwrap();
        assert_eq!(unlimited.pod_pids_limit, Some(-1));
        let none = node_facts(&pod_on(Some("worker-1")), &Views(bound(None))).unwrap();
        assert_eq!(none.pod_pids_limit, None, "not reported: unknown");
    }

    #[test]
    fn an_unbound_node_has_no_pid_limit_and_an_unscheduled_pod_no_node() {
        let mut unbound = bound(Some(4096));
        unbound.host_id = None;
        let node = node_facts(&pod_on(Some("worker-1")), &Views(unbound)).unwrap();
        assert_eq!((node.pod_pids_limit, node.certified_tags), (None, None));
        assert!(node_facts(&pod_on(None), &Views(bound(Some(4096)))).is_none());
    }

    #[test]
    fn the_r10_node_pid_limit_policy_decides_from_the_reported_limit() {
        use ironroot_policy::example::R10_SET_YAML;
        use ironroot_policy::{Input, PolicySet, Verdict};
        let set = PolicySet::from_yaml(R10_SET_YAML.as_bytes()).unwrap();
        let pod = pod_on(Some("worker-1"));
        let verdict = |limit: Option<i64>| {
            let facts = Facts {
                node: node_facts(&pod, &Views(bound(limit))),
                ..Facts::default()
            };
            let input = Input {
                pod: &pod,
                namespace: "apps",
                cluster: "east",
                facts: &facts,
            };
            let decision = set.evaluate(&input, 1_700_000_000);
            let v = decision
                .verdicts
                .into_iter()
                .find(|v| v.id == "node-pid-limit");
            v.unwrap().verdict
        };
        assert_eq!(verdict(Some(4096)), Verdict::Pass);
        assert!(matches!(verdict(Some(-1)), Verdict::Violation(_)));
        assert!(matches!(verdict(Some(100_000)), Verdict::Violation(_)));
        assert!(matches!(verdict(None), Verdict::Unknown(_)));
    }
}
