//! The service's configuration (a typed value built once in `main`) and the few files it
//! keeps beside the database.

use crate::{EkRoots, StartError};
use ironroot_crypto::ServiceSigningKey;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Whether an EK certificate must be presented at enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EkCertPolicy {
    /// Every TPM must present an EK certificate that chains to a configured EK CA.
    Required,
    /// A certificate, when present, must verify; TPMs without one are accepted.
    IfPresent,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The database: a `postgres://` URL (shared by replicas) or a SQLite path or
    /// `sqlite://` URL; `None` is SQLite at `data_dir/ironroot.db`.
    pub database: Option<String>,
    /// DNS names and IP addresses for the server's TLS certificate.
    pub tls_names: Vec<String>,
    pub ek_ca_files: Vec<PathBuf>,
    pub ek_cert_policy: EkCertPolicy,
    /// How long a trusted verdict stays valid without a new attestation.
    pub trust_validity_secs: u64,
    /// How often agents are asked to attest.
    pub attestation_interval_secs: u64,
    pub nonce_lifetime_secs: u64,
    pub enrollment_lifetime_secs: u64,
    /// The largest body of the routes that carry evidence or inventories (attestation,
    /// key release, image inventories); every other route has a smaller, fixed limit.
    pub max_request_bytes: usize,
    /// Requests in flight on this replica, and the bytes of their bodies; beyond
    /// either, requests are shed with 503 and `Retry-After`.
    pub max_in_flight: usize,
    pub in_flight_body_bytes: usize,
    /// Open connections in all, and from one client address; the total is also kept
    /// below the file-descriptor limit (raised to its hard limit at start).
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// A connection that has not sent a request's headers within this time is closed.
    pub header_read_timeout_secs: u64,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout_secs: u64,
    /// How long an agent's client certificate is valid; agents renew it at half-life.
    pub client_cert_lifetime_secs: u64,
    /// Enrollments of one EK at once; then one every ten seconds.
    pub enroll_ek_burst: u32,
    /// Enrollments, for the whole service, whatever their source address or EK.
    pub enroll_global_rate: crate::RateBudget,
    /// Reports older than this are pruned (a host's latest report is always kept).
    pub report_retention_secs: u64,
    /// Key release-log records (releases and refusals) older than this are pruned.
    pub release_log_retention_secs: u64,
    /// Attestation requests (challenge or evidence) per host.
    pub attest_rate: crate::RateBudget,
    /// Enrollment requests per client address.
    pub enroll_rate: crate::RateBudget,
    /// Accept `POST /v1/bench/enroll` (hosts without a TPM). Only consulted when built
    /// with the `bench-enrollment` feature; false refuses it (403).
    pub allow_bench_enrollment: bool,
    /// Benchmarks only (with the `bench-enrollment` feature): write verdicts without their
    /// `trust.decision` audit entries, the baseline that measures what logging every trust
    /// decision costs (`scripts/bench-load-vs.sh --without-trust-audit`). Ignored
    /// otherwise: a deployed service logs every decision.
    pub bench_without_trust_audit: bool,
    /// The key broker's 32-byte master key file; `None` is `data_dir/broker-master.key`,
    /// created on first start. Not used when `broker_pkcs11` is set.
    pub broker_master_key: Option<PathBuf>,
    /// Keep the broker's master key in a PKCS#11 token (an HSM) instead of a file.
    pub broker_pkcs11: Option<crate::Pkcs11Config>,
    /// Keep submitted image inventories and rescan them on its own whenever the watched
    /// vulnerability database changes; `None` turns the images API off (404).
    pub images: Option<ImagesConfig>,
    /// The policy hub (docs/hub.md): a cluster whose last report is older than this is
    /// `unknown` in the compliance overview and raises its outage alert.
    pub cluster_stale_secs: u64,
    /// How long a registered cluster's client certificate is valid.
    pub cluster_cert_lifetime_secs: u64,
    /// The audit log's origin (its checkpoints' first line and key name); `None` is
    /// `<first TLS name>/ironroot-log`.
    pub audit_origin: Option<String>,
    /// How far the bootstrap token (`admin.token`) reaches (docs/identity.md).
    pub bootstrap_token: crate::BootstrapMode,
    /// The OpenID Connect provider people sign in with; `None`: API tokens only.
    pub oidc: Option<crate::OidcSettings>,
}

/// Image inventories and automatic rescans (brief R16).
#[derive(Debug, Clone)]
pub struct ImagesConfig {
    /// The vulnerability database directory to watch, as `ironroot db update` writes it.
    pub vulndb: PathBuf,
    /// Where inventories are kept (SQLite); `None` is `data_dir/inventories`.
    pub inventories: Option<PathBuf>,
    /// How often the database's metadata is checked for a new generation.
    pub poll_secs: u64,
    /// A database whose newest advisory is older than this is still used, but every
    /// rescan record and log line says that it is stale.
    pub max_db_age_secs: u64,
}

impl ServerConfig {
    /// Safe defaults for one machine: loopback only, EK certificates required.
    pub fn new(data_dir: PathBuf) -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            data_dir,
            database: None,
            tls_names: vec!["localhost".into(), "127.0.0.1".into()],
            broker_master_key: None,
            broker_pkcs11: None,
            ek_ca_files: Vec::new(),
            ek_cert_policy: EkCertPolicy::Required,
            trust_validity_secs: 30,
            attestation_interval_secs: 10,
            nonce_lifetime_secs: 60,
            enrollment_lifetime_secs: 300,
            max_request_bytes: 32 * 1024 * 1024,
            max_in_flight: 512,
            in_flight_body_bytes: 192 * 1024 * 1024,
            max_connections: 16384,
            max_connections_per_address: 4096,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 120,
            client_cert_lifetime_secs: 7 * 24 * 3600,
            enroll_ek_burst: 5,
            enroll_global_rate: crate::RateBudget {
                burst: 200,
                per_second: 20,
            },
            // An honest agent attests every interval and on each change: bursts of a few.
            report_retention_secs: 30 * 24 * 3600,
            release_log_retention_secs: 90 * 24 * 3600,
            attest_rate: crate::RateBudget {
                burst: 20,
                per_second: 5,
            },
            enroll_rate: crate::RateBudget {
                burst: 30,
                per_second: 1,
            },
            allow_bench_enrollment: false,
            bench_without_trust_audit: false,
            images: None,
            cluster_stale_secs: 180,
            cluster_cert_lifetime_secs: 365 * 24 * 3600,
            audit_origin: None,
            bootstrap_token: crate::BootstrapMode::Full,
            oidc: None,
        }
    }

    /// The audit log's origin, configured or derived from the TLS name.
    pub(crate) fn audit_origin(&self) -> String {
        self.audit_origin.clone().unwrap_or_else(|| {
            let host = self.tls_names.first().map_or("localhost", String::as_str);
            format!("{host}/ironroot-log")
        })
    }

    pub(crate) fn load_ek_roots(&self) -> Result<EkRoots, StartError> {
        let mut roots = EkRoots::default();
        for f in &self.ek_ca_files {
            let pem = std::fs::read(f)
                .map_err(|e| StartError::EkRoots(f.display().to_string(), e.to_string()))?;
            let n = roots
                .add_pem(&pem)
                .map_err(|e| StartError::EkRoots(f.display().to_string(), e.to_string()))?;
            if n == 0 {
                return Err(StartError::EkRoots(
                    f.display().to_string(),
                    "no certificate in file".into(),
                ));
            }
        }
        Ok(roots)
    }
}

/// Publishes a secret file once: written in full to a private temporary file, then
/// linked into place atomically. Replicas starting together on one data directory all
/// end up with the first writer's content, never a half-written file.
pub(crate) fn publish_secret_once(path: &Path, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let suffix = hex::encode(
        ironroot_crypto::random_bytes(8).map_err(|e| std::io::Error::other(e.to_string()))?,
    );
    let tmp = path.with_extension(format!("{suffix}.tmp"));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(bytes.to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

/// The ES256 key in `dir/file` (report signing, tag certificates), created once.
pub(crate) fn load_or_create_signer(dir: &Path, file: &str) -> Result<ServiceSigningKey, String> {
    let path = dir.join(file);
    let der = match std::fs::read(&path) {
        Ok(der) => der,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = ServiceSigningKey::generate().map_err(|e| e.to_string())?;
            publish_secret_once(&path, key.to_pkcs8()).map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    ServiceSigningKey::from_pkcs8(&der).map_err(|e| e.to_string())
}

/// The shortest administrator token the service starts with.
pub(crate) const MIN_ADMIN_TOKEN: usize = 32;

/// The administrator token: created on first start, readable only by the service's user.
pub(crate) fn load_or_create_token(dir: &Path) -> std::io::Result<zeroize::Zeroizing<String>> {
    let path = dir.join("admin.token");
    let bytes = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = hex::encode(
                ironroot_crypto::random_bytes(32)
                    .map_err(|e| std::io::Error::other(e.to_string()))?,
            );
            publish_secret_once(&path, token.as_bytes())?
        }
        Err(e) => return Err(e),
    };
    let text = zeroize::Zeroizing::new(
        String::from_utf8(bytes).map_err(|_| std::io::Error::other("admin.token is not text"))?,
    );
    // A trailing newline from an editor or `echo` is not part of the token.
    let token = zeroize::Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
    if token.len() < MIN_ADMIN_TOKEN {
        return Err(std::io::Error::other(format!(
            "admin.token holds {} bytes; at least {MIN_ADMIN_TOKEN} are required (delete it to have a new one made, \
             or write 64 random hex characters)",
            token.len()
        )));
    }
    if token.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(std::io::Error::other(
            "admin.token must be printable ASCII without spaces (it travels in an HTTP header)",
        ));
    }
    Ok(token)
}

impl ServerConfig {
    /// True when agents would be asked to attest less often than trust lasts.
    pub fn interval_exceeds_validity(&self) -> bool {
        self.attestation_interval_secs >= self.trust_validity_secs
    }

    /// The group's own schedule, else the service's: attest every
    /// `attestation_interval_secs`, trust lasting `trust_validity_secs`.
    pub fn schedule_for(
        &self,
        group: &ironroot_verifier::FlavorGroup,
    ) -> ironroot_verifier::Schedule {
        group.schedule.unwrap_or(ironroot_verifier::Schedule {
            interval_secs: self.attestation_interval_secs.max(1),
            grace_secs: self
                .trust_validity_secs
                .saturating_sub(self.attestation_interval_secs)
                .max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_published_once_under_a_race() {
        let tmp = ironroot_testkit::databases::TempDir::new("secret");
        let dir = tmp.path();
        let (tokens, kids): (Vec<String>, Vec<String>) = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (
                            load_or_create_token(dir).unwrap().to_string(),
                            load_or_create_signer(dir, "report-signing.pk8")
                                .unwrap()
                                .kid()
                                .to_owned(),
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).unzip()
        });
        assert!(tokens.windows(2).all(|w| w[0] == w[1]) && kids.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(tokens[0].len(), 64);
    }
}
