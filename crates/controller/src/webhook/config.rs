//! The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that register the
//! webhook with the API server. Safety is in their fields: the control plane's and the
//! webhook's own namespaces are excluded (a down webhook must not stop the pods that
//! would bring it back), there is a timeout, the failure policy is the administrator's
//! choice, and the hooks have no side effects (dry runs are safe).

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhook,
    ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::ByteString;

/// The name of both configuration objects.
pub const CONFIGURATION_NAME: &str = "ironroot-placement";
/// The mutating webhook's name (it must be a fully qualified name).
pub const MUTATING_WEBHOOK: &str = "place-pods.ironroot.node-restriction.kubernetes.io";
/// The validating webhook's name.
pub const VALIDATING_WEBHOOK: &str = "admit-pods.ironroot.node-restriction.kubernetes.io";
/// The label every namespace carries with its own name (set by the API server).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Namespaces never sent to the webhook, whatever the caller lists: the control plane's
/// and the controller's own (deploy/namespace.yaml), so a webhook that is down or a
/// policy that refuses everything cannot stop the pods that would bring them back.
pub const ALWAYS_EXCLUDED: [&str; 2] = ["kube-system", "ironroot-system"];

fn rule(operation: &str, resources: &[&str]) -> RuleWithOperations {
    RuleWithOperations {
        api_groups: Some(vec![String::new()]),
        api_versions: Some(vec!["v1".into()]),
        operations: Some(vec![operation.into()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        scope: Some("Namespaced".into()),
    }
}

fn client(service_url_base: &str, path: &str, ca_pem: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        ca_bundle: Some(ByteString(ca_pem.as_bytes().to_vec())),
        service: None,
        url: Some(format!("{}{path}", service_url_base.trim_end_matches('/'))),
    }
}

/// Every namespace but the excluded ones and [`ALWAYS_EXCLUDED`].
fn namespaces(excluded: &[&str]) -> Option<LabelSelector> {
    let mut values: Vec<String> = Vec::new();
    for n in excluded.iter().chain(ALWAYS_EXCLUDED.iter()) {
        if !values.iter().any(|v| v == n) {
            values.push(n.to_string());
        }
    }
    Some(LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: NAMESPACE_NAME_LABEL.into(),
            operator: "NotIn".into(),
            values: Some(values),
        }]),
        match_labels: None,
    })
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        name: Some(CONFIGURATION_NAME.into()),
        ..ObjectMeta::default()
    }
}

/// Both configurations for a webhook served at `service_url_base` (`https://host:port`)
/// with a certificate issued by `ca_pem`. `failure_policy` is `Fail` or `Ignore`.
pub fn webhook_configurations(
    service_url_base: &str,
    ca_pem: &str,
    failure_policy: &str,
    timeout_seconds: i32,
    excluded_namespaces: &[&str],
) -> (MutatingWebhookConfiguration, ValidatingWebhookConfiguration) {
    let mutating = MutatingWebhook {
        name: MUTATING_WEBHOOK.into(),
        admission_review_versions: vec!["v1".into()],
        client_config: client(service_url_base, "/mutate/pods", ca_pem),
        failure_policy: Some(failure_policy.into()),
        match_policy: Some("Equivalent".into()),
        namespace_selector: namespaces(excluded_namespaces),
        // Another webhook may add a container after this one ran.
        reinvocation_policy: Some("IfNeeded".into()),
        rules: Some(vec![rule("CREATE", &["pods"])]),
        side_effects: "None".into(),
        timeout_seconds: Some(timeout_seconds),
        ..MutatingWebhook::default()
    };
    let validating = ValidatingWebhook {
        name: VALIDATING_WEBHOOK.into(),
        admission_review_versions: vec!["v1".into()],
        client_config: client(service_url_base, "/validate/pods", ca_pem),
        failure_policy: Some(failure_policy.into()),
        match_policy: Some("Equivalent".into()),
        namespace_selector: namespaces(excluded_namespaces),
        // `bindings` is the legacy path to the same Binding as `pods/binding`. UPDATE of
        // pods: the policies judge one that changes an image (the hook admits other
        // updates at once, so finalizers and labels never wait on a policy), and the
        // ephemeral containers `kubectl debug` adds through `pods/ephemeralcontainers`.
        rules: Some(vec![
            rule("CREATE", &["pods", "pods/binding", "bindings"]),
            rule("UPDATE", &["pods", "pods/ephemeralcontainers"]),
        ]),
        side_effects: "None".into(),
        timeout_seconds: Some(timeout_seconds),
        ..ValidatingWebhook::default()
    };
    (
        MutatingWebhookConfiguration {
            metadata: meta(),
            webhooks: Some(vec![mutating]),
        },
        ValidatingWebhookConfiguration {
            metadata: meta(),
            webhooks: Some(vec![validating]),
        },
    )
}

/// Creates or replaces both configurations in the cluster (server-side apply, owned by
/// the controller's field manager): what `ironroot demo` and the tests do where
/// deploy/webhooks.yaml would be applied in production.
pub async fn register(
    kube: &kube::Client,
    service_url_base: &str,
    ca_pem: &str,
    failure_policy: &str,
    timeout_seconds: i32,
    excluded_namespaces: &[&str],
) -> Result<(), kube::Error> {
    use kube::api::{Api, Patch, PatchParams};
    let (m, v) = webhook_configurations(
        service_url_base,
        ca_pem,
        failure_policy,
        timeout_seconds,
        excluded_namespaces,
    );
    let params = PatchParams::apply(crate::reconcile::MANAGER).force();
    Api::<MutatingWebhookConfiguration>::all(kube.clone())
        .patch(CONFIGURATION_NAME, &params, &Patch::Apply(&m))
        .await?;
    Api::<ValidatingWebhookConfiguration>::all(kube.clone())
        .patch(CONFIGURATION_NAME, &params, &Patch::Apply(&v))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_configurations_register_both_hooks_safely() {
        let (m, v) = webhook_configurations(
            "https://10.0.0.1:8443/",
            "PEM",
            "Fail",
            5,
            &["kube-system", "ironroot"],
        );
        let m = serde_json::to_value(&m).unwrap();
        let v = serde_json::to_value(&v).unwrap();
        let selector = json!({"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "ironroot", "ironroot-system"]}
        ]});
        assert_eq!(
            m,
            json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "ironroot-placement"},
                "webhooks": [{
                    "name": MUTATING_WEBHOOK,
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"caBundle": "UEVN", "url": "https://10.0.0.1:8443/mutate/pods"},
                    "failurePolicy": "Fail",
                    "matchPolicy": "Equivalent",
                    "namespaceSelector": selector,
                    "reinvocationPolicy": "IfNeeded",
                    "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"], "scope": "Namespaced"}],
                    "sideEffects": "None",
                    "timeoutSeconds": 5
                }]
            })
        );
        assert_eq!(v["kind"], "ValidatingWebhookConfiguration");
        let hook = &v["webhooks"][0];
        assert_eq!(hook["name"], VALIDATING_WEBHOOK);
        assert_eq!(
            hook["clientConfig"]["url"],
            "https://10.0.0.1:8443/validate/pods"
        );
        assert_eq!(
            hook["rules"][0]["resources"],
            json!(["pods", "pods/binding", "bindings"])
        );
        assert_eq!(hook["rules"][0]["operations"], json!(["CREATE"]));
        assert_eq!(
            (
                &hook["rules"][1]["operations"],
                &hook["rules"][1]["resources"]
            ),
            (
                &json!(["UPDATE"]),
                &json!(["pods", "pods/ephemeralcontainers"])
            )
        );
        assert_eq!(hook["namespaceSelector"], selector);
        assert_eq!(
            (
                hook["sideEffects"].as_str(),
                hook["timeoutSeconds"].as_i64()
            ),
            (Some("None"), Some(5))
        );
        assert_eq!(hook["failurePolicy"], "Fail");
        assert!(hook.get("reinvocationPolicy").is_none());

        assert_eq!(m["webhooks"][0]["failurePolicy"], "Fail");
    }

    /// deploy/webhooks.yaml registers what `register` does (there it names a Service,
    /// here a URL), so a rule added to one and not the other fails here.
    #[test]
    fn the_deployed_manifest_registers_the_same_hooks() {
        let text = include_str!("../../../../deploy/webhooks.yaml");
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).unwrap();
        let excluded = [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "ironroot-system",
        ];
        let (m, v) = webhook_configurations("https://h", "PEM", "Ignore", 5, &excluded);
        let generated = [
            serde_json::to_value(m).unwrap(),
            serde_json::to_value(v).unwrap(),
        ];
        assert_eq!(docs.len(), generated.len());
        for (mut deployed, mut made) in docs.into_iter().zip(generated) {
            assert_eq!(deployed["kind"], made["kind"]);
            assert_eq!(deployed["metadata"]["name"], made["metadata"]["name"]);
            let deployed = deployed["webhooks"].as_array_mut().unwrap();
            let made = made["webhooks"].as_array_mut().unwrap();
            assert_eq!(deployed.len(), made.len());
            for (d, m) in deployed.iter_mut().zip(made.iter_mut()) {
                let (d, m) = (d.as_object_mut().unwrap(), m.as_object_mut().unwrap());
                let (dc, mc) = (
                    d.remove("clientConfig").unwrap(),
                    m.remove("clientConfig").unwrap(),
                );
                assert_eq!(
                    format!("https://h{}", dc["service"]["path"].as_str().unwrap()),
                    mc["url"]
                );
                assert_eq!(
                    d, m,
                    "deploy/webhooks.yaml and webhook_configurations differ"
                );
            }
        }
    }

    #[test]
    fn the_control_plane_and_the_controller_are_always_excluded() {
        let (m, v) = webhook_configurations("https://h", "PEM", "Ignore", 2, &[]);
        let only = json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name",
            "operator": "NotIn", "values": ["kube-system", "ironroot-system"]}]});
        let m = serde_json::to_value(&m).unwrap();
        let v = serde_json::to_value(&v).unwrap();
        assert_eq!(m["webhooks"][0]["namespaceSelector"], only);
        assert_eq!(v["webhooks"][0]["namespaceSelector"], only);
        assert_eq!(m["webhooks"][0]["failurePolicy"], "Ignore");
        assert_eq!(v["webhooks"][0]["failurePolicy"], "Ignore");
    }
}
