//! TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4) for the schemes attestation keys use.

use crate::alg;
use crate::wire::{Reader, WireError, Writer};
use ironroot_crypto::HashAlg;

/// RSA-4096 signatures are the largest a TPM makes.
const MAX_RSA_SIG: usize = 512;
/// TPM2B_ECC_PARAMETER, generous for P-521.
const MAX_ECC_PARAM: usize = 128;

/// A TPMT_SIGNATURE with the hash the TPM signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signature {
    RsaSsa {
        hash: HashAlg,
        sig: Vec<u8>,
    },
    RsaPss {
        hash: HashAlg,
        sig: Vec<u8>,
    },
    Ecdsa {
        hash: HashAlg,
        r: Vec<u8>,
        s: Vec<u8>,
    },
}

impl Signature {
    /// Parses a TPMT_SIGNATURE (as `tpm2_quote -s` writes it); no bytes may follow.
    pub fn parse(bytes: &[u8]) -> Result<Signature, WireError> {
        let mut r = Reader::new(bytes);
        let sig_alg = r.u16("sigAlg")?;
        let sig = match sig_alg {
            alg::RSASSA | alg::RSAPSS => {
                let hash = alg::hash_from_tpm(r.u16("signature.hash")?)?;
                let sig = r.tpm2b(MAX_RSA_SIG, "signature.rsa")?.to_vec();
                if sig_alg == alg::RSASSA {
                    Signature::RsaSsa { hash, sig }
                } else {
                    Signature::RsaPss { hash, sig }
                }
            }
            alg::ECDSA => Signature::Ecdsa {
                hash: alg::hash_from_tpm(r.u16("signature.hash")?)?,
                r: r.tpm2b(MAX_ECC_PARAM, "signature.r")?.to_vec(),
                s: r.tpm2b(MAX_ECC_PARAM, "signature.s")?.to_vec(),
            },
            other => return Err(WireError::UnsupportedAlgorithm(other)),
        };
        r.finish()?;
        Ok(sig)
    }

    /// The TPM_ALG_ID of the signature scheme.
    pub fn sig_alg(&self) -> u16 {
        match self {
            Signature::RsaSsa { .. } => alg::RSASSA,
            Signature::RsaPss { .. } => alg::RSAPSS,
            Signature::Ecdsa { .. } => alg::ECDSA,
        }
    }

    pub fn hash(&self) -> HashAlg {
        match self {
            Signature::RsaSsa { hash, .. }
            | Signature::RsaPss { hash, .. }
            | Signature::Ecdsa { hash, .. } => *hash,
        }
    }

    /// Marshals as TPMT_SIGNATURE, the form tpm2-tools reads with `-s`.
    pub fn marshal(&self) -> Result<Vec<u8>, WireError> {
        let mut w = Writer::new();
        w.u16(self.sig_alg()).u16(alg::hash_to_tpm(self.hash()));
        match self {
            Signature::RsaSsa { sig, .. } | Signature::RsaPss { sig, .. } => {
                w.tpm2b(sig, "signature.rsa")?;
            }
            Signature::Ecdsa { r, s, .. } => {
                w.tpm2b(r, "signature.r")?.tpm2b(s, "signature.s")?;
            }
        }
        Ok(w.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &[u8] = include_bytes!("../tests/fixtures/quote-rsa.sig");
    const ECC: &[u8] = include_bytes!("../tests/fixtures/quote-ecc.sig");

    #[test]
    fn swtpm_signatures_parse_and_marshal_back_identically() {
        let rsa = Signature::parse(RSA).unwrap();
        assert!(
            matches!(rsa, Signature::RsaSsa { hash: HashAlg::Sha256, ref sig } if sig.len() == 256)
        );
        assert_eq!(rsa.marshal().unwrap(), RSA);
        let ecc = Signature::parse(ECC).unwrap();
        assert_eq!((ecc.sig_alg(), ecc.hash()), (alg::ECDSA, HashAlg::Sha256));
        assert_eq!(ecc.marshal().unwrap(), ECC);
    }

    #[test]
    fn pss_round_trips() {
        let pss = Signature::RsaPss {
            hash: HashAlg::Sha384,
            sig: vec![7; 3],
        };
        assert_eq!(Signature::parse(&pss.marshal().unwrap()).unwrap(), pss);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for bytes in [RSA, ECC] {
            for n in 0..bytes.len() {
                assert!(Signature::parse(&bytes[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn unknown_scheme_hash_and_trailing_bytes_are_refused() {
        assert_eq!(
            Signature::parse(&[0, 0x1a, 0, 0x0b]),
            Err(WireError::UnsupportedAlgorithm(0x1a))
        );
        assert_eq!(
            Signature::parse(&[0, 0x14, 0, 0x10, 0, 0]),
            Err(WireError::UnsupportedAlgorithm(alg::NULL))
        );
        let mut b = RSA.to_vec();
        b.push(1);
        assert_eq!(Signature::parse(&b), Err(WireError::TrailingBytes));
    }
}
