//! Which entries an export keeps: a time range, and optionally one host, key or cluster.
//! Pure, so the rule is tested here and the CLI only passes the arguments through.

use ironroot_api::AuditEntry;
use std::collections::HashSet;

/// What to export: entries with `since <= at < until`, about every one of the given
/// host, key and cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub since: u64,
    pub until: u64,
    /// A host's id or hostname: `host/<id>` as subject or actor, or the body's
    /// `host_id` or `hostname`.
    pub host: Option<String>,
    /// A key's id: `key/<id>` as subject or actor, or the body's `key_id`.
    pub key: Option<String>,
    /// A cluster's name or id: `cluster/<id>` as subject or actor, or the body's
    /// `cluster_id`, `cluster` or `cluster_name`.
    pub cluster: Option<String>,
}

/// A [`Filter`] applied to the log in index order. It remembers the ids a cluster name
/// was registered under (from every entry, inside the time range or not), because later
/// entries, such as the cluster's removal, name it by id only.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    filter: Filter,
    cluster_ids: HashSet<String>,
}

impl Selection {
    pub fn new(filter: Filter) -> Self {
        Selection {
            filter,
            cluster_ids: HashSet::new(),
        }
    }

    /// Whether `e` is kept; call it for every entry, in index order.
    pub fn keeps(&mut self, e: &AuditEntry) -> bool {
        let f = &self.filter;
        let body = |k: &str| e.body.get(k).and_then(|v| v.as_str());
        if let Some(name) = &f.cluster {
            if e.kind.starts_with("cluster.") && body("name") == Some(name.as_str()) {
                if let Some(id) = body("cluster_id") {
                    self.cluster_ids.insert(id.to_owned());
                }
            }
        }
        if e.at < f.since || e.at >= f.until {
            return false;
        }
        let about = |prefix: &str, id: &str, fields: &[&str]| {
            let tagged = format!("{prefix}/{id}");
            e.subject == tagged
                || e.actor == tagged
                || fields.iter().any(|&field| body(field) == Some(id))
        };
        let host_ok = f
            .host
            .as_deref()
            .is_none_or(|h| about("host", h, &["host_id", "hostname"]));
        let key_ok = f
            .key
            .as_deref()
            .is_none_or(|k| about("key", k, &["key_id"]));
        let cluster_ok = f.cluster.as_deref().is_none_or(|c| {
            let fields = ["cluster_id", "cluster", "cluster_name"];
            about("cluster", c, &fields)
                || self
                    .cluster_ids
                    .iter()
                    .any(|id| about("cluster", id.as_str(), &fields[..]))
        });
        host_ok && key_ok && cluster_ok
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn e(index: u64, at: u64, kind: &str, subject: &str, body: serde_json::Value) -> AuditEntry {
        AuditEntry {
            index,
            at,
            kind: kind.into(),
            actor: "admin".into(),
            subject: subject.into(),
            body,
        }
    }

    #[test]
    fn time_range_is_half_open_and_filters_combine() {
        let log = [
            e(
                0,
                10,
                "trust.decision",
                "host/h1",
                json!({"host_id": "h1", "hostname": "n1"}),
            ),
            e(
                1,
                20,
                "key.released",
                "key/k1",
                json!({"key_id": "k1", "host_id": "h1"}),
            ),
            e(
                2,
                30,
                "key.refused",
                "key/k1",
                json!({"key_id": "k1", "host_id": "h2"}),
            ),
        ];
        let kept = |f: Filter| -> Vec<u64> {
            let mut s = Selection::new(f);
            log.iter().filter(|x| s.keeps(x)).map(|x| x.index).collect()
        };
        let all = Filter {
            since: 10,
            until: 30,
            ..Filter::default()
        };
        assert_eq!(kept(all.clone()), [0, 1]);
        let h1 = Filter {
            host: Some("h1".into()),
            until: 31,
            ..all.clone()
        };
        assert_eq!(kept(h1.clone()), [0, 1]);
        assert_eq!(
            kept(Filter {
                host: Some("n1".into()),
                ..h1.clone()
            }),
            [0]
        );
        assert_eq!(
            kept(Filter {
                key: Some("k1".into()),
                ..h1
            }),
            [1]
        );
        assert!(kept(Filter {
            host: Some("nobody".into()),
            ..all
        })
        .is_empty());
    }

    #[test]
    fn a_cluster_name_also_keeps_entries_that_name_it_by_id() {
        let log = [
            e(
                0,
                1,
                "cluster.registered",
                "cluster/c1",
                json!({"cluster_id": "c1", "name": "east"}),
            ),
            e(
                1,
                5,
                "cluster.registered",
                "cluster/c2",
                json!({"cluster_id": "c2", "name": "west"}),
            ),
            e(
                2,
                9,
                "cluster.removed",
                "cluster/c1",
                json!({"cluster_id": "c1"}),
            ),
        ];
        // The registration is before the range, the removal inside it.
        let mut s = Selection::new(Filter {
            since: 2,
            until: 10,
            cluster: Some("east".into()),
            ..Filter::default()
        });
        let kept: Vec<u64> = log.iter().filter(|x| s.keeps(x)).map(|x| x.index).collect();
        assert_eq!(kept, [2]);
    }
}
