//! Support for k8s_governance.rs: the policy set its tests use, a fact source with no
//! facts, a hub that records what it hears, and the cluster helpers.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failure should panic

use ironroot_api::{ComplianceReport, SignedBundle, ViolationBatch};
use ironroot_controller::hub::{Hub, HubError};
use ironroot_controller::policies::{Active, FactSource};
use ironroot_controller::webhook::BoxFuture;
use ironroot_crypto::JwkSet;
use ironroot_peers::kube::{missing, Cluster};
use ironroot_policy::{Facts, PolicySet};
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;

pub const SET: &str = r#"version: 1
policies:
  - id: no-privileged
    description: No privileged containers.
    severity: critical
    mode: enforce
    remediation: deny
    rule: { no-privileged: {} }
  - id: read-only-root
    description: Read-only root filesystems.
    severity: medium
    mode: audit
    remediation: alert
    rule: { read-only-root-filesystem: {} }
  - id: non-root
    description: Containers run as non-root.
    severity: high
    mode: audit
    remediation: alert
    rule: { run-as-non-root: {} }
  - id: limits
    description: Memory limits.
    severity: low
    mode: audit
    remediation: alert
    rule: { resource-limits: { cpu: false } }
  - id: registries
    description: Images from the approved registries.
    severity: high
    mode: enforce
    remediation: deny
    scope:
      namespaces: [regs]
      exclusions:
        - { name: "legacy-*", reason: migration, expires: "2099-01-01T00:00:00Z" }
    rule: { approved-registries: { registries: [registry.local:5000, docker.io/library] } }
  - id: limits-enforced
    description: Memory limits, enforced.
    severity: low
    mode: enforce
    remediation: deny
    scope: { namespaces: [regs] }
    rule: { resource-limits: { cpu: false } }
"#;

/// Facts are not needed by these rules: none.
pub struct NoFacts;
impl FactSource for NoFacts {
    fn facts<'a>(&'a self, _pod: &'a Pod, _deadline: Duration) -> BoxFuture<'a, Facts> {
        Box::pin(async { Facts::default() })
    }
}

/// A hub that records what the cluster reports.
#[derive(Default)]
pub struct RecordingHub {
    pub compliance: Mutex<Vec<ComplianceReport>>,
}
impl Hub for RecordingHub {
    fn bundle(&self, _have: Option<u64>) -> BoxFuture<'_, Result<Option<SignedBundle>, HubError>> {
        Box::pin(async { Ok(None) })
    }
    fn jwks(&self) -> BoxFuture<'_, Result<JwkSet, HubError>> {
        Box::pin(async { Ok(JwkSet::default()) })
    }
    fn report_compliance<'a>(
        &'a self,
        r: &'a ComplianceReport,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async move {
            self.compliance.lock().unwrap().push(r.clone());
            Ok(())
        })
    }
    fn report_violations<'a>(
        &'a self,
        _b: &'a ViolationBatch,
    ) -> BoxFuture<'a, Result<(), HubError>> {
        Box::pin(async { Ok(()) })
    }
}

pub fn active(yaml: &str) -> Active {
    Active {
        set: PolicySet::from_yaml(yaml.as_bytes()).unwrap(),
        cluster: "east".into(),
        version: 7,
    }
}

pub async fn start() -> Option<(Cluster, kube::Client)> {
    if let Some(why) = missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return None;
    }
    ironroot_tls::install_process_provider();
    let c = Cluster::start(1)
        .await
        .expect("the Kubernetes control plane");
    let kube = ironroot_controller::run::kube_client(Some(c.kubeconfig()))
        .await
        .unwrap();
    Some((c, kube))
}

/// A namespace whose default ServiceAccount exists (pods need it).
pub async fn namespace(kube: &kube::Client, name: &str) {
    let ns: Api<Namespace> = Api::all(kube.clone());
    let obj = serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap();
    ns.create(&PostParams::default(), &obj).await.unwrap();
    let sa: Api<ServiceAccount> = Api::namespaced(kube.clone(), name);
    wait("the default ServiceAccount", || async {
        sa.get_opt("default").await.unwrap().is_some()
    })
    .await;
}

pub fn pod_json(name: &str, image: &str, privileged: bool) -> serde_json::Value {
    json!({
        "metadata": { "name": name },
        "spec": {
            "nodeName": "node-1",
            "automountServiceAccountToken": false,
            "containers": [{
                "name": "c", "image": image,
                "securityContext": { "privileged": privileged, "readOnlyRootFilesystem": !privileged, "runAsNonRoot": true },
                "resources": { "limits": { "memory": "64Mi" } }
            }]
        }
    })
}

pub async fn create_pod(
    kube: &kube::Client,
    ns: &str,
    name: &str,
    image: &str,
    privileged: bool,
) -> Result<Pod, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(kube.clone(), ns);
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(pod_json(name, image, privileged)).unwrap(),
    )
    .await
}

pub async fn wait<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while !f().await {
        assert!(std::time::Instant::now() < until, "not within 30 s: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn reports_api(kube: &kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("wgpolicyk8s.io", "v1alpha2", "PolicyReport"),
        "policyreports",
    );
    Api::namespaced_with(kube.clone(), ns, &ar)
}

/// [`SET`] without its no-privileged policy.
pub fn without_no_privileged() -> String {
    let start = SET.find("  - id: no-privileged").unwrap();
    let end = SET.find("  - id: read-only-root").unwrap();
    format!("{}{}", &SET[..start], &SET[end..])
}

/// Registers the cluster `name` at the hub `p`, as an administrator: its certificate and
/// the key that stayed with it.
pub async fn register(
    p: &ironroot_e2e::Platform,
    name: &str,
) -> (ironroot_api::RegisteredCluster, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    let csr = csr.serialize_request(&key).unwrap().pem().unwrap();
    let reg = p
        .admin
        .register_cluster(&ironroot_api::RegisterCluster {
            name: name.into(),
            csr_pem: csr,
        })
        .await
        .unwrap();
    (reg, key)
}

/// The background audit over `kube`, reporting to `hub`, writing PolicyReports.
pub fn auditor(
    kube: &kube::Client,
    hub: std::sync::Arc<RecordingHub>,
    policies: std::sync::Arc<ironroot_controller::policies::Policies>,
    queue: ironroot_controller::policies::ViolationQueue,
) -> ironroot_controller::hub::audit_loop::Auditor {
    ironroot_controller::hub::audit_loop::Auditor {
        kube: kube.clone(),
        hub: Some(hub),
        facts: std::sync::Arc::new(NoFacts),
        policies,
        queue: Some(queue),
        probe: None,
        skip_namespaces: vec!["kube-system".into(), "ironroot-system".into()],
        interval: Duration::from_secs(60),
        fact_deadline: Duration::from_secs(1),
        changed: Default::default(),
        stats: Default::default(),
        policy_reports: true,
        admission_policies: false,
    }
}

/// Whether the control plane is missing (the test then returns, or fails under
/// IRONROOT_REQUIRE_PEERS=1).
pub fn start_hub_check() -> bool {
    if let Some(why) = missing() {
        ironroot_testkit::skip_missing_peer(&why);
        return true;
    }
    ironroot_tls::install_process_provider();
    false
}

/// Version `version` of `doc` (a version of [`SET`]) as an administrator's change.
pub fn change(version: u64, doc: &str) -> ironroot_api::PolicyChange {
    ironroot_api::PolicyChange {
        document: doc.replacen("version: 1", &format!("version: {version}"), 1),
        by: "alice".into(),
        comment: None,
    }
}

/// A cluster of the hub: its own control plane (with namespace `apps`) and its
/// controller's hub part, as `--cluster-cert/--cluster-key` wire it.
pub struct Member {
    pub kube: kube::Client,
    pub policies: std::sync::Arc<ironroot_controller::policies::Policies>,
    pub stats: std::sync::Arc<ironroot_controller::hub::HubStats>,
    pub state_dir: std::path::PathBuf,
    part: tokio::task::JoinHandle<()>,
    _cluster: Cluster,
}

impl Member {
    pub async fn join(
        p: &ironroot_e2e::Platform,
        name: &str,
        state_dir: &std::path::Path,
    ) -> Member {
        use ironroot_controller::hub::cluster::{GovernanceSettings, HubLink};
        use std::sync::Arc;
        let cluster = Cluster::start(1)
            .await
            .expect("the Kubernetes control plane");
        let kube = ironroot_controller::run::kube_client(Some(cluster.kubeconfig()))
            .await
            .unwrap();
        namespace(&kube, "apps").await;
        let (reg, key) = register(p, name).await;
        let cluster_id =
            ironroot_controller::hub::identity::cluster_id(reg.cert_pem.as_bytes()).unwrap();
        assert_eq!(cluster_id, reg.id, "the id is the certificate's");
        let client = ironroot_controller::hub::client::cluster_client(
            &p.url(),
            reg.ca_pem.as_bytes(),
            &reg.cert_pem,
            &key.serialize_pem(),
        )
        .unwrap();
        let mut g = GovernanceSettings::new(Some(HubLink {
            hub: Arc::new(client),
            cluster_id,
            state_dir: Some(state_dir.to_owned()),
        }));
        g.own_namespace = "ironroot-system".into();
        let policies = Arc::new(ironroot_controller::policies::Policies::new(None));
        let (queue, rx) = ironroot_controller::policies::ViolationQueue::new();
        let stats = Arc::new(ironroot_controller::hub::HubStats::default());
        let part = tokio::spawn(ironroot_controller::hub::cluster::run(
            kube.clone(),
            g,
            policies.clone(),
            Arc::new(NoFacts),
            queue,
            rx,
            stats.clone(),
        ));
        Member {
            kube,
            policies,
            stats,
            state_dir: state_dir.to_owned(),
            part,
            _cluster: cluster,
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.part.abort();
    }
}
