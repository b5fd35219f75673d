//! The controller and its admission webhook, run in-process on the library `ironroot
//! controller` runs, but on a runtime of their own in a thread of their own: stopping it
//! drops that runtime and every task the controller spawned (as ending its process
//! would), and its log goes to a file like every other process of the demo, not into
//! the narrative.

use anyhow::Context;
use ironroot_controller::hub::cluster::GovernanceSettings;
use ironroot_controller::run::{Settings, WebhookListener};
use ironroot_controller::state::State;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// The namespaces the webhook never sees: a down webhook must not stop the control plane.
const EXCLUDED: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// Where the controller finds the service and the cluster.
pub(super) struct Peers<'a> {
    pub service_url: &'a str,
    /// The service's data directory (its `ca.pem` and `admin.token`).
    pub service_data: &'a Path,
    pub kubeconfig: &'a Path,
    pub log: PathBuf,
}

/// The running controller; stopped (every task of it) when dropped.
pub(super) struct Running {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the webhook on loopback with a certificate made for this run, registers it
/// with the API server (failure policy Fail), and starts the controller.
pub(super) async fn start(
    p: Peers<'_>,
    kube: &kube::Client,
    hub: super::governance::Identity,
) -> anyhow::Result<Running> {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])?;
    let cert_pem = cert.cert.pem();
    let identity = ironroot_tls::Identity::from_pem(
        cert_pem.as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )?;
    let tls = ironroot_tls::open_server_config(identity)?;
    // Bound here so that the URL is known before registering; served by the controller's
    // runtime (a tokio listener belongs to the runtime that made it).
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("https://{}", listener.local_addr()?);
    ironroot_controller::webhook::register(kube, &url, &cert_pem, "Fail", 5, &EXCLUDED)
        .await
        .context("registering the admission webhook")?;
    println!(
        "    admission webhook: {url} (mutating and validating, failure policy Fail, 5 s timeout)"
    );

    let ca = std::fs::read(p.service_data.join("ca.pem"))?;
    let governance = governance(&p, &ca, &hub, &cert_pem, listener.local_addr()?)?;
    let token =
        zeroize::Zeroizing::new(std::fs::read_to_string(p.service_data.join("admin.token"))?);
    let service = ironroot_client::Client::admin(
        p.service_url,
        &ca,
        token.trim(),
        ironroot_client::PlainHttp::Refused,
    )?;
    let kubeconfig = p.kubeconfig.to_owned();
    let log =
        std::fs::File::create(&p.log).with_context(|| format!("creating {}", p.log.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("controller".into())
        .spawn(move || {
            let logger = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(log))
                .with_env_filter("info")
                .finish();
            let _log = tracing::subscriber::set_default(logger);
            runtime.block_on(async move {
                let run = async {
                    let kube = ironroot_controller::run::kube_client(Some(&kubeconfig)).await?;
                    let webhook = WebhookListener {
                        listener: tokio::net::TcpListener::from_std(listener)?,
                        tls,
                        // The demo's registry is plain HTTP on loopback, which the webhook reads.
                        insecure_registries: Vec::new(),
                    };
                    let state = Arc::new(State::default());
                    let settings = Settings {
                        governance: Some(governance),
                        ..Settings::default()
                    };
                    ironroot_controller::run::run(service, kube, settings, state, Some(webhook))
                        .await
                };
                tokio::select! {
                    r = run => if let Err(e) = r { tracing::error!("the controller stopped: {e:#}") },
                    _ = stopped => {}
                }
            });
            // While the log is still routed: the tasks it drops may say why they end.
            drop(runtime);
        })?;
    Ok(Running {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// The hub's part: the cluster's own client of the hub, the last good bundle kept beside
/// the logs, a probe of its own webhook, and audits every 10 s (60 s by default) so the
/// demo's changes show soon.
fn governance(
    p: &Peers<'_>,
    ca: &[u8],
    hub: &super::governance::Identity,
    webhook_cert_pem: &str,
    webhook_addr: std::net::SocketAddr,
) -> anyhow::Result<GovernanceSettings> {
    use ironroot_controller::hub;
    let client = hub::client::cluster_client(p.service_url, ca, &hub.cert_pem, &hub.key_pem)?;
    let cluster_id =
        hub::identity::cluster_id(hub.cert_pem.as_bytes()).context("the cluster certificate")?;
    let state_dir = p.log.with_extension("state");
    let mut g = GovernanceSettings::new(Some(hub::cluster::HubLink {
        hub: Arc::new(client),
        cluster_id,
        state_dir: Some(state_dir),
    }));
    g.audit_interval = std::time::Duration::from_secs(10);
    g.own_namespace = "ironroot-system".into();
    let leaf = ironroot_tls::certs_from_pem(webhook_cert_pem.as_bytes())?
        .into_iter()
        .next()
        .context("the webhook's certificate")?;
    g.probe = Some(hub::probe::WebhookProbe::new(webhook_addr, leaf)?);
    Ok(g)
}
