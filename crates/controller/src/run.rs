//! The controller's running parts wired together: the Node watch, the service follower,
//! the reconciler and the drainer, sharing one [`State`].

use crate::brake::{Brake, BrakeConfig};
use crate::desired::TaintEffect;
use crate::follow::FollowConfig;
use crate::reconcile::ReconcileConfig;
use crate::state::State;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::events::{Recorder, Reporter};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How the controller behaves (the command line's choices, or a test's).
#[derive(Debug, Clone)]
pub struct Settings {
    pub node_selector: Option<String>,
    pub untrusted_effect: TaintEffect,
    pub drain: bool,
    /// How long a Node stays untrusted before its drain starts (see [`crate::drain`]).
    pub drain_settle: std::time::Duration,
    pub brake: BrakeConfig,
    pub follow: FollowConfig,
    /// The policy set the webhook enforces (none in force: placement only).
    pub policies: Arc<crate::policies::Policies>,
    /// Where the webhook's violations go for the hub (`None`: not reported).
    pub violations: Option<crate::policies::ViolationQueue>,
    /// Where taints, drains and held drains go for the hub (`None`: no hub link).
    pub remediations: Option<crate::remediation::RemediationQueue>,
    /// The policy hub's part (bundle, audit, reports): `None` runs none of it.
    pub governance: Option<crate::hub::cluster::GovernanceSettings>,
    /// Cosign public keys (id, PEM) whose signatures policies trust, and the id of the
    /// build pipeline's among them: without any, signature facts stay unknown.
    pub trusted_keys: Vec<(String, Vec<u8>)>,
    pub pipeline_key: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            node_selector: None,
            untrusted_effect: TaintEffect::NoSchedule,
            drain: true,
            drain_settle: std::time::Duration::from_millis(500),
            brake: BrakeConfig::default(),
            follow: FollowConfig::default(),
            policies: Arc::default(),
            violations: None,
            remediations: None,
            governance: None,
            trusted_keys: Vec::new(),
            pipeline_key: None,
        }
    }
}

/// The admission webhook's listener, when the controller serves it.
pub struct WebhookListener {
    pub listener: tokio::net::TcpListener,
    pub tls: Arc<rustls::ServerConfig>,
    /// Registries reached over plain HTTP besides loopback ones.
    pub insecure_registries: Vec<String>,
}

/// Runs every part until one ends (none does on its own: each retries what fails).
/// `state` is shared by the reconciler, the drainer and the webhook.
pub async fn run(
    service: ironroot_client::Client,
    kube: kube::Client,
    mut settings: Settings,
    state: Arc<State>,
    webhook: Option<WebhookListener>,
) -> anyhow::Result<()> {
    // One resolver and one fact source for the webhook and the background audit: each
    // image is fetched, and each signature checked, once for both.
    let insecure = webhook
        .as_ref()
        .map(|w| w.insecure_registries.clone())
        .unwrap_or_default();
    let images = Arc::new(crate::webhook::images::RegistryResolver::new(
        service.clone(),
        insecure.clone(),
    ));
    let mut facts = crate::enforce::ServiceFacts::new(images.clone(), state.clone())
        .with_scans(crate::enforce::ScanSummaries::from_service(service.clone()));
    if !settings.trusted_keys.is_empty() {
        let keys = crate::enforce::SignatureKeys::new(
            std::mem::take(&mut settings.trusted_keys),
            settings.pipeline_key.clone(),
        )
        .map_err(|e| anyhow::anyhow!("a trusted key: {e}"))?;
        facts = facts.with_signatures(crate::enforce::SignatureCheck::new(keys, insecure));
    }
    let facts: Arc<dyn crate::policies::FactSource> = Arc::new(facts);
    let governance = crate::hub::cluster::prepare(&mut settings, facts.clone(), &kube);
    let hook = webhook.map(|w| {
        let enforcement = crate::enforce::Enforcement {
            policies: settings.policies.clone(),
            facts,
            violations: settings.violations.clone(),
        };
        let hook = crate::webhook::Webhook::new(
            state.clone(),
            Arc::new(crate::webhook::KubePods(kube.clone())),
            images,
        )
        .with_enforcement(enforcement);
        crate::webhook::serve(w.listener, w.tls, Arc::new(hook))
    });
    let hook = async move {
        match hook {
            Some(h) => h.await,
            None => std::future::pending().await,
        }
    };
    let brake = Arc::new(Mutex::new(Brake::new(settings.brake, Instant::now())));
    let remediations = crate::remediation::Remediations::new(settings.remediations.clone());
    let nodes: kube::Api<Node> = kube::Api::all(kube.clone());
    let (store, watch) =
        crate::reconcile::watch_nodes(nodes.clone(), settings.node_selector.clone(), state.clone());
    let reporter = Reporter {
        controller: crate::reconcile::MANAGER.into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let drainer = crate::drain::Drainer {
        client: kube.clone(),
        nodes: store.clone(),
        state: state.clone(),
        brake: brake.clone(),
        recorder: Recorder::new(kube.clone(), reporter),
        enabled: settings.drain,
        settle: settings.drain_settle,
        remediations: remediations.clone(),
    };
    let reconcile_cfg = ReconcileConfig {
        untrusted_effect: settings.untrusted_effect,
        remediations,
    };
    tokio::select! {
        () = watch => anyhow::bail!("the Node watch ended"),
        () = crate::follow::run(service, state.clone(), settings.follow) => anyhow::bail!("the service follower ended"),
        () = crate::reconcile::run(nodes, store, state.clone(), brake, reconcile_cfg) => anyhow::bail!("the reconciler ended"),
        () = drainer.run() => anyhow::bail!("the drainer ended"),
        () = hook => anyhow::bail!("the admission webhook's listener ended"),
        () = governance => anyhow::bail!("the policy hub's part ended"),
    }
}

/// A client of the cluster: from `kubeconfig`, else in-cluster (or `$KUBECONFIG`).
pub async fn kube_client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    use anyhow::Context;
    let cfg = match kubeconfig {
        Some(p) => {
            let kc = kube::config::Kubeconfig::read_from(p)
                .with_context(|| format!("reading the kubeconfig {}", p.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(cfg)?)
}
