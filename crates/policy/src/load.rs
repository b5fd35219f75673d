//! Loading: bytes (YAML or JSON) to a validated [`PolicySet`], with limits on the input,
//! the number of policies and every list, and errors that name the policy and the field.

use crate::model::{ExclusionDoc, PolicyDoc, PolicySetDoc, Remediation, SelectionDoc};
use crate::params::rule;
use crate::scope::{Exclusion, Pattern, Scope, Selection};
use crate::{Policy, PolicySet};

/// The largest policy set document.
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// The most policies in one set.
pub const MAX_POLICIES: usize = 256;
/// The largest Rego module.
pub const MAX_REGO_MODULE_BYTES: usize = 64 << 10;
/// The most entries in any list of a policy (names, exclusions, keys, registries).
pub const MAX_LIST: usize = 256;
pub(crate) const MAX_TEXT: usize = 1024;

/// Why a policy set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("the policy set is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("the policy set is not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("the policy set has {count} policies; at most {max} are accepted")]
    TooManyPolicies { count: usize, max: usize },
    #[error("version must be 1 or more (the set's revision)")]
    Version,
    /// A policy is invalid: `policy` is its id (or `#N`, its position, before the id is known).
    #[error("policy {policy}: {field}: {message}")]
    Invalid {
        policy: String,
        field: String,
        message: String,
    },
    #[error("policy id {id} is used twice (policies #{first} and #{second})")]
    DuplicateId {
        id: String,
        first: usize,
        second: usize,
    },
}

pub(crate) fn invalid(
    policy: &str,
    field: impl Into<String>,
    message: impl Into<String>,
) -> LoadError {
    LoadError::Invalid {
        policy: policy.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

pub(crate) fn from_yaml(bytes: &[u8]) -> Result<PolicySet, LoadError> {
    check_size(bytes)?;
    let mut budget = serde_saphyr::Budget::default();
    // A policy set has no use for anchors in bulk: refuse alias bombs early.
    budget.max_aliases = 1024;
    budget.max_anchors = 1024;
    budget.max_events = 200_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    let doc: PolicySetDoc =
        serde_saphyr::from_slice_with_options(bytes, options).map_err(|e| LoadError::Syntax {
            format: "YAML",
            message: e.to_string(),
        })?;
    build(doc)
}

pub(crate) fn from_json(bytes: &[u8]) -> Result<PolicySet, LoadError> {
    check_size(bytes)?;
    let doc: PolicySetDoc = serde_json::from_slice(bytes).map_err(|e| LoadError::Syntax {
        format: "JSON",
        message: e.to_string(),
    })?;
    build(doc)
}

fn check_size(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(LoadError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

fn build(doc: PolicySetDoc) -> Result<PolicySet, LoadError> {
    if doc.version == 0 {
        return Err(LoadError::Version);
    }
    if doc.policies.len() > MAX_POLICIES {
        return Err(LoadError::TooManyPolicies {
            count: doc.policies.len(),
            max: MAX_POLICIES,
        });
    }
    let mut policies: Vec<Policy> = Vec::with_capacity(doc.policies.len());
    for (index, value) in doc.policies.into_iter().enumerate() {
        // Name the policy by its id in errors as soon as there is one that reads as text.
        let label = match value.get("id").and_then(|v| v.as_str()) {
            Some(id) if id.len() <= 63 => id.to_owned(),
            _ => format!("#{index}"),
        };
        let policy: PolicyDoc =
            serde_json::from_value(value).map_err(|e| invalid(&label, "policy", e.to_string()))?;
        let policy = validate(policy)?;
        if let Some(first) = policies.iter().position(|p| p.id == policy.id) {
            return Err(LoadError::DuplicateId {
                id: policy.id,
                first,
                second: index,
            });
        }
        policies.push(policy);
    }
    Ok(PolicySet {
        version: doc.version,
        policies,
    })
}

fn slug(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && id.as_bytes()[0].is_ascii_lowercase()
        && !id.ends_with('-')
}

fn text(id: &str, field: &str, value: String) -> Result<String, LoadError> {
    if value.trim().is_empty() || value.len() > MAX_TEXT {
        return Err(invalid(
            id,
            field,
            format!("must be 1 to {MAX_TEXT} bytes of text"),
        ));
    }
    Ok(value)
}

pub(crate) fn list_len<T>(
    id: &str,
    field: &str,
    list: &[T],
    empty_ok: bool,
) -> Result<(), LoadError> {
    if list.len() > MAX_LIST {
        return Err(invalid(
            id,
            field,
            format!("has {} entries; at most {MAX_LIST}", list.len()),
        ));
    }
    if list.is_empty() && !empty_ok {
        return Err(invalid(
            id,
            field,
            "is empty; an empty list would allow or select nothing",
        ));
    }
    Ok(())
}

fn validate(doc: PolicyDoc) -> Result<Policy, LoadError> {
    let id = doc.id;
    if !slug(&id) {
        return Err(invalid(
            &id,
            "id",
            "must be 1 to 63 of a-z, 0-9 and -, starting with a letter, not ending with -",
        ));
    }
    let description = text(&id, "description", doc.description)?;
    let scope = Scope {
        clusters: selection(&id, "scope.clusters", doc.scope.clusters)?,
        namespaces: selection(&id, "scope.namespaces", doc.scope.namespaces)?,
        exclusions: exclusions(&id, doc.scope.exclusions)?,
    };
    let rule = rule(&id, doc.rule)?;
    let fits = match doc.remediation {
        Remediation::Taint | Remediation::Drain => rule.may_taint_or_drain(),
        Remediation::Deny => !rule.is_node_rule(),
        Remediation::Alert => true,
    };
    if !fits {
        let why = match doc.remediation {
            Remediation::Deny => {
                "deny refuses a pod, and this rule judges the node, not the workload"
            }
            _ => "taint and drain act on a whole node, only for the node-trusted rule",
        };
        let m = format!(
            "{} does not fit rule {}: {why}",
            doc.remediation.as_str(),
            rule.name()
        );
        return Err(invalid(&id, "remediation", m));
    }
    Ok(Policy {
        id,
        description,
        severity: doc.severity,
        mode: doc.mode,
        scope,
        remediation: doc.remediation,
        failure: doc.failure,
        rule,
    })
}

fn selection(id: &str, field: &str, doc: SelectionDoc) -> Result<Selection, LoadError> {
    match doc {
        SelectionDoc::All => Ok(Selection::All),
        SelectionDoc::Names(names) => {
            list_len(id, field, &names, false)?;
            let parsed = names.iter().map(|n| {
                Pattern::parse(n).ok_or_else(|| {
                    invalid(
                        id,
                        field,
                        format!("{n:?} is not a name or a pattern of a-z, 0-9, -, . and *"),
                    )
                })
            });
            Ok(Selection::Names(parsed.collect::<Result<_, _>>()?))
        }
    }
}

fn exclusions(id: &str, docs: Vec<ExclusionDoc>) -> Result<Vec<Exclusion>, LoadError> {
    list_len(id, "scope.exclusions", &docs, true)?;
    let mut out = Vec::with_capacity(docs.len());
    for (i, e) in docs.into_iter().enumerate() {
        let field = |f: &str| format!("scope.exclusions[{i}].{f}");
        let pattern = |f: &str, p: Option<String>| {
            p.map(|p| {
                Pattern::parse(&p).ok_or_else(|| {
                    invalid(id, field(f), format!("{p:?} is not a name or a pattern"))
                })
            })
            .transpose()
        };
        let namespace = pattern("namespace", e.namespace)?;
        let name = pattern("name", e.name)?;
        if namespace.is_none() && name.is_none() {
            return Err(invalid(
                id,
                field("namespace"),
                "an exclusion needs a namespace or a name pattern",
            ));
        }
        let reason = text(id, &field("reason"), e.reason)?;
        let expires = ironroot_timestamp::rfc3339::parse(&e.expires).ok_or_else(|| {
            invalid(
                id,
                field("expires"),
                format!("{:?} is not an RFC 3339 time", e.expires),
            )
        })?;
        out.push(Exclusion {
            namespace,
            name,
            reason,
            expires,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
