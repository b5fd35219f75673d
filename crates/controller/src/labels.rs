//! The names ironroot writes on Nodes, and the rules Kubernetes puts on them.
//!
//! Every label lives under a subdomain of `node-restriction.kubernetes.io/`: with the
//! NodeRestriction admission plugin on, a kubelet cannot add, change or remove labels
//! under that prefix on its own Node (KEP-279: a compromised node labelling itself to
//! attract workloads), and no node can change its taints. So a node's root cannot forge
//! its trust or tags, nor drop its taint. Annotations carry no such protection; the signed
//! report in one is verifiable offline, and the controller rewrites it whenever it drifts.

/// The Node's trust state: `trusted`, `untrusted`, `expired` or `unknown`.
pub const TRUST_LABEL: &str = "ironroot.node-restriction.kubernetes.io/trust";
/// Each certified asset tag `K=V` becomes the label `TAG_PREFIX + K` = `V`.
pub const TAG_PREFIX: &str = "tag.ironroot.node-restriction.kubernetes.io/";
/// The taint on every Node that is not trusted (value: the state; effect NoSchedule, or
/// NoExecute when the controller is told untrusted nodes must be emptied at once).
pub const TAINT_KEY: &str = "ironroot.node-restriction.kubernetes.io/untrusted";
/// The latest signed trust report of the bound host (compact JWS).
pub const REPORT_ANNOTATION: &str = "ironroot.node-restriction.kubernetes.io/report";
/// When that report expires (RFC 3339).
pub const REPORT_EXPIRES_ANNOTATION: &str =
    "ironroot.node-restriction.kubernetes.io/report-expires";
/// The id of the host bound to the Node, and why it is not trusted (for `kubectl describe`).
pub const HOST_ANNOTATION: &str = "ironroot.node-restriction.kubernetes.io/host";
pub const REASON_ANNOTATION: &str = "ironroot.node-restriction.kubernetes.io/reason";

/// The longest name part of a label key, and the longest label value.
const MAX_NAME: usize = 63;

/// The label that carries asset tag `key`, or `None` when `key` cannot be a label name
/// (Kubernetes: at most 63 characters, alphanumerics with `-`, `_` and `.` inside).
pub fn tag_label(key: &str) -> Option<String> {
    is_label_name(key).then(|| format!("{TAG_PREFIX}{key}"))
}

/// The asset tag a label carries, if it is one of ours.
pub fn tag_of_label(label: &str) -> Option<&str> {
    label.strip_prefix(TAG_PREFIX)
}

/// Whether `s` is a valid label name part (also the rule for non-empty values).
pub fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Whether `s` is a valid label value (empty is allowed).
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// Whether a label, annotation or taint key is one this controller owns.
pub fn is_ours(key: &str) -> bool {
    key.starts_with("ironroot.node-restriction.kubernetes.io/") || key.starts_with(TAG_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_under_the_node_restriction_prefix() {
        // NodeRestriction refuses a kubelet labels whose domain is
        // node-restriction.kubernetes.io or ends in .node-restriction.kubernetes.io.
        for key in [TRUST_LABEL, TAINT_KEY, REPORT_ANNOTATION, HOST_ANNOTATION]
            .into_iter()
            .chain(tag_label("region").as_deref())
        {
            let domain = key.split_once('/').map(|(d, _)| d).unwrap_or("");
            assert!(
                domain.ends_with(".node-restriction.kubernetes.io"),
                "{key} is not protected"
            );
            assert!(is_ours(key));
        }
        assert!(!is_ours("node-restriction.kubernetes.io/trust"));
        assert!(!is_ours("example.com/trust"));
    }

    #[test]
    fn tag_keys_that_cannot_be_labels_are_refused() {
        assert_eq!(
            tag_label("region").as_deref(),
            Some("tag.ironroot.node-restriction.kubernetes.io/region")
        );
        assert_eq!(
            tag_of_label("tag.ironroot.node-restriction.kubernetes.io/region"),
            Some("region")
        );
        for bad in ["", "-a", "a-", "a/b", "a b", "ü", &"x".repeat(64)] {
            assert_eq!(tag_label(bad), None, "{bad:?}");
        }
        assert!(tag_label(&"x".repeat(63)).is_some());
        assert!(is_label_value("") && is_label_value("EU") && is_label_value("eu-west_1.a"));
        assert!(!is_label_value("EU!") && !is_label_value(" EU"));
    }
}
