//! cosign's key files and signatures (ECDSA P-256, SHA-256).
//!
//! * Public key: PEM `PUBLIC KEY`, DER SubjectPublicKeyInfo.
//! * Private key: PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign wrote `ENCRYPTED COSIGN
//!   PRIVATE KEY`; both are read, the new one is written). Its body is the JSON of
//!   go-securesystemslib's `encrypted` package: `{"kdf":{"name":"scrypt","params":{"N","r","p"},
//!   "salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}` (byte fields base64),
//!   sealing a PKCS#8 EC private key under scrypt(password, salt).
//! * Signature: ASN.1 DER ECDSA over SHA-256(payload), base64 in the
//!   `dev.cosignproject.cosign/signature` annotation of the `sha256-<hex>.sig` tag's layer.

use crate::payload::{PayloadType, SimpleSigningPayload};
use crate::pem;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ironroot_crypto::{
    password_box_open, password_box_seal, EcCurve, EcPublicKey, EcdsaP256SigningKey, HashAlg,
    PasswordBox, ScryptParams,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The annotation on the signature layer that carries the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The media type of the signature layer (the payload itself).
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The label ironroot writes, as current cosign does.
pub const PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign releases wrote; still read.
pub const LEGACY_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
// A DER P-256 signature is at most 72 bytes; its base64 fits well within this.
const MAX_SIGNATURE_B64_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CosignError {
    #[error("key file: {0}")]
    Pem(#[from] pem::PemError),
    #[error("wrong password, or the private key file is corrupted")]
    WrongPassword,
    #[error("an empty password must be chosen explicitly with KeyPassword::Empty")]
    EmptyPasswordNotChosen,
    #[error("unsupported private key file: {0}")]
    UnsupportedKeyFile(String),
    #[error("the key is not an ECDSA P-256 key")]
    NotP256,
    #[error("signature is not valid base64 DER of acceptable size")]
    MalformedSignature,
    #[error("signature does not verify")]
    BadSignature,
    #[error("signed payload: {0}")]
    Payload(#[from] crate::payload::PayloadError),
    #[error("crypto: {0}")]
    Crypto(ironroot_crypto::CryptoError),
}

/// The password protecting a private key file. cosign allows an empty one; ironroot makes
/// the caller say so rather than take an empty string by accident.
#[derive(Clone, Copy)]
pub enum KeyPassword<'a> {
    Given(&'a [u8]),
    Empty,
}

impl KeyPassword<'_> {
    fn bytes(&self) -> Result<&[u8], CosignError> {
        match self {
            KeyPassword::Given([]) => Err(CosignError::EmptyPasswordNotChosen),
            KeyPassword::Given(p) => Ok(p),
            KeyPassword::Empty => Ok(b""),
        }
    }
}

/// A cosign verification key (P-256 only: the format's MUST, and all `ironroot sign` makes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignPublicKey(EcPublicKey);

impl CosignPublicKey {
    pub fn from_pem(input: &[u8]) -> Result<Self, CosignError> {
        let (_, der) = pem::decode(input, &[PUBLIC_KEY_LABEL])?;
        let key = EcPublicKey::from_spki_der(&der).map_err(|_| CosignError::NotP256)?;
        if key.curve != EcCurve::P256 {
            return Err(CosignError::NotP256);
        }
        Ok(CosignPublicKey(key))
    }

    pub fn to_pem(&self) -> Result<String, CosignError> {
        let der = self.0.spki_der().map_err(CosignError::Crypto)?;
        Ok(pem::encode(PUBLIC_KEY_LABEL, &der).to_string())
    }

    /// Verifies the annotation's base64 signature over the exact payload bytes.
    pub fn verify(&self, payload: &[u8], signature_b64: &str) -> Result<(), CosignError> {
        let s = signature_b64.trim();
        if s.len() > MAX_SIGNATURE_B64_LEN {
            return Err(CosignError::MalformedSignature);
        }
        let der = STANDARD
            .decode(s)
            .map_err(|_| CosignError::MalformedSignature)?;
        self.0
            .verify_ecdsa_der(HashAlg::Sha256, payload, &der)
            .map_err(|_| CosignError::BadSignature)
    }

    /// Verifies the signature, then parses the payload as a cosign simple-signing document.
    /// The caller must still check that its digest is the image's.
    pub fn verify_payload(
        &self,
        payload: &[u8],
        signature_b64: &str,
    ) -> Result<SimpleSigningPayload, CosignError> {
        self.verify(payload, signature_b64)?;
        Ok(SimpleSigningPayload::parse(payload, PayloadType::Cosign)?)
    }
}

/// A cosign signing key, held in memory after [`CosignSigningKey::from_encrypted_pem`].
#[derive(Debug)]
pub struct CosignSigningKey(EcdsaP256SigningKey);

/// The two files `ironroot sign keygen` writes (`cosign.key`, `cosign.pub`).
pub struct GeneratedKeyPair {
    pub private_pem: Zeroizing<String>,
    pub public_pem: String,
}

impl CosignSigningKey {
    pub fn generate() -> Result<Self, CosignError> {
        EcdsaP256SigningKey::generate()
            .map(CosignSigningKey)
            .map_err(CosignError::Crypto)
    }

    /// Generates a key pair and returns both files' contents.
    pub fn generate_files(password: KeyPassword<'_>) -> Result<GeneratedKeyPair, CosignError> {
        let key = Self::generate()?;
        Ok(GeneratedKeyPair {
            private_pem: key.to_encrypted_pem(password)?,
            public_pem: key.public_key()?.to_pem()?,
        })
    }

    pub fn public_key(&self) -> Result<CosignPublicKey, CosignError> {
        self.0
            .public_key()
            .map(CosignPublicKey)
            .map_err(CosignError::Crypto)
    }

    /// Writes the key in cosign's encrypted format. N=32768 (r=8, p=1) because every cosign
    /// and sigstore reader accepts it (sigstore-rs accepted nothing else for years).
    pub fn to_encrypted_pem(
        &self,
        password: KeyPassword<'_>,
    ) -> Result<Zeroizing<String>, CosignError> {
        let params = ScryptParams::COSIGN_LEGACY;
        let sealed = password_box_seal(password.bytes()?, params, &self.0.to_pkcs8())
            .map_err(CosignError::Crypto)?;
        let file = KeyFile {
            kdf: Kdf {
                name: "scrypt".into(),
                params: KdfParams {
                    n: params.n(),
                    r: params.r,
                    p: params.p,
                },
                salt: STANDARD.encode(&sealed.salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: STANDARD.encode(&sealed.nonce),
            },
            ciphertext: STANDARD.encode(&sealed.ciphertext),
        };
        let json = Zeroizing::new(
            serde_json::to_vec(&file)
                .map_err(|e| CosignError::UnsupportedKeyFile(e.to_string()))?,
        );
        Ok(pem::encode(PRIVATE_KEY_LABEL, &json))
    }

    /// Reads a cosign private key file (either label). A wrong password is
    /// [`CosignError::WrongPassword`].
    pub fn from_encrypted_pem(
        input: &[u8],
        password: KeyPassword<'_>,
    ) -> Result<Self, CosignError> {
        let (_, body) = pem::decode(input, &[PRIVATE_KEY_LABEL, LEGACY_PRIVATE_KEY_LABEL])?;
        let bad = |what: &str| CosignError::UnsupportedKeyFile(what.to_owned());
        let file: KeyFile = serde_json::from_slice(&body).map_err(|e| bad(&e.to_string()))?;
        if file.kdf.name != "scrypt" || file.cipher.name != "nacl/secretbox" {
            return Err(bad("only scrypt with nacl/secretbox is supported"));
        }
        let params = ScryptParams::from_n(file.kdf.params.n, file.kdf.params.r, file.kdf.params.p)
            .map_err(|_| bad("scrypt parameters out of bounds"))?;
        let decode = |s: &str| STANDARD.decode(s).map_err(|_| bad("invalid base64"));
        let sealed = PasswordBox {
            salt: decode(&file.kdf.salt)?,
            nonce: decode(&file.cipher.nonce)?,
            ciphertext: decode(&file.ciphertext)?,
        };
        // cosign itself reads with whatever password it is given, empty included.
        let pw = match password {
            KeyPassword::Given(p) => p,
            KeyPassword::Empty => b"",
        };
        let pkcs8 =
            password_box_open(pw, params, &sealed).map_err(|_| CosignError::WrongPassword)?;
        EcdsaP256SigningKey::from_pkcs8(&pkcs8)
            .map(CosignSigningKey)
            .map_err(|_| CosignError::NotP256)
    }

    /// Signs the payload bytes; returns the base64 DER signature for the annotation.
    pub fn sign(&self, payload: &[u8]) -> Result<String, CosignError> {
        let der = self.0.sign(payload).map_err(CosignError::Crypto)?;
        Ok(STANDARD.encode(der))
    }
}

// go-securesystemslib's JSON, field for field.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cipher {
    name: String,
    nonce: String,
}
