//! `ironroot key`: keys held by the service's key broker, the transfer policy that says
//! which nodes may receive each, and the log of every release and refusal.
//!
//! Never: print or log key material; an imported key is read, sent once and zeroized.

use super::admin::{print_json, AdminClient, Conn};
use super::asset_tag::{parse_tags, tags_text};
use super::{Output, Table};
use anyhow::Context;
use ironroot_api::{CreateKey, KeyInfo, KeyPolicy, ReleaseRecord, B64};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroize;

/// Bytes of an AES-256 key.
const KEY_BYTES: usize = 32;

#[derive(clap::Subcommand)]
pub enum KeyCmd {
    /// Create a key in the broker (random AES-256, or imported) with its transfer policy.
    ///
    /// The broker releases the key only to a node that a fresh attestation, made in the
    /// same request, finds trusted, and that the service has certified with every --tag
    /// given here (`ironroot host tag`), inside one of the --group flavor groups if any
    /// are given, before --expires. The policy must be stated: give --tag or --group,
    /// or --any-trusted-node to release it to any trusted node; a key with neither is
    /// refused.
    ///
    /// Then encrypt images for it with `skopeo copy --encryption-key
    /// provider:ironroot:NAME SRC DST` or `ironroot image encrypt SRC DST --key
    /// provider:ironroot:NAME`: the broker seals each layer's key under it.
    ///
    /// Example: ironroot key create payments-eu --tag region=EU --group payments
    Create {
        /// The key's name (letters, digits, '-', '_', '.', '/'); images name it.
        name: String,
        /// An asset tag the node must be certified with, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<String>,
        /// A flavor group the node must be judged by (repeatable: any one of them).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Release the key to any node a fresh attestation finds trusted, with no tag or
        /// group condition (must be asked for explicitly).
        #[arg(long, conflicts_with_all = ["tags", "groups"])]
        any_trusted_node: bool,
        /// When the key stops being released to anyone: RFC 3339
        /// (2030-01-31T12:00:00Z) or unix seconds.
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// Import this key instead of generating one: a file of exactly 32 raw bytes.
        #[arg(long, value_name = "FILE")]
        import_file: Option<PathBuf>,
        #[command(flatten)]
        conn: Conn,
    },
    /// List the broker's keys and their policies (never their material).
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// One key (by name or id) and its policy.
    Show {
        name: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// The release log, newest first: each release and refusal, the host, the trust
    /// report it rested on and, for a refusal, why.
    Releases {
        /// Only this key (by name or id).
        name: Option<String>,
        /// At most this many records.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Print JSON (the same as --output json).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(cmd: KeyCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyCmd::Create {
            name,
            tags,
            groups,
            any_trusted_node,
            expires,
            import_file,
            conn,
        } => {
            let policy = stated_policy(&name, &tags, groups, any_trusted_node, expires)?;
            let material = import_file.as_deref().map(read_key_file).transpose()?;
            let mut req = CreateKey {
                name,
                policy,
                material: material.map(B64),
            };
            let sent = AdminClient::new(&conn)?.create_key(&req).await;
            if let Some(B64(m)) = req.material.as_mut() {
                m.zeroize();
            }
            let key: KeyInfo = sent.with_context(|| format!("cannot create key {}", req.name))?;
            match out {
                Output::Json => print_json(&key)?,
                Output::Table => {
                    println!("{}", key_text(&key));
                    println!(
                        "\nEncrypt images for it with\n  skopeo copy --encryption-key \
                         provider:ironroot:{0} SRC DST\nor\n  ironroot image encrypt SRC DST \
                         --key provider:ironroot:{0}",
                        key.name
                    );
                }
            }
        }
        KeyCmd::List { conn } => {
            let keys: Vec<KeyInfo> = AdminClient::new(&conn)?.keys().await?;
            match out {
                Output::Json => print_json(&keys)?,
                Output::Table if keys.is_empty() => println!("no keys yet (ironroot key create)"),
                Output::Table => println!("{}", keys_table(&keys)),
            }
        }
        KeyCmd::Show { name, conn } => {
            let key: KeyInfo = AdminClient::new(&conn)?.key(&name).await?;
            match out {
                Output::Json => print_json(&key)?,
                Output::Table => println!("{}", key_text(&key)),
            }
        }
        KeyCmd::Releases {
            name,
            limit,
            json,
            conn,
        } => releases(&AdminClient::new(&conn)?, name, limit, json, out).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The policy of `key create`, refused here already unless it says who may receive
/// the key (the broker refuses it too).
fn stated_policy(
    name: &str,
    tags: &[String],
    groups: Vec<String>,
    any_trusted_node: bool,
    expires: Option<String>,
) -> anyhow::Result<KeyPolicy> {
    let policy = KeyPolicy {
        any_trusted_node,
        asset_tags: parse_tags(tags)?,
        flavor_groups: groups,
        expires_at: expires.as_deref().map(parse_time).transpose()?,
    };
    policy.check_stated().map_err(|e| {
        anyhow::anyhow!(
            "cannot create key {name}: {e} (here: --tag KEY=VALUE, --group GROUP, or \
             --any-trusted-node)"
        )
    })?;
    Ok(policy)
}

async fn releases(
    client: &AdminClient,
    name: Option<String>,
    limit: u32,
    json: bool,
    out: Output,
) -> anyhow::Result<()> {
    let log: Vec<ReleaseRecord> = client.releases(name.as_deref(), limit).await?;
    if json || out == Output::Json {
        return print_json(&log);
    }
    if log.is_empty() {
        println!("no key releases or refusals recorded yet");
        return Ok(());
    }
    // Over all keys, name each record's key; the log itself carries only its id.
    let names = match name {
        Some(_) => None,
        None => {
            let keys: Vec<KeyInfo> = client.keys().await?;
            Some(
                keys.into_iter()
                    .map(|k| (k.key_id, k.name))
                    .collect::<BTreeMap<_, _>>(),
            )
        }
    };
    println!("{}", releases_table(&log, names.as_ref()));
    Ok(())
}

fn releases_table(log: &[ReleaseRecord], names: Option<&BTreeMap<String, String>>) -> String {
    let mut header = vec!["TIME", "HOST", "DECISION", "REPORT ID", "REASON"];
    if names.is_some() {
        header.insert(1, "KEY");
    }
    let mut t = Table::new(&header);
    for r in log {
        let mut row = vec![
            utc(r.at),
            r.hostname
                .clone()
                .or_else(|| r.host_id.clone())
                .unwrap_or_else(|| "-".into()),
            if r.released { "released" } else { "REFUSED" }.into(),
            r.report_id.clone().unwrap_or_else(|| "-".into()),
            r.reason.clone(),
        ];
        if let Some(names) = names {
            row.insert(1, names.get(&r.key_id).unwrap_or(&r.key_id).clone());
        }
        t.row(row);
    }
    t.render()
}

fn keys_table(keys: &[KeyInfo]) -> String {
    let mut t = Table::new(&["NAME", "KEY ID", "POLICY", "CREATED", "IMPORTED"]);
    for k in keys {
        t.row(vec![
            k.name.clone(),
            k.key_id.clone(),
            policy_summary(&k.policy),
            utc(k.created_at),
            if k.imported { "yes" } else { "no" }.into(),
        ]);
    }
    t.render()
}

/// The policy in one cell: what a trusted node must also have.
fn policy_summary(p: &KeyPolicy) -> String {
    let mut parts = Vec::new();
    if p.any_trusted_node {
        parts.push("any trusted node".to_string());
    }
    if !p.asset_tags.is_empty() {
        parts.push(format!("tags {}", tags_text(&p.asset_tags)));
    }
    if !p.flavor_groups.is_empty() {
        parts.push(format!("groups {}", p.flavor_groups.join(", ")));
    }
    if let Some(at) = p.expires_at {
        parts.push(format!("until {}", utc(at)));
    }
    if p.check_stated().is_err() {
        // The broker releases such a key to nobody; say so rather than guess.
        parts.insert(0, "nobody (the policy states no condition)".to_string());
    }
    parts.join("; ")
}

fn key_text(k: &KeyInfo) -> String {
    let mut s = format!(
        "key       {}\nkey id    {}\ncreated   {}\nmaterial  {}\n\
         released to a node trusted by a fresh attestation",
        k.name,
        k.key_id,
        utc(k.created_at),
        if k.imported {
            "imported"
        } else {
            "generated by the broker"
        }
    );
    let p = &k.policy;
    if p.any_trusted_node {
        s.push_str("\n  with no other condition (any trusted node)");
    }
    if !p.asset_tags.is_empty() {
        s.push_str(&format!("\n  certified with  {}", tags_text(&p.asset_tags)));
    }
    if !p.flavor_groups.is_empty() {
        s.push_str(&format!(
            "\n  judged by       {}",
            p.flavor_groups.join(" or ")
        ));
    }
    match p.expires_at {
        Some(at) => s.push_str(&format!("\n  expires         {}", utc(at))),
        None => s.push_str("\n  expires         never"),
    }
    s
}

/// Reads an imported key: exactly 32 bytes, never more read than that plus one.
fn read_key_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::with_capacity(KEY_BYTES + 1);
    file.take(KEY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() != KEY_BYTES {
        let size = if bytes.len() > KEY_BYTES {
            "more than 32".to_string()
        } else {
            bytes.len().to_string()
        };
        bytes.zeroize();
        anyhow::bail!(
            "{} holds {size} bytes; an imported key is exactly {KEY_BYTES} raw bytes (AES-256), \
             not hex or base64",
            path.display()
        );
    }
    Ok(bytes)
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("--expires {0:?}: give an RFC 3339 time (2030-01-31T12:00:00Z) or unix seconds")]
pub struct TimeArgError(String);

/// Unix seconds from unix seconds or an RFC 3339 time (`T`, `t` or a space between date
/// and time; `Z` or a `+HH:MM`/`-HH:MM` offset; fractions of a second dropped). The RFC
/// 3339 part is `ironroot_timestamp::rfc3339`'s, the one parser of the workspace.
pub fn parse_time(s: &str) -> Result<u64, TimeArgError> {
    let parsed = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        ironroot_timestamp::rfc3339::parse(s)
    };
    parsed.ok_or_else(|| TimeArgError(s.to_owned()))
}

/// Unix seconds as RFC 3339 UTC, e.g. `2030-01-31T12:00:00Z`.
pub fn utc(t: u64) -> String {
    ironroot_timestamp::rfc3339::format(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unix_and_rfc3339_times() {
        assert_eq!(parse_time("1800000000"), Ok(1_800_000_000));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("2100-01-01T00:00:00Z"), Ok(4_102_444_800));
        assert_eq!(parse_time("2024-02-29t12:30:15.250z"), Ok(1_709_209_815));
        assert_eq!(parse_time("2024-02-29 14:30:15+02:00"), Ok(1_709_209_815));
        assert_eq!(parse_time("2024-02-29T07:00:15-05:30"), Ok(1_709_209_815));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for s in [
            "",
            "tomorrow",
            "2030-01-31",
            "2030-01-31T12:00:00",
            "2023-02-29T00:00:00Z",
            "2030-13-01T00:00:00Z",
            "2030-01-31T24:00:00Z",
            "2030-01-31T12:00:00.Z",
            "2030-01-31T12:00:00+2:00",
            "1969-12-31T23:59:59Z",
            "-5",
        ] {
            assert_eq!(parse_time(s), Err(TimeArgError(s.into())), "{s}");
        }
    }

    #[test]
    fn formats_utc_and_round_trips() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_709_209_815), "2024-02-29T12:30:15Z");
        for t in [0, 951_782_400, 1_709_209_815, 4_102_444_799, 4_102_444_800] {
            assert_eq!(parse_time(&utc(t)), Ok(t));
        }
    }

    /// The review's finding: `ironroot key create NAME` without conditions made a key
    /// for any trusted node. The policy must now be stated.
    #[test]
    fn key_create_requires_a_stated_policy() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            cmd: KeyCmd,
        }
        let parse = |args: &[&str]| {
            let conn = ["--ca", "ca.pem", "--token-file", "admin.token"];
            Cli::try_parse_from([&["ironroot", "create", "k"], &conn[..], args].concat())
                .map(|c| c.cmd)
        };
        let Ok(KeyCmd::Create {
            any_trusted_node, ..
        }) = parse(&["--any-trusted-node"])
        else {
            panic!("--any-trusted-node parses");
        };
        assert!(any_trusted_node);
        for both in [
            &["--any-trusted-node", "--tag", "region=EU"][..],
            &["--any-trusted-node", "--group", "prod"],
        ] {
            assert!(parse(both).is_err(), "{both:?}");
        }
        let Ok(KeyCmd::Create {
            name,
            tags,
            groups,
            any_trusted_node,
            expires,
            ..
        }) = parse(&["--expires", "2100-01-01T00:00:00Z"])
        else {
            panic!("parses; refused before anything is sent");
        };
        let e = stated_policy(&name, &tags, groups, any_trusted_node, expires).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains(
                "cannot create key k: the transfer policy does not say who may receive the key"
            ) && e.contains("--any-trusted-node"),
            "{e}"
        );
        let any = stated_policy("k", &[], vec![], true, None).unwrap();
        assert_eq!(any, KeyPolicy::any_trusted_node());
        let eu = stated_policy("k", &["region=EU".into()], vec![], false, None).unwrap();
        assert_eq!(eu.asset_tags["region"], "EU");
    }

    #[test]
    fn summarises_policies() {
        assert_eq!(
            policy_summary(&KeyPolicy::any_trusted_node()),
            "any trusted node"
        );
        let any_until = KeyPolicy {
            expires_at: Some(0),
            ..KeyPolicy::any_trusted_node()
        };
        assert_eq!(
            policy_summary(&any_until),
            "any trusted node; until 1970-01-01T00:00:00Z"
        );
        // `{}` no longer reads as "any trusted node".
        assert_eq!(
            policy_summary(&KeyPolicy::default()),
            "nobody (the policy states no condition)"
        );
        let p = KeyPolicy {
            any_trusted_node: false,
            asset_tags: BTreeMap::from([("region".into(), "EU".into())]),
            flavor_groups: vec!["payments".into()],
            expires_at: Some(0),
        };
        assert_eq!(
            policy_summary(&p),
            "tags region=EU; groups payments; until 1970-01-01T00:00:00Z"
        );
    }
}
