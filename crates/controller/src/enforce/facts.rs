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
//! `None`. Never gathered (always `None`, so policies that need them are undecided): scans
//! (the service's client exposes no stored scan per digest) and the kubelet's
//! `podPidsLimit` (no Node field carries it).

use super::signatures::SignatureCheck;
use crate::policies::FactSource;
use crate::view::NodeViews;
use crate::webhook::decide::pod_images;
use crate::webhook::images::{ImageRecord, RegistryResolver};
use crate::webhook::BoxFuture;
use ironroot_api::KeyInfo;
use ironroot_policy::{Facts, ImageFacts, KeyFacts, NodeFacts};
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
}

impl ServiceFacts {
    pub fn new(images: Arc<RegistryResolver>, views: Arc<dyn NodeViews>) -> ServiceFacts {
        ServiceFacts {
            images,
            views,
            signatures: None,
        }
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
        facts
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
    // Tags are certified only for a Node an administrator bound to a host.
    let certified_tags = view.host_id.is_some().then(|| view.tags.clone());
    Some(NodeFacts {
        name: name.to_owned(),
        trust: Some(view.trust),
        certified_tags,
        pod_pids_limit: None,
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
