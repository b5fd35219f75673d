//! The command line's hub arguments into [`GovernanceSettings`]: the cluster's client of
//! the hub (its certificate from `POST /v1/clusters`, the service's CA), its id from that
//! certificate, and the webhook probe.

use super::cluster::{GovernanceSettings, HubLink};
use super::probe::WebhookProbe;
use crate::command::Args;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// `None` when neither a cluster certificate nor a policy file was given (no policies:
/// nothing to audit).
pub fn governance(
    args: &Args,
    ca_pem: &[u8],
    webhook_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<GovernanceSettings>> {
    let read = |p: &std::path::PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let hub = match (&args.cluster_cert, &args.cluster_key) {
        (Some(cert), Some(key)) => {
            let (cert, key) = (read(cert)?, read(key)?);
            let cluster_id = super::identity::cluster_id(cert.as_bytes())
                .context("the cluster certificate (--cluster-cert)")?;
            let client = super::client::cluster_client(&args.server, ca_pem, &cert, &key)
                .context("the cluster's client of the hub")?;
            tracing::info!(cluster = %cluster_id, "pulling this cluster's policy bundle from the hub");
            Some(HubLink {
                hub: Arc::new(client),
                cluster_id,
                state_dir: Some(args.state_dir.clone()),
            })
        }
        _ => None,
    };
    if hub.is_none() && args.policy_file.is_none() {
        return Ok(None);
    }
    let mut g = GovernanceSettings::new(hub);
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
            governance(&a, b"", None).unwrap().is_none(),
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
        let e = governance(&a, cert.cert.pem().as_bytes(), None).unwrap_err();
        assert!(format!("{e:#}").contains("urn:ironroot:cluster:"), "{e:#}");
    }
}
