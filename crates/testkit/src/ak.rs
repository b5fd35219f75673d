//! A software attestation key that marshals its public area as a TPM restricted signing
//! key and signs TPM2_Quote structures the way a TPM does.

use crate::signer::SigningKey;
use crate::FixtureError;
use ironroot_crypto::{HashAlg, Hasher};
use ironroot_tpm_wire::{
    alg, hierarchy_qualified_name, qualified_name, ObjectAttributes as A, PcrSelection, PcrValues,
    Signature, TpmPublic, Writer, TPM_GENERATED_VALUE, TPM_RH_ENDORSEMENT, TPM_ST_ATTEST_QUOTE,
};

/// The algorithm of a software AK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AkKind {
    /// ECDSA P-256 with SHA-256: the cheapest to sign with (tens of µs).
    EcdsaP256,
    /// RSA-2048, RSASSA-PKCS1-v1_5 with SHA-256, as `tpm2_createak` makes by default.
    Rsa2048,
}

/// TPMS_CLOCK_INFO as the quote reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteClock {
    /// Milliseconds the TPM has been powered; must not go backwards within one boot.
    pub clock: u64,
    pub reset_count: u32,
    pub restart_count: u32,
}

/// One quote as an agent sends it.
#[derive(Debug, Clone)]
pub struct Quote {
    /// Marshalled TPMS_ATTEST.
    pub attest: Vec<u8>,
    /// Marshalled TPMT_SIGNATURE.
    pub signature: Vec<u8>,
    /// The bare signature inside `signature` (RSA signature, or ECDSA `r || s`).
    pub raw_signature: Vec<u8>,
    /// The values of exactly the selected PCRs (zeros where `pcrs` had none).
    pub pcrs: PcrValues,
}

/// The firmware version a software AK reports.
const FIRMWARE_VERSION: u64 = 0x2023_0101_0000_0000;
/// TPMS_PCR_SELECT sizeofSelect: PCRs 0-23.
const SIZEOF_SELECT: u8 = 3;

/// A software attestation key. Its qualified name is taken as if it were a primary-like
/// child of the endorsement hierarchy: `qualified_name(TPM_RH_ENDORSEMENT, Name(AK))`.
/// There is no EK; the service's benchmark enrollment computes the same value.
pub struct SoftwareAk {
    key: SigningKey,
    public: TpmPublic,
    qualified_name: Vec<u8>,
}

impl std::fmt::Debug for SoftwareAk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareAk")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SoftwareAk {
    pub fn generate(kind: AkKind) -> Result<Self, FixtureError> {
        let key = match kind {
            AkKind::EcdsaP256 => SigningKey::generate_p256()?,
            AkKind::Rsa2048 => SigningKey::generate_rsa2048()?,
        };
        let public = TpmPublic::parse_tpmt(&tpmt_public(&key)?)?;
        let qualified_name = bench_qualified_name(&public);
        Ok(SoftwareAk {
            key,
            public,
            qualified_name,
        })
    }

    pub fn public(&self) -> &TpmPublic {
        &self.public
    }

    /// TPM2B_PUBLIC, as an agent sends it at enrollment.
    pub fn tpm2b_public(&self) -> Result<Vec<u8>, FixtureError> {
        Ok(self.public.to_tpm2b()?)
    }

    /// The same key claiming another qualified name in its quotes: what a forger does to
    /// pass for an AK enrolled under a real EK.
    pub fn with_qualified_name(mut self, qualified_name: Vec<u8>) -> Self {
        self.qualified_name = qualified_name;
        self
    }

    /// What this key's quotes carry as qualifiedSigner.
    pub fn qualified_name(&self) -> &[u8] {
        &self.qualified_name
    }

    /// TPM2_Quote of `selection` from `pcrs` with `nonce` as qualifying data.
    pub fn quote(
        &self,
        nonce: &[u8],
        clock: QuoteClock,
        pcrs: &PcrValues,
        selection: &PcrSelection,
    ) -> Result<Quote, FixtureError> {
        let (quoted, composite) = select(pcrs, selection);
        let mut w = Writer::new();
        w.u32(TPM_GENERATED_VALUE)
            .u16(TPM_ST_ATTEST_QUOTE)
            .tpm2b(&self.qualified_name, "qualifiedSigner")?
            .tpm2b(nonce, "extraData")?
            .bytes(&clock.clock.to_be_bytes())
            .u32(clock.reset_count)
            .u32(clock.restart_count)
            .bytes(&[1])
            .bytes(&FIRMWARE_VERSION.to_be_bytes())
            .u32(u32::try_from(selection.0.len()).map_err(|_| FixtureError::Key)?);
        for (bank, indices) in &selection.0 {
            w.u16(alg::hash_to_tpm(*bank))
                .bytes(&[SIZEOF_SELECT])
                .bytes(&bitmap(indices)?);
        }
        w.tpm2b(&composite, "pcrDigest")?;
        let attest = w.into_bytes();
        let raw_signature = self.key.sign(&attest)?;
        let signature = match self.key.p256_point() {
            Some(_) => Signature::Ecdsa {
                hash: HashAlg::Sha256,
                r: raw_signature[..32].to_vec(),
                s: raw_signature[32..].to_vec(),
            },
            None => Signature::RsaSsa {
                hash: HashAlg::Sha256,
                sig: raw_signature.clone(),
            },
        }
        .marshal()?;
        Ok(Quote {
            attest,
            signature,
            raw_signature,
            pcrs: quoted,
        })
    }
}

/// The qualified name benchmark enrollment records for a software AK (see [`SoftwareAk`]).
pub fn bench_qualified_name(ak: &TpmPublic) -> Vec<u8> {
    qualified_name(
        &hierarchy_qualified_name(TPM_RH_ENDORSEMENT),
        &ak.name(),
        ak.name_alg(),
    )
}

/// TPMT_PUBLIC of a restricted signing key, with the attributes `tpm2_createak` sets.
fn tpmt_public(key: &SigningKey) -> Result<Vec<u8>, FixtureError> {
    let attributes = A::FIXED_TPM
        | A::FIXED_PARENT
        | A::SENSITIVE_DATA_ORIGIN
        | A::USER_WITH_AUTH
        | A::RESTRICTED
        | A::SIGN;
    let sha256 = alg::hash_to_tpm(HashAlg::Sha256);
    let mut w = Writer::new();
    match (key.rsa_modulus(), key.p256_point()) {
        (Some(modulus), _) => {
            w.u16(alg::RSA)
                .u16(sha256)
                .u32(attributes)
                .tpm2b(&[], "authPolicy")?
                .u16(alg::NULL)
                .u16(alg::RSASSA)
                .u16(sha256)
                .u16(2048)
                .u32(0)
                .tpm2b(&modulus, "unique")?;
        }
        (None, Some((x, y))) => {
            w.u16(alg::ECC)
                .u16(sha256)
                .u32(attributes)
                .tpm2b(&[], "authPolicy")?
                .u16(alg::NULL)
                .u16(alg::ECDSA)
                .u16(sha256)
                .u16(alg::ECC_NIST_P256)
                .u16(alg::NULL)
                .tpm2b(&x, "unique.x")?
                .tpm2b(&y, "unique.y")?;
        }
        (None, None) => return Err(FixtureError::Key),
    }
    Ok(w.into_bytes())
}

/// The selected values (zeros for a PCR never extended) and their SHA-256 composite
/// digest, in the order a TPM hashes them: bank by bank, ascending index.
fn select(pcrs: &PcrValues, selection: &PcrSelection) -> (PcrValues, Vec<u8>) {
    let mut quoted = PcrValues::default();
    let mut h = Hasher::new(HashAlg::Sha256);
    for (bank, indices) in &selection.0 {
        let mut sorted = indices.clone();
        sorted.sort_unstable();
        sorted.dedup();
        for i in sorted {
            let v = pcrs
                .get(*bank, i)
                .map_or_else(|| vec![0; bank.len()], |d| d.0.clone());
            h.update(&v);
            quoted.set(*bank, i, v);
        }
    }
    (quoted, h.finish())
}

fn bitmap(indices: &[u32]) -> Result<[u8; 3], FixtureError> {
    let mut map = [0u8; 3];
    for &i in indices {
        let byte = map
            .get_mut(usize::try_from(i / 8).map_err(|_| FixtureError::PcrIndex(i))?)
            .ok_or(FixtureError::PcrIndex(i))?;
        *byte |= 1 << (i % 8);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironroot_tpm_wire::verify_quote;

    fn sha256_0_to_10() -> PcrSelection {
        PcrSelection(vec![(HashAlg::Sha256, (0..=10).collect())])
    }

    fn some_pcrs() -> PcrValues {
        let mut p = PcrValues::default();
        for i in 0..=10 {
            p.set(HashAlg::Sha256, i, vec![i as u8; 32]);
        }
        p
    }

    #[test]
    fn quotes_of_both_key_kinds_verify_with_the_bench_qualified_name() {
        for kind in [AkKind::EcdsaP256, AkKind::Rsa2048] {
            let ak = SoftwareAk::generate(kind).unwrap();
            let public = TpmPublic::parse(&ak.tpm2b_public().unwrap()).unwrap();
            assert!(public.is_restricted_signing_key());
            assert_eq!(bench_qualified_name(&public), ak.qualified_name());
            let clock = QuoteClock {
                clock: 1234,
                reset_count: 7,
                restart_count: 1,
            };
            let q = ak
                .quote(b"nonce-123", clock, &some_pcrs(), &sha256_0_to_10())
                .unwrap();
            let v = verify_quote(
                &public,
                Some(ak.qualified_name()),
                &q.attest,
                &q.signature,
                b"nonce-123",
                &q.pcrs,
            )
            .unwrap();
            assert_eq!(v.clock_info().clock, 1234);
            assert_eq!(v.clock_info().reset_count, 7);
            assert_eq!(v.pcrs(), &q.pcrs);
        }
    }

    #[test]
    fn a_quote_does_not_verify_with_another_nonce_or_other_pcrs() {
        let ak = SoftwareAk::generate(AkKind::EcdsaP256).unwrap();
        let clock = QuoteClock {
            clock: 1,
            reset_count: 0,
            restart_count: 0,
        };
        let q = ak
            .quote(b"n1", clock, &some_pcrs(), &sha256_0_to_10())
            .unwrap();
        let check = |nonce: &[u8], pcrs: &PcrValues| {
            verify_quote(ak.public(), None, &q.attest, &q.signature, nonce, pcrs)
        };
        assert!(check(b"n2", &q.pcrs).is_err());
        let mut other = q.pcrs.clone();
        other.set(HashAlg::Sha256, 3, vec![0xEE; 32]);
        assert!(check(b"n1", &other).is_err());
        assert!(check(b"n1", &q.pcrs).is_ok());
    }

    #[test]
    fn unselected_pcrs_are_absent_and_missing_ones_are_zero() {
        let ak = SoftwareAk::generate(AkKind::EcdsaP256).unwrap();
        let sel = PcrSelection(vec![(HashAlg::Sha256, vec![10, 0])]);
        let mut pcrs = PcrValues::default();
        pcrs.set(HashAlg::Sha256, 0, vec![1; 32]);
        pcrs.set(HashAlg::Sha256, 5, vec![5; 32]);
        let clock = QuoteClock {
            clock: 1,
            reset_count: 0,
            restart_count: 0,
        };
        let q = ak.quote(b"n", clock, &pcrs, &sel).unwrap();
        assert!(q.pcrs.get(HashAlg::Sha256, 5).is_none());
        assert_eq!(q.pcrs.get(HashAlg::Sha256, 10).unwrap().0, vec![0; 32]);
        assert!(verify_quote(ak.public(), None, &q.attest, &q.signature, b"n", &q.pcrs).is_ok());
    }

    #[test]
    fn pcr_index_beyond_23_is_refused() {
        assert!(matches!(bitmap(&[24]), Err(FixtureError::PcrIndex(24))));
    }
}
