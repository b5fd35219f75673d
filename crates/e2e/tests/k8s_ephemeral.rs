//! `kubectl debug` against a real control plane (kube-apiserver with etcd and kwok Nodes):
//! the ephemeral container it adds through the `pods/ephemeralcontainers` subresource goes
//! to the policy webhook, registered as `register` (and deploy/webhooks.yaml) registers it,
//! and the real API server refuses a privileged or unapproved-registry one with the
//! policy's message, and admits a compliant one, even to a pod that breaks the policies
//! itself (its containers are not judged again).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

#[path = "k8s/governance_support.rs"]
mod support;

use ironroot_api::TrustState;
use ironroot_controller::enforce::Enforcement;
use ironroot_controller::policies::Policies;
use ironroot_controller::view::{NodeView, NodeViews};
use ironroot_controller::webhook::{self, FixedImages, KubePods, Webhook};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use support::*;

const POLICIES: &str = r#"version: 1
policies:
  - id: no-privileged
    description: No privileged containers.
    severity: critical
    mode: enforce
    remediation: deny
    rule: { no-privileged: {} }
  - id: registries
    description: Images from the approved registry.
    severity: high
    mode: enforce
    remediation: deny
    rule: { approved-registries: { registries: [registry.local:5000] } }
"#;

/// Every Node trusted: the placement half of the hook has nothing to say here.
struct Trusted;

impl NodeViews for Trusted {
    fn view(&self, _node: &str) -> NodeView {
        NodeView {
            trust: TrustState::Trusted,
            host_id: Some("h".into()),
            ..NodeView::unknown("")
        }
    }
}

/// Serves the policy webhook on loopback and registers it with the API server (failure
/// policy Fail), as the controller's `--webhook-listen` does.
async fn serve_and_register(kube: &kube::Client) {
    let hook = Webhook::new(
        Arc::new(Trusted),
        Arc::new(KubePods(kube.clone())),
        Arc::new(FixedImages(HashMap::new())),
    )
    .with_enforcement(Enforcement {
        policies: Arc::new(Policies::new(Some(active(POLICIES)))),
        facts: Arc::new(NoFacts),
        violations: None,
    });
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let identity = ironroot_tls::Identity::from_pem(
        cert_pem.as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .unwrap();
    let tls = ironroot_tls::open_server_config(identity).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(webhook::serve(listener, tls, Arc::new(hook)));
    let excluded = ["kube-system", "kube-node-lease", "kube-public"];
    webhook::register(kube, &url, &cert_pem, "Fail", 5, &excluded)
        .await
        .unwrap();
}

/// Adds the ephemeral container `debug` to pod `name` through the subresource, as
/// `kubectl debug` does (a strategic merge patch).
async fn debug(pods: &Api<Pod>, name: &str, debug: serde_json::Value) -> Result<Pod, String> {
    let patch = json!({"spec": {"ephemeralContainers": [debug]}});
    match pods
        .patch_subresource(
            "ephemeralcontainers",
            name,
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(pod) => Ok(pod),
        Err(kube::Error::Api(e)) => Err(e.message),
        Err(e) => panic!("{e}"),
    }
}

fn container(name: &str, image: &str, privileged: bool) -> serde_json::Value {
    json!({"name": name, "image": image, "targetContainerName": "c",
           "securityContext": {"privileged": privileged}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_refuses_a_privileged_or_foreign_debug_container_through_the_webhook() {
    let Some((_c, kube)) = start().await else {
        return;
    };
    namespace(&kube, "apps").await;
    let img = "registry.local:5000/app:1";
    // A pod from before the policies: its own container is privileged.
    create_pod(&kube, "apps", "legacy", img, true)
        .await
        .unwrap();
    create_pod(&kube, "apps", "web", img, false).await.unwrap();
    serve_and_register(&kube).await;
    let pods: Api<Pod> = Api::namespaced(kube.clone(), "apps");

    // The registration reaches the API server's admission a moment after it is written;
    // until then a privileged debugger gets in (each try has a name of its own).
    let mut n = 0;
    wait("a privileged debug container is refused", || {
        n += 1;
        let pods = pods.clone();
        async move {
            let name = format!("debug-{n}");
            match debug(&pods, "web", container(&name, img, true)).await {
                Err(m) => {
                    let said = format!("no-privileged: container {name} is privileged");
                    assert!(m.contains(&said), "{m}");
                    true
                }
                Ok(_) => false,
            }
        }
    })
    .await;
    let m = debug(
        &pods,
        "web",
        container("busybox", "docker.io/library/busybox:1.36", false),
    )
    .await
    .unwrap_err();
    assert!(
        m.contains("registries: image docker.io/library/busybox:1.36 comes from"),
        "{m}"
    );

    // A compliant one is admitted, and so is one on the privileged pod: the pod's own
    // containers are not judged again.
    for target in ["web", "legacy"] {
        let added = debug(&pods, target, container("shell", img, false))
            .await
            .unwrap_or_else(|m| panic!("{target}: {m}"));
        let names: Vec<String> = added
            .spec
            .unwrap()
            .ephemeral_containers
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(names.contains(&"shell".to_owned()), "{target}: {names:?}");
        assert!(
            !names.contains(&"busybox".to_owned()),
            "{target}: {names:?}"
        );
    }
}
