//! `ironroot audit witness` (docs/audit.md, "The witness"): a separate process that follows
//! a log's checkpoints, checks each new one is consistent with the last it verified,
//! cosigns it, and raises an alert on a rollback or a fork. The decisions are
//! `ironroot_tlog::witness` (pure); this is the shell that fetches, keeps files and alerts.

mod alert;
mod files;

use super::admin::{print_json, AdminClient, Conn};
use super::Output;
use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ironroot_client::Client;
use ironroot_tlog::cosignature::Cosigner;
use ironroot_tlog::merkle::{hash_from_slice, Hash};
use ironroot_tlog::note::Ed25519NoteVerifier;
use ironroot_tlog::witness::state::WitnessState;
use ironroot_tlog::witness::{self, ForkReason, TreeHead, Verdict};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The log is inconsistent: a rollback or a fork was detected.
pub const EXIT_INCONSISTENT: u8 = 3;
/// The cosigned checkpoint in `--out`.
pub const LATEST_FILE: &str = "latest.cosigned";
/// The witness's verifier key in `--out`, for whoever checks its cosignatures.
pub const VKEY_FILE: &str = "witness.vkey";
/// The last alert in `--out`.
pub const ALERT_FILE: &str = "alert.json";

/// `--help` of `audit witness`.
pub const LONG_ABOUT: &str = "\
Watch a log as its witness: verify each new checkpoint, cosign it, and raise an alert on a rollback or a fork.

A witness keeps a transparency log honest. It remembers the largest checkpoint it has verified, \
accepts a newer one only with an RFC 9162 consistency proof that the new tree extends the old \
one, and cosigns what it accepted (C2SP tlog-cosignature), publishing the cosigned checkpoint as \
--out/latest.cosigned. A log that rewrites or drops its history, or shows different histories \
to different people, is caught the first time the witness sees it: a rollback (a smaller tree) \
or a fork (the same size with another root, or a larger tree that does not extend the one \
seen). Run it where the log's operators have no access, and pin the log's key out of band.

Each round: fetch /.well-known/ironroot-log/checkpoint, verify its signature with --log-key, \
fetch the consistency proof from the last verified size (this route needs --token-file today), \
verify it, cosign, then save the state (--state: the last verified checkpoint, mode 0600, \
replaced atomically). Nothing is saved or cosigned on a failure. The first checkpoint a new \
witness sees is its starting point: it vouches only for what comes after.

Exit status: 0 with --once when the checkpoint verified; 1 on an error (the service \
unreachable, a checkpoint whose signature fails, files that cannot be read); 3 when the log is \
inconsistent (a rollback or a fork): both tree heads are printed, written to --out/alert.json \
with both signed checkpoints (the evidence), and POSTed as JSON to --alert-webhook. Without \
--once, errors are retried every --interval; an inconsistency ends the watch with status 3.

Example: ironroot audit witness --server https://ironroot.example:8443 --ca ca.pem \
--token-file auditor.token --log-key ironroot-log.pub --witness-key witness.key \
--name witness.example.com/w1 --state witness.state --out /srv/witness";

/// `ironroot audit witness`.
#[derive(clap::Args)]
pub struct WitnessArgs {
    /// The log's note verifier key (`<origin>+<id>+<base64>`, as
    /// /.well-known/ironroot-log/key serves it), obtained out of band. Required: a witness
    /// that took the key from the log it watches would believe anything that log says.
    #[arg(long)]
    pub log_key: PathBuf,
    /// The witness's cosigning key (PRIVATE+KEY+<name>+<id>+<base64>); created, mode
    /// 0600, if absent (then --name is needed).
    #[arg(long)]
    pub witness_key: PathBuf,
    /// The witness's name when creating --witness-key (e.g. witness.example.com/w1);
    /// with an existing key it must match the key's name.
    #[arg(long)]
    pub name: Option<String>,
    /// The witness's state: the last checkpoint it verified (created on the first round).
    #[arg(long)]
    pub state: PathBuf,
    /// Where the witness publishes latest.cosigned, witness.vkey and alert.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Time between rounds: seconds, or a number followed by s, m or h.
    #[arg(long, default_value = "30s", value_parser = parse_interval)]
    pub interval: Duration,
    /// One round, then exit (0, 1 or 3).
    #[arg(long)]
    pub once: bool,
    /// POST a JSON alert here on a rollback or a fork (https://, or http:// to loopback).
    #[arg(long)]
    pub alert_webhook: Option<String>,
    #[command(flatten)]
    pub conn: Conn,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    };
    match secs {
        Some(s) if s > 0 => Ok(Duration::from_secs(s)),
        _ => Err(format!("{text:?}: want a positive number of s, m or h")),
    }
}

/// The witness: its keys, files and the last checkpoint it verified.
struct Witness {
    log_key: Ed25519NoteVerifier,
    cosigner: Cosigner,
    args: WitnessArgs,
    webhook: Option<reqwest::Url>,
    state: Option<WitnessState>,
}

/// What one round found.
enum Round {
    Verdict { verdict: Verdict, size: u64 },
    Inconsistent(Verdict),
}

pub async fn run(args: WitnessArgs, out: Output) -> anyhow::Result<ExitCode> {
    let mut w = Witness::start(args)?;
    let client = AdminClient::new(&w.args.conn)?;
    loop {
        match w.round(&client).await {
            Ok(Round::Inconsistent(verdict)) => {
                report(&w, &verdict, None, out)?;
                return Ok(ExitCode::from(EXIT_INCONSISTENT));
            }
            Ok(Round::Verdict { verdict, size }) if w.args.once => {
                report(&w, &verdict, Some(size), out)?;
                return Ok(ExitCode::SUCCESS);
            }
            Ok(Round::Verdict { verdict, size }) => {
                if verdict.advances() {
                    eprintln!("witness: size {size}: {verdict}: cosigned");
                }
            }
            Err(e) if w.args.once => return Err(e),
            Err(e) => eprintln!(
                "witness: error: {e:#} (retrying in {}s)",
                w.args.interval.as_secs()
            ),
        }
        tokio::time::sleep(w.args.interval).await;
    }
}

impl Witness {
    fn start(args: WitnessArgs) -> anyhow::Result<Witness> {
        let webhook = args
            .alert_webhook
            .as_deref()
            .map(alert::check_webhook)
            .transpose()?;
        let log_key = files::log_key(&args.log_key)?;
        let (cosigner, created) = files::witness_key(&args.witness_key, args.name.as_deref())?;
        let state = files::load_state(&args.state, &log_key)?;
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
        let vkey = cosigner.verifier_key().to_text();
        files::write_atomic(
            &args.out.join(VKEY_FILE),
            format!("{vkey}\n").as_bytes(),
            0o644,
        )?;
        if created {
            eprintln!(
                "witness: created the key {}; its verifier key (for whoever checks its \
                 cosignatures) is {vkey}",
                args.witness_key.display()
            );
        }
        match &state {
            Some(s) => eprintln!(
                "witness: {} last verified at size {}",
                s.checkpoint().origin,
                s.checkpoint().size
            ),
            None => eprintln!(
                "witness: no state in {} yet: the first checkpoint seen is the starting point",
                args.state.display()
            ),
        }
        Ok(Witness {
            log_key,
            cosigner,
            args,
            webhook,
            state,
        })
    }

    async fn round(&mut self, client: &Client) -> anyhow::Result<Round> {
        let server = &self.args.conn.server;
        let note = client
            .audit_checkpoint()
            .await
            .with_context(|| format!("fetching the checkpoint from {server}"))?;
        let (served, _) = witness::open(note.as_bytes(), &self.log_key)
            .with_context(|| format!("the checkpoint {server} serves was refused"))?;
        let seen = self.state.as_ref().map(|s| s.checkpoint());
        let verdict = match (witness::proof_needed(seen, &served), seen) {
            (Some((from, to)), Some(old)) => match consistency_proof(client, from, to).await? {
                Ok(proof) => witness::decide(seen, &served, &proof),
                Err(why) => Verdict::Fork {
                    seen: TreeHead::of(old),
                    served: TreeHead::of(&served),
                    why,
                },
            },
            _ => witness::decide(seen, &served, &[]),
        };
        if verdict.is_inconsistent() {
            self.alert(&verdict, &note).await?;
            return Ok(Round::Inconsistent(verdict));
        }
        if verdict.advances() {
            self.accept(&note)?;
        }
        Ok(Round::Verdict {
            verdict,
            size: served.size,
        })
    }

    /// Cosigns and publishes `note`, then makes it the state (in that order: a state
    /// is never ahead of what was published).
    fn accept(&mut self, note: &str) -> anyhow::Result<()> {
        let now = ironroot_timestamp::now_unix();
        let cosigned = witness::cosigned_note(note.as_bytes(), &self.cosigner, now)
            .context("cosigning the checkpoint")?;
        files::write_atomic(&self.args.out.join(LATEST_FILE), cosigned.as_bytes(), 0o644)?;
        let state = WitnessState::accept(note, &self.log_key)?;
        files::write_atomic(&self.args.state, state.to_file().as_bytes(), 0o600)?;
        self.state = Some(state);
        Ok(())
    }

    /// Keeps the evidence in --out/alert.json and posts it to the webhook. A webhook
    /// that cannot be reached is reported, not fatal: the exit status still says it.
    async fn alert(&self, verdict: &Verdict, served_note: &str) -> anyhow::Result<()> {
        let seen_note = self.state.as_ref().map_or("", |s| s.note());
        let origin = self.log_key_origin();
        let witness = self.cosigner.verifier_key().to_text();
        let now = ironroot_timestamp::now_unix();
        let Some(alert) =
            alert::alert_json(verdict, &origin, &witness, seen_note, served_note, now)
        else {
            bail!("not an inconsistency: {verdict}");
        };
        let text = serde_json::to_string_pretty(&alert)? + "\n";
        files::write_atomic(&self.args.out.join(ALERT_FILE), text.as_bytes(), 0o644)?;
        if let Some(url) = &self.webhook {
            if let Err(e) = alert::post(url, &alert).await {
                eprintln!("witness: error: the alert was not delivered: {e:#}");
            }
        }
        Ok(())
    }

    fn log_key_origin(&self) -> String {
        use ironroot_tlog::note::NoteVerifier;
        self.log_key.name().to_owned()
    }
}

/// The log's consistency proof from `from` to `to`: `Err` when the log answered one
/// that cannot be a proof (it names other sizes or holds a malformed hash), which is as
/// good as a failed one; a failure to fetch is an error to retry.
async fn consistency_proof(
    client: &Client,
    from: u64,
    to: u64,
) -> anyhow::Result<Result<Vec<Hash>, ForkReason>> {
    let proof = client
        .audit_consistency_proof(from, to)
        .await
        .with_context(|| format!("fetching the consistency proof from size {from} to {to}"))?;
    if (proof.from, proof.to) != (from, to) {
        bail!(
            "the log answered a consistency proof from {} to {} when asked for {from} to {to}",
            proof.from,
            proof.to
        );
    }
    let hashes: Result<Vec<Hash>, _> = proof.hashes.iter().map(|h| hash_from_slice(&h.0)).collect();
    Ok(hashes.map_err(ForkReason::ProofFailed))
}

fn report(w: &Witness, verdict: &Verdict, size: Option<u64>, out: Output) -> anyhow::Result<()> {
    let origin = w.log_key_origin();
    let latest = w.args.out.join(LATEST_FILE);
    if out == Output::Json {
        let (kind, seen, served) = match verdict {
            Verdict::Rollback { seen, served } => ("rollback", Some(seen), Some(served)),
            Verdict::Fork { seen, served, .. } => ("fork", Some(seen), Some(served)),
            Verdict::First => ("first", None, None),
            Verdict::Same => ("same", None, None),
            _ => ("consistent", None, None),
        };
        let head = |h: Option<&TreeHead>| {
            h.map(|h| serde_json::json!({"size": h.size, "root": B64.encode(h.root)}))
        };
        return print_json(&serde_json::json!({
            "origin": origin, "verdict": kind, "detail": verdict.to_string(),
            "size": size, "seen": head(seen), "served": head(served),
            "cosigned": (!verdict.is_inconsistent()).then(|| latest.display().to_string()),
        }));
    }
    match size {
        None => {
            println!("INCONSISTENT: {origin}: {verdict}");
            println!(
                "evidence (both signed checkpoints) in {}",
                w.args.out.join(ALERT_FILE).display()
            );
        }
        Some(size) => println!(
            "{origin} at size {size}: {verdict}; cosigned checkpoint in {}",
            latest.display()
        ),
    }
    Ok(())
}
