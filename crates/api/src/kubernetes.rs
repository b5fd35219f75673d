//! What the service tells the Kubernetes controller: which host an administrator bound
//! to which Node, and each bound host's trust, certified asset tags and latest signed
//! report, as the controller publishes them on the Node.
//!
//! A binding is only ever stated by an administrator (`PUT /v1/hosts/{id}/node`), never
//! inferred from a hostname or a UUID a node reports: a node's root must not be able to
//! lend its trust to another Node object.

use crate::TrustState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest Kubernetes object name (a DNS-1123 subdomain).
pub const MAX_NODE_NAME: usize = 253;

/// `PUT /v1/hosts/{id}/node`: the Kubernetes Node this host is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindNode {
    /// The Node's `metadata.name`; see [`node_name`].
    pub node: String,
}

/// The answer to `DELETE /v1/hosts/{id}/node`: the Node the host was bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnboundNode {
    pub host_id: String,
    pub node: String,
}

/// A bound host as the controller publishes it on its Node (`GET /v1/nodes`,
/// `GET /v1/nodes/{host_id}`, and the answer to a binding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTrust {
    pub host_id: String,
    pub hostname: String,
    pub hardware_uuid: String,
    /// The Kubernetes Node the administrator bound the host to.
    pub node: String,
    /// The recorded trust state as of the answer (a trusted state whose deadline has
    /// passed reads `expired`, even before the service's sweeper records it).
    pub trust: TrustState,
    /// The deadline of a trusted state (unix seconds).
    pub trust_expires_at: Option<u64>,
    /// The host's current certified asset tags (its unrevoked tag certificate's); empty
    /// when it has none.
    pub asset_tags: BTreeMap<String, String>,
    /// The host's latest trust report: its id, compact JWS (verifiable offline with
    /// `/.well-known/jwks.json`) and expiry (unix seconds).
    pub report_id: Option<String>,
    pub report_jws: Option<String>,
    pub report_expires: Option<u64>,
    /// One line per failed rule of the latest report (and why trust expired).
    pub failures: Vec<String>,
    /// The kubelet's `podPidsLimit` the host's agent reported with its latest accepted
    /// evidence (see [`crate::KubeletFacts`]); `None` when it reported none.
    #[serde(default)]
    pub pod_pids_limit: Option<i64>,
}

/// `GET /v1/nodes`: every bound host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTrustList {
    pub nodes: Vec<NodeTrust>,
    /// The trust-event log's newest id, read BEFORE the hosts were read: a change made
    /// after this list was read has a greater id, so a client that resumes the event
    /// stream from it (`Last-Event-ID`) misses nothing (it may see a change twice, once
    /// in the list and once as an event, which is harmless). 0 for an empty log.
    pub last_event: i64,
    /// When the list was read (unix seconds, the service's clock).
    pub as_of: u64,
}

/// Why a name is not a Kubernetes Node name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeNameError {
    #[error("a Node name is empty")]
    Empty,
    #[error("a Node name is at most {MAX_NODE_NAME} characters")]
    TooLong,
    #[error("a Node name has only lower-case letters a-z, digits, '-' and '.' (found {0})")]
    Character(String),
    #[error("part {0} of a Node name (between dots) must start and end with a letter or digit")]
    Label(usize),
}

/// Checks that `name` is a Kubernetes Node name: a DNS-1123 subdomain (1 to 253
/// characters of lower-case letters, digits, '-' and '.', each dot-separated part
/// starting and ending with a letter or digit), exactly as the API server checks
/// `metadata.name`. Upper case is refused, not folded: the Node's name is what it is.
pub fn node_name(name: &str) -> Result<&str, NodeNameError> {
    if name.is_empty() {
        return Err(NodeNameError::Empty);
    }
    if name.len() > MAX_NODE_NAME {
        return Err(NodeNameError::TooLong);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(NodeNameError::Character(c.escape_default().to_string()));
    }
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    for (i, label) in name.split('.').enumerate() {
        if !alnum(label.as_bytes().first()) || !alnum(label.as_bytes().last()) {
            return Err(NodeNameError::Label(i + 1));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_dns_1123_subdomains() {
        for good in [
            "worker-1",
            "a",
            "0",
            "ip-10-0-0-1.eu-west-1.compute.internal",
            "a-b.c-d",
            "1-2",
            &"a".repeat(253),
            &format!("{}.{}", "a".repeat(100), "b".repeat(152)),
        ] {
            assert_eq!(node_name(good), Ok(good), "{good:?}");
        }
    }

    #[test]
    fn non_names_are_refused_with_the_reason() {
        assert_eq!(node_name(""), Err(NodeNameError::Empty));
        assert_eq!(node_name(&"a".repeat(254)), Err(NodeNameError::TooLong));
        assert_eq!(
            node_name("Worker-1"),
            Err(NodeNameError::Character("W".into()))
        );
        assert_eq!(
            node_name("w\n1"),
            Err(NodeNameError::Character("\\n".into()))
        );
        assert_eq!(node_name("-w"), Err(NodeNameError::Label(1)));
        assert_eq!(node_name("w-"), Err(NodeNameError::Label(1)));
        assert_eq!(node_name("a.-b"), Err(NodeNameError::Label(2)));
        assert_eq!(node_name("a..b"), Err(NodeNameError::Label(2)));
        assert_eq!(node_name(".a"), Err(NodeNameError::Label(1)));
        assert_eq!(node_name("a."), Err(NodeNameError::Label(2)));
        for bad in ["node_1", "node 1", "nöde", "a/b", "a:b", "*"] {
            assert!(node_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_bind_body_has_only_the_node() {
        let ok: BindNode = serde_json::from_str(r#"{"node":"worker-1"}"#).unwrap();
        assert_eq!(ok.node, "worker-1");
        assert!(serde_json::from_str::<BindNode>(r#"{"node":"w","host":"x"}"#).is_err());
        assert!(serde_json::from_str::<BindNode>("{}").is_err());
    }
}
