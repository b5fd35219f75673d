//! The audit inside the cluster, in the shape the ecosystem's tools read: one
//! `wgpolicyk8s.io/v1alpha2` PolicyReport per namespace, named [`REPORT_NAME`], holding
//! the namespace's summary (pass/fail/warn/error/skip over its pods × policies) and at most
//! [`ironroot_api::MAX_SAMPLES`] results (one per policy, worst first, naming at most
//! [`super::audit::MAX_RESOURCES_PER_RESULT`] pods). Never one object per pod: report
//! objects have filled etcd in the field. Written with server-side apply; the report of a
//! namespace with nothing left to report is deleted.

use super::audit::NamespaceReport;
use super::{FIELD_MANAGER, MANAGED_BY};
use ironroot_severity::Severity;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every namespace's report has this name.
pub const REPORT_NAME: &str = "ironroot";
/// The CRD, as deploy/crds/ holds it.
pub const CRD_YAML: &str =
    include_str!("../../../../deploy/crds/wgpolicyk8s.io_policyreports.yaml");
const CRD_NAME: &str = "policyreports.wgpolicyk8s.io";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("the PolicyReport CRD in deploy/crds does not parse: {0}")]
    Crd(String),
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wgpolicyk8s.io", "v1alpha2", "PolicyReport"),
        "policyreports",
    )
}

/// Creates the PolicyReport CRD when the API server does not have it; `Ok(false)` when it
/// could not (no permission: deploy/ applies it then), logged by the caller.
pub async fn ensure_crd(kube: &kube::Client) -> Result<bool, ReportError> {
    // Discovery first: reading it needs no permission on CRDs.
    if served(kube).await? {
        return Ok(true);
    }
    let crds: Api<CustomResourceDefinition> = Api::all(kube.clone());
    let crd: Value =
        serde_saphyr::from_str(CRD_YAML).map_err(|e| ReportError::Crd(e.to_string()))?;
    match crds
        .patch(
            CRD_NAME,
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&crd),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 403 => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    // A new CRD is served a moment after it is created: wait, so the first audit's
    // reports are not refused.
    for _ in 0..50 {
        if served(kube).await? {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(true)
}

/// Whether the API server serves PolicyReports now.
async fn served(kube: &kube::Client) -> Result<bool, ReportError> {
    match kube
        .list_api_group_resources("wgpolicyk8s.io/v1alpha2")
        .await
    {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == "policyreports")),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info | Severity::Unknown => "info",
    }
}

/// The PolicyReport object of `namespace`.
pub fn report_object(namespace: &str, r: &NamespaceReport, policy_version: u64, now: u64) -> Value {
    let results: Vec<Value> = r
        .results
        .iter()
        .map(|x| {
            let resources: Vec<Value> = x
                .pods
                .iter()
                .map(|p| json!({ "apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": p }))
                .collect();
            json!({
                "source": "ironroot",
                "policy": x.policy,
                "result": x.outcome.as_str(),
                "severity": severity(x.severity),
                "message": x.message,
                "scored": true,
                "timestamp": { "seconds": now, "nanos": 0 },
                "resources": resources,
                "properties": { "count": x.count.to_string(), "policyVersion": policy_version.to_string() },
            })
        })
        .collect();
    let s = &r.summary;
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": "PolicyReport",
        "metadata": {
            "name": REPORT_NAME,
            "namespace": namespace,
            "labels": { MANAGED_BY.0: MANAGED_BY.1 },
        },
        "scope": { "apiVersion": "v1", "kind": "Namespace", "name": namespace },
        "summary": { "pass": s.pass, "fail": s.fail, "warn": s.warn, "error": s.error, "skip": s.skip },
        "results": results,
    })
}

/// Applies one report per namespace of `reports` and deletes ours elsewhere.
pub async fn sync(
    kube: &kube::Client,
    reports: &BTreeMap<String, NamespaceReport>,
    policy_version: u64,
    now: u64,
) -> Result<(), ReportError> {
    let ar = resource();
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    for (ns, r) in reports {
        let api: Api<DynamicObject> = Api::namespaced_with(kube.clone(), ns, &ar);
        let obj = report_object(ns, r, policy_version, now);
        match api.patch(REPORT_NAME, &pp, &Patch::Apply(&obj)).await {
            Ok(_) => {}
            // The namespace went away during the audit.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let all: Api<DynamicObject> = Api::all_with(kube.clone(), &ar);
    let ours = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    for old in all.list(&ours).await? {
        let (Some(ns), Some(name)) = (old.metadata.namespace, old.metadata.name) else {
            continue;
        };
        if !reports.contains_key(&ns) {
            let api: Api<DynamicObject> = Api::namespaced_with(kube.clone(), &ns, &ar);
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::audit::{NamespaceResult, Outcome, Summary};

    #[test]
    fn the_crd_parses_and_a_report_has_the_published_shape() {
        let crd: CustomResourceDefinition = serde_saphyr::from_str(CRD_YAML).unwrap();
        assert_eq!(crd.spec.group, "wgpolicyk8s.io");
        assert_eq!(crd.spec.versions[0].name, "v1alpha2");
        let r = NamespaceReport {
            summary: Summary {
                pass: 3,
                fail: 1,
                ..Summary::default()
            },
            results: vec![NamespaceResult {
                policy: "no-privileged".into(),
                severity: Severity::Critical,
                outcome: Outcome::Fail,
                count: 1,
                message: "container c is privileged".into(),
                pods: vec!["bad".into()],
            }],
        };
        let o = report_object("apps", &r, 7, 100);
        assert_eq!(o["summary"]["fail"], 1);
        assert_eq!(o["results"][0]["result"], "fail");
        assert_eq!(o["results"][0]["resources"][0]["name"], "bad");
        assert_eq!(o["metadata"]["namespace"], "apps");
    }
}
