//! The background audit: every `interval`, and at once after a new policy set is in
//! force, it judges every running pod (all namespaces but the skipped ones, listed a page
//! at a time) with the set in force and facts from the [`FactSource`], then reports: the
//! compliance per policy to the hub (with whether the webhook answers its probe), the
//! violations not reported before as `found`, one PolicyReport per namespace, and the
//! ValidatingAdmissionPolicies of the set. Each of those fails on its own, logged; none
//! stops the others or the next pass.

use super::audit::{Audit, AuditOutcome};
use super::probe::WebhookProbe;
use super::{policy_report, vap, vap_apply, Hub, HubStats};
use crate::policies::{FactSource, Policies, ViolationQueue};
use ironroot_api::{
    ComplianceReport, ObjectRef, ViolationAction, ViolationEvent, MAX_REPORTED_POLICIES,
};
use ironroot_policy::Input;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Pods read per list call.
const PAGE: u32 = 500;

/// The audit's parts.
pub struct Auditor {
    pub kube: kube::Client,
    pub hub: Option<Arc<dyn Hub>>,
    pub facts: Arc<dyn FactSource>,
    pub policies: Arc<Policies>,
    pub queue: Option<ViolationQueue>,
    pub probe: Option<WebhookProbe>,
    /// Never audited, never matched by a ValidatingAdmissionPolicy: the controller's own
    /// namespace and kube-system.
    pub skip_namespaces: Vec<String>,
    pub interval: Duration,
    /// How long the facts of one pod may take.
    pub fact_deadline: Duration,
    pub changed: Arc<Notify>,
    pub stats: Arc<HubStats>,
    /// Write PolicyReports (the CRD is installed).
    pub policy_reports: bool,
    /// Install ValidatingAdmissionPolicies (the API server serves them).
    pub admission_policies: bool,
}

impl Auditor {
    /// Audits now, then every `interval` and after each change, until dropped.
    pub async fn run(self) {
        let mut reported = BTreeSet::new();
        loop {
            if let Err(e) = self.pass(&mut reported).await {
                tracing::warn!(error = %e, "the background audit could not list the pods");
            }
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                () = self.changed.notified() => {}
            }
        }
    }

    /// One pass; `reported` holds the violations already sent as `found` (policy,
    /// namespace, pod), replaced by this pass's, so a pod fixed and broken again is
    /// reported again. `None` when no policy set is in force.
    pub async fn pass(
        &self,
        reported: &mut BTreeSet<(String, String, String)>,
    ) -> Result<Option<AuditOutcome>, kube::Error> {
        let Some(active) = self.policies.current() else {
            return Ok(None);
        };
        let now = super::unix_now();
        let mut audit = Audit::new(&active.set);
        let pods: Api<Pod> = Api::all(self.kube.clone());
        let mut params = ListParams::default().limit(PAGE);
        loop {
            let page = pods.list(&params).await?;
            for pod in &page.items {
                let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
                if self.skip_namespaces.iter().any(|s| s == ns) {
                    continue;
                }
                let facts = self.facts.facts(pod, self.fact_deadline).await;
                let input = Input {
                    pod,
                    namespace: ns,
                    cluster: &active.cluster,
                    facts: &facts,
                };
                let decision = active.set.evaluate(&input, now);
                audit.add(
                    ns,
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    &decision,
                );
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => params = params.continue_token(&c),
                None => break,
            }
        }
        let outcome = audit.finish();
        HubStats::add(&self.stats.audits, 1);
        self.report(&outcome, active.version, now).await;
        self.push_found(&outcome, reported, now);
        if self.policy_reports {
            if let Err(e) =
                policy_report::sync(&self.kube, &outcome.namespaces, active.version, now).await
            {
                tracing::warn!(error = %e, "could not write the PolicyReports");
            }
        }
        if self.admission_policies {
            let desired = vap::desired(&active, &self.skip_namespaces, now);
            match vap_apply::sync(&self.kube, &desired).await {
                Ok(s) if !s.removed.is_empty() => {
                    tracing::info!(removed = ?s.removed, "removed ValidatingAdmissionPolicies no longer in the set")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not install the ValidatingAdmissionPolicies")
                }
            }
        }
        Ok(Some(outcome))
    }

    async fn report(&self, outcome: &AuditOutcome, version: u64, now: u64) {
        let Some(hub) = &self.hub else { return };
        let webhook_serving = match &self.probe {
            Some(p) => p.serving().await,
            None => false,
        };
        let mut policies = outcome.policies.clone();
        policies.truncate(MAX_REPORTED_POLICIES);
        let report = ComplianceReport {
            policy_version: version,
            generated_at: now,
            webhook_serving,
            policies,
        };
        if let Err(e) = hub.report_compliance(&report).await {
            HubStats::add(&self.stats.compliance_reports_failed, 1);
            tracing::warn!(error = %e, "could not report compliance to the hub (the next audit will)");
        }
    }

    fn push_found(
        &self,
        outcome: &AuditOutcome,
        reported: &mut BTreeSet<(String, String, String)>,
        now: u64,
    ) {
        let mut current = BTreeSet::new();
        for f in &outcome.found {
            let key = (f.policy.clone(), f.object.0.clone(), f.object.1.clone());
            if !reported.contains(&key) {
                if let Some(q) = &self.queue {
                    q.push(ViolationEvent {
                        policy: f.policy.clone(),
                        object: ObjectRef {
                            namespace: f.object.0.clone(),
                            kind: "Pod".into(),
                            name: f.object.1.clone(),
                        },
                        message: f.message.clone(),
                        action: ViolationAction::Found,
                        at: now,
                    });
                }
            }
            current.insert(key);
        }
        *reported = current;
    }
}
