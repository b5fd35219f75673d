//! The ironroot attestation service as a library: enrollment that proves an AK lives in
//! the same TPM as its EK, challenge and response with single-use nonces, quote and log
//! verification, flavors and flavor groups, and trust reports signed as JWS.
//!
//! The binary (`ironroot server`) is a thin shell around [`Service::start`]. This crate
//! must never trust a node's word: everything a node sends is parsed with limits and
//! verified; any failure is a named fault or a clear error, and a node with no current
//! passing report is untrusted.

mod admin;
mod agent;
mod alerts;
mod attest;
mod audit;
#[cfg(feature = "bench-enrollment")]
mod bench_enroll;
mod broker;
mod config;
mod dashboard;
mod error;
mod events;
mod flavor_cache;
mod gate;
mod groups;
mod hub;
mod identity;
mod images;
mod nodes;
mod nonce;
mod pki;
mod ratelimit;
mod store;
mod tags;
mod tls;
mod writer;

pub use broker::master::{MasterKey, MasterKeyError, Pkcs11Config};
pub use config::{EkCertPolicy, ImagesConfig, ServerConfig};
pub use error::ServiceError;
pub use identity::oidc::OidcSettings;
pub use identity::BootstrapMode;
/// The EK-certificate checks live in the pure `ironroot-tpm-wire` (fuzzed there).
pub use ironroot_tpm_wire::{EkCertError, EkRoots};
pub use ratelimit::RateBudget;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use ironroot_crypto::ServiceSigningKey;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Store;

/// Shared state of a running service.
pub(crate) struct AppState {
    pub store: Store,
    pub config: ServerConfig,
    pub pki: pki::ServicePki,
    pub signer: ServiceSigningKey,
    /// Signs asset-tag certificates (the tag CA).
    pub tag_signer: ServiceSigningKey,
    /// Seals broker keys at rest.
    pub(crate) master: MasterKey,
    pub nonce_key: nonce::NonceKey,
    pub ek_roots: EkRoots,
    pub admin_token: zeroize::Zeroizing<String>,
    /// This replica's event subscribers, fed by the trust-event log's tailer.
    pub events: Arc<events::EventBus>,
    pub limits: ratelimit::Limits,
    pub flavor_cache: flavor_cache::FlavorCache,
    pub verdicts: writer::VerdictWriter,
    /// Parsed logs and the last report per host, so that repeat attestations re-check
    /// only what changed (see `ironroot_verifier::EvidenceCache`); bounded in hosts and
    /// bytes, least recently used dropped first.
    pub evidence_caches: std::sync::Mutex<ironroot_verifier::EvidenceCaches>,
    /// Stored image inventories and their rescans; `None` when not configured.
    pub images: Option<Arc<images::Images>>,
    /// Wakes the alert delivery worker (`alerts::deliver`).
    pub alerts: alerts::AlertRuntime,
    /// Signs the audit log's checkpoints.
    pub audit: Arc<audit::LogSigner>,
    /// Records access decisions in the audit log (group commit).
    pub access: identity::access::AccessLog,
    /// The provider people sign in with, when configured.
    pub oidc: Option<identity::oidc::LazyProvider>,
}

/// A started service. Dropping it stops the listener.
pub struct Service {
    pub addr: SocketAddr,
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
    sweeper: tokio::task::JoinHandle<()>,
    tailer: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
    images: Option<tokio::task::JoinHandle<()>>,
    alerts: tokio::task::JoinHandle<()>,
    hub: tokio::task::JoinHandle<()>,
    audit: tokio::task::JoinHandle<()>,
    access: tokio::task::JoinHandle<()>,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.task.abort();
        self.sweeper.abort();
        self.tailer.abort();
        self.writer.abort();
        self.alerts.abort();
        self.hub.abort();
        self.audit.abort();
        self.access.abort();
        if let Some(t) = &self.images {
            t.abort();
        }
    }
}

/// Errors that stop the service from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot prepare data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("PKI: {0}")]
    Pki(#[from] pki::PkiError),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("report signing key: {0}")]
    Signer(String),
    /// Not a `source`: the message already holds it (no doubled text in error chains).
    #[error("broker master key: {0}")]
    MasterKey(MasterKeyError),
    #[error("EK CA file {0}: {1}")]
    EkRoots(String, String),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("{0}")]
    Config(String),
}

impl Service {
    /// Opens the database, loads or creates the PKI and signing key, and starts serving.
    pub async fn start(config: ServerConfig) -> Result<Service, StartError> {
        let dir = config.data_dir.clone();
        let data_dir_err = |e| StartError::DataDir(dir.display().to_string(), e);
        std::fs::create_dir_all(&dir).map_err(data_dir_err)?;
        // The directory holds the CA key, the signing keys and (with SQLite) the nonce
        // key: the service's user alone may read it.
        restrict(&dir, 0o700).map_err(data_dir_err)?;
        let store = match &config.database {
            Some(location) => Store::open(location).await?,
            None => {
                let db = dir.join("ironroot.db");
                let store = Store::open_sqlite(&db).await?;
                for suffix in ["", "-wal", "-shm"] {
                    let mut f = db.clone().into_os_string();
                    f.push(suffix);
                    match restrict(std::path::Path::new(&f), 0o600) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(data_dir_err(e))
                        }
                        _ => {}
                    }
                }
                store
            }
        };
        let pki = pki::ServicePki::load_or_create(&dir, &config.tls_names)?;
        let signer = config::load_or_create_signer(&dir, "report-signing.pk8")
            .map_err(StartError::Signer)?;
        let tag_signer =
            config::load_or_create_signer(&dir, "tag-signing.pk8").map_err(StartError::Signer)?;
        let master = load_master_key(&config)?;
        let audit = Arc::new(
            audit::LogSigner::load_or_create(&dir, &config.audit_origin())
                .map_err(StartError::Signer)?,
        );
        let admin_token = config::load_or_create_token(&dir)
            .map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
        let ek_roots = config.load_ek_roots()?;
        if config.ek_cert_policy == EkCertPolicy::Required && ek_roots.is_empty() {
            return Err(StartError::Config(
                "EK certificates are required but no EK CA is configured: pass --ek-ca FILE (PEM), \
                 or --ek-cert-policy if-present to accept TPMs without certificates"
                    .into(),
            ));
        }
        admin::ensure_default_group(&store).await?;
        let tls = tls::server_config(&pki).map_err(StartError::Tls)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(config.listen, e))?;
        let ca_pem = pki.ca_pem.clone();
        let body_limit = config.max_request_bytes;
        let limits = ratelimit::Limits::new(
            config.attest_rate,
            config.enroll_rate,
            config.enroll_ek_burst,
            config.enroll_global_rate,
        );
        let (verdicts, writer_task) = writer::VerdictWriter::start(store.clone());
        let candidate =
            ironroot_crypto::random_bytes(32).map_err(|e| StartError::Signer(e.to_string()))?;
        let nonce_key = nonce::NonceKey::new(
            store
                .shared_secret("challenge-nonce-key", &candidate)
                .await?,
        );
        let images = config
            .images
            .as_ref()
            .map(|c| Arc::new(images::Images::new(c, &config.data_dir)));
        let (access, access_task) = identity::access::AccessLog::start(store.clone());
        let oidc = config.oidc.clone().map(identity::oidc::LazyProvider::new);
        let state = Arc::new(AppState {
            access,
            oidc,
            images: images.clone(),
            store,
            config,
            pki,
            signer,
            tag_signer,
            master,
            nonce_key,
            ek_roots,
            admin_token,
            evidence_caches: Default::default(),
            flavor_cache: Default::default(),
            verdicts,
            limits,
            events: Default::default(),
            alerts: Default::default(),
            audit: audit.clone(),
        });
        let sweeper = tokio::spawn(events::sweep_deadlines(state.clone()));
        let tailer = tokio::spawn(events::tail_log(state.store.clone(), state.events.clone()));
        let images = images.map(|i| tokio::spawn(images::watch(i)));
        let alerts = tokio::spawn(alerts::deliver(state.clone()));
        let hub = tokio::spawn(hub::watch_outages(state.clone()));
        let audit = tokio::spawn(audit::keep_signing(audit, state.store.clone()));
        #[cfg(feature = "bench-enrollment")]
        bench_enroll::warn_if_allowed(&state.config);
        let in_flight = Arc::new(gate::InFlight::new(
            state.config.max_in_flight,
            state.config.in_flight_body_bytes,
            body_limit.max(gate::limits::FLAVORS),
        ));
        let conn_limits = tls::ConnectionLimits::from_config(&state.config);
        let app = router(state, in_flight);
        let task = tokio::spawn(tls::serve(listener, tls, app, conn_limits));
        tracing::info!(%addr, "attestation service listening");
        Ok(Service {
            addr,
            ca_pem,
            task,
            sweeper,
            tailer,
            writer: writer_task,
            images,
            alerts,
            hub,
            audit,
            access: access_task,
        })
    }

    /// Waits until the service stops (it runs until the process ends).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Sets `path`'s permission bits to `mode` when they are looser.
fn restrict(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    if meta.permissions().mode() & 0o777 & !mode != 0 {
        tracing::info!(path = %path.display(), mode = format!("{mode:o}"), "tightening permissions");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// The broker's master key: in the configured PKCS#11 token, else in a file.
fn load_master_key(config: &ServerConfig) -> Result<MasterKey, StartError> {
    match (&config.broker_pkcs11, &config.broker_master_key) {
        (Some(_), Some(file)) => Err(StartError::Config(format!(
            "the broker master key is configured twice (PKCS#11 token and file {}): choose one",
            file.display()
        ))),
        (Some(hsm), None) => MasterKey::open_pkcs11(hsm).map_err(StartError::MasterKey),
        (None, file) => {
            let path = file
                .clone()
                .unwrap_or_else(|| config.data_dir.join("broker-master.key"));
            MasterKey::load_or_create(&path).map_err(StartError::MasterKey)
        }
    }
}

/// Every route, grouped by who may call it. Each group's gate runs before any handler
/// reads the body; each route has the body limit of what it carries (`gate::limits`).
fn router(state: Arc<AppState>, in_flight: Arc<gate::InFlight>) -> Router {
    use gate::limits::{ACTIVATE, ENROLL, FLAVORS, HUB, SMALL};
    let large = state.config.max_request_bytes;
    let limit = DefaultBodyLimit::max;
    // Enrollment: anyone may ask; what they send is small and checked in full.
    let public = Router::new()
        .route("/v1/enroll", post(agent::enroll).layer(limit(ENROLL)))
        .route(
            "/v1/enroll/{id}/activate",
            post(agent::activate).layer(limit(ACTIVATE)),
        )
        .route("/.well-known/tag-jwks.json", get(tags::jwks))
        .route("/.well-known/jwks.json", get(admin::jwks))
        .route(
            "/.well-known/ironroot-log/checkpoint",
            get(audit::checkpoint),
        )
        .route("/.well-known/ironroot-log/key", get(audit::key))
        .route("/v1/sign-in", get(identity::sign_in::info))
        .route(
            "/v1/sign-in/token",
            post(identity::sign_in::token).layer(limit(SMALL)),
        )
        .route("/healthz", get(|| async { "ok" }));
    #[cfg(feature = "bench-enrollment")]
    let public = public.route(
        "/v1/bench/enroll",
        post(bench_enroll::enroll).layer(limit(ACTIVATE)),
    );
    let agents = Router::new()
        .route("/v1/attest/challenge", post(agent::challenge))
        .route(
            "/v1/attest/evidence",
            post(agent::evidence).layer(limit(large)),
        )
        .route("/v1/agent/asset-tag", get(tags::for_agent))
        .route(
            "/v1/agent/certificate",
            post(agent::renew_certificate).layer(limit(ACTIVATE)),
        )
        .route(
            "/v1/keys/{id}/release",
            post(broker::release).layer(limit(large)),
        )
        .route_layer(axum::middleware::from_fn(gate::agent));
    let admin = Router::new()
        .route("/v1/whoami", get(identity::routes::whoami))
        .route(
            "/v1/organisations",
            get(identity::routes::list_organisations).post(identity::routes::create_organisation),
        )
        .route(
            "/v1/tokens",
            get(identity::routes::list_tokens).post(identity::routes::create_token),
        )
        .route("/v1/tokens/{id}", delete(identity::routes::revoke_token))
        .route(
            "/v1/people",
            get(identity::routes::list_people).put(identity::routes::bind_person),
        )
        .route(
            "/v1/people/{email}",
            delete(identity::routes::unbind_person),
        )
        .route("/v1/owners/{kind}/{id}", put(identity::scope::set_owner))
        .route("/v1/hosts", get(admin::list_hosts))
        .route(
            "/v1/hosts/{id}",
            get(admin::get_host).delete(admin::delete_host),
        )
        .route("/v1/hosts/{id}/reports", get(admin::host_reports))
        .route("/v1/reports/{id}", get(admin::get_report))
        .route(
            "/v1/flavors",
            get(admin::list_flavors)
                .post(admin::import_flavors)
                .layer(limit(FLAVORS)),
        )
        .route("/v1/flavors/from-host", post(admin::flavors_from_host))
        .route("/v1/flavors/{id}", delete(admin::delete_flavor))
        .route(
            "/v1/flavor-groups",
            get(groups::list_groups)
                .post(groups::put_group)
                .layer(limit(FLAVORS)),
        )
        .route("/v1/hosts/{id}/group", put(groups::assign))
        .route(
            "/v1/hosts/{id}/tags",
            get(tags::history).post(tags::issue).delete(tags::revoke),
        )
        .route(
            "/v1/hosts/{id}/node",
            put(nodes::bind).delete(nodes::unbind),
        )
        .route("/v1/keys", get(broker::list).post(broker::create))
        .route("/v1/keys/releases", get(broker::releases))
        .route("/v1/keys/{id}/wrap", post(broker::wrap))
        .route(
            "/v1/images/inventories",
            post(images::submit).layer(limit(large)),
        )
        .route("/v1/images/rescans", get(images::rescans))
        .route("/v1/alerts", get(alerts::list))
        .route("/v1/alerts/{id}", get(alerts::get_one))
        .route("/v1/alerts/{id}/ack", post(alerts::ack))
        .route("/v1/alerts/{id}/resolve", post(alerts::resolve))
        .route(
            "/v1/clusters",
            get(hub::list_clusters).post(hub::register_cluster),
        )
        .route("/v1/clusters/{id}", delete(hub::remove_cluster))
        .route(
            "/v1/policies",
            get(hub::current_policies)
                .put(hub::put_policies)
                .layer(limit(HUB)),
        )
        .route("/v1/policies/versions", get(hub::policy_versions))
        .route("/v1/policies/versions/{n}", get(hub::policy_version))
        .route("/v1/compliance", get(hub::compliance))
        .route("/v1/compliance/history", get(hub::compliance_history))
        .route("/v1/sinks", get(alerts::list_sinks))
        .route("/v1/audit/entries", get(audit::entries_page))
        .route("/v1/audit/proof/inclusion", get(audit::inclusion_proof))
        .route("/v1/audit/proof/consistency", get(audit::consistency_proof))
        .route(
            "/v1/sinks/{name}",
            put(alerts::put_sink).delete(alerts::remove_sink),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::principal,
        ));
    // What a cluster's controller reads and reports: its own certificate, no admin token.
    let clusters = Router::new()
        .route("/v1/cluster/bundle", get(hub::bundle))
        .route(
            "/v1/cluster/compliance",
            post(hub::report_compliance).layer(limit(HUB)),
        )
        .route(
            "/v1/cluster/violations",
            post(hub::report_violations).layer(limit(HUB)),
        )
        .route("/v1/cluster/remediations", post(hub::report_remediation))
        .route(
            "/v1/cluster/workloads",
            post(hub::report_workloads).layer(limit(HUB)),
        )
        .route(
            "/v1/cluster/certificate",
            post(hub::renew_cluster_certificate).layer(limit(ACTIVATE)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::cluster,
        ));
    let readers = Router::new()
        .route("/v1/nodes", get(nodes::list))
        .route("/v1/nodes/{host_id}", get(nodes::get))
        .route("/v1/keys/{id}", get(broker::show))
        .route("/v1/images/{digest}/summary", get(images::summary))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::principal,
        ));
    // The event stream lives as long as its client: it holds no in-flight permit (the
    // connection limits bound it).
    let streams = Router::new()
        .route("/v1/events", get(events::stream))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::principal,
        ));
    Router::new()
        .merge(public)
        .merge(dashboard::routes())
        .merge(agents)
        .merge(admin)
        .merge(clusters)
        .merge(readers)
        .layer(axum::middleware::from_fn_with_state(
            in_flight,
            gate::in_flight,
        ))
        .merge(streams)
        .layer(limit(SMALL))
        .layer(axum::middleware::from_fn(error::uniform_errors))
        .with_state(state)
}

/// The service's one clock: every expiry, issue time and retention cut-off reads it.
pub(crate) fn now() -> u64 {
    ironroot_timestamp::now_unix()
}
