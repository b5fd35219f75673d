//! Harness for end-to-end tests: a service on loopback and development nodes, each with
//! its own swtpm, booted with genuine logs and driven through the agent's [`Session`].
//! Everything started here stops when the harness values are dropped.

pub mod images;

use anyhow::Context;
use ironroot_agent::{AgentConfig, Session};
use ironroot_client::{Client, EventStream, PlainHttp};
use ironroot_devnode::{ImaEmulator, NodeLayout};
use ironroot_server::{EkCertPolicy, ServerConfig, Service};
use ironroot_tpm::swtpm::{SetupOptions, Swtpm};
use ironroot_tpm::TpmDevice;
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A temporary directory removed on drop (by the `tempfile::TempDir` it holds); `.0` is
/// its path.
pub struct TempDir(pub PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> anyhow::Result<TempDir> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ironroot-{tag}-"))
            .tempdir()?;
        Ok(TempDir(dir.path().to_path_buf(), dir))
    }
}

/// Whether the real peers are installed. A missing peer fails the test (CI must never
/// pass by skipping), unless a developer allowed skipping on a machine without them
/// (`ironroot_testkit::skip_missing_peer`); the test then says that it skipped.
pub fn peers_available() -> bool {
    if Swtpm::available() {
        return true;
    }
    ironroot_testkit::skip_missing_peer(
        "swtpm is not installed (apt-get install swtpm swtpm-tools)",
    );
    false
}

pub struct Platform {
    pub service: Service,
    pub config: ServerConfig,
    pub admin: Client,
    pub dir: TempDir,
}

impl Platform {
    /// Starts a service whose EK roots are the given local CAs.
    pub async fn start(
        dir: TempDir,
        ek_cas: Vec<PathBuf>,
        tune: impl FnOnce(&mut ServerConfig),
    ) -> anyhow::Result<Platform> {
        let mut config = ServerConfig::new(dir.0.join("service"));
        config.listen = "127.0.0.1:0".parse()?;
        config.ek_ca_files = ek_cas;
        config.ek_cert_policy = EkCertPolicy::Required;
        tune(&mut config);
        let service = Service::start(config.clone()).await?;
        let token = std::fs::read_to_string(config.data_dir.join("admin.token"))?;
        let admin = Client::admin(
            &format!("https://{}", service.addr),
            service.ca_pem.as_bytes(),
            token.trim(),
            PlainHttp::Refused,
        )?;
        Ok(Platform {
            service,
            config,
            admin,
            dir,
        })
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.service.addr)
    }
}

pub struct Node {
    pub name: String,
    pub layout: NodeLayout,
    pub swtpm: Swtpm,
    pub ca: Vec<PathBuf>,
    pub ima: Option<ImaEmulator>,
}

impl Node {
    /// Provisions a swtpm with EK certificates and boots it from a fresh node directory.
    pub async fn boot(root: &Path, name: &str) -> anyhow::Result<Node> {
        let dir = root.join(name);
        let state = dir.join("tpm");
        std::fs::create_dir_all(&state)?;
        let ca = Swtpm::setup(
            &state,
            &SetupOptions {
                ek_certs: true,
                ..Default::default()
            },
        )?;
        let swtpm = Swtpm::start(&state)?;
        let layout = NodeLayout::create(&dir, "e2e-platform", name, None)?;
        let mut node = Node {
            name: name.into(),
            layout,
            swtpm,
            ca: vec![ca.root_cert, ca.issuer_cert],
            ima: None,
        };
        node.boot_tpm().await?;
        Ok(node)
    }

    /// Boots the TPM (it must be fresh) and starts IMA on it.
    pub async fn boot_tpm(&mut self) -> anyhow::Result<()> {
        let tcti = self.swtpm.tcti();
        let layout = self.layout.clone();
        let ima = tokio::task::spawn_blocking(move || -> anyhow::Result<ImaEmulator> {
            let mut t = EsapiTpm::open(&tcti, AkConfig::default())?;
            ironroot_devnode::boot(&layout, &mut t)?;
            Ok(ImaEmulator::start(layout, &mut t)?)
        })
        .await??;
        self.ima = Some(ima);
        Ok(())
    }

    /// An agent session for this node against `url`.
    pub fn session(&self, url: &str, ca_pem: &str) -> anyhow::Result<Session> {
        let cfg = self.agent_config(url, ca_pem);
        Ok(Session::new(cfg, Box::new(self.open_tpm()?))?)
    }

    /// The configuration an agent on this node runs with.
    pub fn agent_config(&self, url: &str, ca_pem: &str) -> AgentConfig {
        AgentConfig {
            server: url.into(),
            ca_pem: ca_pem.as_bytes().to_vec(),
            state_dir: self.layout.root.join("agent"),
            hostname: self.name.clone(),
            hardware_uuid: format!("uuid-{}", self.name),
            event_log: Some(self.layout.event_log_path()),
            ima_log: Some(self.layout.ima_log_path()),
            dev_node: None,
            max_log_bytes: 16 * 1024 * 1024,
            watch_interval: std::time::Duration::from_millis(500),
            keyprovider_socket: None,
            kubelet_config: None,
        }
    }

    /// The TPM of this node, opened as the agent opens it.
    pub fn open_tpm(&self) -> anyhow::Result<EsapiTpm> {
        EsapiTpm::open(&self.swtpm.tcti(), AkConfig::default()).context("opening the node's TPM")
    }

    /// Replaces a runtime binary and lets IMA measure it through the session's TPM.
    pub async fn tamper_runtime(
        &mut self,
        session: &Session,
        host_path: &str,
    ) -> anyhow::Result<()> {
        let f = self
            .layout
            .runtime_dir()
            .join(host_path.trim_start_matches('/'));
        let mut bytes = std::fs::read(&f)?;
        bytes.extend_from_slice(b"implant");
        std::fs::write(&f, bytes)?;
        let mut ima = self.ima.take().context("node not booted")?;
        let (ima, n) = session
            .with_tpm(move |t| {
                let n = ima.measure_changes(t)?;
                Ok((ima, n))
            })
            .await?;
        self.ima = Some(ima);
        anyhow::ensure!(n == 1, "expected one new IMA measurement, got {n}");
        Ok(())
    }
}

/// Reads `trust` events, with their ids, from a server-sent event stream (decoded by
/// the client's one decoder, [`EventStream::next_event`]).
pub struct EventReader {
    resp: EventStream,
}

impl EventReader {
    /// Opens `/v1/events` on `admin`'s service, resuming after `resume` if given.
    pub async fn open(admin: &Client, resume: Option<i64>) -> anyhow::Result<EventReader> {
        Ok(EventReader {
            resp: admin.event_stream("/v1/events", resume).await?,
        })
    }

    /// The next `trust` event and its id, or an error if none comes `within`.
    pub async fn next(
        &mut self,
        within: std::time::Duration,
    ) -> anyhow::Result<(i64, ironroot_api::TrustEvent)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let e = tokio::time::timeout_at(deadline, self.resp.next_event())
                .await
                .context("no event in time")??
                .context("the event stream ended")?;
            if e.event.as_deref() == Some("trust") {
                let id = e.id.context("a trust event without a numeric id")?;
                return Ok((id, serde_json::from_str(&e.data)?));
            }
        }
    }
}

/// A TPM shared between the agent and the test (swtpm serves one connection at a time).
#[derive(Clone)]
pub struct SharedTpm(pub Arc<Mutex<EsapiTpm>>);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> $ret { self.0.lock().unwrap_or_else(|p| p.into_inner()).$name($($arg),*) })*
    };
}

impl TpmDevice for SharedTpm {
    delegate! {
        banks() -> Result<Vec<ironroot_crypto::HashAlg>, ironroot_tpm::TpmError>;
        endorsement_key(kind: ironroot_tpm::EkKind) -> Result<ironroot_tpm::EndorsementKey, ironroot_tpm::TpmError>;
        attestation_key() -> Result<ironroot_tpm::AttestationKey, ironroot_tpm::TpmError>;
        reset_attestation_key() -> Result<(), ironroot_tpm::TpmError>;
        activate_credential(id_object: &[u8], secret: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, ironroot_tpm::TpmError>;
        quote(nonce: &[u8], selection: &ironroot_tpm::PcrSelection) -> Result<ironroot_tpm::Quote, ironroot_tpm::TpmError>;
        pcr_read(selection: &ironroot_tpm::PcrSelection) -> Result<ironroot_tpm_wire::PcrValues, ironroot_tpm::TpmError>;
        pcr_extend(index: u32, digests: &std::collections::BTreeMap<ironroot_crypto::HashAlg, Vec<u8>>) -> Result<(), ironroot_tpm::TpmError>;
        pcr_reset(index: u32) -> Result<(), ironroot_tpm::TpmError>;
        nv_define(index: u32, size: u16) -> Result<(), ironroot_tpm::TpmError>;
        nv_write(index: u32, data: &[u8]) -> Result<(), ironroot_tpm::TpmError>;
        nv_read(index: u32) -> Result<Vec<u8>, ironroot_tpm::TpmError>;
        nv_undefine(index: u32) -> Result<(), ironroot_tpm::TpmError>;
        create_binding_key() -> Result<ironroot_tpm::BindingKey, ironroot_tpm::TpmError>;
        certify_binding_key(key: &ironroot_tpm::BindingKey, nonce: &[u8]) -> Result<ironroot_tpm::Certification, ironroot_tpm::TpmError>;
        unbind(key: &ironroot_tpm::BindingKey, ciphertext: &[u8], label: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, ironroot_tpm::TpmError>;
    }
}

/// Enrolls every node of `nodes` with `platform`, takes golden flavors from the first and
/// checks that each is trusted: the sessions and their host ids, in order.
pub async fn trusted_sessions(
    platform: &Platform,
    nodes: &[Node],
) -> anyhow::Result<Vec<(Session, String)>> {
    let mut sessions = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut s = node.session(&platform.url(), &platform.service.ca_pem)?;
        let host_id = s.ensure_enrolled().await?;
        s.attest_once().await?;
        if i == 0 {
            let req = ironroot_api::FlavorsFromHostRequest {
                host_id: host_id.clone(),
                label: "golden".into(),
                parts: vec![],
                flavor_group: None,
            };
            platform.admin.flavors_from_host(&req).await?;
        }
        anyhow::ensure!(s.attest_once().await?.trusted, "{} not trusted", node.name);
        sessions.push((s, host_id));
    }
    Ok(sessions)
}

/// A service and nodes that are enrolled, attested, judged by golden flavors taken from
/// the first node, and tagged `region=<region>`, each trusted with its tag in its quote:
/// the starting point of the key-broker and encrypted-image tests.
pub struct TaggedFleet {
    pub platform: Platform,
    pub nodes: Vec<Node>,
    pub sessions: Vec<Session>,
    /// What the service issued to each node, in order.
    pub tags: Vec<ironroot_api::IssuedTag>,
}

/// Boots `nodes` (name, region) under a fresh temporary directory tagged `tag`.
pub async fn tagged_fleet(tag: &str, nodes: &[(&str, &str)]) -> anyhow::Result<TaggedFleet> {
    let dir = TempDir::new(tag)?;
    let mut booted = Vec::new();
    for (name, _) in nodes {
        booted.push(Node::boot(&dir.0, name).await?);
    }
    let cas = booted.iter().flat_map(|n| n.ca.clone()).collect();
    let platform = Platform::start(dir, cas, |_| {}).await?;
    let sessions: Vec<Session> = trusted_sessions(&platform, &booted)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let mut tags = Vec::new();
    for (s, (name, region)) in sessions.iter().zip(nodes) {
        let req = ironroot_api::TagRequest {
            tags: std::collections::BTreeMap::from([("region".into(), region.to_string())]),
        };
        let host = s.host_id().context("not enrolled")?;
        tags.push(platform.admin.issue_tag(host, &req).await?);
        anyhow::ensure!(
            s.attest_once().await?.trusted,
            "{name} is not trusted after tagging"
        );
    }
    Ok(TaggedFleet {
        platform,
        nodes: booted,
        sessions,
        tags,
    })
}

/// Registers a cluster named `name` with `platform`'s hub (a key made here, certified by
/// the hub) and returns its id and a client speaking with the cluster's own certificate.
pub async fn register_cluster(
    platform: &Platform,
    name: &str,
) -> Result<(String, Client), ironroot_client::ClientError> {
    let (key_pem, csr_pem) = ironroot_client::new_key_and_csr(name)?;
    let reg = platform
        .admin
        .register_cluster(&ironroot_api::RegisterCluster {
            name: name.into(),
            csr_pem,
        })
        .await?;
    let client = Client::agent(
        &platform.url(),
        reg.ca_pem.as_bytes(),
        Some((&reg.cert_pem, &key_pem)),
    )?;
    Ok((reg.id, client))
}
