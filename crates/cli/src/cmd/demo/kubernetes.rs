//! The demo's Kubernetes act (issue 13): a real control plane (etcd, kube-apiserver with
//! NodeRestriction, kube-scheduler, kube-controller-manager) with kwok Nodes named after
//! the development nodes. An administrator binds each host to its Node; the controller
//! and its admission webhook run in this process on the library `ironroot controller`
//! runs. The webhook places the encrypted EU image from its key's policy, node 3 is
//! tampered live and is tainted and drained, and pods bound by hand to a Node outside
//! their region, or to the tampered one, are refused.
//!
//! It only watches and prints: every decision is the controller's, timed from outside
//! through the API server as an operator would see it.

use super::{step, wait_until};
use crate::cmd::admin::AdminClient;
use anyhow::{bail, Context};
use ironroot_api::BindNode;
use ironroot_controller::labels::{TAG_PREFIX, TAINT_KEY, TRUST_LABEL};
use ironroot_peers::kube::Cluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

mod controller;
mod governance;
mod objects;

/// The control plane, starting in the background while the nodes boot.
pub(super) struct Starting(JoinHandle<anyhow::Result<(Cluster, Duration)>>);

/// Checks the control plane can run here, then starts it with `nodes` Nodes.
pub(super) fn start_control_plane(nodes: usize) -> anyhow::Result<Starting> {
    if let Some(why) = ironroot_peers::kube::missing() {
        bail!("{why}: run `make demo`, which builds it once (scripts/kube-peers.sh)");
    }
    Ok(Starting(tokio::spawn(async move {
        let t = Instant::now();
        let cluster = Cluster::start(nodes).await?;
        Ok((cluster, t.elapsed()))
    })))
}

/// What the act places, and on which nodes.
pub(super) struct Setup<'a> {
    pub admin: &'a AdminClient,
    /// The service's URL and data directory (its CA and admin token, for the controller).
    pub service_url: &'a str,
    pub service_data: &'a Path,
    /// Where the controller's log goes.
    pub logs: &'a Path,
    /// The development nodes, `node-1..node-N`, in order.
    pub nodes: Vec<String>,
    /// The node tagged `region=US`.
    pub us_node: &'a str,
    pub victim: &'a str,
    /// The encrypted image (key policy region=EU) and a plain one, as pods name them.
    pub enc_image: &'a str,
    pub plain_image: &'a str,
}

/// The running act: the controller and the cluster, stopped in that order when dropped.
pub(super) struct Act {
    _controller: controller::Running,
    kube: kube::Client,
    cluster: Cluster,
}

/// When node 3's taint and the end of its drain were seen, measured by a [`Probe`].
struct Drain {
    pods_before: usize,
    tainted: Instant,
    emptied: Instant,
}

/// Polls the victim's Node and pods from just before the tamper.
pub(super) struct Probe(JoinHandle<anyhow::Result<Drain>>);

impl Act {
    /// Steps 1-3: the control plane, bindings, the controller, and the two workloads.
    pub(super) async fn start(starting: Starting, s: &Setup<'_>) -> anyhow::Result<Act> {
        ironroot_tls::install_process_provider();
        step(&format!(
            "Kubernetes: a real control plane (etcd, kube-apiserver with NodeRestriction, scheduler, controller-manager) and {} kwok Nodes",
            s.nodes.len()
        ));
        let (cluster, took) = starting.0.await.context("the control plane's task")??;
        println!(
            "    ready in {:.1} s (started in the background while the nodes booted); API server {}",
            took.as_secs_f64(),
            cluster.apiserver()
        );
        let kube = ironroot_controller::run::kube_client(Some(cluster.kubeconfig())).await?;

        step("An administrator binds each host to its Node (`ironroot host bind HOST NODE`); the cluster registers with the policy hub; the controller and its admission webhook start");
        bind_nodes(s, &kube).await?;
        let (identity, published) = governance::register(s.admin).await?;
        let started = Instant::now();
        let peers = controller::Peers {
            service_url: s.service_url,
            service_data: s.service_data,
            kubeconfig: cluster.kubeconfig(),
            log: s.logs.join("controller.log"),
        };
        let act = Act {
            _controller: controller::start(peers, &kube, identity).await?,
            kube,
            cluster,
        };
        act.wait_labels(&s.nodes).await?;
        println!(
            "    every Node labelled {:.2} s after the controller started:\n",
            started.elapsed().as_secs_f64()
        );
        act.get_nodes().await?;

        step(&format!(
            "Deploying payments-eu (2 replicas of {}, no affinity written) and web (3 replicas of a plain image)",
            s.enc_image
        ));
        objects::deploy(&act.kube, "payments-eu", 2, s.enc_image).await?;
        objects::deploy(&act.kube, "web", 3, s.plain_image).await?;
        objects::wait_settled(&act.kube, "app=payments-eu", 2, &[]).await?;
        objects::wait_settled(&act.kube, "app=web", 3, &[]).await?;
        act.get_pods().await?;
        let affinity = objects::affinity_of(&act.kube, "app=payments-eu").await?;
        println!("\n    the webhook added, from key payments-eu's policy: {affinity}");

        step("Governance: the policy set written once at the hub, pulled signed by the cluster's controller, enforced at admission and audited");
        governance::show(&act.kube, s.admin, published).await?;
        Ok(act)
    }

    /// Starts timing `victim`'s taint and drain; call right before tampering with it.
    pub(super) fn probe(&self, victim: &str) -> Probe {
        let (kube, victim) = (self.kube.clone(), victim.to_owned());
        Probe(tokio::spawn(
            async move { watch_drain(kube, &victim).await },
        ))
    }

    /// Steps 4-5: the times from tamper to taint and drain, where the pods run now, and
    /// the refusals of pods bound by hand.
    pub(super) async fn after_tamper(
        &self,
        probe: Probe,
        tampered: Instant,
        s: &Setup<'_>,
    ) -> anyhow::Result<()> {
        step(&format!(
            "Kubernetes: the controller taints {} and drains it through the Eviction API",
            s.victim
        ));
        let d = probe.0.await.context("the drain probe's task")??;
        println!(
            "    {}: tainted {TAINT_KEY}=untrusted:NoSchedule {:.2} s after tampering;",
            s.victim,
            d.tainted.saturating_duration_since(tampered).as_secs_f64()
        );
        println!(
            "    the last of its {} pods evicted {:.2} s after tampering (SecL-DC: up to 2 minutes).\n",
            d.pods_before,
            d.emptied.saturating_duration_since(tampered).as_secs_f64()
        );
        let eu_ok: Vec<&str> = s
            .nodes
            .iter()
            .map(String::as_str)
            .filter(|n| *n != s.us_node && *n != s.victim)
            .collect();
        let not_eu: Vec<&str> = s
            .nodes
            .iter()
            .map(String::as_str)
            .filter(|n| !eu_ok.contains(n))
            .collect();
        objects::wait_settled(&self.kube, "app=payments-eu", 2, &not_eu).await?;
        objects::wait_settled(&self.kube, "app=web", 3, &[s.victim]).await?;
        self.get_nodes().await?;
        println!();
        self.get_pods().await?;
        println!(
            "\n    every payments-eu pod runs on {} (trusted, region=EU); web left {}",
            eu_ok.join(", "),
            s.victim
        );

        step(
            "Binding pods to a Node by hand (spec.nodeName skips the scheduler): admission refuses",
        );
        let refusals = [
            ("payments-by-hand", s.enc_image, s.us_node),
            ("web-by-hand", s.plain_image, s.victim),
        ];
        for (name, image, node) in refusals {
            let why = objects::refused(&self.kube, name, image, node).await?;
            println!("    {name} ({image}) on {node}: REFUSED: {why}");
        }
        println!("    (and were admission bypassed, the broker would still refuse the key: next)");
        Ok(())
    }

    /// The lines that let a reader explore the cluster while the demo keeps running.
    pub(super) fn explore_hint(&self) -> String {
        format!(
            "    export KUBECONFIG={}; {} get nodes -L {TRUST_LABEL},{TAG_PREFIX}region",
            self.cluster.kubeconfig().display(),
            self.cluster.bin().join("kubectl").display()
        )
    }

    async fn wait_labels(&self, nodes: &[String]) -> anyhow::Result<()> {
        let api: Api<Node> = Api::all(self.kube.clone());
        wait_until(Duration::from_secs(30), || async {
            let Ok(list) = api.list(&ListParams::default()).await else {
                return false;
            };
            nodes.iter().all(|n| {
                list.items.iter().any(|k| {
                    k.metadata.name.as_deref() == Some(n.as_str())
                        && k.metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(TRUST_LABEL))
                            .is_some_and(|v| v == "trusted")
                })
            })
        })
        .await
        .context("the Nodes were not labelled trusted")
    }

    async fn get_nodes(&self) -> anyhow::Result<()> {
        let labels = format!("{TRUST_LABEL},{TAG_PREFIX}region");
        self.kubectl(&["get", "nodes", "-L", &labels]).await
    }

    async fn get_pods(&self) -> anyhow::Result<()> {
        self.kubectl(&["get", "pods", "-o", "wide", "--sort-by", ".metadata.name"])
            .await
    }

    /// Prints `kubectl ARGS` (indented, after the command line).
    async fn kubectl(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self.cluster.kubectl(args).await?;
        if !out.ok {
            bail!("kubectl {}: {}", args.join(" "), out.stderr.trim());
        }
        println!("    $ kubectl {}", args.join(" "));
        for line in out.stdout.lines() {
            println!("    {line}");
        }
        Ok(())
    }
}

/// Binds each node's host to the Node of the same name, and gives each fake Node its
/// host's hardware UUID as `systemUUID`, as a kubelet on that machine would report it.
async fn bind_nodes(s: &Setup<'_>, kube: &kube::Client) -> anyhow::Result<()> {
    let hosts = s.admin.hosts().await?;
    let nodes: Api<Node> = Api::all(kube.clone());
    for name in &s.nodes {
        let host = hosts
            .iter()
            .find(|h| &h.hostname == name)
            .with_context(|| format!("{name} is not enrolled"))?;
        let bound = s
            .admin
            .bind_node(&host.host_id, &BindNode { node: name.clone() })
            .await
            .with_context(|| format!("binding {name}"))?;
        let status =
            serde_json::json!({"status": {"nodeInfo": {"systemUUID": bound.hardware_uuid}}});
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .with_context(|| format!("setting {name}'s systemUUID"))?;
        println!(
            "    host {} -> Node {name} (systemUUID {})",
            &bound.host_id[..bound.host_id.len().min(8)],
            bound.hardware_uuid
        );
    }
    Ok(())
}

/// Waits for `victim`'s taint, then for the last pod on it to go.
async fn watch_drain(kube: kube::Client, victim: &str) -> anyhow::Result<Drain> {
    let nodes: Api<Node> = Api::all(kube.clone());
    let pods: Api<Pod> = Api::namespaced(kube, "default");
    let on_victim = ListParams::default().fields(&format!("spec.nodeName={victim}"));
    let pods_before = pods.list(&on_victim).await?.items.len();
    let limit = Instant::now() + Duration::from_secs(60);
    let mut tainted = None;
    loop {
        let now = Instant::now();
        if now > limit {
            bail!("{victim} was not tainted and drained within 60 s");
        }
        if tainted.is_none() {
            let node = nodes.get(victim).await?;
            let has = node
                .spec
                .and_then(|s| s.taints)
                .is_some_and(|t| t.iter().any(|t| t.key == TAINT_KEY));
            tainted = has.then_some(now);
        }
        if let Some(tainted) = tainted {
            if pods.list(&on_victim).await?.items.is_empty() {
                return Ok(Drain {
                    pods_before,
                    tainted,
                    emptied: Instant::now(),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
