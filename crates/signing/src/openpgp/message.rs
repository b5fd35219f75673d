//! Verifying a signed message as `gpg --sign` (and so `skopeo --sign-by`) writes it:
//! optionally a compressed data packet around one-pass signature, literal data, signature.

use super::key::{KeyMaterial, Keyring, PublicKey, ALGO_ED25519, ALGO_EDDSA_LEGACY};
use super::packet::{self, Packet, Reader};
use super::{armor, OpenPgpError};
use flate2::read::{DeflateDecoder, ZlibDecoder};
use ironroot_crypto::{digest, ed25519_verify, HashAlg};
use std::io::Read;

/// Signed messages larger than this are refused before parsing.
pub const MAX_MESSAGE_LEN: usize = 1024 * 1024;
/// A compressed message may not inflate beyond this (zip-bomb guard).
pub const MAX_INFLATED_LEN: usize = 1024 * 1024;

pub(crate) const SIG_BINARY: u8 = 0x00;
const SUB_CREATED: u8 = 2;
const SUB_EXPIRES: u8 = 3;
const SUB_ISSUER: u8 = 16;
const SUB_KEY_FLAGS: u8 = 27;
const SUB_ISSUER_FPR: u8 = 33;

/// A message whose signature verified against a key in the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedMessage {
    /// The literal data: for simple signing, the payload JSON to parse next.
    pub payload: Vec<u8>,
    pub signer_fingerprint: [u8; 20],
    pub signer_key_id: [u8; 8],
    /// Signature creation time (seconds since the epoch), when the signer stated one.
    pub created: Option<u32>,
    /// Signature lifetime in seconds after `created`, if any; the caller, who has a clock,
    /// decides whether it has passed.
    pub expires_after: Option<u32>,
}

impl VerifiedMessage {
    pub fn signer_fingerprint_hex(&self) -> String {
        hex::encode_upper(self.signer_fingerprint)
    }
}

/// Maps an OpenPGP hash ID to one we accept. MD5 (1), SHA-1 (2), RIPEMD-160 (3),
/// SHA-224 (11) and anything unknown are refused.
pub(crate) fn accepted_hash(id: u8) -> Result<HashAlg, OpenPgpError> {
    match id {
        8 => Ok(HashAlg::Sha256),
        9 => Ok(HashAlg::Sha384),
        10 => Ok(HashAlg::Sha512),
        other => Err(OpenPgpError::WeakHash(other)),
    }
}

/// The bytes a v4 signature hashes after the signed data: the signature's own fields up to
/// and including the hashed subpackets, then the 0x04 0xFF length trailer.
pub(crate) fn signature_trailer(header_and_hashed: &[u8]) -> Vec<u8> {
    let mut out = header_and_hashed.to_vec();
    out.extend_from_slice(&[0x04, 0xff]);
    out.extend_from_slice(&(header_and_hashed.len() as u32).to_be_bytes());
    out
}

struct Signature<'a> {
    sig_type: u8,
    pk_algo: u8,
    hash: HashAlg,
    header_and_hashed: &'a [u8],
    left16: &'a [u8],
    material: &'a [u8],
    issuer_fpr: Option<&'a [u8]>,
    issuer_id: Option<&'a [u8]>,
    created: Option<u32>,
    expires_after: Option<u32>,
}

fn parse_signature(body: &[u8]) -> Result<Signature<'_>, OpenPgpError> {
    let mut r = Reader::new(body);
    let version = r.u8()?;
    if version != 4 {
        return Err(OpenPgpError::Unsupported {
            what: "signature version",
            value: u32::from(version),
        });
    }
    let sig_type = r.u8()?;
    let pk_algo = r.u8()?;
    let hash = accepted_hash(r.u8()?)?;
    let hashed_len = usize::from(r.u16()?);
    let hashed = r.take(hashed_len)?;
    let header_and_hashed = &body[..6 + hashed_len];
    let unhashed_len = usize::from(r.u16()?);
    let unhashed = r.take(unhashed_len)?;
    let left16 = r.take(2)?;
    let material = r.rest();
    let mut sig = Signature {
        sig_type,
        pk_algo,
        hash,
        header_and_hashed,
        left16,
        material,
        issuer_fpr: None,
        issuer_id: None,
        created: None,
        expires_after: None,
    };
    for (area, is_hashed) in [(hashed, true), (unhashed, false)] {
        for s in packet::read_subpackets(area)? {
            match s.kind {
                SUB_CREATED if is_hashed => sig.created = Some(be_u32(s.data)?),
                SUB_EXPIRES if is_hashed => sig.expires_after = Some(be_u32(s.data)?),
                SUB_ISSUER_FPR => {
                    // Version byte 4, then the 20-byte fingerprint.
                    if let Some((4, f)) = s.data.split_first() {
                        if f.len() == 20 && sig.issuer_fpr.is_none() {
                            sig.issuer_fpr = Some(f);
                        }
                    }
                }
                SUB_ISSUER if s.data.len() == 8 && sig.issuer_id.is_none() => {
                    sig.issuer_id = Some(s.data)
                }
                SUB_KEY_FLAGS => {}
                _ if s.critical => {
                    return Err(OpenPgpError::Unsupported {
                        what: "critical signature subpacket",
                        value: u32::from(s.kind),
                    })
                }
                _ => {}
            }
        }
    }
    Ok(sig)
}

fn be_u32(d: &[u8]) -> Result<u32, OpenPgpError> {
    let b: [u8; 4] = d
        .try_into()
        .map_err(|_| OpenPgpError::Malformed("subpacket size"))?;
    Ok(u32::from_be_bytes(b))
}

fn inflate(body: &[u8]) -> Result<Vec<u8>, OpenPgpError> {
    let (algo, data) = body
        .split_first()
        .ok_or(OpenPgpError::Malformed("empty compressed packet"))?;
    let limit = MAX_INFLATED_LEN as u64 + 1;
    let mut out = Vec::new();
    let read = match algo {
        0 => return Ok(data.to_vec()),
        1 => DeflateDecoder::new(data).take(limit).read_to_end(&mut out),
        2 => ZlibDecoder::new(data).take(limit).read_to_end(&mut out),
        other => {
            return Err(OpenPgpError::Unsupported {
                what: "compression algorithm",
                value: u32::from(*other),
            })
        }
    };
    read.map_err(|_| OpenPgpError::Malformed("compressed data does not inflate"))?;
    if out.len() > MAX_INFLATED_LEN {
        return Err(OpenPgpError::TooLarge("inflated message size"));
    }
    Ok(out)
}

/// The literal data packet's contents, without its format, file name and date.
fn literal_data(body: &[u8]) -> Result<&[u8], OpenPgpError> {
    let mut r = Reader::new(body);
    let _format = r.u8()?;
    let name_len = usize::from(r.u8()?);
    r.take(name_len)?;
    r.u32()?;
    Ok(r.rest())
}

/// Verifies a signed message (binary or armored) against `keyring` and returns its literal
/// data with the signer. Exactly one signature, by a primary key in the keyring, must verify.
pub fn verify_message(input: &[u8], keyring: &Keyring) -> Result<VerifiedMessage, OpenPgpError> {
    if input.len() > MAX_MESSAGE_LEN {
        return Err(OpenPgpError::TooLarge("message size"));
    }
    let binary = if armor::is_armored(input) {
        armor::dearmor(input)?
    } else {
        input.to_vec()
    };
    let mut packets = packet::read_packets(&binary)?;
    if let [p] = packets.as_slice() {
        if p.tag == packet::TAG_COMPRESSED {
            packets = packet::read_packets(&inflate(&p.body)?)?;
        }
    }
    packets.retain(|p| p.tag != packet::TAG_MARKER);
    let [ops, literal, sig] = packets.as_slice() else {
        return Err(OpenPgpError::Malformed(
            "expected one-pass signature, literal data, signature",
        ));
    };
    if ops.tag != packet::TAG_ONE_PASS
        || literal.tag != packet::TAG_LITERAL
        || sig.tag != packet::TAG_SIGNATURE
    {
        return Err(OpenPgpError::Malformed(
            "expected one-pass signature, literal data, signature",
        ));
    }
    let payload = literal_data(&literal.body)?;
    let sig_parsed = parse_signature(&sig.body)?;
    check_one_pass(ops, &sig_parsed)?;
    if sig_parsed.sig_type != SIG_BINARY {
        return Err(OpenPgpError::Unsupported {
            what: "signature type",
            value: u32::from(sig_parsed.sig_type),
        });
    }
    let mut hashed = payload.to_vec();
    hashed.extend(signature_trailer(sig_parsed.header_and_hashed));
    let issuer = sig_parsed
        .issuer_fpr
        .or(sig_parsed.issuer_id)
        .map(hex::encode_upper)
        .unwrap_or_else(|| "(no issuer)".to_owned());
    let mut any = false;
    for key in keyring.candidates(sig_parsed.issuer_fpr, sig_parsed.issuer_id) {
        any = true;
        if verify_with(key, &sig_parsed, &hashed).is_ok() {
            return Ok(VerifiedMessage {
                payload: payload.to_vec(),
                signer_fingerprint: key.fingerprint(),
                signer_key_id: key.key_id(),
                created: sig_parsed.created,
                expires_after: sig_parsed.expires_after,
            });
        }
    }
    if any {
        Err(OpenPgpError::BadSignature)
    } else {
        Err(OpenPgpError::UnknownSigner { issuer })
    }
}

fn check_one_pass(ops: &Packet, sig: &Signature<'_>) -> Result<(), OpenPgpError> {
    let mut r = Reader::new(&ops.body);
    let (version, sig_type, hash_id, pk_algo) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
    let key_id = r.take(8)?;
    let _nested = r.u8()?;
    let consistent = version == 3
        && sig_type == sig.sig_type
        && accepted_hash(hash_id)? == sig.hash
        && pk_algo == sig.pk_algo
        && sig.issuer_id.is_none_or(|id| id == key_id);
    if !consistent || !r.is_empty() {
        return Err(OpenPgpError::Malformed(
            "one-pass signature does not match the signature",
        ));
    }
    Ok(())
}

fn verify_with(key: &PublicKey, sig: &Signature<'_>, hashed: &[u8]) -> Result<(), OpenPgpError> {
    let d = digest(sig.hash, hashed);
    // The quick check gpg also makes: the first two digest bytes are stored in the clear.
    if d.get(..2) != Some(sig.left16) {
        return Err(OpenPgpError::BadSignature);
    }
    let mut m = Reader::new(sig.material);
    match (&key.material, sig.pk_algo) {
        (KeyMaterial::Rsa(rsa), 1 | 3) => {
            let s = m.mpi()?;
            if s.len() > rsa.n.len() || !m.is_empty() {
                return Err(OpenPgpError::BadSignature);
            }
            let mut padded = vec![0u8; rsa.n.len() - s.len()];
            padded.extend_from_slice(s);
            rsa.verify_pkcs1(sig.hash, hashed, &padded)
                .map_err(|_| OpenPgpError::BadSignature)
        }
        (KeyMaterial::Ed25519 { algo, key }, pk) if *algo == pk => {
            let mut rs = [0u8; 64];
            if pk == ALGO_EDDSA_LEGACY {
                for half in rs.chunks_mut(32) {
                    let v = m.mpi()?;
                    if v.len() > 32 {
                        return Err(OpenPgpError::BadSignature);
                    }
                    half[32 - v.len()..].copy_from_slice(v);
                }
            } else if pk == ALGO_ED25519 {
                rs.copy_from_slice(m.take(64)?);
            }
            if !m.is_empty() {
                return Err(OpenPgpError::BadSignature);
            }
            ed25519_verify(key, &d, &rs).map_err(|_| OpenPgpError::BadSignature)
        }
        (_, pk) => Err(OpenPgpError::Unsupported {
            what: "signature public-key algorithm",
            value: u32::from(pk),
        }),
    }
}
