//! ironroot's own OpenPGP signing key: Ed25519 (as EdDSA-legacy, algorithm 22, which
//! gpg 2.2 understands), its exported public key, and signed messages in gpg's layout.
//!
//! Private key file (ironroot's own, never read by gpg): PEM label
//! `IRONROOT OPENPGP PRIVATE KEY`; body = key creation time as 4 bytes big-endian, then the
//! Ed25519 key as PKCS#8 v1 DER. The creation time is kept because it is part of the
//! fingerprint. The file is not encrypted: protect it with file permissions.

use super::key::{fingerprint_v4, PublicKey, ALGO_EDDSA_LEGACY, ED25519_OID};
use super::message::{signature_trailer, SIG_BINARY};
use super::packet::{self, write_mpi, write_packet, write_subpacket};
use super::{armor, OpenPgpError};
use crate::pem;
use ironroot_crypto::{digest, Ed25519SigningKey, HashAlg};
use zeroize::Zeroizing;

pub const PRIVATE_KEY_LABEL: &str = "IRONROOT OPENPGP PRIVATE KEY";
const SIG_POSITIVE_CERT: u8 = 0x13;
const HASH_SHA256: u8 = 8;
const KEY_FLAG_CERTIFY_SIGN: u8 = 0x03;

/// An Ed25519 OpenPGP signing key. `Debug` shows only the fingerprint.
pub struct OpenPgpSigningKey {
    key: Ed25519SigningKey,
    created: u32,
    key_packet_body: Vec<u8>,
    fingerprint: [u8; 20],
}

impl std::fmt::Debug for OpenPgpSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenPgpSigningKey({})", self.fingerprint_hex())
    }
}

impl OpenPgpSigningKey {
    /// Generates a key whose OpenPGP creation time is `created` (seconds since the epoch;
    /// the caller supplies it because this crate reads no clock).
    pub fn generate(created: u32) -> Result<Self, OpenPgpError> {
        let key = Ed25519SigningKey::generate().map_err(OpenPgpError::Crypto)?;
        Ok(Self::from_parts(key, created))
    }

    fn from_parts(key: Ed25519SigningKey, created: u32) -> Self {
        let mut body = vec![4u8];
        body.extend_from_slice(&created.to_be_bytes());
        body.push(ALGO_EDDSA_LEGACY);
        body.push(ED25519_OID.len() as u8);
        body.extend_from_slice(&ED25519_OID);
        let mut point = vec![0x40];
        point.extend_from_slice(&key.public_key());
        write_mpi(&mut body, &point);
        let fingerprint = fingerprint_v4(&body);
        OpenPgpSigningKey {
            key,
            created,
            key_packet_body: body,
            fingerprint,
        }
    }

    pub fn fingerprint(&self) -> [u8; 20] {
        self.fingerprint
    }

    pub fn fingerprint_hex(&self) -> String {
        hex::encode_upper(self.fingerprint)
    }

    pub fn key_id(&self) -> [u8; 8] {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.fingerprint[12..]);
        id
    }

    /// The public key as a parsed [`PublicKey`], e.g. to build a [`super::Keyring`].
    pub fn public_key(&self) -> Result<PublicKey, OpenPgpError> {
        PublicKey::from_packet_body(&self.key_packet_body)
    }

    /// A transferable public key (`gpg --import` accepts it): key packet, user ID, and a
    /// positive certification (0x13) self-signature made at `sig_created`.
    pub fn export_public_key(
        &self,
        user_id: &str,
        sig_created: u32,
    ) -> Result<Vec<u8>, OpenPgpError> {
        if user_id.is_empty() || user_id.len() > 1024 {
            return Err(OpenPgpError::Malformed("user ID must be 1..=1024 bytes"));
        }
        let mut hashed_prefix = vec![0x99];
        hashed_prefix.extend_from_slice(&(self.key_packet_body.len() as u16).to_be_bytes());
        hashed_prefix.extend_from_slice(&self.key_packet_body);
        hashed_prefix.push(0xb4);
        hashed_prefix.extend_from_slice(&(user_id.len() as u32).to_be_bytes());
        hashed_prefix.extend_from_slice(user_id.as_bytes());
        let mut subpackets = Vec::new();
        write_subpacket(&mut subpackets, 27, &[KEY_FLAG_CERTIFY_SIGN]);
        // Preferred hash algorithms: SHA-512, SHA-256.
        write_subpacket(&mut subpackets, 21, &[10, 8]);
        let sig =
            self.signature_packet(SIG_POSITIVE_CERT, &hashed_prefix, sig_created, subpackets)?;
        let mut out = Vec::new();
        write_packet(&mut out, packet::TAG_PUBLIC_KEY, &self.key_packet_body);
        write_packet(&mut out, packet::TAG_USER_ID, user_id.as_bytes());
        write_packet(&mut out, packet::TAG_SIGNATURE, &sig);
        Ok(out)
    }

    /// [`Self::export_public_key`], ASCII-armored like `gpg --export --armor`.
    pub fn export_public_key_armored(
        &self,
        user_id: &str,
        sig_created: u32,
    ) -> Result<String, OpenPgpError> {
        Ok(armor::armor(
            "PGP PUBLIC KEY BLOCK",
            &self.export_public_key(user_id, sig_created)?,
        ))
    }

    /// Signs `payload` as `gpg --sign` would, uncompressed: one-pass signature, literal data
    /// (binary, no file name, date `created`), SHA-256 signature of type 0x00.
    pub fn sign_message(&self, payload: &[u8], created: u32) -> Result<Vec<u8>, OpenPgpError> {
        if payload.len() > super::MAX_MESSAGE_LEN {
            return Err(OpenPgpError::TooLarge("message size"));
        }
        let sig = self.signature_packet(SIG_BINARY, payload, created, Vec::new())?;
        let mut ops = vec![3, SIG_BINARY, HASH_SHA256, ALGO_EDDSA_LEGACY];
        ops.extend_from_slice(&self.key_id());
        ops.push(1);
        let mut literal = vec![b'b', 0];
        literal.extend_from_slice(&created.to_be_bytes());
        literal.extend_from_slice(payload);
        let mut out = Vec::new();
        write_packet(&mut out, packet::TAG_ONE_PASS, &ops);
        write_packet(&mut out, packet::TAG_LITERAL, &literal);
        write_packet(&mut out, packet::TAG_SIGNATURE, &sig);
        Ok(out)
    }

    fn signature_packet(
        &self,
        sig_type: u8,
        signed: &[u8],
        created: u32,
        extra_hashed: Vec<u8>,
    ) -> Result<Vec<u8>, OpenPgpError> {
        if created < self.created {
            return Err(OpenPgpError::Malformed("signature would predate its key"));
        }
        let mut hashed = Vec::new();
        write_subpacket(&mut hashed, 2, &created.to_be_bytes());
        let mut fpr = vec![4u8];
        fpr.extend_from_slice(&self.fingerprint);
        write_subpacket(&mut hashed, 33, &fpr);
        hashed.extend(extra_hashed);
        let mut body = vec![4, sig_type, ALGO_EDDSA_LEGACY, HASH_SHA256];
        body.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
        body.extend_from_slice(&hashed);
        let mut input = signed.to_vec();
        input.extend(signature_trailer(&body));
        let d = digest(HashAlg::Sha256, &input);
        let rs = self.key.sign(&d);
        let mut unhashed = Vec::new();
        write_subpacket(&mut unhashed, 16, &self.key_id());
        body.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        body.extend_from_slice(&unhashed);
        body.extend_from_slice(&d[..2]);
        write_mpi(&mut body, &rs[..32]);
        write_mpi(&mut body, &rs[32..]);
        Ok(body)
    }

    /// The private key file (see the module docs for its layout).
    pub fn to_private_key_file(&self) -> Result<Zeroizing<String>, OpenPgpError> {
        let pkcs8 = self.key.to_pkcs8().map_err(OpenPgpError::Crypto)?;
        let mut body = Zeroizing::new(self.created.to_be_bytes().to_vec());
        body.extend_from_slice(&pkcs8);
        Ok(pem::encode(PRIVATE_KEY_LABEL, &body))
    }

    pub fn from_private_key_file(input: &[u8]) -> Result<Self, OpenPgpError> {
        let (_, body) = pem::decode(input, &[PRIVATE_KEY_LABEL])?;
        let (created, pkcs8) = body
            .split_first_chunk::<4>()
            .ok_or(OpenPgpError::BadKey("private key file too short"))?;
        let key = Ed25519SigningKey::from_pkcs8(pkcs8)
            .map_err(|_| OpenPgpError::BadKey("not an Ed25519 PKCS#8 key"))?;
        Ok(Self::from_parts(key, u32::from_be_bytes(*created)))
    }
}
