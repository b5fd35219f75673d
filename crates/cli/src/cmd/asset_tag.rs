//! `ironroot host tag|untag`: asset tags, the administrator's KEY=VALUE facts about a
//! host (region, owner, ...) that the service certifies against the host's TPM and that
//! key transfer policies require.
//!
//! Never: accept a tag the service would not certify. The service checks host tags
//! itself, but not the tags a key policy requires, and a key requiring a tag no host can
//! be given would silently never be released; so both go through [`parse_tags`], whose
//! rules are those of `check_tags` in crates/server/src/tags.rs.

use super::admin::{print_json, AdminClient, Conn};
use super::key::utc;
use super::{printable, Output, Table};
use anyhow::Context;
use ironroot_api::{IssuedTag, TagRequest};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Certify asset tags for a host (replacing its current ones), or show its tag
/// certificates.
///
/// The service issues a tag certificate bound to the host's TPM (its EK) and signed by
/// the service's tag key. The node writes the certificate's digest into its TPM and every
/// later quote covers it; only then do the tags count, in trust reports and for keys
/// whose transfer policy requires them (`ironroot key create --tag`).
///
/// Example: ironroot host tag node-1 region=EU owner=payments
#[derive(clap::Args)]
pub struct TagArgs {
    /// The host, by id or hostname.
    host: String,
    /// The tags, each KEY=VALUE; they replace all of the host's current tags.
    #[arg(
        value_name = "KEY=VALUE",
        required_unless_present = "show",
        conflicts_with = "show"
    )]
    tags: Vec<String>,
    /// Show the host's tag certificates, newest first, instead of issuing one.
    #[arg(long)]
    show: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Revoke a host's asset tag: from now on its tags count for nothing (no report carries
/// them, no key that requires them is released to it), and the node clears the digest
/// from its TPM.
#[derive(clap::Args)]
pub struct UntagArgs {
    /// The host, by id or hostname.
    host: String,
    #[command(flatten)]
    conn: Conn,
}

/// Why a list of KEY=VALUE arguments is not a tag set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagArgError {
    #[error("tag {0:?} is not KEY=VALUE (for example region=EU)")]
    NotKeyValue(String),
    #[error("tag {0:?} has an empty name; write KEY=VALUE, for example region=EU")]
    EmptyKey(String),
    #[error("tag {0:?} has an empty value; write KEY=VALUE, for example region=EU")]
    EmptyValue(String),
    #[error("tag {0:?}: a tag name is 1 to {MAX_NAME} letters, digits, '-', '_', '.' or '/'")]
    BadName(String),
    #[error("tag {0:?}: a tag value is 1 to {MAX_VALUE} printable characters without ','")]
    BadValue(String),
    #[error("tag {key} is given twice ({key}={first} and {key}={second}); give each tag once")]
    Duplicate {
        key: String,
        first: String,
        second: String,
    },
}

const MAX_NAME: usize = 64;
const MAX_VALUE: usize = 256;

/// Parses KEY=VALUE arguments (the value may itself contain `=`).
pub fn parse_tags(items: &[String]) -> Result<BTreeMap<String, String>, TagArgError> {
    let mut tags = BTreeMap::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| TagArgError::NotKeyValue(item.clone()))?;
        if k.is_empty() {
            return Err(TagArgError::EmptyKey(item.clone()));
        }
        if v.is_empty() {
            return Err(TagArgError::EmptyValue(item.clone()));
        }
        let name_ok = k.len() <= MAX_NAME
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
        if !name_ok {
            return Err(TagArgError::BadName(item.clone()));
        }
        if v.len() > MAX_VALUE || v.chars().any(|c| c.is_control() || c == ',') {
            return Err(TagArgError::BadValue(item.clone()));
        }
        if let Some(first) = tags.insert(k.to_owned(), v.to_owned()) {
            return Err(TagArgError::Duplicate {
                key: k.to_owned(),
                first,
                second: v.to_owned(),
            });
        }
    }
    Ok(tags)
}

/// `k=v, k=v`, in name order.
pub fn tags_text(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn tag(args: TagArgs, out: Output) -> anyhow::Result<ExitCode> {
    if args.show {
        let history: Vec<IssuedTag> = AdminClient::new(&args.conn)?
            .tag_history(&args.host)
            .await
            .with_context(|| format!("cannot show the asset tags of {}", args.host))?;
        match out {
            Output::Json => print_json(&history)?,
            Output::Table if history.is_empty() => {
                println!("no asset tag was ever issued to {}", args.host)
            }
            Output::Table => println!("{}", history_table(&history)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let req = TagRequest {
        tags: parse_tags(&args.tags)?,
    };
    let issued: IssuedTag = AdminClient::new(&args.conn)?
        .issue_tag(&args.host, &req)
        .await
        .with_context(|| format!("cannot tag {}", args.host))?;
    match out {
        Output::Json => print_json(&issued)?,
        Output::Table => {
            println!(
                "tagged {} (host id {})",
                printable(&args.host),
                printable(&issued.host_id)
            );
            println!("  serial  {}", printable(&issued.serial));
            println!("  digest  sha256:{}", printable(&issued.digest));
            println!("  tags    {}", printable(&tags_text(&issued.tags)));
            println!(
                "The tags count once the node's quote covers this digest (its next attestation)."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn untag(args: UntagArgs, out: Output) -> anyhow::Result<ExitCode> {
    let done: serde_json::Value = AdminClient::new(&args.conn)?
        .revoke_tag(&args.host)
        .await
        .with_context(|| format!("cannot revoke the asset tag of {}", args.host))?;
    match out {
        Output::Json => print_json(&done)?,
        Output::Table => println!(
            "the asset tag of {} is revoked: its tags count for nothing from now on",
            args.host
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn history_table(history: &[IssuedTag]) -> String {
    let mut t = Table::new(&["SERIAL", "ISSUED", "STATE", "TAGS", "DIGEST (SHA-256)"]);
    for i in history {
        let state = match i.revoked_at {
            Some(at) => format!("revoked {}", utc(at)),
            None => "current".into(),
        };
        t.row(vec![
            i.serial.clone(),
            utc(i.issued_at),
            state,
            tags_text(&i.tags),
            i.digest.clone(),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_key_value_pairs() {
        let tags = parse_tags(&args(&["region=EU", "owner=payments", "note=a=b"])).unwrap();
        assert_eq!(tags.len(), 3);
        assert!(parse_tags(&args(&["owner/team.x_1-2=Payments EU #1"])).is_ok());
        assert_eq!(tags["region"], "EU");
        assert_eq!(tags["note"], "a=b");
        assert_eq!(tags_text(&tags), "note=a=b, owner=payments, region=EU");
    }

    #[test]
    fn refuses_malformed_pairs() {
        let err = |items: &[&str]| parse_tags(&args(items)).unwrap_err();
        assert_eq!(err(&["region"]), TagArgError::NotKeyValue("region".into()));
        assert_eq!(err(&["=EU"]), TagArgError::EmptyKey("=EU".into()));
        assert_eq!(err(&["region="]), TagArgError::EmptyValue("region=".into()));
        assert_eq!(
            err(&["re gion=EU"]),
            TagArgError::BadName("re gion=EU".into())
        );
        let long = format!("{}=x", "k".repeat(65));
        assert_eq!(err(&[long.as_str()]), TagArgError::BadName(long.clone()));
        assert_eq!(
            err(&["region=EU,US"]),
            TagArgError::BadValue("region=EU,US".into())
        );
        assert_eq!(
            err(&["region=E\nU"]),
            TagArgError::BadValue("region=E\nU".into())
        );
        assert_eq!(
            err(&["region=EU", "region=US"]),
            TagArgError::Duplicate {
                key: "region".into(),
                first: "EU".into(),
                second: "US".into()
            }
        );
    }

    #[test]
    fn no_arguments_is_an_empty_set() {
        assert!(parse_tags(&[]).unwrap().is_empty());
    }
}
