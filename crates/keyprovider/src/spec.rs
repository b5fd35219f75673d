//! The arguments of `--encryption-key provider:ironroot:ARGS`: which broker key seals the
//! layers, and, to create that key when it does not exist yet, its transfer policy.
//!
//! ```text
//! ARGS   = NAME *("+" ITEM)
//! ITEM   = "tag:" KEY "=" VALUE   a required asset tag (repeatable)
//!        | "group:" GROUP         an allowed flavor group (repeatable)
//!        | "expires:" UNIX-SECS   release to nobody after this time
//!        | "trusted"              no constraint beyond a trusted node (`any_trusted_node`)
//! ```
//!
//! Items are joined with `+`, not `,`: skopeo and podman split `--encryption-key` values
//! on commas before ocicrypt sees them.
//!
//! `eu-app+tag:region=EU` creates key `eu-app` released only to trusted nodes tagged
//! `region=EU`, or uses it if it exists with exactly that policy. A bare `eu-app` uses an
//! existing key and never creates one, so a typo cannot mint a key with an empty policy.
//! A policy must say who may receive the key: a tag or group, or `trusted` (not both);
//! `eu-app+expires:UNIX` alone is refused.

use crate::ProviderError;
use ironroot_api::KeyPolicy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    /// `None` for a bare name: the key must already exist.
    pub policy: Option<KeyPolicy>,
}

const HELP: &str = "use provider:ironroot:NAME to seal with an existing key, or \
provider:ironroot:NAME+tag:region=EU[+group:GROUP][+expires:UNIX] (or NAME+trusted) to create it";

impl KeySpec {
    pub fn parse(args: &[u8]) -> Result<KeySpec, ProviderError> {
        let bad = |why: String| ProviderError::KeySpec(format!("{why}; {HELP}"));
        let text =
            std::str::from_utf8(args).map_err(|_| bad("the key arguments are not UTF-8".into()))?;
        if text.is_empty() || text == "Enabled" {
            return Err(bad("no key named".into()));
        }
        if text.contains(',') {
            return Err(bad(
                "',' cannot appear: skopeo and podman split key options on commas, so join policy items with '+'"
                    .into(),
            ));
        }
        let mut items = text.split('+');
        let name = items.next().unwrap_or_default().trim().to_owned();
        if !valid_name(&name) {
            return Err(bad(format!(
                "{name:?} is not a key name (1 to 128 letters, digits, '-', '_', '.' or '/')"
            )));
        }
        let mut policy: Option<KeyPolicy> = None;
        for item in items {
            let item = item.trim();
            let p = policy.get_or_insert_with(KeyPolicy::default);
            if item == "trusted" {
                p.any_trusted_node = true;
            } else if let Some(kv) = item.strip_prefix("tag:") {
                let (k, v) = kv
                    .split_once('=')
                    .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                    .ok_or_else(|| bad(format!("{item:?} is not tag:KEY=VALUE")))?;
                if p.asset_tags.insert(k.to_owned(), v.to_owned()).is_some() {
                    return Err(bad(format!("tag {k} is given twice")));
                }
            } else if let Some(g) = item.strip_prefix("group:") {
                if g.is_empty() {
                    return Err(bad("an empty group".into()));
                }
                p.flavor_groups.push(g.to_owned());
            } else if let Some(at) = item.strip_prefix("expires:") {
                let at = at
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{item:?}: expires takes Unix seconds")))?;
                p.expires_at = Some(at);
            } else {
                return Err(bad(format!("{item:?} is not a policy item")));
            }
        }
        // The broker refuses a policy that does not say who may receive the key (an
        // expiry alone says nothing), and `trusted` beside a tag or group; say so here.
        if let Some(p) = &policy {
            p.check_stated().map_err(|e| bad(e.to_string()))?;
        }
        Ok(KeySpec { name, policy })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn reads_names_and_policies() {
        let s = KeySpec::parse(b"eu-app").unwrap();
        assert_eq!((s.name.as_str(), s.policy), ("eu-app", None));
        let s = KeySpec::parse(
            b"eu-app+tag:region=EU+tag:owner=payments+group:prod+expires:2000000000",
        )
        .unwrap();
        let p = s.policy.unwrap();
        assert_eq!(
            p.asset_tags,
            BTreeMap::from([
                ("owner".into(), "payments".into()),
                ("region".into(), "EU".into())
            ])
        );
        assert_eq!(p.flavor_groups, vec!["prod".to_string()]);
        assert_eq!(p.expires_at, Some(2_000_000_000));
        assert_eq!(
            KeySpec::parse(b"any+trusted").unwrap().policy,
            Some(KeyPolicy::any_trusted_node())
        );
        let p = KeySpec::parse(b"any+trusted+expires:2000000000")
            .unwrap()
            .policy
            .unwrap();
        assert!(p.any_trusted_node && p.expires_at == Some(2_000_000_000));
    }

    #[test]
    fn refuses_unclear_arguments() {
        for bad in [
            &b""[..],
            b"Enabled",
            b"../x y",
            b"k+tag:region",
            b"k+tag:=EU",
            b"k+tag:a=1+tag:a=2",
            b"k+group:",
            b"k+expires:soon",
            b"k+region=EU",
            b"\xff",
            b"k,tag:region=EU",
            // A policy that states no condition, or two that contradict each other.
            b"k+expires:2000000000",
            b"k+trusted+tag:region=EU",
            b"k+group:prod+trusted",
        ] {
            let e = KeySpec::parse(bad).unwrap_err();
            assert!(e.to_string().contains("provider:ironroot:NAME"), "{e}");
        }
    }
}
