//! What the witness says when a log is inconsistent: a JSON alert with both tree heads
//! and both signed checkpoints (together they prove the log's misbehaviour to anyone
//! holding its key), printed, kept in `--out/alert.json`, and POSTed to `--alert-webhook`.

use anyhow::{bail, Context};
use ironroot_tlog::witness::{TreeHead, Verdict};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;

/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The alert for `verdict` if it is a rollback or a fork: `seen_note` is the checkpoint the witness
/// verified before, `served_note` the one the log serves now.
pub fn alert_json(
    verdict: &Verdict,
    origin: &str,
    witness: &str,
    seen_note: &str,
    served_note: &str,
    at: u64,
) -> Option<Value> {
    let head = |h: &TreeHead| json!({"size": h.size, "root": base64_root(h)});
    let (kind, seen, served) = match verdict {
        Verdict::Rollback { seen, served } => ("audit.rollback", seen, served),
        Verdict::Fork { seen, served, .. } => ("audit.fork", seen, served),
        _ => return None,
    };
    Some(json!({
        "kind": kind,
        "origin": origin,
        "witness": witness,
        "detail": verdict.to_string(),
        "seen": head(seen),
        "served": head(served),
        "seen_checkpoint": seen_note,
        "served_checkpoint": served_note,
        "at": at,
    }))
}

fn base64_root(h: &TreeHead) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h.root)
}

/// Checks a webhook URL: https, or plain http only to a loopback address literal; no
/// user name, password or fragment (they would end up in logs).
pub fn check_webhook(url: &str) -> anyhow::Result<reqwest::Url> {
    let u = reqwest::Url::parse(url).with_context(|| format!("--alert-webhook {url:?}"))?;
    if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
        bail!("--alert-webhook must not carry a user name, password or fragment");
    }
    let loopback = u
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
        .is_some_and(|a| a.is_loopback());
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        _ => bail!("--alert-webhook must be https:// (plain http:// only to 127.0.0.0/8 or [::1])"),
    }
}

/// POSTs `alert` to `url`; the receiver must answer 2xx.
pub async fn post(url: &reqwest::Url, alert: &Value) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(ironroot_tls::client_config(
            ironroot_tls::system_roots()?,
            None,
        )?)
        .timeout(WEBHOOK_TIMEOUT)
        .build()?;
    let resp = client
        .post(url.clone())
        .json(alert)
        .send()
        .await
        .with_context(|| format!("posting the alert to {url}"))?;
    if !resp.status().is_success() {
        bail!("{url} answered {} to the alert", resp.status());
    }
    Ok(())
}
