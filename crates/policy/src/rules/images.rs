//! Image rules: encryption under broker keys, the build pipeline's signature and key
//! policy, signatures by trusted keys and pinning by digest, scans, approved registries.
//! Each image is judged once, named by the first container that runs it.

use crate::containers::{self, ContainerView};
use crate::facts::{ImageFacts, Input, SignatureFact};
use crate::registry::{parse_image, RegistryPrefix};
use crate::verdict::{Findings, Verdict};
use ironroot_severity::Severity;
use k8s_openapi::api::core::v1::PodSpec;

/// Each image once, with the first container that runs it.
pub(crate) fn images(spec: &PodSpec) -> Vec<(ContainerView<'_>, &str)> {
    let mut out: Vec<(ContainerView<'_>, &str)> = Vec::new();
    for c in containers::all(spec) {
        if let Some(image) = c.image.filter(|i| !i.is_empty()) {
            if !out.iter().any(|(_, i)| *i == image) {
                out.push((c, image));
            }
        }
    }
    out
}

fn facts<'a>(input: &'a Input, image: &str, f: &mut Findings) -> Option<&'a ImageFacts> {
    let facts = input.facts.images.get(image);
    if facts.is_none() {
        f.unknown(format!(
            "nothing is known about image {image} (facts.images)"
        ));
    }
    facts
}

/// The broker keys of an image's encrypted layers; `None` (and unknown noted) when the
/// layers are not known.
pub(super) fn key_ids<'a>(
    image: &str,
    facts: &'a ImageFacts,
    f: &mut Findings,
) -> Option<Vec<&'a str>> {
    let Some(layers) = &facts.layers else {
        f.unknown(format!("the layers of image {image} are not known"));
        return None;
    };
    let mut keys: Vec<&str> = Vec::new();
    for k in layers
        .iter()
        .filter(|l| l.encrypted)
        .flat_map(|l| &l.key_ids)
    {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    Some(keys)
}

pub(super) fn encrypted(input: &Input, spec: &PodSpec) -> Verdict {
    let mut f = Findings::default();
    for (c, image) in images(spec) {
        let Some(facts) = facts(input, image, &mut f) else {
            continue;
        };
        let Some(layers) = &facts.layers else {
            f.unknown(format!("the layers of image {image} are not known"));
            continue;
        };
        if layers.is_empty() {
            f.violation(
                Some(c.name),
                c.field("image"),
                format!("image {image} has no layers"),
            );
        }
        for l in layers {
            if !l.encrypted {
                let m = format!("image {image}: layer {} is not encrypted", l.digest);
                f.violation(Some(c.name), c.field("image"), m);
            } else if l.key_ids.is_empty() {
                let m = format!(
                    "image {image}: layer {} is encrypted under no ironroot broker key",
                    l.digest
                );
                f.violation(Some(c.name), c.field("image"), m);
            }
            for k in l.key_ids.iter().filter(|_| l.encrypted) {
                match input.facts.keys.get(k) {
                    None => f.unknown(format!("whether the broker holds key {k} is not known")),
                    Some(key) if !key.exists => {
                        let m = format!("image {image}: layer {} is sealed under key {k}, which the broker does not hold", l.digest);
                        f.violation(Some(c.name), c.field("image"), m);
                    }
                    Some(_) => {}
                }
            }
        }
    }
    f.verdict()
}

pub(super) fn pipeline_built(input: &Input, spec: &PodSpec) -> Verdict {
    let mut f = Findings::default();
    for (c, image) in images(spec) {
        let Some(facts) = facts(input, image, &mut f) else {
            continue;
        };
        match facts.pipeline_signed {
            None => f.unknown(format!(
                "whether image {image} carries the pipeline's signature is not known"
            )),
            Some(false) => {
                let m = format!("image {image} does not carry the build pipeline's signature");
                f.violation(Some(c.name), c.field("image"), m);
            }
            Some(true) => {}
        }
        let Some(keys) = key_ids(image, facts, &mut f) else {
            continue;
        };
        if keys.is_empty() {
            let m = format!(
                "image {image} is sealed under no broker key, so no encryption policy governs it"
            );
            f.violation(Some(c.name), c.field("image"), m);
        }
        for k in keys {
            match input.facts.keys.get(k) {
                None => f.unknown(format!("key {k} of image {image} is not known")),
                Some(key) if !key.exists => {
                    let m = format!(
                        "image {image} is sealed under key {k}, which the broker does not hold"
                    );
                    f.violation(Some(c.name), c.field("image"), m);
                }
                Some(key) if !key.transfer_policy => {
                    let m = format!(
                        "image {image} is sealed under key {k}, which has no transfer policy"
                    );
                    f.violation(Some(c.name), c.field("image"), m);
                }
                Some(_) => {}
            }
        }
    }
    f.verdict()
}

pub(super) fn signed(
    input: &Input,
    spec: &PodSpec,
    trusted: &[String],
    require_digest: bool,
) -> Verdict {
    let mut f = Findings::default();
    for (c, image) in images(spec) {
        let field = c.field("image");
        let name = parse_image(image);
        match &name {
            None => f.violation(
                Some(c.name),
                &field,
                format!("{image:?} is not an image reference"),
            ),
            Some(n) if require_digest && n.digest.is_none() => {
                let m = format!("image {image} is not pinned by digest (write NAME@sha256:...)");
                f.violation(Some(c.name), &field, m);
            }
            Some(_) => {}
        }
        let Some(facts) = facts(input, image, &mut f) else {
            continue;
        };
        if let (Some(pinned), Some(resolved)) =
            (name.as_ref().and_then(|n| n.digest.as_ref()), &facts.digest)
        {
            if pinned != resolved {
                let m = format!("image {image} resolves to {resolved}, not the pinned {pinned}");
                f.violation(Some(c.name), &field, m);
            }
        }
        match &facts.signature {
            None => f.unknown(format!(
                "the signature verdict of image {image} is not known"
            )),
            Some(SignatureFact::Unsigned) => {
                f.violation(Some(c.name), &field, format!("image {image} is not signed"))
            }
            Some(SignatureFact::Invalid { reason }) => {
                let m = format!("image {image} has no valid signature: {reason}");
                f.violation(Some(c.name), &field, m);
            }
            Some(SignatureFact::Signed { key_id }) if !trusted.contains(key_id) => {
                let m = format!("image {image} is signed by {key_id}, which is not one of the trusted keys {trusted:?}");
                f.violation(Some(c.name), &field, m);
            }
            Some(SignatureFact::Signed { .. }) => {}
        }
    }
    f.verdict()
}

pub(super) fn scanned(
    input: &Input,
    spec: &PodSpec,
    threshold: Severity,
    max_age: u64,
    now: u64,
) -> Verdict {
    let mut f = Findings::default();
    for (c, image) in images(spec) {
        let Some(facts) = facts(input, image, &mut f) else {
            continue;
        };
        let Some(scan) = &facts.scan else {
            f.unknown(format!("no scan of image {image} is known"));
            continue;
        };
        let age = now.saturating_sub(scan.scanned_at);
        if age > max_age {
            let at = ironroot_timestamp::rfc3339::format(scan.scanned_at);
            let m = format!("image {image} was last scanned at {at}, {age} s ago (the maximum age is {max_age} s)");
            f.violation(Some(c.name), c.field("image"), m);
        }
        if let Some(s) = scan.highest_unfixed.filter(|s| *s >= threshold) {
            let m = format!(
                "image {image} has unfixed findings of severity {s} (the threshold is {threshold})"
            );
            f.violation(Some(c.name), c.field("image"), m);
        }
    }
    f.verdict()
}

pub(super) fn approved_registries(spec: &PodSpec, approved: &[RegistryPrefix]) -> Verdict {
    let mut f = Findings::default();
    for (c, image) in images(spec) {
        match parse_image(image) {
            None => f.violation(
                Some(c.name),
                c.field("image"),
                format!("{image:?} is not an image reference"),
            ),
            Some(n) if !approved.iter().any(|p| p.covers(&n)) => {
                let list: Vec<String> = approved.iter().map(ToString::to_string).collect();
                let m = format!(
                    "image {image} comes from {}/{}, which is not an approved registry {list:?}",
                    n.registry, n.repository
                );
                f.violation(Some(c.name), c.field("image"), m);
            }
            Some(_) => {}
        }
    }
    f.verdict()
}
