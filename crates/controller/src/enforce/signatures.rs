//! Image signatures as policy facts: the cosign signatures stored beside the image in its
//! registry (`sha256-<hex>.sig`), judged by the `signing` crate's verifier (the very
//! `verify_signatures` that `ironroot verify` runs) against the cosign keys the controller
//! trusts, each named by the id policies use (`image-signed: { trusted_keys: [ID] }`); the
//! pipeline's key among them answers `pipeline_signed`.
//!
//! Verdicts are cached by the pinned image for [`SIGNATURE_TTL`]: a digest never changes,
//! but signatures can be added to it. Fetch failures are not cached.

use crate::webhook::cache::TtlCache;
use crate::webhook::images::plain_http_allowed;
use ironroot_oci::registry::{error_chain, Registry};
use ironroot_policy::SignatureFact;
use ironroot_signing::cosign::CosignError;
use ironroot_signing::verdict::CosignLayer;
use ironroot_signing::{
    verify_signatures, IdentityRule, PinnedImage, SignatureEvidence, SignatureReport, Trust,
    TrustedCosignKey,
};
use oci_spec::distribution::Reference;
use std::time::Duration;

/// How long a signature verdict is reused.
pub const SIGNATURE_TTL: Duration = Duration::from_secs(30);
const CAPACITY: usize = 4096;

/// The signature fact and the pipeline fact of one image.
pub type Verdicts = (SignatureFact, Option<bool>);

/// The trusted cosign keys, by policy id, and which one is the build pipeline's.
pub struct SignatureKeys {
    keys: Vec<(String, TrustedCosignKey)>,
    pipeline: Option<String>,
}

impl SignatureKeys {
    /// `keys`: (id, PEM public key); `pipeline`: the id of the pipeline's key.
    pub fn new(
        keys: Vec<(String, Vec<u8>)>,
        pipeline: Option<String>,
    ) -> Result<SignatureKeys, CosignError> {
        let keys = keys
            .into_iter()
            .map(|(id, pem)| TrustedCosignKey::from_pem(&pem, &id).map(|k| (id, k)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignatureKeys { keys, pipeline })
    }

    /// The policy id of the key a verified signature names (the label starts with it).
    fn id_of(&self, signer: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(_, k)| k.label == signer)
            .map(|(id, _)| id.as_str())
    }

    /// The facts a verifier's report gives: signed by the first trusted key that verified
    /// (a key other than the pipeline's first), unsigned when nothing was found, else
    /// invalid with the first reason; the pipeline's signature when its key is known.
    pub fn facts(&self, report: &SignatureReport) -> Verdicts {
        let signers: Vec<&str> = report
            .signatures
            .iter()
            .filter(|c| c.verified)
            .filter_map(|c| c.signer.as_deref().and_then(|s| self.id_of(s)))
            .collect();
        let pipeline = self.pipeline.as_deref().map(|p| signers.contains(&p));
        let preferred = signers
            .iter()
            .find(|s| Some(**s) != self.pipeline.as_deref())
            .or(signers.first());
        let signature = match preferred {
            Some(id) => SignatureFact::Signed {
                key_id: (*id).to_owned(),
            },
            None if report.signatures.is_empty() => SignatureFact::Unsigned,
            None => SignatureFact::Invalid {
                reason: report
                    .signatures
                    .iter()
                    .find_map(|c| c.reason.as_ref().map(|r| r.to_string()))
                    .unwrap_or_else(|| "no signature by a trusted key".into()),
            },
        };
        (signature, pipeline)
    }

    /// The verifier's report on `image` from `evidence`.
    pub fn verify(&self, image: &PinnedImage, evidence: &SignatureEvidence) -> SignatureReport {
        let cosign: Vec<TrustedCosignKey> = self.keys.iter().map(|(_, k)| k.clone()).collect();
        let trust = Trust {
            cosign: &cosign,
            keyring: None,
            // What `cosign sign` writes (the bare repository). The signed manifest digest
            // must still be this image's, so no other image can borrow the signature.
            rule: IdentityRule::Repository,
        };
        verify_signatures(image, &trust, evidence)
    }
}

/// Signature verdicts from the images' registries.
pub struct SignatureCheck {
    keys: SignatureKeys,
    insecure: Vec<String>,
    read_timeout: Duration,
    cache: TtlCache<String, Verdicts>,
}

impl SignatureCheck {
    pub fn new(keys: SignatureKeys, insecure_registries: Vec<String>) -> SignatureCheck {
        SignatureCheck {
            keys,
            insecure: insecure_registries,
            read_timeout: Duration::from_secs(5),
            cache: TtlCache::new(Some(SIGNATURE_TTL), CAPACITY),
        }
    }

    /// The verdicts on `image` (as the pod names it) resolved to `digest`.
    pub async fn check(&self, image: &str, digest: &str) -> Result<Verdicts, String> {
        let reference: Reference = image
            .parse()
            .map_err(|e| format!("not an image reference: {e}"))?;
        let pinned = format!(
            "{}/{}@{digest}",
            reference.registry(),
            reference.repository()
        );
        if let Some(v) = self.cache.get(&pinned) {
            return Ok(v);
        }
        let pinned_image = PinnedImage::parse(&pinned).map_err(|e| e.to_string())?;
        let plain = plain_http_allowed(reference.resolve_registry(), &self.insecure);
        let registry = Registry::connect(&pinned_image.reference, plain, self.read_timeout)
            .map_err(|e| error_chain(&e))?;
        let found = registry
            .signatures(&pinned_image)
            .await
            .map_err(|e| error_chain(&e))?;
        let evidence = SignatureEvidence {
            cosign: Some(
                found
                    .into_iter()
                    .map(|s| CosignLayer {
                        index: s.index,
                        media_type: s.media_type,
                        payload: s.payload,
                        signature_b64: s.signature_b64,
                    })
                    .collect(),
            ),
            lookaside: None,
        };
        let verdicts = self.keys.facts(&self.keys.verify(&pinned_image, &evidence));
        self.cache.insert(pinned, verdicts.clone());
        Ok(verdicts)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ironroot_signing::cosign::{CosignSigningKey, PAYLOAD_MEDIA_TYPE};
    use ironroot_signing::{ManifestDigest, PayloadType, SimpleSigningPayload};

    const IMAGE: &str = "127.0.0.1:5000/apps/web";
    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn key() -> (CosignSigningKey, Vec<u8>) {
        let k = CosignSigningKey::generate().unwrap();
        let pem = k.public_key().unwrap().to_pem().unwrap().into_bytes();
        (k, pem)
    }

    fn signed_by(key: &CosignSigningKey, digest: &str) -> CosignLayer {
        let digest = ManifestDigest::parse(digest).unwrap();
        let p = SimpleSigningPayload::new(PayloadType::Cosign, IMAGE, digest)
            .unwrap()
            .to_json()
            .unwrap();
        CosignLayer {
            index: 0,
            media_type: PAYLOAD_MEDIA_TYPE.into(),
            signature_b64: Some(key.sign(&p).unwrap()),
            payload: Ok(p),
        }
    }

    fn verdicts(keys: &SignatureKeys, layers: Vec<CosignLayer>) -> Verdicts {
        let image = PinnedImage::parse(&format!("{IMAGE}@{DIGEST}")).unwrap();
        let evidence = SignatureEvidence {
            cosign: Some(layers),
            lookaside: None,
        };
        keys.facts(&keys.verify(&image, &evidence))
    }

    #[test]
    fn signatures_become_facts_named_by_the_policy_ids() {
        let (release, release_pem) = key();
        let (pipeline, pipeline_pem) = key();
        let (stranger, _) = key();
        let keys = SignatureKeys::new(
            vec![
                ("release-key".into(), release_pem),
                ("pipeline".into(), pipeline_pem),
            ],
            Some("pipeline".into()),
        )
        .unwrap();
        let signed = |id: &str| SignatureFact::Signed { key_id: id.into() };
        assert_eq!(
            verdicts(
                &keys,
                vec![signed_by(&pipeline, DIGEST), signed_by(&release, DIGEST)]
            ),
            (signed("release-key"), Some(true)),
            "the release key is named before the pipeline's"
        );
        assert_eq!(
            verdicts(&keys, vec![signed_by(&pipeline, DIGEST)]),
            (signed("pipeline"), Some(true))
        );
        assert_eq!(
            verdicts(&keys, vec![]),
            (SignatureFact::Unsigned, Some(false))
        );
        let other = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
        for layers in [
            vec![signed_by(&stranger, DIGEST)],
            vec![signed_by(&release, other)],
        ] {
            let (fact, pipeline) = verdicts(&keys, layers);
            assert!(matches!(fact, SignatureFact::Invalid { .. }), "{fact:?}");
            assert_eq!(pipeline, Some(false));
        }
        // Without a pipeline key, the pipeline's signature stays unknown.
        let (_, pem) = key();
        let only = SignatureKeys::new(vec![("k".into(), pem)], None).unwrap();
        assert_eq!(verdicts(&only, vec![]).1, None);
    }
}
