//! Image identities: the image the user pins by digest, the `docker-reference` a signature
//! claims, and whether the two match the way containers/image's default `signedIdentity`
//! (`matchRepoDigestOrExact`, containers-policy.json(5)) decides.
//!
//! Names are normalized as Docker does (`busybox` is `docker.io/library/busybox`), by
//! `oci-spec`'s reference parser (the one `oci-client` uses, without its network half),
//! so that the same image spelled two ways compares equal.

use crate::payload::{ManifestDigest, PayloadError};
pub use oci_spec::distribution::Reference;

/// Why a text is not an image ironroot signs or verifies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinnedImageError {
    #[error("{0:?} is not an image reference")]
    NotAReference(String, #[source] oci_spec::distribution::ParseError),
    #[error(
        "{0:?} is not pinned by digest; give REGISTRY/REPOSITORY@sha256:HEX \
         (a tag can be moved to other content after it was signed or checked)"
    )]
    NotPinned(String),
    #[error("the image digest")]
    Digest(#[source] PayloadError),
}

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
    pub fn parse(text: &str) -> Result<PinnedImage, PinnedImageError> {
        let reference: Reference = text
            .parse()
            .map_err(|e| PinnedImageError::NotAReference(text.to_owned(), e))?;
        let Some(digest) = reference.digest() else {
            return Err(PinnedImageError::NotPinned(text.to_owned()));
        };
        let digest = ManifestDigest::parse(digest).map_err(PinnedImageError::Digest)?;
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

    /// The tag where cosign keeps attestations: `sha256-<hex>.att`.
    pub fn cosign_attestation_tag(&self) -> String {
        format!("{}.att", self.digest.as_str().replacen(':', "-", 1))
    }

    /// The manifest digest's hex, lowercase, as in-toto subjects name it.
    pub(crate) fn digest_hex(&self) -> String {
        self.digest
            .as_str()
            .trim_start_matches("sha256:")
            .to_ascii_lowercase()
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

/// Why a signature's claimed `docker-reference` may not vouch for the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityMismatch {
    #[error("the signed docker-reference {0:?} is not a valid reference")]
    Invalid(String),
    #[error("signed for repository {claimed}, not {image}")]
    OtherRepository { claimed: String, image: String },
    #[error(
        "the signed docker-reference {0:?} names only a repository (as cosign \
         writes); matchRepoDigestOrExact refuses that (use --match-repository to accept it)"
    )]
    RepositoryOnly(String),
    #[error("signed for {claimed:?}, not for tag {name}:{tag}")]
    OtherTag {
        claimed: String,
        name: String,
        tag: String,
    },
}

/// Whether a signature claiming `claimed` may vouch for `image` under `rule`.
pub fn check_identity(
    image: &PinnedImage,
    claimed: &str,
    rule: IdentityRule,
) -> Result<(), IdentityMismatch> {
    let parsed: Reference = claimed
        .parse()
        .map_err(|_| IdentityMismatch::Invalid(claimed.to_owned()))?;
    let claimed_name = format!("{}/{}", parsed.registry(), parsed.repository());
    if claimed_name != image.name {
        return Err(IdentityMismatch::OtherRepository {
            claimed: claimed_name,
            image: image.name.clone(),
        });
    }
    if rule == IdentityRule::Repository {
        return Ok(());
    }
    // The parser invents `latest` for a bare name; containers/image refuses it instead.
    if parsed.digest().is_none() && !last_component_has_tag(claimed) {
        return Err(IdentityMismatch::RepositoryOnly(claimed.to_owned()));
    }
    match &image.tag {
        None => Ok(()),
        Some(tag) => {
            let exact = parsed.digest().is_none() && parsed.tag() == Some(tag.as_str());
            if exact {
                Ok(())
            } else {
                Err(IdentityMismatch::OtherTag {
                    claimed: claimed.to_owned(),
                    name: image.name.clone(),
                    tag: tag.clone(),
                })
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
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn img(s: &str) -> PinnedImage {
        PinnedImage::parse(s).unwrap()
    }

    #[test]
    fn unpinned_images_are_refused() {
        for s in ["127.0.0.1:5000/app:v1", "127.0.0.1:5000/app"] {
            assert!(matches!(
                PinnedImage::parse(s),
                Err(PinnedImageError::NotPinned(_))
            ));
        }
        assert!(matches!(
            PinnedImage::parse("UPPER/Case@sha256:00"),
            Err(PinnedImageError::NotAReference(..))
        ));
    }

    #[test]
    fn digest_pinned_image_accepts_same_repository_with_tag_or_digest() {
        let i = img(&format!("127.0.0.1:5000/app@{D}"));
        assert_eq!(i.repository(), "app");
        assert_eq!(i.signed_identity(), format!("127.0.0.1:5000/app@{D}"));
        let rule = IdentityRule::RepoDigestOrExact;
        assert!(check_identity(&i, "127.0.0.1:5000/app:v1", rule).is_ok());
        assert!(check_identity(&i, &format!("127.0.0.1:5000/app@{D}"), rule).is_ok());
        assert!(matches!(
            check_identity(&i, "127.0.0.1:5000/other:v1", rule),
            Err(IdentityMismatch::OtherRepository { .. })
        ));
        assert!(check_identity(&i, "127.0.0.1:5001/app:v1", rule).is_err());
        // cosign's bare repository: only under matchRepository.
        assert!(matches!(
            check_identity(&i, "127.0.0.1:5000/app", rule),
            Err(IdentityMismatch::RepositoryOnly(_))
        ));
        assert!(check_identity(&i, "127.0.0.1:5000/app", IdentityRule::Repository).is_ok());
        assert!(matches!(
            check_identity(&i, "not a reference", rule),
            Err(IdentityMismatch::Invalid(_))
        ));
    }

    #[test]
    fn tagged_image_needs_the_exact_tag() {
        let i = img(&format!("127.0.0.1:5000/app:v1@{D}"));
        assert_eq!(i.signed_identity(), "127.0.0.1:5000/app:v1");
        let rule = IdentityRule::RepoDigestOrExact;
        assert!(check_identity(&i, "127.0.0.1:5000/app:v1", rule).is_ok());
        let e = check_identity(&i, "127.0.0.1:5000/app:v2", rule).unwrap_err();
        assert_eq!(
            e.to_string(),
            "signed for \"127.0.0.1:5000/app:v2\", not for tag 127.0.0.1:5000/app:v1"
        );
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
        assert_eq!(
            i.cosign_attestation_tag(),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.att"
        );
    }
}
