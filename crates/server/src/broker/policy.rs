//! Transfer policy: whether a freshly attested node may receive a key. Pure: the report
//! comes from the attestation the release request carried, the time from the caller.

use ironroot_api::{KeyPolicy, KeyPolicyError};
use ironroot_verifier::TrustReport;

/// Why a key was not released, in words a platform engineer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("the node is not trusted: {0}")]
    NotTrusted(String),
    #[error("the key requires asset tag {name}={wanted}, and the node has {}", seen.as_ref().map_or("no such tag".to_string(), |s| format!("{name}={s}")))]
    Tag {
        name: String,
        wanted: String,
        seen: Option<String>,
    },
    #[error("the key is only for flavor groups {allowed:?}, and the node is judged by {group}")]
    Group { group: String, allowed: Vec<String> },
    #[error("the key's transfer policy expired at {0}")]
    Expired(u64),
    /// A stored policy that says nothing is not read as "any trusted node".
    #[error("the key's stored transfer policy is refused: {0}")]
    Unstated(KeyPolicyError),
    #[error("the node's asset tag was revoked or replaced while the key was being released")]
    TagRevoked,
}

pub(crate) fn check(policy: &KeyPolicy, report: &TrustReport, now: u64) -> Result<(), Refusal> {
    policy.check_stated().map_err(Refusal::Unstated)?;
    if let Some(at) = policy.expires_at {
        if now >= at {
            return Err(Refusal::Expired(at));
        }
    }
    if !report.trusted {
        let why: Vec<String> = report
            .failed_faults()
            .map(|(r, f)| format!("{} {}", r.rule, f.description))
            .take(3)
            .collect();
        return Err(Refusal::NotTrusted(if why.is_empty() {
            "its attestation failed".into()
        } else {
            why.join("; ")
        }));
    }
    if !report.is_trusted_at(now) {
        return Err(Refusal::NotTrusted("its report has expired".into()));
    }
    for (name, wanted) in &policy.asset_tags {
        let seen = report.asset_tags.get(name);
        if seen != Some(wanted) {
            return Err(Refusal::Tag {
                name: name.clone(),
                wanted: wanted.clone(),
                seen: seen.cloned(),
            });
        }
    }
    if !policy.flavor_groups.is_empty() && !policy.flavor_groups.contains(&report.group) {
        return Err(Refusal::Group {
            group: report.group.clone(),
            allowed: policy.flavor_groups.clone(),
        });
    }
    Ok(())
}

/// The tag the quote covered (`quoted`, raw SHA-256) is still the host's current one
/// (`current`, hex, read from the store just now).
pub(crate) fn tag_still_current(
    current: Option<&str>,
    quoted: Option<&[u8]>,
) -> Result<(), Refusal> {
    match (current.and_then(|c| hex::decode(c).ok()), quoted) {
        (Some(c), Some(q)) if ironroot_crypto::constant_time_eq(&c, q) => Ok(()),
        _ => Err(Refusal::TagRevoked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn report(trusted: bool, tags: &[(&str, &str)]) -> TrustReport {
        TrustReport {
            host_id: "h".into(),
            hostname: "n".into(),
            trusted,
            created: 100,
            expires: 200,
            group: "automatic".into(),
            results: vec![],
            quoted_pcrs: Default::default(),
            reset_count: 0,
            restart_count: 0,
            asset_tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn eu() -> KeyPolicy {
        KeyPolicy {
            asset_tags: BTreeMap::from([("region".into(), "EU".into())]),
            ..Default::default()
        }
    }

    #[test]
    fn trusted_and_tagged_is_released() {
        assert_eq!(
            check(
                &eu(),
                &report(true, &[("region", "EU"), ("owner", "x")]),
                150
            ),
            Ok(())
        );
    }

    #[test]
    fn a_stored_empty_policy_releases_to_nobody() {
        let trusted = report(true, &[("region", "EU")]);
        assert_eq!(
            check(&KeyPolicy::default(), &trusted, 150),
            Err(Refusal::Unstated(KeyPolicyError::Unstated))
        );
        assert_eq!(check(&KeyPolicy::any_trusted_node(), &trusted, 150), Ok(()));
        assert!(matches!(
            check(&KeyPolicy::any_trusted_node(), &report(false, &[]), 150),
            Err(Refusal::NotTrusted(_))
        ));
    }

    /// The review's finding: a revocation racing a release must not be honoured. The
    /// release re-reads the host's current tag last, and anything but the quoted one
    /// refuses.
    #[test]
    fn a_tag_revoked_during_a_release_is_not_honoured() {
        let quoted = [0xab; 32];
        let hex = hex::encode(quoted);
        assert_eq!(tag_still_current(Some(&hex), Some(&quoted)), Ok(()));
        assert_eq!(
            tag_still_current(None, Some(&quoted)),
            Err(Refusal::TagRevoked)
        );
        let replaced = hex::encode([0xcd; 32]);
        assert_eq!(
            tag_still_current(Some(&replaced), Some(&quoted)),
            Err(Refusal::TagRevoked)
        );
        assert_eq!(
            tag_still_current(Some(&hex), None),
            Err(Refusal::TagRevoked)
        );
        assert_eq!(
            tag_still_current(Some("zz"), Some(&quoted)),
            Err(Refusal::TagRevoked)
        );
    }

    #[test]
    fn every_condition_refuses_on_its_own() {
        assert!(matches!(
            check(&eu(), &report(false, &[("region", "EU")]), 150),
            Err(Refusal::NotTrusted(_))
        ));
        assert!(
            matches!(
                check(&eu(), &report(true, &[("region", "EU")]), 250),
                Err(Refusal::NotTrusted(_))
            ),
            "stale"
        );
        let us = check(&eu(), &report(true, &[("region", "US")]), 150).unwrap_err();
        assert_eq!(
            us.to_string(),
            "the key requires asset tag region=EU, and the node has region=US"
        );
        let none = check(&eu(), &report(true, &[]), 150).unwrap_err();
        assert_eq!(
            none.to_string(),
            "the key requires asset tag region=EU, and the node has no such tag"
        );
        let mut p = eu();
        p.flavor_groups = vec!["payments".into()];
        assert!(matches!(
            check(&p, &report(true, &[("region", "EU")]), 150),
            Err(Refusal::Group { .. })
        ));
        let mut p = eu();
        p.expires_at = Some(150);
        assert_eq!(
            check(&p, &report(true, &[("region", "EU")]), 150),
            Err(Refusal::Expired(150))
        );
    }
}
