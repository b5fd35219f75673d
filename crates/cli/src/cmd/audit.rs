//! `ironroot audit export` and `ironroot audit verify` (docs/audit.md, "Export and offline
//! verification"): a shell over `ironroot_tlog::bundle`, which owns the bundle's format and
//! its verifier. Export fetches, filters and proves entries and writes a bundle only once
//! the offline verifier accepts it; verify needs no network, only the log's key.

use super::admin::{print_json, AdminClient, Conn};
use super::Output;
use anyhow::{bail, Context};
use ironroot_api::{AuditEntry, MAX_AUDIT_PAGE};
use ironroot_client::Client;
use ironroot_tlog::bundle::{self, BundleReaders, Report};
use ironroot_tlog::checkpoint::Checkpoint;
use ironroot_tlog::merkle::{hash_from_slice, Hash};
use ironroot_tlog::note::{Ed25519NoteVerifier, NoteVerifier, MAX_NOTE_BYTES};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `audit verify`: something in the bundle does not verify.
pub const EXIT_FAILED: u8 = 1;
/// `audit verify`: bad arguments, or a file that cannot be read.
pub const EXIT_USAGE: u8 = 2;
/// Inclusion proofs fetched at once.
const PROOFS_IN_FLIGHT: usize = 16;
/// Progress goes to stderr every this many entries read.
const PROGRESS_EVERY: u64 = 10_000;
/// The longest key file read.
const MAX_KEY_FILE: u64 = 4096;

#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Export the entries of a time range (and optionally of one host, key or cluster) as
    /// a bundle that `audit verify` checks offline: entries.jsonl, entries.csv,
    /// proofs.jsonl, checkpoint and log-key in --out. Nothing is written unless every
    /// entry verifies against the checkpoint.
    ///
    /// Example: ironroot audit export --since 2026-10-01T00:00:00Z --until 2027-01-01T00:00:00Z --host h1 --out q4
    Export {
        /// Entries at or after (RFC 3339 or unix seconds).
        #[arg(long)]
        since: String,
        /// Entries before (RFC 3339 or unix seconds).
        #[arg(long)]
        until: String,
        /// Only entries about this host (its id or hostname).
        #[arg(long)]
        host: Option<String>,
        /// Only entries about this key.
        #[arg(long)]
        key: Option<String>,
        /// Only entries about this cluster (its name or id).
        #[arg(long)]
        cluster: Option<String>,
        /// A new directory (or an empty one) for the bundle.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        conn: Conn,
    },
    /// Verify a bundle offline: the checkpoint's signature and origin, then each entry's
    /// leaf hash and inclusion proof. Names the first failing entry and why, and counts
    /// every failure. Exit status: 0 verified, 1 something does not verify, 2 usage or a
    /// file that cannot be read.
    ///
    /// Example: ironroot audit verify q4 --key-file ironroot-log.pub
    Verify {
        /// The bundle's directory.
        dir: PathBuf,
        /// A file holding the log's note verifier key (the key you trust).
        #[arg(long, conflicts_with = "key")]
        key_file: Option<PathBuf>,
        /// The log's note verifier key (`<name>+<id>+<base64>`).
        #[arg(long)]
        key: Option<String>,
    },
    /// Watch the log as its witness: verify each new checkpoint is consistent with the
    /// last one seen, cosign it, and alert on a rollback or a fork (exit status 3).
    #[command(long_about = super::audit_witness::LONG_ABOUT)]
    Witness(super::audit_witness::WitnessArgs),
}

pub async fn run(cmd: AuditCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCmd::Export {
            since,
            until,
            host,
            key,
            cluster,
            out: dir,
            conn,
        } => {
            let filter = bundle::Filter {
                since: super::hub::time_arg(&since)?,
                until: super::hub::time_arg(&until)?,
                host,
                key,
                cluster,
            };
            let client = AdminClient::new(&conn)?;
            let s = export(&client, &filter, &dir).await?;
            match out {
                Output::Json => print_json(&serde_json::json!({
                    "entries": s.entries, "checkpoint_size": s.checkpoint_size,
                    "origin": s.origin, "organisation": s.organisation,
                    "dir": dir.display().to_string(),
                }))?,
                Output::Table => println!(
                    "{} entries exported (of {} in the log), proved against the checkpoint of \
                     {}; bundle in {}{}",
                    s.entries,
                    s.checkpoint_size,
                    s.origin,
                    dir.display(),
                    if s.entries == 0 {
                        " (0 entries matched: the bundle proves only the checkpoint)"
                    } else {
                        ""
                    }
                ),
            }
            if let (Output::Table, Some(org)) = (out, &s.organisation) {
                println!(
                    "only {org}'s entries were served: each is proved to be in the log, but \
                     that none of {org}'s was left out is proved only by a platform auditor's export"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Verify { dir, key_file, key } => Ok(verify_cmd(&dir, key_file, key, out)),
        AuditCmd::Witness(args) => super::audit_witness::run(args, out).await,
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Entries in the bundle.
    pub entries: u64,
    /// The log's size at the checkpoint: every entry was read.
    pub checkpoint_size: u64,
    pub origin: String,
    /// The organisation whose entries alone the log served (an organisation's auditor).
    pub organisation: Option<String>,
}

/// Exports a bundle into `dir` (created if missing; no bundle file may exist in it). The
/// files are written under temporary names, checked by the offline verifier with the key
/// fetched, and renamed into place only if everything verifies.
pub async fn export(
    client: &Client,
    filter: &bundle::Filter,
    dir: &Path,
) -> anyhow::Result<ExportSummary> {
    if filter.since >= filter.until {
        bail!("--since must be before --until");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let names = [
        bundle::ENTRIES_FILE,
        bundle::CSV_FILE,
        bundle::PROOFS_FILE,
        bundle::CHECKPOINT_FILE,
        bundle::KEY_FILE,
    ];
    for f in names {
        if dir.join(f).exists() {
            bail!(
                "{} already exists: export into a new directory",
                dir.join(f).display()
            );
        }
    }
    let partial = |f: &str| dir.join(format!(".{f}.partial"));
    let result = write_partial(client, filter, &partial).await;
    let outcome = result.and_then(|summary| {
        for f in names {
            std::fs::rename(partial(f), dir.join(f))
                .with_context(|| format!("moving {} into place", dir.join(f).display()))?;
        }
        Ok(summary)
    });
    if outcome.is_err() {
        for f in names {
            let _ = std::fs::remove_file(partial(f));
        }
    }
    outcome
}

async fn write_partial(
    client: &Client,
    filter: &bundle::Filter,
    partial: &dyn Fn(&str) -> PathBuf,
) -> anyhow::Result<ExportSummary> {
    let key_text = client.audit_key().await.context("fetching the log's key")?;
    let key = Ed25519NoteVerifier::parse(&key_text)
        .with_context(|| format!("the log's key {key_text:?} is not an Ed25519 note key"))?;
    let note = client
        .audit_checkpoint()
        .await
        .context("fetching the checkpoint")?;
    let keys: [&dyn NoteVerifier; 1] = [&key];
    let (cp, _) = Checkpoint::open(note.as_bytes(), &keys)
        .context("the checkpoint the log serves does not verify with its own key")?;
    let create = |f: &str| -> anyhow::Result<BufWriter<std::fs::File>> {
        let p = partial(f);
        let file =
            std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(BufWriter::new(file))
    };
    let (mut entries, mut csv, mut proofs) = (
        create(bundle::ENTRIES_FILE)?,
        create(bundle::CSV_FILE)?,
        create(bundle::PROOFS_FILE)?,
    );
    write!(csv, "{}\r\n", bundle::CSV_HEADER)?;
    let (mut kept, mut selection) = (0u64, bundle::Selection::new(filter.clone()));
    // Which entries the log owes this caller: all of them, unless the caller is an
    // organisation's (other than the platform's). A page limited otherwise is refused, so
    // a log cannot leave entries out of a platform auditor's export by calling it filtered.
    let me = client
        .whoami()
        .await
        .context("asking the service who this credential is")?;
    let owed = me.organisation.filter(|o| o != "default");
    let (mut start, mut organisation) = (0u64, None);
    while start < cp.size {
        let end = cp.size.min(start + MAX_AUDIT_PAGE);
        let page = client.audit_entries(start, Some(end)).await?;
        let indexes: Vec<u64> = page.entries.iter().map(|e| e.index).collect();
        if page.organisation != owed {
            bail!(
                "the log served {} to {}, whose export is {}: not exported",
                page.organisation
                    .as_deref()
                    .map_or("every entry".to_owned(), |o| format!("only {o}'s entries")),
                me.actor,
                owed.as_deref()
                    .map_or("the whole log".to_owned(), |o| format!("{o}'s entries")),
            );
        }
        match &page.organisation {
            None => check_page(start, end, &indexes)?,
            Some(_) => check_sparse_page(start, end, &indexes)?,
        }
        organisation = page.organisation.or(organisation);
        let mine: Vec<AuditEntry> = page
            .entries
            .into_iter()
            .filter(|e| selection.keeps(e))
            .collect();
        for chunk in mine.chunks(PROOFS_IN_FLIGHT) {
            for (e, proof) in chunk
                .iter()
                .zip(fetch_proofs(client, chunk, cp.size).await?)
            {
                bundle::check_entry(&cp, e, &proof).with_context(|| {
                    format!(
                        "entry {} does not verify against the checkpoint: the entry the \
                             log returned is not the one its tree recorded (changed in the \
                             database?), or its proof is wrong: not exported",
                        e.index
                    )
                })?;
                entries.write_all(bundle::entry_line(e)?.as_bytes())?;
                csv.write_all(bundle::csv_row(e)?.as_bytes())?;
                proofs.write_all(bundle::proof_line(e, &proof)?.as_bytes())?;
                kept += 1;
            }
        }
        if end / PROGRESS_EVERY > start / PROGRESS_EVERY {
            eprintln!("read {end} of {} entries, {kept} kept", cp.size);
        }
        start = end;
    }
    for mut w in [entries, csv, proofs] {
        w.flush()?;
        w.get_ref().sync_all()?;
    }
    std::fs::write(partial(bundle::CHECKPOINT_FILE), note.as_bytes())?;
    std::fs::write(partial(bundle::KEY_FILE), format!("{key_text}\n"))?;
    // The bundle as an auditor will check it: from the files, with the verifier.
    let report = verify_files(&key, partial)?;
    if !report.ok() {
        let why = report.first().map_or("unknown".into(), |f| f.to_string());
        bail!("the bundle written does not verify ({why}): not exported");
    }
    Ok(ExportSummary {
        entries: kept,
        checkpoint_size: cp.size,
        origin: cp.origin,
        organisation,
    })
}

/// Names the first entry of `start..end` that a page of the log does not hold in its
/// place: a row deleted from the database shows as a missing entry.
fn check_page(start: u64, end: u64, indexes: &[u64]) -> anyhow::Result<()> {
    for (pos, want) in (start..end).enumerate() {
        match indexes.get(pos) {
            Some(got) if *got == want => {}
            Some(got) if *got < want => {
                bail!("the log returned entry {got} twice or out of order: not exported")
            }
            _ => bail!(
                "entry {want} is missing: the checkpoint covers it but the log did not return \
                 it (deleted from the database?): not exported"
            ),
        }
    }
    if let Some(extra) = indexes.get((end - start) as usize) {
        bail!("the log returned entry {extra} when asked for {start}..{end}: not exported");
    }
    Ok(())
}

/// An organisation's page of `start..end`: its entries only, so gaps are expected; each
/// must still be in the range, once, in order. (That none was withheld cannot be checked
/// from such a page: the export says so.)
fn check_sparse_page(start: u64, end: u64, indexes: &[u64]) -> anyhow::Result<()> {
    let mut last = None;
    for &got in indexes {
        if !(start..end).contains(&got) {
            bail!("the log returned entry {got} when asked for {start}..{end}: not exported");
        }
        if last.is_some_and(|l| got <= l) {
            bail!("the log returned entry {got} twice or out of order: not exported");
        }
        last = Some(got);
    }
    Ok(())
}

/// The inclusion proofs of `entries` for a tree of `size`, fetched concurrently.
async fn fetch_proofs(
    client: &Client,
    entries: &[AuditEntry],
    size: u64,
) -> anyhow::Result<Vec<Vec<Hash>>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (slot, e) in entries.iter().enumerate() {
        let (client, index) = (client.clone(), e.index);
        tasks.spawn(async move { (slot, client.audit_inclusion_proof(index, size).await) });
    }
    let mut out = vec![Vec::new(); entries.len()];
    while let Some(done) = tasks.join_next().await {
        let (slot, proof) = done?;
        let proof = proof?;
        let want = entries.get(slot).map(|e| e.index);
        if Some(proof.index) != want || proof.size != size {
            bail!(
                "the log answered a proof of {}/{} for {want:?}/{size}",
                proof.index,
                proof.size
            );
        }
        let hashes = proof.hashes.iter().map(|h| hash_from_slice(&h.0));
        if let Some(o) = out.get_mut(slot) {
            *o = hashes.collect::<Result<_, _>>()?;
        }
    }
    Ok(out)
}

/// Runs the bundle verifier over the files `path` names.
fn verify_files(
    key: &Ed25519NoteVerifier,
    path: &dyn Fn(&str) -> PathBuf,
) -> anyhow::Result<Report> {
    let open = |f: &str| -> anyhow::Result<BufReader<std::fs::File>> {
        let p = path(f);
        let file = std::fs::File::open(&p).with_context(|| format!("opening {}", p.display()))?;
        Ok(BufReader::with_capacity(256 * 1024, file))
    };
    let checkpoint = read_limited(&path(bundle::CHECKPOINT_FILE), MAX_NOTE_BYTES as u64 + 1)?;
    let (mut entries, mut proofs, mut csv) = (
        open(bundle::ENTRIES_FILE)?,
        open(bundle::PROOFS_FILE)?,
        open(bundle::CSV_FILE)?,
    );
    let files = BundleReaders {
        checkpoint: &checkpoint,
        entries: &mut entries,
        proofs: &mut proofs,
        csv: &mut csv,
    };
    bundle::verify(key, files).context("reading the bundle")
}

fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}

/// Where the key `audit verify` used came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Given,
    /// Only the bundle's own `log-key`: proves the bundle is self-consistent, not that it
    /// comes from the log the auditor means.
    Bundle,
}

/// Verifies the bundle in `dir` with `key` (a verifier key string), else the bundle's own
/// `log-key`. Errors are usage and I/O errors; verification results are in the report.
pub fn verify_dir(dir: &Path, key: Option<&str>) -> anyhow::Result<(Report, KeySource)> {
    let (text, source) = match key {
        Some(k) => (k.trim().to_owned(), KeySource::Given),
        None => {
            let bytes = read_limited(&dir.join(bundle::KEY_FILE), MAX_KEY_FILE)?;
            (
                String::from_utf8_lossy(&bytes).trim().to_owned(),
                KeySource::Bundle,
            )
        }
    };
    let verifier = Ed25519NoteVerifier::parse(&text)
        .with_context(|| format!("{text:?} is not a log verifier key (<name>+<id>+<base64>)"))?;
    let report = verify_files(&verifier, &|f| dir.join(f))?;
    Ok((report, source))
}

fn verify_cmd(dir: &Path, key_file: Option<PathBuf>, key: Option<String>, out: Output) -> ExitCode {
    let given = match (key, key_file) {
        (Some(k), _) => Ok(Some(k)),
        (None, Some(f)) => {
            read_limited(&f, MAX_KEY_FILE).map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
        }
        (None, None) => Ok(None),
    };
    let result = given.and_then(|k| verify_dir(dir, k.as_deref()));
    let (report, source) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if source == KeySource::Bundle {
        eprintln!(
            "warning: no --key or --key-file: verified with the bundle's own log-key, which \
             anyone making a bundle can choose; give the log's key you trust"
        );
    }
    if let Err(e) = print_report(&report, out) {
        eprintln!("error: {e:#}");
        return ExitCode::from(EXIT_USAGE);
    }
    ExitCode::from(if report.ok() { 0 } else { EXIT_FAILED })
}

fn print_report(r: &Report, out: Output) -> anyhow::Result<()> {
    let failures: Vec<serde_json::Value> = r
        .failures
        .iter()
        .map(|f| serde_json::json!({"index": f.index, "problem": f.problem.to_string()}))
        .collect();
    if out == Output::Json {
        return print_json(&serde_json::json!({
            "ok": r.ok(),
            "checkpoint": r.checkpoint.as_ref().map(|c| serde_json::json!({"origin": c.origin, "size": c.size})),
            "entries": r.entries, "verified": r.verified,
            "failure_count": r.failure_count, "failures": failures,
        }));
    }
    if let Some(c) = &r.checkpoint {
        println!(
            "checkpoint: {} at tree size {}: signature verified",
            c.origin, c.size
        );
    }
    println!("entries: {} read, {} verified", r.entries, r.verified);
    match r.first() {
        None if r.ok() => println!("OK: every entry is in the log"),
        None => println!("FAILED"),
        Some(first) => {
            println!("FAILED: {first}");
            for f in r.failures.iter().skip(1).take(9) {
                println!("  also: {f}");
            }
            println!("{} failures in all", r.failure_count);
        }
    }
    Ok(())
}
