//! The command line's hub arguments into [`GovernanceSettings`]: the cluster's client of
//! the hub (its certificate from `POST /v1/clusters`, the service's CA), its id from that
//! certificate, and the webhook probe.

use super::cluster::{GovernanceSettings, HubLink};
use super::identity::Validity;
use super::probe::WebhookProbe;
use super::renewal::{self, Renewal, SecretTarget};
use super::store::{BundleStore, StoredIdentity};
use crate::command::Args;
use anyhow::Context;
use ironroot_client::Client;
use std::sync::Arc;
use std::time::Duration;

/// The cluster's identity at start: its certificate and key (from `--cluster-cert` and
/// `--cluster-key`, or a newer one a renewal kept in `--state-dir`), and the client of
/// the hub speaking with it. `None` without a cluster certificate.
pub struct ClusterIdentity {
    pub client: Client,
    pub cluster_id: String,
    pub validity: Validity,
}

/// Reads the cluster identity the arguments name (see [`ClusterIdentity`]).
pub fn cluster_identity(args: &Args, ca_pem: &[u8]) -> anyhow::Result<Option<ClusterIdentity>> {
    let (Some(cert), Some(key)) = (&args.cluster_cert, &args.cluster_key) else {
        return Ok(None);
    };
    let read = |p: &std::path::PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let given = StoredIdentity {
        cert_pem: read(cert)?,
        key_pem: read(key)?,
    };
    let cluster_id = super::identity::cluster_id(given.cert_pem.as_bytes())
        .context("the cluster certificate (--cluster-cert)")?;
    let kept = match BundleStore::open(&args.state_dir).and_then(|s| s.load_identity()) {
        Ok(kept) => kept,
        Err(e) => {
            tracing::warn!(error = %e, "no renewed cluster certificate read from the state directory");
            None
        }
    };
    let chosen = renewal::choose(given, kept);
    let validity =
        super::identity::validity(chosen.cert_pem.as_bytes()).context("the cluster certificate")?;
    let client =
        super::client::cluster_client(&args.server, ca_pem, &chosen.cert_pem, &chosen.key_pem)
            .context("the cluster's client of the hub")?;
    tracing::info!(cluster = %cluster_id, not_after = validity.not_after, "pulling this cluster's policy bundle from the hub");
    Ok(Some(ClusterIdentity {
        client,
        cluster_id,
        validity,
    }))
}

/// `None` when neither a cluster certificate nor a policy file was given (no policies:
/// nothing to audit).
pub fn governance(
    args: &Args,
    cluster: Option<ClusterIdentity>,
    kube: Option<&kube::Client>,
    webhook_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<GovernanceSettings>> {
    let mut renewal = None;
    let hub = match cluster {
        Some(c) => {
            renewal = Some(Renewal {
                client: c.client.clone(),
                cluster_id: c.cluster_id.clone(),
                validity: c.validity,
                store: BundleStore::open(&args.state_dir).ok(),
                secret: secret_target(args, kube)?,
            });
            Some(HubLink {
                hub: Arc::new(c.client),
                cluster_id: c.cluster_id,
                state_dir: Some(args.state_dir.clone()),
            })
        }
        None => None,
    };
    if hub.is_none() && args.policy_file.is_none() {
        return Ok(None);
    }
    let mut g = GovernanceSettings::new(hub);
    g.renewal = renewal;
    g.poll = Duration::from_secs(args.policy_poll.max(1));
    g.audit_interval = Duration::from_secs(args.audit_interval.max(1));
    g.own_namespace = args.namespace.clone();
    if let (Some(addr), Some(cert)) = (webhook_addr, &args.webhook_cert) {
        let pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let leaf = ironroot_tls::certs_from_pem(&pem)?
            .into_iter()
            .next()
            .context("--webhook-cert holds no certificate")?;
        g.probe = Some(WebhookProbe::new(addr, leaf)?);
    }
    Ok(Some(g))
}

/// The Secret `--cluster-secret` names, in the controller's namespace, with the file
/// names of `--cluster-cert` and `--cluster-key` as its keys (how a Secret volume
/// mounts them).
fn secret_target(args: &Args, kube: Option<&kube::Client>) -> anyhow::Result<Option<SecretTarget>> {
    let (Some(name), Some(kube)) = (&args.cluster_secret, kube) else {
        return Ok(None);
    };
    let key_of = |p: &Option<std::path::PathBuf>, flag: &str| {
        p.as_deref()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .with_context(|| format!("--cluster-secret needs {flag} with a file name"))
    };
    Ok(Some(SecretTarget {
        api: kube::Api::namespaced(kube.clone(), &args.namespace),
        name: name.clone(),
        cert_key: key_of(&args.cluster_cert, "--cluster-cert")?,
        key_key: key_of(&args.cluster_key, "--cluster-key")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        let base = [
            "controller",
            "--server",
            "https://hub:8443",
            "--ca",
            "ca.pem",
            "--token-file",
            "t",
        ];
        Cli::try_parse_from(base.iter().chain(extra)).map(|c| c.args)
    }

    #[test]
    fn the_hub_arguments_parse_with_their_defaults_and_go_in_pairs() {
        Cli::command().debug_assert();
        let a = parse(&[]).unwrap();
        assert_eq!((a.policy_poll, a.audit_interval), (2, 60));
        assert!(
            governance(&a, None, None, None).unwrap().is_none(),
            "no hub, no policy file"
        );
        assert!(
            parse(&["--cluster-cert", "c.pem"]).is_err(),
            "a certificate needs its key"
        );
    }

    #[test]
    fn a_certificate_that_names_no_cluster_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        let a = parse(&[
            "--cluster-cert",
            c.to_str().unwrap(),
            "--cluster-key",
            k.to_str().unwrap(),
        ])
        .unwrap();
        let e = cluster_identity(&a, cert.cert.pem().as_bytes())
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("urn:ironroot:cluster:"), "{e:#}");
    }
}
