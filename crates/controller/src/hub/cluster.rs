//! The hub part wired together: the bundle puller (when the controller has a cluster
//! identity), the violations reporter, the workload records (pods bound to Nodes, over
//! a hub link), and the background audit with its PolicyReports and
//! ValidatingAdmissionPolicies, sharing the [`Policies`] the webhook enforces.

use super::audit_loop::Auditor;
use super::probe::WebhookProbe;
use super::puller::Puller;
use super::store::BundleStore;
use super::{policy_report, reporter, vap_apply, Hub, HubStats};
use crate::policies::{FactSource, Policies, ViolationQueue};
use ironroot_api::ViolationEvent;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The controller's link to its hub.
#[derive(Clone)]
pub struct HubLink {
    pub hub: Arc<dyn Hub>,
    /// From the cluster certificate ([`super::identity::cluster_id`]).
    pub cluster_id: String,
    /// Where the last good bundle is kept; `None` keeps nothing (tests).
    pub state_dir: Option<PathBuf>,
}

impl std::fmt::Debug for HubLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubLink")
            .field("cluster_id", &self.cluster_id)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// How the hub part behaves.
#[derive(Debug, Clone)]
pub struct GovernanceSettings {
    /// `None`: no hub (a local policy file only): audit, PolicyReports and admission
    /// policies still run.
    pub hub: Option<HubLink>,
    /// `--policy-poll` (2 s).
    pub poll: Duration,
    /// `--audit-interval` (60 s).
    pub audit_interval: Duration,
    /// The controller's own namespace (never audited, never matched by its policies).
    pub own_namespace: String,
    /// The webhook's listener and certificate, when it serves one.
    pub probe: Option<WebhookProbe>,
    pub fact_deadline: Duration,
    /// Renews the cluster certificate at half-life (with a hub link from certificate
    /// files; `None` in tests that link to a hub of their own).
    pub renewal: Option<super::renewal::Renewal>,
}

impl std::fmt::Debug for WebhookProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookProbe")
    }
}

impl GovernanceSettings {
    pub fn new(hub: Option<HubLink>) -> GovernanceSettings {
        GovernanceSettings {
            hub,
            poll: Duration::from_secs(2),
            audit_interval: Duration::from_secs(60),
            own_namespace: "ironroot-system".into(),
            probe: None,
            fact_deadline: crate::webhook::DEFAULT_DEADLINE,
            renewal: None,
        }
    }
}

/// Runs every hub part until the task is dropped. `violations` is the receiving end of
/// `queue`, the queue the webhook pushes into.
pub async fn run(
    kube: kube::Client,
    settings: GovernanceSettings,
    policies: Arc<Policies>,
    facts: Arc<dyn FactSource>,
    queue: ViolationQueue,
    violations: tokio::sync::mpsc::Receiver<ViolationEvent>,
    stats: Arc<HubStats>,
) {
    let changed = Arc::new(Notify::new());
    let policy_reports = match policy_report::ensure_crd(&kube).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("the PolicyReport CRD is missing and the controller may not create it (kubectl apply -f deploy/crds/): no PolicyReports");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not check the PolicyReport CRD: no PolicyReports");
            false
        }
    };
    let admission_policies = match vap_apply::served(&kube).await {
        Ok(served) => {
            if !served {
                tracing::info!("the API server serves no ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1): the webhook alone enforces");
            }
            served
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the API server's discovery: no ValidatingAdmissionPolicies");
            false
        }
    };
    let puller = settings.hub.clone().map(|link| {
        let store = link.state_dir.as_deref().and_then(|d| match BundleStore::open(d) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "the state directory: the last good bundle will not be kept");
                None
            }
        });
        let p = Puller {
            hub: link.hub.clone(),
            cluster_id: link.cluster_id.clone(),
            store,
            policies: policies.clone(),
            stats: stats.clone(),
            changed: changed.clone(),
            poll: settings.poll,
        };
        let kept = p.load_kept();
        p.run(kept)
    });
    let reporter = settings
        .hub
        .as_ref()
        .map(|link| reporter::run(link.hub.clone(), violations, stats.clone()));
    let renewal = settings.renewal.map(|r| r.run());
    let workloads = settings
        .hub
        .as_ref()
        .map(|link| super::workloads::run(kube.clone(), link.hub.clone(), stats.clone()));
    let mut skip_namespaces = vec!["kube-system".to_owned()];
    if settings.own_namespace != "kube-system" {
        skip_namespaces.push(settings.own_namespace.clone());
    }
    let auditor = Auditor {
        kube,
        hub: settings.hub.as_ref().map(|l| l.hub.clone()),
        facts,
        policies,
        queue: Some(queue),
        probe: settings.probe,
        skip_namespaces,
        interval: settings.audit_interval,
        fact_deadline: settings.fact_deadline,
        changed,
        stats,
        policy_reports,
        admission_policies,
    };
    let puller = async move {
        match puller {
            Some(p) => p.await,
            None => std::future::pending().await,
        }
    };
    let reporter = async move {
        match reporter {
            Some(r) => r.await,
            None => std::future::pending().await,
        }
    };
    let renewal = async move {
        match renewal {
            Some(r) => r.await,
            None => std::future::pending().await,
        }
    };
    let workloads = async move {
        match workloads {
            Some(w) => w.await,
            None => std::future::pending().await,
        }
    };
    tokio::join!(puller, reporter, renewal, workloads, auditor.run());
}

/// Takes the controller's [`GovernanceSettings`] out of `settings` and returns the hub
/// part as one future (pending forever when there are none). The webhook's violations go
/// to the queue this creates (`settings.violations`), which the reporter drains; the
/// audit gathers facts as the webhook does (registry, broker, the controller's Node
/// views), through a resolver of its own.
pub fn prepare(
    settings: &mut crate::run::Settings,
    facts: Arc<dyn FactSource>,
    kube: &kube::Client,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let part = settings.governance.take().map(|g| {
        let (queue, rx) = ViolationQueue::new();
        settings.violations = Some(queue.clone());
        let stats = Arc::new(HubStats::default());
        // Remediations are reported only over a hub link: without one, nothing is queued.
        let remediations = g.hub.as_ref().map(|link| {
            let (q, rx) = crate::remediation::RemediationQueue::new();
            settings.remediations = Some(q);
            reporter::run_remediations(link.hub.clone(), rx, stats.clone())
        });
        let part = run(
            kube.clone(),
            g,
            settings.policies.clone(),
            facts,
            queue,
            rx,
            stats,
        );
        async move {
            match remediations {
                Some(r) => {
                    tokio::join!(part, r);
                }
                None => part.await,
            }
        }
    });
    async move {
        match part {
            Some(p) => p.await,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn prepare_routes_the_webhooks_violations_to_the_hub_part_only_when_there_is_one() {
        ironroot_tls::install_process_provider();
        let ca = rcgen::generate_simple_self_signed(vec!["hub".into()]).unwrap();
        let service = ironroot_client::Client::admin(
            "https://hub:8443",
            ca.cert.pem().as_bytes(),
            "t",
            ironroot_client::url::PlainHttp::Refused,
        )
        .unwrap();
        let kube =
            kube::Client::try_from(kube::Config::new("https://127.0.0.1:1".parse().unwrap()))
                .unwrap();
        let state = Arc::new(crate::state::State::default());
        let images = Arc::new(crate::webhook::images::RegistryResolver::new(
            service,
            Vec::new(),
        ));
        let facts: Arc<dyn FactSource> = Arc::new(crate::enforce::ServiceFacts::new(images, state));
        let mut settings = crate::run::Settings::default();
        drop(prepare(&mut settings, facts.clone(), &kube));
        assert!(
            settings.violations.is_none(),
            "no hub part: nothing reported"
        );
        settings.governance = Some(GovernanceSettings::new(None));
        drop(prepare(&mut settings, facts, &kube));
        assert!(settings.governance.is_none(), "taken");
        assert!(
            settings.violations.is_some(),
            "the webhook reports into the hub part's queue"
        );
        assert!(
            settings.remediations.is_none(),
            "no hub link: remediations are not queued"
        );
    }
}
