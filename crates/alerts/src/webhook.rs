//! The webhook sink's wire format: a JSON body and its HMAC-SHA256 signature header,
//! `X-Ironroot-Signature: t=<unix seconds>,v1=<hex>` over the bytes `t` `.` `body`
//! (docs/alerts.md). The timestamp inside the MAC lets a receiver refuse a replayed
//! delivery older than its window; the delivery id lets it drop a repeat within it.

use crate::record::Notice;
use ironroot_crypto::HashAlg;
use serde::Serialize;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-Ironroot-Signature";
/// The delivery id header's name (the body's `delivery_id`, for receivers that dedupe
/// before parsing).
pub const DELIVERY_HEADER: &str = "X-Ironroot-Delivery";
/// The body's format version.
pub const BODY_VERSION: u32 = 1;
/// The replay window receivers should apply, in seconds, either side of their clock.
pub const DEFAULT_REPLAY_WINDOW: u64 = 300;
/// The largest signature header a receiver parses.
const MAX_HEADER: usize = 1024;

#[derive(Serialize)]
struct Body<'a> {
    version: u32,
    #[serde(flatten)]
    notice: &'a Notice,
}

/// The body's bytes: `{"version":1,"delivery_id":…,"change":…,"alert":{…}}`, fields in
/// declaration order, no whitespace.
pub fn body(notice: &Notice) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Body {
        version: BODY_VERSION,
        notice,
    })
}

/// The signature header's value for `body` sent at `t`.
pub fn sign(secret: &[u8], t: u64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &[u8], t: u64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    ironroot_crypto::hmac(HashAlg::Sha256, secret, &signed)
}

/// Why a receiver refuses a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is {0} s away from the receiver's clock, beyond its window")]
    OutsideWindow(u64),
    #[error("no signature matches the body")]
    Mismatch,
}

/// What a receiver does with a delivery: parse the header (one `t`, one or more `v1`,
/// unknown schemes ignored), refuse a `t` more than `window` seconds from `now`, and
/// accept if any `v1` matches in constant time.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: u64,
    window: u64,
) -> Result<(), SignatureError> {
    if header.len() > MAX_HEADER {
        return Err(SignatureError::Malformed);
    }
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" if t.is_none() => {
                let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                t = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|_| digits)
                        .ok_or(SignatureError::Malformed)?,
                );
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => sigs.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let skew = now.abs_diff(t);
    if skew > window {
        return Err(SignatureError::OutsideWindow(skew));
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    // Every candidate is checked, so timing does not tell which one matched.
    let ok = sigs.iter().fold(false, |ok, s| {
        ironroot_crypto::hmac_verify(HashAlg::Sha256, secret, &signed, s) | ok
    });
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
