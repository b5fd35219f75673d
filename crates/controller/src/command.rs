//! The controller's command line (`ironroot controller`): arguments into the running
//! parts, nothing decided here.

use crate::brake::BrakeConfig;
use crate::desired::TaintEffect;
use crate::follow::FollowConfig;
use crate::run::Settings;
use crate::state::State;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Carry node trust into Kubernetes.
///
/// Follows the attestation service's trust events and publishes, on every Node an
/// administrator bound to an ironroot host (`ironroot host bind HOST NODE`), its trust
/// state and certified asset tags as labels under ironroot.node-restriction.kubernetes.io/
/// (which no kubelet can set on itself when the NodeRestriction admission plugin is on),
/// its latest signed trust report as an annotation, and a NoSchedule taint when it is not
/// trusted. Untrusted Nodes are drained through the Eviction API, which honours
/// PodDisruptionBudgets; drains start at most --drains-per-second and stop, with an alert,
/// when more than --brake-percent of the Nodes are untrusted at once. `unknown` (the
/// service unreachable for --unreachable-grace, or no binding) stops scheduling and never
/// evicts.
///
/// With --webhook-listen it also serves the admission webhook that places pods of
/// ironroot-encrypted images only on trusted Nodes carrying the tags their key requires,
/// and refuses binding pods to Nodes that are not trusted; with a policy set in force
/// (--policy-file, or the hub's signed bundle with --cluster-cert) it also judges every
/// pod by it: enforce-mode policies refuse, audit-mode ones warn. With a policy set the
/// controller audits the running pods, writes one PolicyReport per namespace, installs
/// the rules that need no outside data as ValidatingAdmissionPolicies (which hold while
/// the webhook is down), and reports compliance and violations to the hub.
///
/// Example: ironroot controller --server https://attest.example:8443 --ca ca.pem
///   --cluster-cert east/cluster.crt --cluster-key east/cluster.key
///   --kubeconfig ~/.kube/config
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The attestation service's URL (any replica).
    #[arg(long, env = "IRONROOT_SERVER")]
    pub server: String,
    /// PEM file with the service's CA certificate.
    #[arg(long, env = "IRONROOT_CA")]
    pub ca: PathBuf,
    /// File holding the service's administrator token (never given on the command line).
    /// Not needed with --cluster-cert: the cluster's own certificate may read what the
    /// controller reads (trust events, bound Nodes, key policies), so no administrator
    /// token need live in the cluster.
    #[arg(
        long,
        env = "IRONROOT_TOKEN_FILE",
        required_unless_present = "cluster_cert"
    )]
    pub token_file: Option<PathBuf>,
    /// Kubeconfig to use; without it, the in-cluster service account (or $KUBECONFIG).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Manage only the Nodes matching this label selector (default: every Node).
    #[arg(long)]
    pub node_selector: Option<String>,
    /// Taint effect on untrusted Nodes: no-schedule (drain through evictions, honouring
    /// disruption budgets) or no-execute (delete at once every pod that does not tolerate
    /// it, ignoring budgets: only for workloads that must leave at once).
    #[arg(long, default_value = "no-schedule", value_parser = ["no-schedule", "no-execute"])]
    pub untrusted_effect: String,
    /// Do not evict anything: only label and taint.
    #[arg(long)]
    pub no_drain: bool,
    /// Hold every drain (and raise an alert) when more than this percentage of the managed
    /// Nodes is untrusted at once.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub brake_percent: u32,
    /// ...and at least this many Nodes are.
    #[arg(long, default_value_t = 2)]
    pub brake_min_nodes: usize,
    /// Node drains started per second at most, after --drain-burst.
    #[arg(long, default_value_t = 0.1)]
    pub drains_per_second: f64,
    /// Node drains that may start at once before --drains-per-second applies.
    #[arg(long, default_value_t = 3)]
    pub drain_burst: u32,
    /// Milliseconds a Node must stay untrusted before its drain starts, so that a mass
    /// flip (which arrives over some moments) is judged whole by the brake first.
    #[arg(long, default_value_t = 500)]
    pub drain_settle_ms: u64,
    /// Seconds the service may be unreachable before every Node reads `unknown`.
    #[arg(long, default_value_t = 10)]
    pub unreachable_grace: u64,
    /// Seconds between full reads of the service (refreshes the published reports).
    #[arg(long, default_value_t = 60)]
    pub resync: u64,
    /// Serve the admission webhook (AdmissionReview v1 over HTTPS) on this address, e.g.
    /// 0.0.0.0:9443. Register it with deploy/webhooks.yaml.
    #[arg(long, requires_all = ["webhook_cert", "webhook_key"])]
    pub webhook_listen: Option<std::net::SocketAddr>,
    /// PEM certificate (chain) the webhook presents; the API server must trust its issuer
    /// (the caBundle of the webhook configurations).
    #[arg(long)]
    pub webhook_cert: Option<PathBuf>,
    /// PEM private key of --webhook-cert.
    #[arg(long)]
    pub webhook_key: Option<PathBuf>,
    /// A registry the webhook may read over plain HTTP (besides loopback ones), to find
    /// the keys of encrypted images. Repeat for several.
    #[arg(long = "insecure-registry")]
    pub insecure_registries: Vec<String>,
    /// A policy set (YAML, or JSON when it ends in .json; see docs/policies.md) the
    /// webhook enforces from the start; refused at start if it does not validate.
    #[arg(long)]
    pub policy_file: Option<PathBuf>,
    /// The cluster's certificate from the hub (POST /v1/clusters; its key stays here):
    /// with it the controller pulls its signed policy bundle from --server, reports
    /// compliance and violations, and keeps the last good bundle in --state-dir.
    #[arg(long, requires = "cluster_key")]
    pub cluster_cert: Option<PathBuf>,
    /// PEM private key of --cluster-cert.
    #[arg(long, requires = "cluster_cert")]
    pub cluster_key: Option<PathBuf>,
    /// The Secret (in the controller's namespace) --cluster-cert and --cluster-key are
    /// mounted from: a renewed certificate is written there too, so a new pod starts with
    /// it. Its keys are the two files' names. Needs RBAC patch on that Secret only.
    /// Without it a renewed certificate is kept in --state-dir only.
    #[arg(long, value_name = "NAME", requires = "cluster_cert")]
    pub cluster_secret: Option<String>,
    /// Where the last good policy bundle and a renewed cluster certificate are kept
    /// (0600); the bundle is enforced at start until the hub answers.
    #[arg(long, default_value = "/var/lib/ironroot-controller")]
    pub state_dir: PathBuf,
    /// Seconds between polls of the hub for a new policy bundle.
    #[arg(long, default_value_t = 2)]
    pub policy_poll: u64,
    /// Seconds between background audits of the running pods (one also runs after each
    /// new policy set).
    #[arg(long, default_value_t = 60)]
    pub audit_interval: u64,
    /// A cosign public key (PEM file) whose signatures the policy set may trust, as
    /// ID=FILE; ID is what `image-signed`'s `trusted_keys` names. Repeat for several.
    /// Without any, every image's signature is unknown to the policies.
    #[arg(long = "trusted-key", value_name = "ID=FILE")]
    pub trusted_keys: Vec<String>,
    /// The ID (of a --trusted-key) of the build pipeline's key, for the
    /// `pipeline-built-with-encryption-policy` rule.
    #[arg(long, value_name = "ID")]
    pub pipeline_key: Option<String>,
    /// The cluster's name for a --policy-file set (scopes match clusters by name); with a
    /// hub, the hub's bundle names the cluster instead.
    #[arg(long, default_value = "local")]
    pub cluster_name: String,
    /// The controller's own namespace: never audited, never matched by its admission
    /// policies.
    #[arg(long, env = "POD_NAMESPACE", default_value = "ironroot-system")]
    pub namespace: String,
}

impl Args {
    fn brake(&self) -> BrakeConfig {
        BrakeConfig {
            max_untrusted_percent: self.brake_percent,
            min_untrusted_nodes: self.brake_min_nodes,
            drains_per_second: self.drains_per_second,
            burst: self.drain_burst,
        }
    }
}

/// Runs the controller until it is stopped.
pub async fn run(args: Args) -> anyhow::Result<()> {
    ironroot_tls::install_process_provider();
    let ca = std::fs::read(&args.ca).with_context(|| format!("reading {}", args.ca.display()))?;
    let cluster = crate::hub::setup::cluster_identity(&args, &ca)?;
    let service = match (&args.token_file, &cluster) {
        (Some(file), _) => {
            let token = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            ironroot_client::Client::admin(
                &args.server,
                &ca,
                token.trim(),
                ironroot_client::url::PlainHttp::Refused,
            )?
        }
        // The same client as the hub's (a renewed certificate switches both).
        (None, Some(c)) => c
            .client
            .clone()
            .with_response_limit(ironroot_client::ADMIN_RESPONSE_LIMIT),
        _ => anyhow::bail!("give --token-file or --cluster-cert and --cluster-key"),
    };
    let kube = crate::run::kube_client(args.kubeconfig.as_deref()).await?;
    let mut settings = Settings {
        node_selector: args.node_selector.clone(),
        untrusted_effect: match args.untrusted_effect.as_str() {
            "no-execute" => TaintEffect::NoExecute,
            _ => TaintEffect::NoSchedule,
        },
        drain: !args.no_drain,
        drain_settle: Duration::from_millis(args.drain_settle_ms),
        brake: args.brake(),
        follow: FollowConfig {
            unreachable_grace: Duration::from_secs(args.unreachable_grace),
            resync: Duration::from_secs(args.resync.max(1)),
        },
        policies: Arc::new(crate::policies::Policies::new(
            args.policy_file
                .as_deref()
                .map(crate::enforce::policy_file)
                .transpose()?
                .map(|a| crate::policies::Active {
                    cluster: args.cluster_name.clone(),
                    ..a
                }),
        )),
        violations: None,
        remediations: None,
        governance: None,
        trusted_keys: trusted_keys(&args.trusted_keys)?,
        pipeline_key: args.pipeline_key.clone(),
    };
    if let Some(p) = &args.pipeline_key {
        anyhow::ensure!(
            settings.trusted_keys.iter().any(|(id, _)| id == p),
            "--pipeline-key {p} names no --trusted-key"
        );
    }
    let webhook = match (&args.webhook_listen, &args.webhook_cert, &args.webhook_key) {
        (Some(addr), Some(cert), Some(key)) => {
            let read =
                |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
            let identity = ironroot_tls::Identity::from_pem(&read(cert)?, &read(key)?)
                .context("the webhook's certificate and key")?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            tracing::info!(%addr, "serving the admission webhook");
            Some(crate::run::WebhookListener {
                listener,
                tls: ironroot_tls::open_server_config(identity)?,
                insecure_registries: args.insecure_registries.clone(),
            })
        }
        _ => None,
    };
    let webhook_addr = webhook
        .as_ref()
        .map(|w| w.listener.local_addr())
        .transpose()?;
    settings.governance = crate::hub::setup::governance(&args, cluster, Some(&kube), webhook_addr)?;
    tracing::info!(server = %args.server, "ironroot controller starting");
    tokio::select! {
        r = crate::run::run(service, kube, settings, Arc::new(State::default()), webhook) => r,
        r = tokio::signal::ctrl_c() => { r?; tracing::info!("stopping"); Ok(()) }
    }
}

/// `ID=FILE` pairs read into (id, PEM).
fn trusted_keys(args: &[String]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    args.iter()
        .map(|a| {
            let (id, file) = a
                .split_once('=')
                .filter(|(id, f)| !id.is_empty() && !f.is_empty())
                .with_context(|| format!("--trusted-key {a:?}: expected ID=FILE"))?;
            let pem = std::fs::read(file).with_context(|| format!("reading {file}"))?;
            Ok((id.to_owned(), pem))
        })
        .collect()
}
