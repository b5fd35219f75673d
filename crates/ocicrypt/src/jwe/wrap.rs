use super::keys::{JwePublicKey, PublicKind};
use super::{concat_kdf_other_info, JweAlg, JweEnc, JweError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ironroot_crypto::{
    aes_gcm_seal, aes_key_wrap, concat_kdf_sha256, ecdh_ephemeral, random_bytes,
    rsa_oaep_encrypt_spki, EcCurve, HashAlg,
};
use serde::Serialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

/// The content encryption ocicrypt uses.
const ENC: JweEnc = JweEnc::A256Gcm;

#[derive(Serialize)]
struct RecipientOut {
    header: Map<String, Value>,
    encrypted_key: String,
}

/// go-jose's `FullSerialize` member set, in its order.
#[derive(Serialize)]
struct JweOut {
    protected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<Vec<RecipientOut>>,
    iv: String,
    ciphertext: String,
    tag: String,
}

/// Encrypts `plaintext` (a layer's private-options JSON) with A256GCM for every
/// recipient, as ocicrypt's `jwe` wrapper does, and returns the JWE JSON that goes
/// (base64) into the `org.opencontainers.image.enc.keys.jwe` annotation.
pub fn jwe_wrap(recipients: &[JwePublicKey], plaintext: &[u8]) -> Result<Vec<u8>, JweError> {
    if recipients.is_empty() {
        return Err(JweError::NoRecipients);
    }
    let cek = Zeroizing::new(random_bytes(ENC.key_len())?);
    let mut wrapped = Vec::with_capacity(recipients.len());
    for r in recipients {
        wrapped.push(wrap_cek(r, &cek)?);
    }
    let mut protected = Map::new();
    protected.insert("enc".into(), ENC.name().into());
    let (encrypted_key, recipients_out) =
        match <[(Map<String, Value>, String); 1]>::try_from(wrapped) {
            // One recipient: go-jose moves its header into the protected one (flattened form).
            Ok([(h, ek)]) => {
                protected.extend(h);
                (Some(ek), None)
            }
            Err(all) => {
                let list = all
                    .into_iter()
                    .map(|(header, encrypted_key)| RecipientOut {
                        header,
                        encrypted_key,
                    })
                    .collect();
                (None, Some(list))
            }
        };
    let protected_json =
        serde_json::to_vec(&protected).map_err(|_| JweError::Malformed("header JSON"))?;
    let protected_b64 = B64.encode(protected_json);
    let sealed = aes_gcm_seal(&cek, protected_b64.as_bytes(), plaintext)?;
    let out = JweOut {
        protected: protected_b64,
        encrypted_key,
        recipients: recipients_out,
        iv: B64.encode(sealed.iv),
        ciphertext: B64.encode(&sealed.ciphertext),
        tag: B64.encode(sealed.tag),
    };
    serde_json::to_vec(&out).map_err(|_| JweError::Malformed("JWE JSON"))
}

/// Wraps the content key for one recipient; returns its header and `encrypted_key`.
fn wrap_cek(r: &JwePublicKey, cek: &[u8]) -> Result<(Map<String, Value>, String), JweError> {
    let mut header = Map::new();
    header.insert("alg".into(), r.alg.name().into());
    let ek = match (&r.kind, r.alg) {
        (PublicKind::Rsa(spki), JweAlg::RsaOaep) => {
            rsa_oaep_encrypt_spki(spki, HashAlg::Sha1, cek)?
        }
        (PublicKind::Rsa(spki), JweAlg::RsaOaep256) => {
            rsa_oaep_encrypt_spki(spki, HashAlg::Sha256, cek)?
        }
        (PublicKind::Ec(peer), alg @ (JweAlg::EcdhEsA128Kw | JweAlg::EcdhEsA256Kw)) => {
            let kw_len = alg.kw_key_len().ok_or(JweError::AlgorithmMismatch(alg))?;
            let agreed = ecdh_ephemeral(peer)?;
            let crv = match peer.curve {
                EcCurve::P256 => "P-256",
                EcCurve::P384 => "P-384",
            };
            header.insert(
                "epk".into(),
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": B64.encode(&agreed.ephemeral.x),
                    "y": B64.encode(&agreed.ephemeral.y),
                }),
            );
            let info = concat_kdf_other_info(alg.name(), &[], &[], kw_len);
            let kek = concat_kdf_sha256(&agreed.z, &info, kw_len);
            aes_key_wrap(&kek, cek)?
        }
        (_, JweAlg::EcdhEsA192Kw) => {
            return Err(JweError::Unsupported(
                "ECDH-ES+A192KW (no AES-192 key wrap)".into(),
            ))
        }
        (_, alg) => return Err(JweError::AlgorithmMismatch(alg)),
    };
    Ok((header, B64.encode(ek)))
}
