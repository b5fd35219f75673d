//! Puts [`super::vap::desired`] into the cluster with server-side apply and removes the
//! ironroot policies and bindings no longer in the set, when the API server serves
//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicies (skipped with a log line
//! otherwise). Only objects carrying the controller's label are ever removed.

use super::{FIELD_MANAGER, MANAGED_BY};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::Value;
use std::collections::BTreeMap;

const GROUP_VERSION: &str = "admissionregistration.k8s.io/v1";

/// Whether the API server serves ValidatingAdmissionPolicies.
pub async fn served(kube: &kube::Client) -> Result<bool, kube::Error> {
    match kube.list_api_group_resources(GROUP_VERSION).await {
        Ok(list) => Ok(list
            .resources
            .iter()
            .any(|r| r.name == "validatingadmissionpolicies")),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// What one sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Synced {
    pub applied: Vec<String>,
    pub removed: Vec<String>,
}

/// Applies every desired policy (then its binding) and removes the others of ours.
pub async fn sync(
    kube: &kube::Client,
    desired: &BTreeMap<String, (Value, Value)>,
) -> Result<Synced, kube::Error> {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(kube.clone());
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(kube.clone());
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let mut out = Synced::default();
    for (name, (policy, binding)) in desired {
        policies.patch(name, &pp, &Patch::Apply(policy)).await?;
        bindings.patch(name, &pp, &Patch::Apply(binding)).await?;
        out.applied.push(name.clone());
    }
    let ours = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    // Bindings first: a binding whose policy is gone is an error the API server reports.
    for b in bindings.list(&ours).await? {
        let name = b.metadata.name.unwrap_or_default();
        if !desired.contains_key(&name) {
            ignore_missing(bindings.delete(&name, &DeleteParams::default()).await)?;
        }
    }
    for p in policies.list(&ours).await? {
        let name = p.metadata.name.unwrap_or_default();
        if !desired.contains_key(&name) {
            ignore_missing(policies.delete(&name, &DeleteParams::default()).await)?;
            out.removed.push(name);
        }
    }
    Ok(out)
}

fn ignore_missing<T>(r: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
