use anyhow::Context;
use ironroot_server::{
    BootstrapMode, EkCertPolicy, ImagesConfig, OidcSettings, Pkcs11Config, ServerConfig, Service,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the attestation service.
///
/// On first start it creates, in --data: the SQLite database (unless --database names
/// PostgreSQL), its CA (ca.pem: give it to
/// agents and admin commands with --ca), the report-signing key, and admin.token (the
/// administrator's bearer token). Agents enroll over TLS and then use mutual TLS.
///
/// Example: ironroot server --data /var/lib/ironroot --ek-ca /etc/ironroot/ek-roots.pem
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8443", env = "IRONROOT_LISTEN")]
    listen: SocketAddr,
    /// Database: a postgres:// URL shared by replicas (put the password in PGPASSWORD or
    /// ~/.pgpass, not the URL), or a SQLite path; default: SQLite in --data.
    #[arg(long, env = "IRONROOT_DATABASE_URL")]
    database: Option<String>,
    /// Directory for the CA, signing key and admin token (and the SQLite database unless
    /// --database is given).
    #[arg(long, env = "IRONROOT_DATA")]
    data: PathBuf,
    /// PEM file of EK CA certificates (TPM manufacturers' roots and intermediates); repeatable.
    #[arg(long = "ek-ca")]
    ek_ca: Vec<PathBuf>,
    /// Whether TPMs must present an EK certificate: `required` (default) or `if-present`.
    #[arg(long, default_value = "required", value_parser = ["required", "if-present"])]
    ek_cert_policy: String,
    /// Names (DNS or IP) for the service's TLS certificate; repeatable.
    #[arg(long = "tls-name", default_values_t = vec!["localhost".to_string(), "127.0.0.1".to_string()])]
    tls_names: Vec<String>,
    /// Seconds a trusted verdict stays valid without a fresh attestation (then: untrusted).
    #[arg(long, default_value_t = 30)]
    trust_validity: u64,
    /// Seconds between scheduled attestations (agents also attest at once on change).
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// Keep the key broker's master key in an HSM: the PKCS#11 module (shared library) of
    /// the token. The key is an AES-256 object inside the token that never leaves it;
    /// without this flag it is the file broker-master.key in --data. Needs
    /// --broker-pkcs11-token and --broker-pkcs11-pin-file. SoftHSM2 (Debian package
    /// softhsm2): /usr/lib/softhsm/libsofthsm2.so.
    #[arg(
        long,
        env = "IRONROOT_BROKER_PKCS11_MODULE",
        requires_all = ["broker_pkcs11_token", "broker_pkcs11_pin_file"]
    )]
    broker_pkcs11_module: Option<PathBuf>,
    /// The label of the PKCS#11 token holding the master key (`pkcs11-tool --module MODULE
    /// --list-token-slots` shows them; SoftHSM2: the --label given to
    /// `softhsm2-util --init-token`).
    #[arg(
        long,
        env = "IRONROOT_BROKER_PKCS11_TOKEN",
        requires = "broker_pkcs11_module"
    )]
    broker_pkcs11_token: Option<String>,
    /// File holding the token's user PIN on one line (mode 0600; never logged).
    #[arg(
        long,
        env = "IRONROOT_BROKER_PKCS11_PIN_FILE",
        requires = "broker_pkcs11_module"
    )]
    broker_pkcs11_pin_file: Option<PathBuf>,
    /// Label of the master key object in the token; created there (sensitive,
    /// non-extractable) on first start if missing. Every replica must use the same token
    /// and label; start one replica first.
    #[arg(long, default_value = Pkcs11Config::DEFAULT_KEY_LABEL, env = "IRONROOT_BROKER_PKCS11_KEY_LABEL")]
    broker_pkcs11_key_label: String,
    /// Keep image inventories sent by `ironroot scan IMAGE --submit` and rescan them on
    /// the service's own whenever this vulnerability database directory gets a new
    /// generation (`ironroot db update --db DIR --from ...` installs one); the results
    /// are logged and listed by `ironroot rescan --server`. Without it the images API is off.
    #[arg(long, env = "IRONROOT_VULNDB")]
    vulndb: Option<PathBuf>,
    /// Where the inventories are kept (SQLite); default: inventories/ in --data.
    #[arg(long, requires = "vulndb")]
    inventories: Option<PathBuf>,
    /// How often --vulndb is checked for a new generation: 30s, 5m, 1h.
    #[arg(long, default_value = "60s", value_parser = crate::cmd::scan::parse_duration, requires = "vulndb")]
    vulndb_poll: u64,
    /// Rescans against a database whose newest advisory is older than this still run,
    /// but are marked stale in the log and in `ironroot rescan --server`.
    #[arg(long, default_value = "7d", value_parser = crate::cmd::scan::parse_duration, requires = "vulndb")]
    max_db_age: u64,
    /// How long an agent's client certificate is valid: 12h, 7d. Agents renew at
    /// half-life; a certificate from before a host's latest enrollment is refused anyway.
    #[arg(long, default_value = "7d", value_parser = crate::cmd::scan::parse_duration)]
    client_cert_lifetime: u64,
    /// How long a registered cluster's certificate is valid (the policy hub): 90d, 365d.
    /// Its controller renews it at half-life.
    #[arg(long, default_value = "365d", value_parser = crate::cmd::scan::parse_duration)]
    cluster_cert_lifetime: u64,
    /// A cluster whose last compliance report is older than this is `unknown` in the
    /// compliance overview and raises one outage alert: 3m, 1h. Its controller reports
    /// after each background audit (its --audit-interval, 60 s by default).
    #[arg(long, default_value = "3m", value_parser = crate::cmd::scan::parse_duration)]
    cluster_stale: u64,
    /// The audit log's origin: its checkpoints' first line and the name of its signing
    /// key (docs/audit.md). Default: the first --tls-name, then "/ironroot-log".
    #[arg(long, value_name = "ORIGIN")]
    audit_origin: Option<String>,
    /// Open connections at most (kept below the file-descriptor limit, which is raised
    /// to its hard limit at start). Beyond it new connections are closed at once.
    #[arg(long, default_value_t = 16384)]
    max_connections: usize,
    /// Open connections at most from one client address, so that one address cannot
    /// take every connection. Agents behind one NAT address share it: size it for them.
    #[arg(long, default_value_t = 4096)]
    max_connections_per_address: usize,
    /// Requests in flight at most on this replica; more are answered 503 with
    /// Retry-After (the agent retries), never queued without bound.
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Largest body of evidence, key release and inventory requests, in MiB (other
    /// routes have fixed, smaller limits: docs/architecture.md).
    #[arg(long, default_value_t = 32)]
    max_request_mib: usize,
    /// Seconds a connection has to send a request's headers, and seconds a connection
    /// with no request in flight is kept.
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    #[arg(long, default_value_t = 120)]
    idle_timeout: u64,
    /// How long the key broker's log of releases and refusals is kept: 30d, 90d.
    #[arg(long, default_value = "90d", value_parser = crate::cmd::scan::parse_duration)]
    release_log_retention: u64,
    /// How far the bootstrap token (admin.token) reaches: `full`, every permission in
    /// every organisation; `bootstrap-only`, organisations, API tokens and people only
    /// (enough to make administrators); `off`, refused. The default, full, lets a first
    /// start be administered at all. In production: create an organisation and its
    /// administrator (`ironroot person bind EMAIL --role org-admin --org ORG`), restart
    /// with bootstrap-only, and with off once an administrator exists (docs/identity.md).
    #[arg(
        long,
        value_enum,
        default_value = "full",
        env = "IRONROOT_BOOTSTRAP_TOKEN"
    )]
    bootstrap_token: BootstrapReach,
    /// The OpenID Connect issuer people sign in with (`ironroot login`): https://, or
    /// http:// on a loopback address only. With --oidc-client-id; without both, only API
    /// tokens and the bootstrap token are accepted.
    #[arg(long, env = "IRONROOT_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// The client id this service is registered with at the provider: an ID token's
    /// audience must hold it.
    #[arg(long, env = "IRONROOT_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// PEM trust anchors for an https:// --oidc-issuer (default: the system's).
    #[arg(long, env = "IRONROOT_OIDC_CA")]
    oidc_ca: Option<PathBuf>,
    /// File holding the client secret, when the provider registered this service as a
    /// confidential client (the dashboard's sign-in sends it with each code exchange;
    /// mode 0600, read again at each use). Without it the client must be public.
    #[arg(long, env = "IRONROOT_OIDC_CLIENT_SECRET_FILE")]
    oidc_client_secret_file: Option<PathBuf>,
    /// Benchmarks only: accept POST /v1/bench/enroll, hosts without a TPM.
    #[cfg(feature = "bench-enrollment")]
    #[arg(long, hide = true)]
    allow_bench_enrollment: bool,
    /// Benchmarks only: write verdicts without their audit entries (the baseline of
    /// what the audit trail costs).
    #[cfg(feature = "bench-enrollment")]
    #[arg(long, hide = true)]
    bench_without_trust_audit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BootstrapReach {
    Full,
    BootstrapOnly,
    Off,
}

/// The provider people sign in with: issuer and client id together, or neither.
fn oidc_settings(
    issuer: Option<String>,
    client_id: Option<String>,
    ca_file: Option<PathBuf>,
) -> anyhow::Result<Option<OidcSettings>> {
    match (issuer, client_id) {
        (None, None) if ca_file.is_some() => {
            anyhow::bail!("--oidc-ca is for --oidc-issuer; give --oidc-issuer and --oidc-client-id")
        }
        (None, None) => Ok(None),
        (Some(issuer), Some(client_id)) => {
            ironroot_oidc::check_issuer(&issuer).context("--oidc-issuer")?;
            anyhow::ensure!(!client_id.is_empty(), "--oidc-client-id is empty");
            Ok(Some(OidcSettings {
                issuer,
                client_id,
                ca_file,
                client_secret_file: None,
            }))
        }
        _ => anyhow::bail!(
            "--oidc-issuer and --oidc-client-id go together: the issuer says who signs ID \
             tokens, the client id which of them are meant for this service"
        ),
    }
}

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    // A zero would make every cluster stale, or issue certificates already expired.
    anyhow::ensure!(
        a.cluster_stale > 0,
        "--cluster-stale must be longer than 0 s"
    );
    anyhow::ensure!(
        a.cluster_cert_lifetime >= 3600,
        "--cluster-cert-lifetime must be at least 1h (its controller renews it at half-life)"
    );
    let mut cfg = ServerConfig::new(a.data);
    cfg.listen = a.listen;
    cfg.database = a.database;
    cfg.ek_ca_files = a.ek_ca;
    cfg.ek_cert_policy = if a.ek_cert_policy == "required" {
        EkCertPolicy::Required
    } else {
        EkCertPolicy::IfPresent
    };
    cfg.tls_names = a.tls_names;
    cfg.client_cert_lifetime_secs = a.client_cert_lifetime;
    cfg.cluster_cert_lifetime_secs = a.cluster_cert_lifetime;
    cfg.cluster_stale_secs = a.cluster_stale;
    cfg.audit_origin = a.audit_origin;
    cfg.release_log_retention_secs = a.release_log_retention;
    cfg.max_connections = a.max_connections;
    cfg.max_connections_per_address = a.max_connections_per_address;
    cfg.max_in_flight = a.max_in_flight;
    cfg.max_request_bytes = a.max_request_mib.saturating_mul(1024 * 1024);
    cfg.header_read_timeout_secs = a.header_timeout;
    cfg.idle_timeout_secs = a.idle_timeout;
    cfg.trust_validity_secs = a.trust_validity;
    cfg.bootstrap_token = match a.bootstrap_token {
        BootstrapReach::Full => BootstrapMode::Full,
        BootstrapReach::BootstrapOnly => BootstrapMode::BootstrapOnly,
        BootstrapReach::Off => BootstrapMode::Off,
    };
    cfg.oidc = oidc_settings(a.oidc_issuer, a.oidc_client_id, a.oidc_ca)?;
    if let Some(secret) = a.oidc_client_secret_file {
        match cfg.oidc.as_mut() {
            Some(o) => o.client_secret_file = Some(secret),
            None => anyhow::bail!(
                "--oidc-client-secret-file is for --oidc-issuer; give --oidc-issuer and --oidc-client-id"
            ),
        }
    }
    cfg.attestation_interval_secs = a.interval;
    cfg.broker_pkcs11 = match (
        a.broker_pkcs11_module,
        a.broker_pkcs11_token,
        a.broker_pkcs11_pin_file,
    ) {
        (None, None, None) => None,
        (Some(module), Some(token_label), Some(pin_file)) => Some(Pkcs11Config {
            module,
            token_label,
            pin_file,
            key_label: a.broker_pkcs11_key_label,
        }),
        // clap enforces this too; never fall back to the file key on a partial setting.
        _ => anyhow::bail!(
            "--broker-pkcs11-module, --broker-pkcs11-token and --broker-pkcs11-pin-file go together"
        ),
    };
    cfg.images = a.vulndb.map(|vulndb| ImagesConfig {
        vulndb,
        inventories: a.inventories,
        poll_secs: a.vulndb_poll,
        max_db_age_secs: a.max_db_age,
    });
    #[cfg(feature = "bench-enrollment")]
    {
        cfg.allow_bench_enrollment = a.allow_bench_enrollment;
        cfg.bench_without_trust_audit = a.bench_without_trust_audit;
    }
    if cfg.interval_exceeds_validity() {
        anyhow::bail!("--interval must be shorter than --trust-validity, or every node would expire between attestations");
    }
    let service = Service::start(cfg)
        .await
        .context("starting the attestation service")?;
    println!(
        "ironroot attestation service listening on https://{}",
        service.addr
    );
    tokio::select! {
        _ = service.wait() => {}
        _ = tokio::signal::ctrl_c() => { eprintln!("stopping"); }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn oidc_issuer_and_client_id_go_together() {
        assert!(oidc_settings(None, None, None).unwrap().is_none());
        let s = oidc_settings(
            Some("http://127.0.0.1:5556/dex".into()),
            Some("ironroot".into()),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (s.issuer.as_str(), s.client_id.as_str()),
            ("http://127.0.0.1:5556/dex", "ironroot")
        );
        for (i, c, ca) in [
            (Some("https://idp.example"), None, None),
            (None, Some("ironroot"), None),
            (None, None, Some("ca.pem")),
        ] {
            let e = oidc_settings(i.map(Into::into), c.map(Into::into), ca.map(Into::into))
                .unwrap_err()
                .to_string();
            assert!(e.contains("--oidc-"), "{e}");
        }
        // Plain http to a remote issuer would let anyone on the path forge sign-ins.
        assert!(oidc_settings(Some("http://idp.example".into()), Some("x".into()), None).is_err());
    }
}
