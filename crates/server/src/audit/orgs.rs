//! Which organisation an entry concerns, decided when it is appended and kept beside it
//! (`audit_entries.org`), so that an organisation's auditor reads its own entries and no
//! other's. It is not part of the leaf: the tree proves what an entry says, the column
//! only decides who reads it.
//!
//! - An entry whose body names an `organisation` (access decisions, identity changes,
//!   policy versions) concerns that one.
//! - What a cluster's controller reported (actor `cluster/<id>`) concerns the cluster's
//!   organisation; an entry about a host, a key or a cluster, its owner's.
//! - Anything else is the platform's (`default`).
//!
//! Owners are those of the moment of the entry: a host handed to another organisation
//! takes its future entries there, and its past ones stay where they were written.

use super::NewEntry;
use crate::identity::DEFAULT_ORG;

/// What an entry's organisation follows.
#[derive(Debug, PartialEq, Eq)]
enum Concerns<'a> {
    Named(&'a str),
    Object(&'static str, &'a str),
    Platform,
}

fn concerns(e: &NewEntry) -> Concerns<'_> {
    if let Some(org) = e.body.get("organisation").and_then(|o| o.as_str()) {
        return Concerns::Named(org);
    }
    if let Some(id) = e.actor.strip_prefix("cluster/") {
        return Concerns::Object("cluster", id);
    }
    let Some((kind, rest)) = e.subject.split_once('/') else {
        return Concerns::Platform;
    };
    let id = rest.split('/').next().unwrap_or(rest);
    match kind {
        "host" => Concerns::Object("host", id),
        "key" => Concerns::Object("key", id),
        "cluster" => Concerns::Object("cluster", id),
        _ => Concerns::Platform,
    }
}

/// What the appending INSERT computes an entry's organisation from (bound beside its
/// columns, so that no statement is added to the append): the owner of object
/// (`kind`, `id`) if it has one, else `fallback`. An entry that names no object binds an
/// empty kind, which no owner has.
pub(super) fn owner_lookup(e: &NewEntry) -> (&str, &str, &str) {
    match concerns(e) {
        Concerns::Named(org) => ("", "", org),
        Concerns::Object(kind, id) => (kind, id, DEFAULT_ORG),
        Concerns::Platform => ("", "", DEFAULT_ORG),
    }
}

/// The SQL of one entry's organisation, its parameters starting at `$first`.
pub(super) fn org_expression(first: usize) -> String {
    format!(
        "COALESCE((SELECT org FROM owners WHERE kind = ${} AND id = ${}), ${})",
        first,
        first + 1,
        first + 2
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(actor: &str, subject: &str, body: serde_json::Value) -> NewEntry {
        NewEntry {
            at: 1,
            kind: "test",
            actor: actor.into(),
            subject: subject.into(),
            body,
        }
    }

    #[test]
    fn each_kind_of_entry_follows_what_it_is_about() {
        let cases = [
            (
                entry("service", "host/h1", json!({})),
                Concerns::Object("host", "h1"),
            ),
            (
                entry("host/h1", "key/k1", json!({})),
                Concerns::Object("key", "k1"),
            ),
            (
                entry("cluster/c1", "pod/c1/ns/p", json!({})),
                Concerns::Object("cluster", "c1"),
            ),
            (
                entry("admin", "cluster/c2", json!({})),
                Concerns::Object("cluster", "c2"),
            ),
            (
                entry("token/x", "route", json!({ "organisation": "red" })),
                Concerns::Named("red"),
            ),
            // A null organisation (the bootstrap token, an anonymous caller): the platform's.
            (
                entry("anonymous", "route", json!({ "organisation": null })),
                Concerns::Platform,
            ),
            (entry("admin", "policy/3", json!({})), Concerns::Platform),
            (entry("admin", "nothing", json!({})), Concerns::Platform),
        ];
        for (e, want) in cases {
            assert_eq!(concerns(&e), want, "{e:?}");
        }
    }
}
