//! TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4): the public area of a TPM key, and Names.

use crate::alg;
use crate::wire::{Reader, WireError, Writer};
use ironroot_crypto::{EcCurve, EcPublicKey, HashAlg, RsaPublicKey};

/// Largest digest a TPMU_HA holds (SHA-512).
pub(crate) const MAX_DIGEST: usize = 64;
/// TPM2B_NAME: a u16 algorithm id and a digest.
pub(crate) const MAX_NAME: usize = 2 + MAX_DIGEST;
/// RSA-4096, the largest modulus any TPM supports.
const MAX_RSA_BYTES: usize = 512;
/// Generous for P-521 (66 bytes); refuses nothing a real TPM produces.
const MAX_ECC_BYTES: usize = 128;

pub const TPM_RH_OWNER: u32 = 0x4000_0001;
pub const TPM_RH_NULL: u32 = 0x4000_0007;
pub const TPM_RH_ENDORSEMENT: u32 = 0x4000_000B;
pub const TPM_RH_PLATFORM: u32 = 0x4000_000C;

/// TPMA_OBJECT (Part 2 §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectAttributes(pub u32);

impl ObjectAttributes {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const ST_CLEAR: u32 = 1 << 2;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const ADMIN_WITH_POLICY: u32 = 1 << 7;
    pub const NO_DA: u32 = 1 << 10;
    pub const ENCRYPTED_DUPLICATION: u32 = 1 << 11;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN: u32 = 1 << 18;

    /// True when every bit of `flags` is set.
    pub const fn has(self, flags: u32) -> bool {
        self.0 & flags == flags
    }
    pub const fn fixed_tpm(self) -> bool {
        self.has(Self::FIXED_TPM)
    }
    pub const fn fixed_parent(self) -> bool {
        self.has(Self::FIXED_PARENT)
    }
    pub const fn sensitive_data_origin(self) -> bool {
        self.has(Self::SENSITIVE_DATA_ORIGIN)
    }
    pub const fn restricted(self) -> bool {
        self.has(Self::RESTRICTED)
    }
    pub const fn decrypt(self) -> bool {
        self.has(Self::DECRYPT)
    }
    pub const fn sign(self) -> bool {
        self.has(Self::SIGN)
    }
}

/// TPMT_SYM_DEF_OBJECT when its algorithm is not NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymDef {
    pub algorithm: u16,
    pub key_bits: u16,
    /// TPM_ALG_NULL for XOR, which has no mode.
    pub mode: u16,
}

/// A scheme selector with its hash (TPMT_RSA_SCHEME, TPMT_ECC_SCHEME, TPMT_KDF_SCHEME,
/// TPMT_KEYEDHASH_SCHEME). `hash_alg` is TPM_ALG_NULL when the scheme carries none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    pub scheme: u16,
    pub hash_alg: u16,
}

impl Scheme {
    pub const NULL: Scheme = Scheme {
        scheme: alg::NULL,
        hash_alg: alg::NULL,
    };
}

/// TPMU_PUBLIC_PARMS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicParams {
    Rsa {
        symmetric: Option<SymDef>,
        scheme: Scheme,
        key_bits: u16,
        exponent: u32,
    },
    Ecc {
        symmetric: Option<SymDef>,
        scheme: Scheme,
        curve: u16,
        kdf: Scheme,
    },
    KeyedHash {
        scheme: Scheme,
    },
    SymCipher {
        symmetric: Option<SymDef>,
    },
}

/// TPMU_PUBLIC_ID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unique {
    Rsa { modulus: Vec<u8> },
    Ecc { x: Vec<u8>, y: Vec<u8> },
    Digest(Vec<u8>),
}

/// A parsed TPMT_PUBLIC. It keeps the bytes it came from, because the Name is a hash of
/// exactly those bytes and re-marshalling could differ from what the TPM hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmPublic {
    object_type: u16,
    name_alg: HashAlg,
    attributes: ObjectAttributes,
    auth_policy: Vec<u8>,
    params: PublicParams,
    unique: Unique,
    raw: Vec<u8>,
}

impl TpmPublic {
    /// Parses a TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC), as `tpm2_createak -u` writes.
    pub fn parse(tpm2b_public: &[u8]) -> Result<TpmPublic, WireError> {
        let mut r = Reader::new(tpm2b_public);
        let inner = r.tpm2b(usize::from(u16::MAX), "TPM2B_PUBLIC")?;
        r.finish()?;
        Self::parse_tpmt(inner)
    }

    /// Parses a bare TPMT_PUBLIC.
    pub fn parse_tpmt(bytes: &[u8]) -> Result<TpmPublic, WireError> {
        let mut r = Reader::new(bytes);
        let object_type = r.u16("type")?;
        let name_alg = alg::hash_from_tpm(r.u16("nameAlg")?)?;
        let attributes = ObjectAttributes(r.u32("objectAttributes")?);
        let auth_policy = r.tpm2b(MAX_DIGEST, "authPolicy")?.to_vec();
        let params = read_params(&mut r, object_type)?;
        let unique = read_unique(&mut r, object_type)?;
        r.finish()?;
        Ok(TpmPublic {
            object_type,
            name_alg,
            attributes,
            auth_policy,
            params,
            unique,
            raw: bytes.to_vec(),
        })
    }

    /// The TPMT_PUBLIC bytes this was parsed from.
    pub fn tpmt_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// This public area as a TPM2B_PUBLIC.
    pub fn to_tpm2b(&self) -> Result<Vec<u8>, WireError> {
        crate::wire::tpm2b(&self.raw, "TPM2B_PUBLIC")
    }

    pub fn object_type(&self) -> u16 {
        self.object_type
    }
    pub fn name_alg(&self) -> HashAlg {
        self.name_alg
    }
    pub fn attributes(&self) -> ObjectAttributes {
        self.attributes
    }
    pub fn auth_policy(&self) -> &[u8] {
        &self.auth_policy
    }
    pub fn params(&self) -> &PublicParams {
        &self.params
    }
    pub fn unique(&self) -> &Unique {
        &self.unique
    }

    /// The Name (Part 1 §16): `nameAlg || H_nameAlg(TPMT_PUBLIC)`.
    pub fn name(&self) -> Vec<u8> {
        let mut out = alg::hash_to_tpm(self.name_alg).to_be_bytes().to_vec();
        out.extend(ironroot_crypto::digest(self.name_alg, &self.raw));
        out
    }

    pub fn rsa_key(&self) -> Option<RsaPublicKey> {
        match (&self.params, &self.unique) {
            (PublicParams::Rsa { exponent, .. }, Unique::Rsa { modulus })
                if !modulus.is_empty() =>
            {
                Some(RsaPublicKey::from_tpm(modulus, *exponent))
            }
            _ => None,
        }
    }

    pub fn ecc_key(&self) -> Option<EcPublicKey> {
        match (&self.params, &self.unique) {
            (PublicParams::Ecc { curve, .. }, Unique::Ecc { x, y }) => {
                let curve = match *curve {
                    alg::ECC_NIST_P256 => EcCurve::P256,
                    alg::ECC_NIST_P384 => EcCurve::P384,
                    _ => return None,
                };
                Some(EcPublicKey {
                    curve,
                    x: x.clone(),
                    y: y.clone(),
                })
            }
            _ => None,
        }
    }

    /// The signing scheme of an RSA or ECC key (NULL when the key leaves it to the caller).
    pub fn scheme(&self) -> Scheme {
        match &self.params {
            PublicParams::Rsa { scheme, .. } | PublicParams::Ecc { scheme, .. } => *scheme,
            PublicParams::KeyedHash { scheme } => *scheme,
            PublicParams::SymCipher { .. } => Scheme::NULL,
        }
    }

    /// The symmetric definition a storage or endorsement key protects children with.
    pub fn symmetric(&self) -> Option<SymDef> {
        match &self.params {
            PublicParams::Rsa { symmetric, .. }
            | PublicParams::Ecc { symmetric, .. }
            | PublicParams::SymCipher { symmetric } => *symmetric,
            PublicParams::KeyedHash { .. } => None,
        }
    }

    /// An attestation key as TPM2_Quote requires (restricted, sign-only) whose private part
    /// was generated inside, and never leaves, this TPM.
    pub fn is_restricted_signing_key(&self) -> bool {
        let a = self.attributes;
        a.restricted()
            && a.sign()
            && !a.decrypt()
            && a.fixed_tpm()
            && a.fixed_parent()
            && a.sensitive_data_origin()
    }

    /// A key that can decrypt credential seeds (an EK or storage key): restricted, decrypt-only.
    pub fn is_restricted_decryption_key(&self) -> bool {
        let a = self.attributes;
        a.restricted() && a.decrypt() && !a.sign()
    }
}

/// Qualified Name of an object (Part 1 §16.5): `nameAlg || H_nameAlg(parentQN || name)`.
pub fn qualified_name(parent_qualified_name: &[u8], name: &[u8], name_alg: HashAlg) -> Vec<u8> {
    let mut out = alg::hash_to_tpm(name_alg).to_be_bytes().to_vec();
    let mut h = ironroot_crypto::Hasher::new(name_alg);
    h.update(parent_qualified_name).update(name);
    out.extend(h.finish());
    out
}

/// A hierarchy's Qualified Name is its handle, marshalled (Part 1 §16.5).
pub fn hierarchy_qualified_name(handle: u32) -> Vec<u8> {
    handle.to_be_bytes().to_vec()
}

fn read_params(r: &mut Reader<'_>, object_type: u16) -> Result<PublicParams, WireError> {
    Ok(match object_type {
        alg::RSA => PublicParams::Rsa {
            symmetric: read_sym_def(r)?,
            scheme: read_scheme(r, "TPMT_RSA_SCHEME")?,
            key_bits: r.u16("keyBits")?,
            exponent: r.u32("exponent")?,
        },
        alg::ECC => PublicParams::Ecc {
            symmetric: read_sym_def(r)?,
            scheme: read_scheme(r, "TPMT_ECC_SCHEME")?,
            curve: r.u16("curveID")?,
            kdf: read_scheme(r, "TPMT_KDF_SCHEME")?,
        },
        alg::KEYEDHASH => PublicParams::KeyedHash {
            scheme: read_keyedhash_scheme(r)?,
        },
        alg::SYMCIPHER => PublicParams::SymCipher {
            symmetric: read_sym_def(r)?,
        },
        other => return Err(WireError::UnsupportedAlgorithm(other)),
    })
}

fn read_sym_def(r: &mut Reader<'_>) -> Result<Option<SymDef>, WireError> {
    let algorithm = r.u16("symmetric.algorithm")?;
    match algorithm {
        alg::NULL => Ok(None),
        // XOR's "keyBits" is a hash algorithm and it has no mode (TPMU_SYM_MODE is empty).
        alg::XOR => Ok(Some(SymDef {
            algorithm,
            key_bits: r.u16("symmetric.keyBits")?,
            mode: alg::NULL,
        })),
        _ => Ok(Some(SymDef {
            algorithm,
            key_bits: r.u16("symmetric.keyBits")?,
            mode: r.u16("symmetric.mode")?,
        })),
    }
}

/// Asymmetric and KDF schemes: the details are a hash, except RSAES (empty) and ECDAA
/// (hash and a u16 count, which nothing here needs).
fn read_scheme(r: &mut Reader<'_>, what: &'static str) -> Result<Scheme, WireError> {
    const ECDAA: u16 = 0x001A;
    const SM2: u16 = 0x001B;
    const ECSCHNORR: u16 = 0x001C;
    const MGF1: u16 = 0x0007;
    const KDF1_SP800_56A: u16 = 0x0020;
    const KDF2: u16 = 0x0021;
    const KDF1_SP800_108: u16 = 0x0022;
    let scheme = r.u16(what)?;
    let hash_alg = match scheme {
        alg::NULL | alg::RSAES => alg::NULL,
        alg::RSASSA
        | alg::RSAPSS
        | alg::OAEP
        | alg::ECDSA
        | alg::ECDH
        | SM2
        | ECSCHNORR
        | MGF1
        | KDF1_SP800_56A
        | KDF2
        | KDF1_SP800_108 => r.u16(what)?,
        ECDAA => {
            let h = r.u16(what)?;
            r.u16(what)?;
            h
        }
        other => return Err(WireError::UnsupportedAlgorithm(other)),
    };
    Ok(Scheme { scheme, hash_alg })
}

fn read_keyedhash_scheme(r: &mut Reader<'_>) -> Result<Scheme, WireError> {
    let scheme = r.u16("TPMT_KEYEDHASH_SCHEME")?;
    let hash_alg = match scheme {
        alg::NULL => alg::NULL,
        alg::HMAC => r.u16("TPMS_SCHEME_HMAC")?,
        alg::XOR => {
            let h = r.u16("TPMS_SCHEME_XOR")?;
            r.u16("TPMS_SCHEME_XOR.kdf")?;
            h
        }
        other => return Err(WireError::UnsupportedAlgorithm(other)),
    };
    Ok(Scheme { scheme, hash_alg })
}

fn read_unique(r: &mut Reader<'_>, object_type: u16) -> Result<Unique, WireError> {
    Ok(match object_type {
        alg::RSA => Unique::Rsa {
            modulus: r.tpm2b(MAX_RSA_BYTES, "unique.rsa")?.to_vec(),
        },
        alg::ECC => Unique::Ecc {
            x: r.tpm2b(MAX_ECC_BYTES, "unique.ecc.x")?.to_vec(),
            y: r.tpm2b(MAX_ECC_BYTES, "unique.ecc.y")?.to_vec(),
        },
        _ => Unique::Digest(r.tpm2b(MAX_DIGEST, "unique.digest")?.to_vec()),
    })
}

/// Marshals TPMS_ECC_POINT (two TPM2B coordinates), as an ECC encrypted secret carries it.
pub(crate) fn marshal_ecc_point(x: &[u8], y: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut w = Writer::new();
    w.tpm2b(x, "x")?.tpm2b(y, "y")?;
    Ok(w.into_bytes())
}

#[cfg(test)]
#[path = "public_tests.rs"]
mod tests;
