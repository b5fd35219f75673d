//! Image identities: the image the user pins by digest, the `docker-reference` a signature
//! claims, and whether the two match the way containers/image's default `signedIdentity`
//! (`matchRepoDigestOrExact`, containers-policy.json(5)) decides.
//!
//! Names are normalized as Docker does (`busybox` is `docker.io/library/busybox`), by
//! `oci-client`'s reference parser, so that the same image spelled two ways compares equal.

use anyhow::{bail, Context};
use ironroot_signing::ManifestDigest;
use oci_client::Reference;

/// An image reference that carries a manifest digest: the only kind ironroot signs or
/// verifies, because a tag can be moved after the signature was checked.
#[derive(Debug, Clone)]
pub struct PinnedImage {
    /// The parsed reference, for the registry client.
    pub reference: Reference,
    /// `registry/repository`, normalized.
    pub name: String,
    pub tag: Option<String>,
    pub digest: ManifestDigest,
}

impl PinnedImage {
    pub fn parse(text: &str) -> anyhow::Result<PinnedImage> {
        let reference: Reference = text
            .parse()
            .with_context(|| format!("{text:?} is not an image reference"))?;
        let Some(digest) = reference.digest() else {
            bail!(
                "{text:?} is not pinned by digest; give REGISTRY/REPOSITORY@sha256:HEX \
                 (a tag can be moved to other content after it was signed or checked)"
            );
        };
        let digest = ManifestDigest::parse(digest).context("the image digest")?;
        Ok(PinnedImage {
            name: format!("{}/{}", reference.registry(), reference.repository()),
            tag: reference.tag().map(str::to_owned),
            digest,
            reference,
        })
    }

    /// The repository path inside its registry, as lookaside storage names it
    /// (`reference.Path` in containers/image: no registry, no tag, no digest).
    pub fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The `docker-reference` ironroot writes into a payload: `name:tag` when the user
    /// named a tag, else `name@digest`. Never the bare repository that cosign writes,
    /// because containers/image's default identity rule refuses a name-only reference.
    pub fn signed_identity(&self) -> String {
        match &self.tag {
            Some(tag) => format!("{}:{tag}", self.name),
            None => format!("{}@{}", self.name, self.digest),
        }
    }

    /// The tag where cosign and containers/image keep signatures: `sha256-<hex>.sig`.
    pub fn cosign_signature_tag(&self) -> String {
        format!("{}.sig", self.digest.as_str().replacen(':', "-", 1))
    }
}

/// How strictly the claimed identity must match the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityRule {
    /// containers/image's default: a digest-pinned image needs a signature for the same
    /// repository with a tag or digest; a tagged one needs exactly that `name:tag`.
    RepoDigestOrExact,
    /// `matchRepository`: the same repository is enough, a bare name included (what
    /// `cosign sign` writes), at the cost of allowing tag substitution.
    Repository,
}

/// Whether a signature claiming `claimed` may vouch for `image` under `rule`; the error
/// says why not.
pub fn check_identity(
    image: &PinnedImage,
    claimed: &str,
    rule: IdentityRule,
) -> Result<(), String> {
    let parsed: Reference = claimed
        .parse()
        .map_err(|_| format!("the signed docker-reference {claimed:?} is not a valid reference"))?;
    let claimed_name = format!("{}/{}", parsed.registry(), parsed.repository());
    if claimed_name != image.name {
        return Err(format!(
            "signed for repository {claimed_name}, not {}",
            image.name
        ));
    }
    if rule == IdentityRule::Repository {
        return Ok(());
    }
    // oci-client invents `latest` for a bare name; containers/image refuses it instead.
    if parsed.digest().is_none() && !last_component_has_tag(claimed) {
        return Err(format!(
            "the signed docker-reference {claimed:?} names only a repository (as cosign \
             writes); matchRepoDigestOrExact refuses that (use --match-repository to accept it)"
        ));
    }
    match &image.tag {
        None => Ok(()),
        Some(tag) => {
            let exact = parsed.digest().is_none() && parsed.tag() == Some(tag.as_str());
            if exact {
                Ok(())
            } else {
                Err(format!(
                    "signed for {claimed:?}, not for tag {}:{tag}",
                    image.name
                ))
            }
        }
    }
}

fn last_component_has_tag(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    // With no '/', "host:port" cannot be meant: Docker reads "a:b" as repository a, tag b.
    last.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn img(s: &str) -> PinnedImage {
        PinnedImage::parse(s).unwrap()
    }

    #[test]
    fn unpinned_images_are_refused() {
        assert!(PinnedImage::parse("127.0.0.1:5000/app:v1").is_err());
        assert!(PinnedImage::parse("127.0.0.1:5000/app").is_err());
    }

    #[test]
    fn digest_pinned_image_accepts_same_repository_with_tag_or_digest() {
        let i = img(&format!("127.0.0.1:5000/app@{D}"));
        assert_eq!(i.repository(), "app");
        assert_eq!(i.signed_identity(), format!("127.0.0.1:5000/app@{D}"));
        let rule = IdentityRule::RepoDigestOrExact;
        assert!(check_identity(&i, "127.0.0.1:5000/app:v1", rule).is_ok());
        assert!(check_identity(&i, &format!("127.0.0.1:5000/app@{D}"), rule).is_ok());
        assert!(check_identity(&i, "127.0.0.1:5000/other:v1", rule).is_err());
        assert!(check_identity(&i, "127.0.0.1:5001/app:v1", rule).is_err());
        // cosign's bare repository: only under matchRepository.
        assert!(check_identity(&i, "127.0.0.1:5000/app", rule).is_err());
        assert!(check_identity(&i, "127.0.0.1:5000/app", IdentityRule::Repository).is_ok());
    }

    #[test]
    fn tagged_image_needs_the_exact_tag() {
        let i = img(&format!("127.0.0.1:5000/app:v1@{D}"));
        assert_eq!(i.signed_identity(), "127.0.0.1:5000/app:v1");
        let rule = IdentityRule::RepoDigestOrExact;
        assert!(check_identity(&i, "127.0.0.1:5000/app:v1", rule).is_ok());
        assert!(check_identity(&i, "127.0.0.1:5000/app:v2", rule).is_err());
        assert!(check_identity(&i, &format!("127.0.0.1:5000/app@{D}"), rule).is_err());
    }

    #[test]
    fn docker_hub_names_are_normalized() {
        let i = img(&format!("busybox@{D}"));
        assert_eq!(i.name, "docker.io/library/busybox");
        assert_eq!(i.repository(), "library/busybox");
        let rule = IdentityRule::RepoDigestOrExact;
        assert!(check_identity(&i, "docker.io/library/busybox:1", rule).is_ok());
        assert!(check_identity(&i, "busybox:1", rule).is_ok());
        assert!(check_identity(&i, "busybox", rule).is_err());
        assert_eq!(
            i.cosign_signature_tag(),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"
        );
    }
}
