use super::keys::JwePrivateKey;
use super::{concat_kdf_other_info, JweAlg, JweEnc, JweError, MAX_JWE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ironroot_crypto::{
    aes_gcm_open, aes_key_unwrap, concat_kdf_sha256, EcCurve, EcPublicKey, HashAlg,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

type Header = Map<String, Value>;

#[derive(Deserialize)]
struct Recipient {
    header: Option<Header>,
    encrypted_key: Option<String>,
}

/// Both JSON serializations (RFC 7516 7.2): general has `recipients`, flattened has
/// `header` and `encrypted_key` at the top.
#[derive(Deserialize)]
struct JweJson {
    protected: Option<String>,
    unprotected: Option<Header>,
    header: Option<Header>,
    encrypted_key: Option<String>,
    recipients: Option<Vec<Recipient>>,
    aad: Option<String>,
    iv: String,
    ciphertext: String,
    tag: String,
}

fn b64url(s: &str) -> Result<Vec<u8>, JweError> {
    // go-jose strips padding before decoding, so tolerate it too.
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| JweError::Malformed("bad base64url"))
}

/// Parses the JSON or compact serialization into the shared parts and recipients.
fn parse(jwe: &[u8]) -> Result<JweJson, JweError> {
    if jwe.len() > MAX_JWE_LEN {
        return Err(JweError::TooLarge);
    }
    if jwe.first() == Some(&b'{') {
        return serde_json::from_slice(jwe).map_err(|_| JweError::Malformed("not JWE JSON"));
    }
    let text = std::str::from_utf8(jwe).map_err(|_| JweError::Malformed("not UTF-8"))?;
    let parts: Vec<&str> = text.trim().split('.').collect();
    let [protected, ek, iv, ct, tag] = parts[..] else {
        return Err(JweError::Malformed("compact JWE needs five parts"));
    };
    Ok(JweJson {
        protected: Some(protected.to_string()),
        unprotected: None,
        header: None,
        encrypted_key: Some(ek.to_string()),
        recipients: None,
        aad: None,
        iv: iv.to_string(),
        ciphertext: ct.to_string(),
        tag: tag.to_string(),
    })
}

/// Merges the three header sources; RFC 7516 forbids a name in more than one.
fn merge(parts: [Option<&Header>; 3]) -> Result<Header, JweError> {
    let mut out = Header::new();
    for (k, v) in parts.into_iter().flatten().flatten() {
        if out.insert(k.clone(), v.clone()).is_some() {
            return Err(JweError::Malformed("header parameter appears twice"));
        }
    }
    Ok(out)
}

fn str_param<'a>(h: &'a Header, name: &str) -> Result<Option<&'a str>, JweError> {
    match h.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JweError::Malformed("header parameter is not a string")),
    }
}

/// Decrypts a JWE with the first of `keys` that opens it, trying each recipient in turn,
/// and returns the payload (ocicrypt's private-options JSON).
pub fn jwe_unwrap(keys: &[JwePrivateKey], jwe: &[u8]) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let j = parse(jwe)?;
    let protected: Option<Header> = match &j.protected {
        Some(p) => Some(
            serde_json::from_slice(&b64url(p)?)
                .map_err(|_| JweError::Malformed("protected header is not a JSON object"))?,
        ),
        None => None,
    };
    let flattened = [Recipient {
        header: j.header.clone(),
        encrypted_key: j.encrypted_key.clone(),
    }];
    let recipients: &[Recipient] = match &j.recipients {
        Some(r) if !r.is_empty() => r,
        _ => &flattened,
    };
    let mut aad = j.protected.clone().unwrap_or_default().into_bytes();
    if let Some(a) = &j.aad {
        aad.push(b'.');
        aad.extend_from_slice(a.as_bytes());
    }
    let iv = b64url(&j.iv)?;
    let ciphertext = b64url(&j.ciphertext)?;
    let tag = b64url(&j.tag)?;
    for r in recipients {
        let h = merge([
            protected.as_ref(),
            j.unprotected.as_ref(),
            r.header.as_ref(),
        ])?;
        if h.contains_key("zip") || h.contains_key("crit") {
            return Err(JweError::Unsupported("zip or crit header".into()));
        }
        let alg_name = str_param(&h, "alg")?.ok_or(JweError::Malformed("no alg"))?;
        let enc_name = str_param(&h, "enc")?.ok_or(JweError::Malformed("no enc"))?;
        // A recipient in a scheme we lack may sit next to one we can open.
        let (Some(alg), Some(enc)) = (JweAlg::from_name(alg_name), JweEnc::from_name(enc_name))
        else {
            continue;
        };
        let ek = b64url(r.encrypted_key.as_deref().unwrap_or_default())?;
        for key in keys {
            let Some(cek) = unwrap_cek(key, alg, &h, &ek) else {
                continue;
            };
            if cek.len() != enc.key_len() {
                continue;
            }
            if let Ok(plain) = aes_gcm_open(&cek, &iv, &aad, &ciphertext, &tag) {
                return Ok(plain);
            }
        }
    }
    Err(JweError::NoMatchingKey)
}

/// The content key for one recipient under one key, or `None` if this key does not fit
/// or does not open it. Failures are not told apart, so nothing leaks about which step
/// went wrong.
fn unwrap_cek(
    key: &JwePrivateKey,
    alg: JweAlg,
    h: &Header,
    ek: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    match (key, alg) {
        (JwePrivateKey::Rsa(k), JweAlg::RsaOaep) => k.decrypt_oaep(HashAlg::Sha1, ek).ok(),
        (JwePrivateKey::Rsa(k), JweAlg::RsaOaep256) => k.decrypt_oaep(HashAlg::Sha256, ek).ok(),
        (JwePrivateKey::Ec(k), _) => {
            let kw_len = alg.kw_key_len()?;
            let epk = epk(h).ok()?;
            let z = k.ecdh(&epk).ok()?;
            let apu = optional_b64(h, "apu").ok()?;
            let apv = optional_b64(h, "apv").ok()?;
            let info = concat_kdf_other_info(alg.name(), &apu, &apv, kw_len);
            let kek = concat_kdf_sha256(&z, &info, kw_len);
            aes_key_unwrap(&kek, ek).ok()
        }
        _ => None,
    }
}

fn optional_b64(h: &Header, name: &str) -> Result<Vec<u8>, JweError> {
    Ok(match str_param(h, name)? {
        Some(s) => b64url(s)?,
        None => Vec::new(),
    })
}

/// The ephemeral public key (`epk`), a JWK `{"kty":"EC","crv":..,"x":..,"y":..}`.
fn epk(h: &Header) -> Result<EcPublicKey, JweError> {
    let Some(Value::Object(jwk)) = h.get("epk") else {
        return Err(JweError::Malformed("ECDH-ES needs an epk object"));
    };
    if str_param(jwk, "kty")? != Some("EC") {
        return Err(JweError::Unsupported("epk key type".into()));
    }
    let curve = match str_param(jwk, "crv")? {
        Some("P-256") => EcCurve::P256,
        Some("P-384") => EcCurve::P384,
        _ => return Err(JweError::Unsupported("epk curve".into())),
    };
    let x = b64url(str_param(jwk, "x")?.ok_or(JweError::Malformed("epk without x"))?)?;
    let y = b64url(str_param(jwk, "y")?.ok_or(JweError::Malformed("epk without y"))?)?;
    let n = curve.coordinate_len();
    if x.len() != n || y.len() != n {
        return Err(JweError::Malformed("epk coordinate length"));
    }
    Ok(EcPublicKey { curve, x, y })
}
