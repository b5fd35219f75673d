//! The admission webhook over HTTPS with its real peers: a `docker-registry` on loopback
//! holding an image whose layer carries an ironroot key packet, and an ironroot service
//! whose broker holds that key under the policy `region=EU`. The API server's requests
//! are posted as it sends them (AdmissionReview v1 JSON); the answers are read as it reads
//! them (uid, allowed, base64 JSON patch, status message).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use base64::Engine;
use ironroot_api::KeyPolicy;
use ironroot_api::TrustState;
use ironroot_client::{Client, PlainHttp};
use ironroot_controller::view::{NodeView, NodeViews};
use ironroot_controller::webhook::{self, FixedPods, RegistryResolver, Webhook};
use ironroot_server::{EkCertPolicy, ServerConfig, Service};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

struct Views;

impl NodeViews for Views {
    fn view(&self, node: &str) -> NodeView {
        let trusted = |region: &str| NodeView {
            trust: TrustState::Trusted,
            tags: BTreeMap::from([("region".to_string(), region.to_string())]),
            host_id: Some(format!("host-{node}")),
            reason: String::new(),
            pod_pids_limit: None,
        };
        match node {
            "eu-1" => trusted("EU"),
            "us-1" => trusted("US"),
            _ => NodeView::unknown("no host is bound to this Node"),
        }
    }
}

/// The service, with a broker key `eu-app` released only to nodes tagged region=EU; and
/// the annotation value a layer sealed under it carries.
async fn broker(dir: &Path) -> (Service, Client, String) {
    let mut config = ServerConfig::new(dir.join("service"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.ek_cert_policy = EkCertPolicy::IfPresent;
    let service = Service::start(config.clone()).await.unwrap();
    let token = std::fs::read_to_string(config.data_dir.join("admin.token")).unwrap();
    let admin = Client::admin(
        &format!("https://{}", service.addr),
        service.ca_pem.as_bytes(),
        token.trim(),
        PlainHttp::Refused,
    )
    .unwrap();
    let policy = KeyPolicy {
        asset_tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
        ..KeyPolicy::default()
    };
    let (_, annotation) = ironroot_e2e::images::sealed_key(&admin, "eu-app", policy)
        .await
        .unwrap();
    (service, admin, annotation)
}

async fn push(registry: &str, image: &str, annotations: Value) {
    ironroot_e2e::images::push_annotated(registry, image, annotations)
        .await
        .unwrap();
}

/// Serves the webhook on loopback with a self-signed certificate; its URL and a client
/// trusting that certificate.
async fn serve(hook: Webhook) -> (String, reqwest::Client) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let identity = ironroot_tls::Identity::from_pem(
        cert_pem.as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .unwrap();
    let tls = ironroot_tls::server_config(cert_pem.as_bytes(), identity).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(webhook::serve(listener, tls, Arc::new(hook)));
    let client_tls = ironroot_tls::service_client_config(cert_pem.as_bytes(), None).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls)
        .build()
        .unwrap();
    (url, http)
}

fn review(uid: &str, sub: Option<&str>, name: &str, object: Value) -> Value {
    let kind = if sub.is_some() { "Binding" } else { "Pod" };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "subResource": sub,
            "name": name,
            "namespace": "apps",
            "operation": "CREATE",
            "userInfo": {"username": "system:kube-scheduler", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    })
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    let res = http.post(url).json(body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(
        answer["response"]["uid"], body["request"]["uid"],
        "the uid is echoed"
    );
    answer["response"].clone()
}

#[tokio::test]
async fn an_eu_image_is_placed_in_the_eu_and_refused_a_us_binding() {
    assert!(
        Path::new("/usr/bin/docker-registry").exists(),
        "docker-registry is missing: run scripts/install-deps.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_service, admin, annotation) = broker(dir.path()).await;
    let registry = ironroot_peers::Registry::start(&dir.path().join("registry"))
        .await
        .unwrap();
    push(
        &registry.addr,
        "apps/eu:1",
        json!({"org.opencontainers.image.enc.keys.provider.ironroot": annotation}),
    )
    .await;
    push(&registry.addr, "apps/plain:1", json!({})).await;
    let image = format!("{}/apps/eu:1", registry.addr);

    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "w", "namespace": "apps"},
        "spec": {"containers": [{"name": "app", "image": image}]}
    });
    let pods = HashMap::from([(
        ("apps".to_string(), "w".to_string()),
        serde_json::from_value::<Pod>(pod.clone()).unwrap(),
    )]);
    let hook = Webhook::new(
        Arc::new(Views),
        Arc::new(FixedPods(pods)),
        Arc::new(RegistryResolver::new(admin, vec![])),
    );
    let (base, http) = serve(hook).await;
    let mutate = format!("{base}/mutate/pods");
    let validate = format!("{base}/validate/pods");

    // Mutation: required affinity to trusted EU nodes, from the key's policy.
    let res = post(&http, &mutate, &review("m-1", None, "w", pod.clone())).await;
    assert_eq!(
        (res["allowed"].as_bool(), res["patchType"].as_str()),
        (Some(true), Some("JSONPatch")),
        "{res}"
    );
    let patch = base64::engine::general_purpose::STANDARD
        .decode(res["patch"].as_str().unwrap())
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&patch).unwrap();
    let mut placed = pod.clone();
    json_patch::patch(&mut placed, &patch).unwrap();
    assert_eq!(
        placed["spec"]["affinity"]["nodeAffinity"]
            ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"],
        json!([{"matchExpressions": [
            {"key": "ironroot.node-restriction.kubernetes.io/trust", "operator": "In", "values": ["trusted"]},
            {"key": "tag.ironroot.node-restriction.kubernetes.io/region", "operator": "In", "values": ["EU"]}
        ]}])
    );
    assert_eq!(
        placed["metadata"]["annotations"]["ironroot.node-restriction.kubernetes.io/required-tags"],
        r#"{"region":"EU"}"#
    );

    // A plain image is not changed.
    let mut plain = pod.clone();
    plain["spec"]["containers"][0]["image"] = json!(format!("{}/apps/plain:1", registry.addr));
    let res = post(&http, &mutate, &review("m-2", None, "p", plain)).await;
    assert_eq!(
        (res["allowed"].as_bool(), res.get("patch")),
        (Some(true), None)
    );

    // Binding the pod to a US node by hand is refused, and to an EU node admitted.
    let binding = |node: &str| json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "w", "namespace": "apps"}, "target": {"kind": "Node", "name": node}});
    let res = post(
        &http,
        &validate,
        &review("v-1", Some("binding"), "w", binding("us-1")),
    )
    .await;
    assert_eq!(res["allowed"], false);
    assert_eq!(res["status"]["code"], 403);
    let message = res["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("node us-1 lacks the asset tag region=EU (it has region=US)"),
        "{message}"
    );
    let res = post(
        &http,
        &validate,
        &review("v-2", Some("binding"), "w", binding("eu-1")),
    )
    .await;
    assert_eq!(res["allowed"], true);
    let res = post(
        &http,
        &validate,
        &review("v-3", Some("binding"), "w", binding("node-9")),
    )
    .await;
    assert!(
        res["status"]["message"]
            .as_str()
            .unwrap()
            .contains("node node-9 is unknown"),
        "{res}"
    );

    // With the registry gone, the cached manifest and policy still place the pod.
    drop(registry);
    let res = post(&http, &mutate, &review("m-3", None, "w", pod.clone())).await;
    assert!(res["patch"].is_string(), "{res}");
}

#[tokio::test]
async fn malformed_or_oversized_reviews_are_answered_400_and_413() {
    let views: Arc<dyn NodeViews> = Arc::new(Views);
    let hook = Webhook::new(
        views,
        Arc::new(FixedPods(HashMap::new())),
        Arc::new(webhook::FixedImages(HashMap::new())),
    );
    let (base, http) = serve(hook).await;
    let url = format!("{base}/validate/pods");
    let send = |body: Vec<u8>| {
        http.post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let res = send(b"{\"kind\": \"AdmissionReview\"".to_vec())
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .starts_with("not an AdmissionReview"));
    let res =
        send(br#"{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}"#.to_vec())
            .await
            .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("admission.k8s.io/v1"));
    let res = send(br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#.to_vec())
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.text().await.unwrap()),
        (400, "the AdmissionReview has no request".into())
    );
    let res = send(vec![b' '; webhook::MAX_REVIEW + 1]).await.unwrap();
    assert_eq!(res.status(), 413);
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 405);

    // A well-formed review still gets its answer on the same server.
    let pod = json!({"metadata": {"name": "x"}, "spec": {"nodeName": "eu-1", "containers": [{"name": "c", "image": "plain:1"}]}});
    let res = post(&http, &url, &review("ok-1", None, "x", pod)).await;
    assert_eq!(res["allowed"], true);
}
