//! `ironroot whoami`, `org`, `token`, `person` and `owner`: who the caller is, and the
//! organisations, API tokens and people of the service (docs/identity.md). A new token's
//! secret is printed once on stdout (or written to a 0600 file) and never logged.

use super::admin::{print_json, AdminClient, Conn};
use super::identity_out::{describe, print_people, print_tokens, time, write_secret};
use super::{Output, Table};
use ironroot_api::{NewToken, PersonBinding, Role, MAX_TOKEN_LIFETIME_SECS};
use ironroot_client::OwnedKind;
use std::path::PathBuf;
use std::process::ExitCode;

/// What each role may do, for `--help` (kept beside `ironroot_api::Role`'s docs).
pub const ROLES_HELP: &str = "\
Roles (a credential acts only inside its own organisation):
  viewer          reads hosts, flavors, keys' metadata, images, alerts, clusters, policies
  operator        a viewer who also manages hosts, flavors, groups, tags, Node bindings,
                  clusters and alerts
  security-admin  a viewer who also writes policies, image inventories, alert sinks, alerts
  key-admin       a viewer who also creates keys and wraps with them
  auditor         a viewer who also reads the audit trail and exports it
  build           wraps image keys and submits image inventories, nothing else: the key
                  provider of a build host (it cannot tag hosts or change flavors)
  org-admin       everything in its organisation, including its tokens and people";

/// The bootstrap token's life, for `--help`.
pub const BOOTSTRAP_HELP: &str = "\
The bootstrap token (admin.token in the service's data directory) stands above every
organisation. Use it once: create an organisation (`ironroot org create acme`) and its
first administrator (`ironroot person bind ada@example.com --role org-admin --org acme`,
or `ironroot token create --name acme-admin --role org-admin --org acme`). Then restart
the service with `ironroot server --bootstrap-token bootstrap-only` (organisations,
tokens and people only), and with `--bootstrap-token off` once an organisation
administrator exists. See docs/identity.md.";

/// `--role`: one of the names of [`ROLES_HELP`].
pub fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("{s:?} is not a role: {}", names.join(", "))
    })
}

/// Organisations: everything (hosts, flavors, keys, clusters...) belongs to one.
#[derive(clap::Subcommand)]
#[command(after_long_help = BOOTSTRAP_HELP)]
pub enum OrgCmd {
    /// List the organisations the credential sees.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Create an organisation (the bootstrap token only). ID: a DNS label (a-z, 0-9, -).
    Create {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// API tokens for automation: a role in an organisation, an expiry, revocable.
#[derive(clap::Subcommand)]
#[command(after_long_help = ROLES_HELP)]
pub enum TokenCmd {
    /// Issue a token. Its secret is shown once: on stdout (alone, for `$(...)`), or
    /// written to --out; the service keeps only its hash.
    #[command(after_long_help = ROLES_HELP)]
    Create {
        /// What it is for (`ci-builder-eu`): shown in listings and the audit trail.
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organisation (the bootstrap token only; default: the caller's own).
        #[arg(long)]
        org: Option<String>,
        /// How long it is valid: 90d, 12h (at most 366d).
        #[arg(long, default_value = "90d", value_parser = crate::cmd::scan::parse_duration)]
        lifetime: u64,
        /// Write the token to this new file (mode 0600) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        conn: Conn,
    },
    /// List the tokens of the organisation (never their secrets).
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Revoke a token at once (by the id in `token list`).
    Revoke {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// People who sign in with OpenID Connect (`ironroot login`), by their verified e-mail.
#[derive(clap::Subcommand)]
#[command(after_long_help = ROLES_HELP)]
pub enum PersonCmd {
    /// Give a person a role in an organisation (replacing the role they had there).
    #[command(after_long_help = ROLES_HELP)]
    Bind {
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organisation (the bootstrap token only; default: the caller's own).
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// List the people bound in the organisation.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Remove a person: their ID tokens are refused from the next request on.
    Unbind {
        email: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Host,
    Key,
    Cluster,
}

/// Which organisation an object belongs to (the bootstrap token only): hosts enroll into
/// `default` and are handed to their organisation this way.
#[derive(clap::Subcommand)]
pub enum OwnerCmd {
    /// Give a host, key or cluster to an organisation.
    Set {
        #[arg(value_enum)]
        kind: Kind,
        id: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Show who the credential in --token-file is: an API token, a person's ID token (from
/// `ironroot login`), or the bootstrap token.
#[derive(clap::Args)]
#[command(after_long_help = ROLES_HELP)]
pub struct WhoamiArgs {
    #[command(flatten)]
    conn: Conn,
}

pub async fn whoami(a: WhoamiArgs, out: Output) -> anyhow::Result<ExitCode> {
    let me = AdminClient::new(&a.conn)?.whoami().await?;
    match out {
        Output::Json => print_json(&me)?,
        Output::Table => {
            let mut t = Table::new(&["ACTOR", "ORGANISATION", "ROLE"]);
            t.row(vec![
                me.actor,
                me.organisation.unwrap_or_else(|| "(all)".into()),
                me.role.map_or_else(|| "-".into(), |r| r.to_string()),
            ]);
            println!("{}", t.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn org(cmd: OrgCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        OrgCmd::List { conn } => {
            let orgs = AdminClient::new(&conn)?.organisations().await?;
            match out {
                Output::Json => print_json(&orgs)?,
                Output::Table => {
                    let mut t = Table::new(&["ID", "CREATED"]);
                    for o in orgs {
                        t.row(vec![o.id, time(o.created)]);
                    }
                    println!("{}", t.render());
                }
            }
        }
        OrgCmd::Create { id, conn } => {
            let o = AdminClient::new(&conn)?.create_organisation(&id).await?;
            match out {
                Output::Json => print_json(&o)?,
                Output::Table => println!("organisation {} created", super::printable(&o.id)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(cmd: TokenCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCmd::Create {
            name,
            role,
            org,
            lifetime,
            out: file,
            conn,
        } => {
            anyhow::ensure!(
                (1..=MAX_TOKEN_LIFETIME_SECS).contains(&lifetime),
                "--lifetime must be 1s to 366d; automation renews its tokens"
            );
            // Refuse before asking: a token issued but not written would be lost.
            if let Some(f) = &file {
                anyhow::ensure!(
                    !f.exists(),
                    "{} exists; --out writes a new file",
                    f.display()
                );
            }
            let req = NewToken {
                name,
                role,
                organisation: org,
                lifetime_secs: lifetime,
            };
            let issued = AdminClient::new(&conn)?.create_token(&req).await?;
            let secret = zeroize::Zeroizing::new(issued.token.clone());
            match (&file, out) {
                (Some(f), _) => {
                    write_secret(f, &secret)?;
                    eprintln!("token {} written to {}", issued.info.id, f.display());
                    print_tokens(&[issued.info], out)?;
                }
                (None, Output::Json) => print_json(&issued)?,
                (None, Output::Table) => {
                    eprintln!("{}", describe(&issued.info));
                    eprintln!("the token (shown once; the service keeps only its hash):");
                    println!("{}", secret.as_str());
                }
            }
        }
        TokenCmd::List { conn } => {
            let tokens = AdminClient::new(&conn)?.tokens().await?;
            print_tokens(&tokens, out)?;
        }
        TokenCmd::Revoke { id, conn } => {
            AdminClient::new(&conn)?.revoke_token(&id).await?;
            println!("token {} revoked", super::printable(&id));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn person(cmd: PersonCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        PersonCmd::Bind {
            email,
            role,
            org,
            conn,
        } => {
            let req = PersonBinding {
                email,
                role,
                organisation: org,
            };
            let b = AdminClient::new(&conn)?.bind_person(&req).await?;
            print_people(&[b], out)?;
        }
        PersonCmd::List { conn } => {
            let people = AdminClient::new(&conn)?.people().await?;
            print_people(&people, out)?;
        }
        PersonCmd::Unbind { email, conn } => {
            AdminClient::new(&conn)?.unbind_person(&email).await?;
            println!("{} unbound", super::printable(&email));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn owner(cmd: OwnerCmd, out: Output) -> anyhow::Result<ExitCode> {
    let OwnerCmd::Set {
        kind,
        id,
        org,
        conn,
    } = cmd;
    let kind = match kind {
        Kind::Host => OwnedKind::Host,
        Kind::Key => OwnedKind::Key,
        Kind::Cluster => OwnedKind::Cluster,
    };
    let answer = AdminClient::new(&conn)?.set_owner(kind, &id, &org).await?;
    match out {
        Output::Json => print_json(&answer)?,
        Output::Table => println!(
            "{} {} now belongs to {}",
            kind.as_str(),
            super::printable(&id),
            super::printable(&org)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_role_parses_by_its_name_and_others_are_listed_in_the_refusal() {
        for r in Role::ALL {
            assert_eq!(parse_role(r.as_str()), Ok(r));
            assert!(ROLES_HELP.contains(&format!("  {} ", r.as_str())), "{r}");
        }
        let e = parse_role("admin").unwrap_err();
        assert!(e.contains("viewer") && e.contains("org-admin"), "{e}");
    }
}
