//! Rule parameters checked on load: each built-in's parameters to a [`Rule`], and Rego
//! compiled once. Errors name the policy and the parameter.

use crate::load::{invalid, list_len, LoadError, MAX_REGO_MODULE_BYTES, MAX_TEXT};
use crate::model::RuleDoc;
use crate::pss;
use crate::registry::RegistryPrefix;
use crate::rego::RegoRule;
use crate::rules::Rule;

/// `30s`, `15m`, `24h`, `7d` to seconds.
pub(crate) fn duration(text: &str) -> Option<u64> {
    let unit = match text.bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86_400,
        _ => return None,
    };
    let n = &text[..text.len() - 1];
    if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse::<u64>().ok().map(|n| n * unit).filter(|s| *s > 0)
}

pub(crate) fn rule(id: &str, doc: RuleDoc) -> Result<Rule, LoadError> {
    Ok(match doc {
        RuleDoc::NodeTrusted(_) => Rule::NodeTrusted,
        RuleDoc::WorkloadEncrypted(_) => Rule::WorkloadEncrypted,
        RuleDoc::PipelineBuiltWithEncryptionPolicy(_) => Rule::PipelineBuiltWithEncryptionPolicy,
        RuleDoc::NoPrivileged(_) => Rule::NoPrivileged,
        RuleDoc::RunAsNonRoot(_) => Rule::RunAsNonRoot,
        RuleDoc::ReadOnlyRootFilesystem(_) => Rule::ReadOnlyRootFilesystem,
        RuleDoc::RegionPlacement(_) => Rule::RegionPlacement,
        RuleDoc::ImageSigned(p) => {
            list_len(id, "rule.image-signed.trusted_keys", &p.trusted_keys, false)?;
            if p.trusted_keys
                .iter()
                .any(|k| k.trim().is_empty() || k.len() > MAX_TEXT)
            {
                return Err(invalid(
                    id,
                    "rule.image-signed.trusted_keys",
                    "a key id is empty or too long",
                ));
            }
            Rule::ImageSigned {
                trusted_keys: p.trusted_keys,
                require_digest: p.require_digest,
            }
        }
        RuleDoc::ImageScanned(p) => {
            let max_age_seconds = duration(&p.max_age).ok_or_else(|| {
                invalid(
                    id,
                    "rule.image-scanned.max_age",
                    format!("{:?} is not a duration (30s, 15m, 24h, 7d)", p.max_age),
                )
            })?;
            Rule::ImageScanned {
                threshold: p.threshold,
                max_age_seconds,
            }
        }
        RuleDoc::ResourceLimits(p) => {
            if !p.cpu && !p.memory {
                return Err(invalid(
                    id,
                    "rule.resource-limits",
                    "checks nothing: set cpu or memory (or both) to true",
                ));
            }
            Rule::ResourceLimits {
                cpu: p.cpu,
                memory: p.memory,
            }
        }
        RuleDoc::NodePidLimit(p) => {
            if p.max <= 0 {
                return Err(invalid(
                    id,
                    "rule.node-pid-limit.max",
                    "must be a positive number of pids",
                ));
            }
            Rule::NodePidLimit { max: p.max }
        }
        RuleDoc::ApprovedRegistries(p) => {
            list_len(
                id,
                "rule.approved-registries.registries",
                &p.registries,
                false,
            )?;
            let parsed = p.registries.iter().map(|r| {
                RegistryPrefix::parse(r)
                    .map_err(|m| invalid(id, "rule.approved-registries.registries", m))
            });
            Rule::ApprovedRegistries {
                registries: parsed.collect::<Result<_, _>>()?,
            }
        }
        RuleDoc::PodSecurity(p) => {
            let version = pss::Version::parse(&p.version).ok_or_else(|| {
                invalid(
                    id,
                    "rule.pod-security.version",
                    format!(
                        "{:?}: write v1.0 to v1.{} or latest",
                        p.version,
                        pss::LATEST_MINOR
                    ),
                )
            })?;
            Rule::PodSecurity {
                level: p.level,
                version,
            }
        }
        RuleDoc::Rego(p) => {
            if p.module.len() > MAX_REGO_MODULE_BYTES {
                let m = format!(
                    "is {} bytes; at most {MAX_REGO_MODULE_BYTES}",
                    p.module.len()
                );
                return Err(invalid(id, "rule.rego.module", m));
            }
            if p.query.trim().is_empty() || p.query.len() > MAX_TEXT {
                return Err(invalid(
                    id,
                    "rule.rego.query",
                    format!("must be 1 to {MAX_TEXT} bytes"),
                ));
            }
            let rule = RegoRule::compile(&p.module, &p.query, MAX_REGO_MODULE_BYTES)
                .map_err(|m| invalid(id, "rule.rego", m))?;
            Rule::Rego(Box::new(rule))
        }
    })
}
