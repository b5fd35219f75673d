//! How `ironroot token` and `ironroot person` show what the service answered, and how a
//! new token's secret is written to a file (new, 0600).

use super::admin::print_json;
use super::{Output, Table};
use anyhow::Context;
use ironroot_api::{PersonBinding, TokenInfo};
use std::io::Write;
use std::path::Path;

pub(super) fn describe(t: &TokenInfo) -> String {
    format!(
        "token {} ({}, {} in {}), expires {}",
        t.id,
        t.name,
        t.role,
        t.organisation,
        time(t.expires)
    )
}

pub(super) fn print_tokens(tokens: &[TokenInfo], out: Output) -> anyhow::Result<()> {
    if out == Output::Json {
        return print_json(&tokens);
    }
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "ROLE",
        "ORGANISATION",
        "EXPIRES",
        "STATE",
        "BY",
    ]);
    let now = ironroot_timestamp::now_unix();
    for k in tokens {
        let state = match k.revoked_at {
            Some(at) => format!("revoked {}", time(at)),
            None if now >= k.expires => "expired".into(),
            None => "active".into(),
        };
        t.row(vec![
            k.id.clone(),
            k.name.clone(),
            k.role.to_string(),
            k.organisation.clone(),
            time(k.expires),
            state,
            k.created_by.clone(),
        ]);
    }
    println!("{}", t.render());
    Ok(())
}

pub(super) fn print_people(people: &[PersonBinding], out: Output) -> anyhow::Result<()> {
    if out == Output::Json {
        return print_json(&people);
    }
    let mut t = Table::new(&["EMAIL", "ROLE", "ORGANISATION"]);
    for p in people {
        t.row(vec![
            p.email.clone(),
            p.role.to_string(),
            p.organisation.clone().unwrap_or_default(),
        ]);
    }
    println!("{}", t.render());
    Ok(())
}

pub(super) fn time(unix: u64) -> String {
    ironroot_timestamp::rfc3339::format(unix)
}

/// Writes `secret` and a newline to the new file `path`, readable by its owner only.
/// `create_new`: never truncates an existing file nor follows a symlink planted there.
pub fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(secret.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_secret_file_is_new_and_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        write_secret(&path, "irt_x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "irt_x\n");
        assert!(write_secret(&path, "irt_y").is_err(), "never overwrites");
    }
}
