#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Tampering with the audit log behind the service's back, on SQLite and on PostgreSQL,
//! and showing a witness two histories (docs/audit.md, "Tamper tests"). Every case is
//! detected, by `audit export` or by `audit witness`, with the entry or the sizes named:
//!
//! - a row's body or actor changed, a row deleted, two rows' bodies swapped: `audit
//!   export` refuses, naming the entry and why (and exports again once the rows are back);
//! - the log truncated (the last entries, their subtrees and the stored checkpoint
//!   deleted, so the service signs a smaller tree): the witness reports a rollback
//!   naming both sizes, exits 3, posts the alert, and keeps its state;
//! - two services signing with the same log key but different histories: a witness that
//!   saw one reports a fork on the other, at the same size and at a larger one.
//!
//! PostgreSQL is a private cluster (`ironroot_testkit::databases::PgCluster`); without it
//! the test fails when IRONROOT_REQUIRE_PEERS=1, else skips, saying so.

mod db;
mod lab;

use db::Db;
use ironroot_testkit::databases::PgCluster;
use ironroot_tlog::cosignature::CosignatureVerifier;
use ironroot_tlog::note::{Ed25519NoteVerifier, Note, NoteVerifier};
use lab::{ironroot, ok, register, s, text, witness_once, Lab, Receiver, Svc, WitnessFiles};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

const RANGE: [&str; 4] = ["--since", "0", "--until", "2100-01-01T00:00:00Z"];

#[test]
fn tampering_with_the_log_in_sqlite_is_detected_with_the_entry_named() {
    let mut lab = Lab::new();
    let svc = lab.start("service", None, None);
    let url = format!("sqlite://{}", svc.data.join("ironroot.db").display());
    tamper_scenarios(&lab, &svc, &url);
}

#[test]
fn tampering_with_the_log_in_postgresql_is_detected_with_the_entry_named() {
    let Some(pg) = PgCluster::start() else { return };
    let mut lab = Lab::new();
    let svc = lab.start("service", Some(pg.url()), None);
    tamper_scenarios(&lab, &svc, &pg.url());
}

fn export(lab: &Lab, svc: &Svc, name: &str) -> Output {
    let dir = lab.path(name);
    let mut args = vec!["audit", "export", "--out", s(&dir)];
    args.extend(RANGE);
    ironroot(svc, &args)
}

/// `audit export` must refuse, saying `why` on stderr.
fn export_refuses(lab: &Lab, svc: &Svc, name: &str, why: &str) {
    let o = export(lab, svc, name);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(why), "want {why:?} in {}", text(&o));
    assert!(
        !lab.path(name).join("entries.jsonl").exists(),
        "nothing is exported"
    );
}

fn state_size(w: &WitnessFiles) -> u64 {
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&w.state).unwrap()).unwrap();
    state["size"].as_u64().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn tamper_scenarios(lab: &Lab, svc: &Svc, db_url: &str) {
    let db = lab.runtime.block_on(Db::open(db_url));
    register(lab, svc, &["c0", "c1", "c2", "c3", "c4"]);
    let log_key = lab.path("log.pub");
    lab::save_log_key(lab, svc, &log_key);
    let w = WitnessFiles::new(lab, "witness");

    // The witness's first round, then one that sees the log grow.
    let o = witness_once(svc, &w, &log_key, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).contains("first checkpoint seen"), "{}", text(&o));
    for secret in [&w.state, &w.key] {
        let mode = std::fs::metadata(secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", secret.display());
    }
    let first = state_size(&w);
    register(lab, svc, &["c5"]);
    let o = witness_once(svc, &w, &log_key, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let want = format!("consistent with size {first}");
    assert!(stdout(&o).contains(&want), "{}", text(&o));
    assert!(state_size(&w) > first);
    check_cosigned(&w.out, &log_key);

    let clusters = lab.runtime.block_on(db.indexes_of("cluster.registered"));
    assert!(clusters.len() >= 6, "{clusters:?}");
    let changed = |k: u64| format!("entry {k} does not verify against the checkpoint");

    // (a) A body changed, then an actor changed: the entry is named.
    let k = clusters[2];
    let body = lab.runtime.block_on(db.column(k, "body"));
    let forged = body.replace("\"name\":\"c2\"", "\"name\":\"cX\"");
    assert_ne!(forged, body, "{body}");
    lab.runtime.block_on(db.set(k, "body", &forged));
    export_refuses(lab, svc, "a-body", &changed(k));
    lab.runtime.block_on(db.set(k, "body", &body));
    let k = clusters[3];
    let actor = lab.runtime.block_on(db.column(k, "actor"));
    lab.runtime.block_on(db.set(k, "actor", "mallory"));
    export_refuses(lab, svc, "a-actor", &changed(k));
    lab.runtime.block_on(db.set(k, "actor", &actor));

    // (b) A row deleted: the missing entry is named.
    let k = clusters[1];
    let row = lab.runtime.block_on(db.delete(k));
    export_refuses(lab, svc, "b", &format!("entry {k} is missing"));
    lab.runtime.block_on(db.restore(row));

    // (c) Two rows' bodies swapped: the first moved entry is named.
    let (i, j) = (clusters[0], clusters[4]);
    lab.runtime.block_on(db.swap_bodies(i, j));
    export_refuses(lab, svc, "c", &changed(i));
    lab.runtime.block_on(db.swap_bodies(i, j));

    // Rows back in place: the log exports and verifies again, and is still consistent.
    let o = export(lab, svc, "restored");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let restored = lab.path("restored");
    ok(
        svc,
        &["audit", "verify", s(&restored), "--key-file", s(&log_key)],
    );
    let o = witness_once(svc, &w, &log_key, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let seen = state_size(&w);

    // (d) The log truncated: the service signs a smaller tree; the witness says rollback.
    let keep = seen - 3;
    lab.runtime.block_on(db.truncate(keep));
    let state_before = std::fs::read(&w.state).unwrap();
    let hook = Receiver::start();
    let o = witness_once(svc, &w, &log_key, &["--alert-webhook", &hook.url]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let alert = hook.json();
    assert_eq!(alert["kind"], "audit.rollback", "{alert}");
    assert_eq!(alert["seen"]["size"], seen, "{alert}");
    let served = alert["served"]["size"].as_u64().unwrap();
    assert!(served < seen, "{alert}");
    let out = stdout(&o);
    assert!(
        out.contains("INCONSISTENT")
            && out.contains(&format!("rollback: the log serves size {served} (root"))
            && out.contains(&format!("smaller than size {seen} (root")),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&w.state).unwrap(), state_before, "state kept");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.out.join("alert.json")).unwrap()).unwrap();
    assert_eq!(kept["kind"], "audit.rollback");
    // Still so on the next round: the witness does not forget.
    let o = witness_once(svc, &w, &log_key, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

/// `latest.cosigned` carries the log's signature and the witness's cosignature, both valid.
fn check_cosigned(out: &Path, log_key: &Path) {
    let note = std::fs::read(out.join("latest.cosigned")).unwrap();
    let vkey = std::fs::read_to_string(out.join("witness.vkey")).unwrap();
    let witness = CosignatureVerifier::parse(vkey.trim()).unwrap();
    let log = Ed25519NoteVerifier::parse(std::fs::read_to_string(log_key).unwrap().trim()).unwrap();
    let known: [&dyn NoteVerifier; 2] = [&log, &witness];
    let verified = Note::parse(&note).unwrap().verify(&known).unwrap();
    let names: Vec<&str> = verified
        .verified()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"witness.test/w1"), "{names:?}");
}

#[test]
fn a_split_view_is_reported_as_a_fork_by_the_witness_that_saw_the_other_view() {
    let mut lab = Lab::new();
    let a = lab.start("a", None, None);
    // B signs with A's log key but keeps its own history: two views of "one" log.
    let b = lab.start("b", None, Some(&a.data.join(lab::LOG_SEED)));
    register(&lab, &a, &["east"]);
    register(&lab, &b, &["west"]);
    let log_key = lab.path("log.pub");
    let key_a = lab::save_log_key(&lab, &a, &log_key);
    assert_eq!(
        key_a,
        lab::save_log_key(&lab, &b, &lab.path("log-b.pub")),
        "one log key"
    );
    let (wa, wb) = (WitnessFiles::new(&lab, "wa"), WitnessFiles::new(&lab, "wb"));
    for (svc, w) in [(&a, &wa), (&b, &wb)] {
        let o = witness_once(svc, w, &log_key, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let size = state_size(&wa);
    assert_eq!(size, state_size(&wb), "the same requests, the same size");

    // The witness that saw A is shown B's checkpoint of the same size.
    let o = witness_once(&b, &wa, &log_key, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("fork: the log serves size {size} (root"))
            && out.contains("the same size with a different root"),
        "{}",
        text(&o)
    );
    // B grows: no consistency proof can join it to what the witness saw of A.
    register(&lab, &b, &["north"]);
    let o = witness_once(&b, &wa, &log_key, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("fork: the log serves size")
            && out.contains(&format!("extension of size {size} (root"))
            && out.contains("consistency proof does not verify"),
        "{}",
        text(&o)
    );
    assert_eq!(state_size(&wa), size, "the witness still holds A's view");
    // A itself is still fine for that witness.
    let o = witness_once(&a, &wa, &log_key, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
