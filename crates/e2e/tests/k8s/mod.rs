//! The fixture of the Kubernetes tests: a service with development nodes (real swtpm
//! TPMs, enrolled, attested, tagged), a real control plane whose fake Nodes carry the
//! same names, and the bindings an administrator would make.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failure should panic

use ironroot_api::BindNode;
use ironroot_client::Client;
use ironroot_controller::run::Settings;
use ironroot_controller::state::State;
use ironroot_e2e::{Node, TaggedFleet};
use ironroot_peers::kube::Cluster;
use ironroot_server::{ServerConfig, Service};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node as KNode, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The runtime binary a test replaces (one of the development node's measured files).
const TAMPERED: &str = "/usr/sbin/runc";

pub struct Fixture {
    pub cluster: Cluster,
    pub kube: kube::Client,
    pub admin: Client,
    pub service: Option<Service>,
    pub config: ServerConfig,
    pub addr: std::net::SocketAddr,
    pub nodes: Vec<Node>,
    pub sessions: Vec<ironroot_agent::Session>,
    pub state: Arc<State>,
    _dir: ironroot_e2e::TempDir,
}

/// Settings for tests: drains as fast as the brake allows, short grace and resync.
pub fn settings() -> Settings {
    let mut s = Settings::default();
    s.brake.drains_per_second = 10.0;
    s.brake.burst = 10;
    s.follow.unreachable_grace = Duration::from_secs(3);
    s.follow.resync = Duration::from_secs(2);
    s
}

impl Fixture {
    /// Nodes booted, trusted and tagged, each bound to the Kubernetes Node of its name.
    pub async fn start(tag: &str, nodes: &[(&str, &str)]) -> Option<Fixture> {
        let f = Fixture::start_unbound(tag, nodes).await?;
        for (i, (name, _)) in nodes.iter().enumerate() {
            f.bind(i, name).await;
        }
        Some(f)
    }

    /// The same, with no binding made.
    pub async fn start_unbound(tag: &str, nodes: &[(&str, &str)]) -> Option<Fixture> {
        if !ironroot_e2e::peers_available() {
            return None;
        }
        ironroot_tls::install_process_provider();
        let fleet = ironroot_e2e::tagged_fleet(tag, nodes)
            .await
            .expect("the fleet");
        let cluster = Cluster::start(nodes.len())
            .await
            .expect("the Kubernetes control plane");
        let kube = ironroot_controller::run::kube_client(Some(cluster.kubeconfig()))
            .await
            .expect("a client of the cluster");
        let TaggedFleet {
            platform,
            nodes: booted,
            sessions,
            ..
        } = fleet;
        let ironroot_e2e::Platform {
            service,
            config,
            admin,
            dir,
        } = platform;
        let f = Fixture {
            cluster,
            kube,
            admin,
            addr: service.addr,
            service: Some(service),
            config,
            nodes: booted,
            sessions,
            state: Arc::new(State::default()),
            _dir: dir,
        };
        // Each fake Node reports its machine's UUID, as a kubelet would.
        for n in &f.nodes {
            f.set_system_uuid(&n.name, &format!("uuid-{}", n.name))
                .await;
        }
        Some(f)
    }

    /// `kubectl ARGS` as the administrator, which must succeed; its standard output.
    pub async fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.cluster.kubectl(args).await.expect("kubectl runs");
        assert!(out.ok, "kubectl {args:?}: {}", out.stderr);
        out.stdout
    }

    /// A kubeconfig for the cluster that authenticates with `token`.
    pub fn token_kubeconfig(&self, token: &str) -> std::path::PathBuf {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(self.cluster.ca_pem());
        let path = self._dir.0.join("token.kubeconfig");
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n\
             users:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
            self.cluster.apiserver()
        );
        std::fs::write(&path, yaml).expect("writing a kubeconfig");
        path
    }

    /// A directory for this test's own peers (a registry).
    pub fn cluster_dir(&self) -> std::path::PathBuf {
        self._dir.0.clone()
    }

    pub fn host_id(&self, i: usize) -> String {
        self.sessions[i].host_id().expect("enrolled").to_owned()
    }

    /// Binds node `i`'s host to the Kubernetes Node `node`, as an administrator.
    pub async fn bind(&self, i: usize, node: &str) {
        self.admin
            .bind_node(&self.host_id(i), &BindNode { node: node.into() })
            .await
            .expect("binding");
    }

    /// Starts the controller (a fresh state each time, as a restarted process has).
    pub async fn controller(&mut self, settings: Settings) -> tokio::task::JoinHandle<()> {
        self.state = Arc::new(State::default());
        let (admin, kube, state) = (self.admin.clone(), self.kube.clone(), self.state.clone());
        tokio::spawn(async move {
            if let Err(e) = ironroot_controller::run::run(admin, kube, settings, state, None).await
            {
                eprintln!("the controller stopped: {e:#}");
            }
        })
    }

    /// Starts the controller with its admission webhook on loopback, registered with the
    /// API server (failure policy Fail), as `ironroot controller --webhook-listen` serves it.
    pub async fn controller_with_webhook(
        &mut self,
        settings: Settings,
    ) -> tokio::task::JoinHandle<()> {
        let kube = self.kube.clone();
        self.controller_as(kube, settings).await
    }

    /// The same, with the controller's requests made by `kube` (another identity); the
    /// webhook is registered with the administrator's.
    pub async fn controller_as(
        &mut self,
        kube: kube::Client,
        settings: Settings,
    ) -> tokio::task::JoinHandle<()> {
        self.state = Arc::new(State::default());
        let cert =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a certificate");
        let cert_pem = cert.cert.pem();
        let identity = ironroot_tls::Identity::from_pem(
            cert_pem.as_bytes(),
            cert.key_pair.serialize_pem().as_bytes(),
        )
        .expect("an identity");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("https://{}", listener.local_addr().expect("an address"));
        let webhook = ironroot_controller::run::WebhookListener {
            listener,
            tls: ironroot_tls::open_server_config(identity).expect("TLS"),
            insecure_registries: vec![],
        };
        ironroot_controller::webhook::register(
            &self.kube,
            &url,
            &cert_pem,
            "Fail",
            5,
            &["kube-system", "kube-node-lease", "kube-public"],
        )
        .await
        .expect("registering the webhook");
        let (admin, state) = (self.admin.clone(), self.state.clone());
        tokio::spawn(async move {
            if let Err(e) =
                ironroot_controller::run::run(admin, kube, settings, state, Some(webhook)).await
            {
                eprintln!("the controller stopped: {e:#}");
            }
        })
    }

    /// Creates `pod` (JSON) in `default`; the API server's answer.
    pub async fn create_pod(&self, pod: serde_json::Value) -> Result<Pod, kube::Error> {
        let pod: Pod = serde_json::from_value(pod).expect("a Pod");
        Api::<Pod>::namespaced(self.kube.clone(), "default")
            .create(&PostParams::default(), &pod)
            .await
    }

    /// Binds pod `name` to `node` through `pods/binding`, as a scheduler would.
    pub async fn bind_pod(&self, name: &str, node: &str) -> Result<(), kube::Error> {
        let binding = json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name, "namespace": "default"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
        Api::<Pod>::namespaced(self.kube.clone(), "default")
            .create_subresource::<serde_json::Value, serde_json::Value>(
                "binding",
                name,
                &PostParams::default(),
                &binding,
            )
            .await
            .map(|_| ())
    }

    /// Creates a Deployment of `replicas` pods of `image`, with nothing about placement.
    pub async fn deploy_image(&self, name: &str, replicas: i32, image: &str) {
        let d: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                        "containers": [{"name": "app", "image": image}],
                        "terminationGracePeriodSeconds": 0}}}
        }))
        .expect("a Deployment");
        Api::<Deployment>::namespaced(self.kube.clone(), "default")
            .create(&PostParams::default(), &d)
            .await
            .expect("creating the Deployment");
    }

    pub async fn pod(&self, name: &str) -> Pod {
        Api::<Pod>::namespaced(self.kube.clone(), "default")
            .get(name)
            .await
            .expect("the pod")
    }

    /// Replaces node `i`'s runtime and attests: the service finds it untrusted.
    pub async fn tamper(&mut self, i: usize) {
        self.nodes[i]
            .tamper_runtime(&self.sessions[i], TAMPERED)
            .await
            .expect("tampering");
        let r = self.sessions[i].attest_once().await.expect("attesting");
        assert!(!r.trusted, "a tampered node attested trusted");
    }

    /// Attests every node again, retrying for a while as an agent does (a restarted
    /// service may not answer at once, and a pooled connection to the old one fails).
    pub async fn attest_all(&mut self) {
        for s in &mut self.sessions {
            let mut tries = 0;
            loop {
                match s.attest_once().await {
                    Ok(_) => break,
                    Err(e) if tries < 40 => {
                        tries += 1;
                        eprintln!("attesting again after: {e}");
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Err(e) => panic!("attesting: {e}"),
                }
            }
        }
    }

    pub async fn stop_service(&mut self) {
        drop(self.service.take());
    }

    /// Starts the service again on the same address and data.
    pub async fn restart_service(&mut self) {
        let mut config = self.config.clone();
        config.listen = self.addr;
        self.service = Some(Service::start(config).await.expect("the service restarts"));
    }

    fn nodes_api(&self) -> Api<KNode> {
        Api::all(self.kube.clone())
    }

    pub async fn node(&self, name: &str) -> KNode {
        self.nodes_api().get(name).await.expect("the Node")
    }

    pub async fn label(&self, node: &str, key: &str) -> Option<String> {
        self.node(node)
            .await
            .metadata
            .labels
            .unwrap_or_default()
            .get(key)
            .cloned()
    }

    pub async fn annotation(&self, node: &str, key: &str) -> Option<String> {
        self.node(node)
            .await
            .metadata
            .annotations
            .unwrap_or_default()
            .get(key)
            .cloned()
    }

    /// Our taint's value and effect, if the Node has it.
    pub async fn taint(&self, node: &str) -> Option<(String, String)> {
        let n = self.node(node).await;
        n.spec?
            .taints?
            .into_iter()
            .find(|t| t.key == ironroot_controller::labels::TAINT_KEY)
            .map(|t| (t.value.unwrap_or_default(), t.effect))
    }

    pub async fn set_system_uuid(&self, node: &str, uuid: &str) {
        let p = json!({"status": {"nodeInfo": {"systemUUID": uuid}}});
        self.nodes_api()
            .patch_status(node, &PatchParams::default(), &Patch::Merge(&p))
            .await
            .expect("patching the Node's status");
    }

    pub async fn node_versions(&self) -> BTreeMap<String, String> {
        let list = self
            .nodes_api()
            .list(&ListParams::default())
            .await
            .expect("Nodes");
        list.items
            .into_iter()
            .map(|n| {
                (
                    n.metadata.name.unwrap_or_default(),
                    n.metadata.resource_version.unwrap_or_default(),
                )
            })
            .collect()
    }

    pub async fn wait_until<F, Fut>(&self, what: &str, limit: Duration, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let end = tokio::time::Instant::now() + limit;
        while !f().await {
            assert!(
                tokio::time::Instant::now() < end,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for the trust label of `node` to read `value`.
    pub async fn wait_trust(&self, node: &str, value: &str) {
        let what = format!("{node} to be labelled {value}");
        self.wait_until(&what, Duration::from_secs(30), || async {
            self.label(node, ironroot_controller::labels::TRUST_LABEL)
                .await
                .as_deref()
                == Some(value)
        })
        .await;
    }

    /// The report published on a Node verifies against the service's published keys.
    pub async fn verify_report(&self, jws: &str) {
        let jwks: ironroot_crypto::JwkSet = self
            .admin
            .get("/.well-known/jwks.json")
            .await
            .expect("JWKS");
        let payload = jwks
            .verify_compact(jws)
            .expect("the published report verifies");
        let report: serde_json::Value = serde_json::from_slice(&payload).expect("a report");
        assert_eq!(report["trusted"], true, "{report}");
    }

    /// A Deployment of `replicas` small pods labelled `app=NAME`; with a region, bound to
    /// trusted Nodes carrying that region tag, as the webhook writes it.
    pub async fn deploy(&self, name: &str, replicas: i32, region: Option<&str>) {
        let mut pod_spec = json!({
            "containers": [{"name": "app", "image": "registry.example/app:1",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
            "terminationGracePeriodSeconds": 0
        });
        if let Some(r) = region {
            pod_spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": ironroot_controller::labels::TRUST_LABEL, "operator": "In", "values": ["trusted"]},
                {"key": "tag.ironroot.node-restriction.kubernetes.io/region", "operator": "In", "values": [r]}
            ]}]}}});
        }
        let d: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}
        }))
        .expect("a Deployment");
        Api::<Deployment>::namespaced(self.kube.clone(), "default")
            .create(&PostParams::default(), &d)
            .await
            .expect("creating the Deployment");
    }

    async fn pods(&self, selector: &str) -> Vec<Pod> {
        Api::<Pod>::namespaced(self.kube.clone(), "default")
            .list(&ListParams::default().labels(selector))
            .await
            .expect("pods")
            .items
    }

    /// Waits for exactly `n` Running pods (none terminating) matching `selector`.
    pub async fn wait_running(&self, selector: &str, n: usize) {
        let what = format!("{n} running pods {selector}");
        self.wait_until(&what, Duration::from_secs(60), || async {
            let pods = self.pods(selector).await;
            pods.len() == n
                && pods.iter().all(|p| {
                    p.metadata.deletion_timestamp.is_none()
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
        })
        .await;
    }

    pub async fn pods_on(&self, node: &str, selector: &str) -> Vec<String> {
        self.pods(selector)
            .await
            .into_iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
            .filter_map(|p| p.metadata.name)
            .collect()
    }

    pub async fn pod_names(&self, selector: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .pods(selector)
            .await
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        v.sort();
        v
    }

    /// How many events.k8s.io Events give `reason` (the controller records on Nodes).
    pub async fn events_with_reason(&self, reason: &str) -> usize {
        let api: Api<k8s_openapi::api::events::v1::Event> = Api::all(self.kube.clone());
        api.list(&ListParams::default())
            .await
            .expect("events")
            .items
            .iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .count()
    }
}
