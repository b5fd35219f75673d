use crate::{CryptoError, HashAlg};
use aws_lc_rs::rsa::{
    OaepAlgorithm, OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
};
use aws_lc_rs::signature::{self as sig, RsaParameters, RsaPublicKeyComponents};

/// An RSA public key given by its modulus and exponent, as a TPM public area carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// Big-endian modulus, no leading zero byte.
    pub n: Vec<u8>,
    /// Big-endian public exponent.
    pub e: Vec<u8>,
}

impl RsaPublicKey {
    /// Builds a key from a TPM public area's modulus and exponent field, where an
    /// exponent of zero means the default 65537.
    pub fn from_tpm(modulus: &[u8], exponent: u32) -> Self {
        let e = if exponent == 0 { 65537 } else { exponent };
        let e = e.to_be_bytes();
        let first = e.iter().position(|b| *b != 0).unwrap_or(3);
        RsaPublicKey {
            n: strip_zeros(modulus).to_vec(),
            e: e[first..].to_vec(),
        }
    }

    pub fn bits(&self) -> usize {
        self.n.len() * 8
    }

    /// Verifies an RSASSA-PKCS1-v1_5 signature over `message` (hashed here with `hash`).
    pub fn verify_pkcs1(
        &self,
        hash: HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let params: &RsaParameters = match hash {
            HashAlg::Sha1 => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            HashAlg::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            HashAlg::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        };
        self.verify(params, message, signature)
    }

    /// Verifies an RSASSA-PSS signature (salt length equal to the hash length, which is
    /// what TPMs that follow FIPS 186-4 produce).
    pub fn verify_pss(
        &self,
        hash: HashAlg,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let params: &RsaParameters = match hash {
            HashAlg::Sha256 => &sig::RSA_PSS_2048_8192_SHA256,
            HashAlg::Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
            HashAlg::Sha512 => &sig::RSA_PSS_2048_8192_SHA512,
            HashAlg::Sha1 => return Err(CryptoError::Unsupported("RSA-PSS with SHA-1")),
        };
        self.verify(params, message, signature)
    }

    fn verify(
        &self,
        params: &'static RsaParameters,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(params, message, signature)
        .map_err(|_| CryptoError::BadSignature)
    }

    /// RSA-OAEP encryption with an explicit label. TPM objects use labels such as
    /// `"IDENTITY\0"` (credential seeds) and `"TPM2\0"` (key wrapping); the trailing NUL
    /// is part of the label and must be passed in.
    pub fn encrypt_oaep(
        &self,
        hash: HashAlg,
        label: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let alg: &'static OaepAlgorithm = match hash {
            HashAlg::Sha1 => &OAEP_SHA1_MGF1SHA1,
            HashAlg::Sha256 => &OAEP_SHA256_MGF1SHA256,
            HashAlg::Sha384 => &OAEP_SHA384_MGF1SHA384,
            HashAlg::Sha512 => &OAEP_SHA512_MGF1SHA512,
        };
        let key =
            PublicEncryptingKey::from_der(&self.spki_der()).map_err(|_| CryptoError::BadKey)?;
        let key = OaepPublicEncryptingKey::new(key).map_err(|_| CryptoError::BadKey)?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key
            .encrypt(alg, plaintext, &mut out, Some(label))
            .map_err(|_| CryptoError::Encrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// DER SubjectPublicKeyInfo for this key. aws-lc-rs builds encryption keys only from
    /// DER, and no small crate encodes two integers, so the few lines of DER are written here.
    pub fn spki_der(&self) -> Vec<u8> {
        let rsa_key = der_seq(&[der_uint(&self.n), der_uint(&self.e)].concat());
        // AlgorithmIdentifier { rsaEncryption, NULL }
        let alg_id: &[u8] = &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut bit_string = vec![0u8];
        bit_string.extend_from_slice(&rsa_key);
        der_seq(&[alg_id.to_vec(), der_tlv(0x03, &bit_string)].concat())
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut out = vec![0x80 | (bytes.len() - first) as u8];
    out.extend_from_slice(&bytes[first..]);
    out
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(value.len()));
    out.extend_from_slice(value);
    out
}

fn der_seq(content: &[u8]) -> Vec<u8> {
    der_tlv(0x30, content)
}

fn der_uint(be: &[u8]) -> Vec<u8> {
    let be = strip_zeros(be);
    let mut v = Vec::with_capacity(be.len() + 1);
    if be.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(be);
    der_tlv(0x02, &v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::rsa::{KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};
    use aws_lc_rs::signature::KeyPair;

    #[test]
    fn spki_der_matches_aws_lc_encoding() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let want = AsDer::<PublicKeyX509Der>::as_der(&private.public_key()).unwrap();
        let spki = want.as_ref();
        // Pull n and e back out through the signing-key API to rebuild the key.
        let signing = aws_lc_rs::rsa::KeyPair::from_pkcs8(
            AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&private)
                .unwrap()
                .as_ref(),
        )
        .unwrap();
        let comps: RsaPublicKeyComponents<Vec<u8>> = signing.public_key().into();
        let ours = RsaPublicKey {
            n: comps.n,
            e: comps.e,
        };
        assert_eq!(ours.spki_der(), spki);
    }

    #[test]
    fn oaep_with_label_decrypts_only_with_same_label() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let signing = aws_lc_rs::rsa::KeyPair::from_pkcs8(
            AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&private)
                .unwrap()
                .as_ref(),
        )
        .unwrap();
        let comps: RsaPublicKeyComponents<Vec<u8>> = signing.public_key().into();
        let public = RsaPublicKey {
            n: comps.n,
            e: comps.e,
        };
        let ct = public
            .encrypt_oaep(HashAlg::Sha256, b"TPM2\0", b"secret")
            .unwrap();
        let dec = OaepPrivateDecryptingKey::new(private).unwrap();
        let mut out = vec![0u8; dec.min_output_size()];
        let pt = dec
            .decrypt(&OAEP_SHA256_MGF1SHA256, &ct, &mut out, Some(b"TPM2\0"))
            .unwrap();
        assert_eq!(pt, b"secret");
        assert!(dec
            .decrypt(&OAEP_SHA256_MGF1SHA256, &ct, &mut out, Some(b"TPM2"))
            .is_err());
    }

    #[test]
    fn pkcs1_rejects_flipped_signature() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let kp = aws_lc_rs::rsa::KeyPair::from_pkcs8(
            AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&private)
                .unwrap()
                .as_ref(),
        )
        .unwrap();
        let mut s = vec![0u8; kp.public_modulus_len()];
        kp.sign(&sig::RSA_PKCS1_SHA256, &rng, b"quote", &mut s)
            .unwrap();
        let comps: RsaPublicKeyComponents<Vec<u8>> = kp.public_key().into();
        let public = RsaPublicKey {
            n: comps.n,
            e: comps.e,
        };
        assert!(public.verify_pkcs1(HashAlg::Sha256, b"quote", &s).is_ok());
        s[10] ^= 1;
        assert_eq!(
            public.verify_pkcs1(HashAlg::Sha256, b"quote", &s),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn from_tpm_defaults_exponent() {
        let k = RsaPublicKey::from_tpm(&[0, 0xc1, 2], 0);
        assert_eq!(k.e, vec![1, 0, 1]);
        assert_eq!(k.n, vec![0xc1, 2]);
    }
}
