//! crypt(3) password hashes: which scheme, what one guess costs, and whether a guess matches.
//!
//! Crypto exception, on purpose: the workspace's one crypto provider is aws-lc-rs, but it has
//! no yescrypt, sha-crypt or md5-crypt, and these schemes are demanded by the format of
//! etc/shadow, not chosen by us. So this module, and only this one, uses RustCrypto's
//! `yescrypt` and `sha-crypt`, and `md-5` for md5-crypt's few lines below; it lives here so
//! that every primitive stays behind this crate (ironroot-imagecheck calls it).
//! Nothing here protects a secret: the guesses are public words and the hashes come from an
//! image anyone can pull, so comparisons need not be constant-time.

use md5::{Digest, Md5};
use sha_crypt::{PasswordVerifier as _, ShaCrypt};
use yescrypt::{Mode, Params as YesParams, Yescrypt};

/// Bounds on the work one hash may demand; a hash over them is reported, not verified,
/// because its parameters come from the image and could ask for gigabytes or hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub max_sha_crypt_rounds: u32,
    pub max_yescrypt_memory: u64,
}

/// A hash this module can verify, and what each guess against it costs in work units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verifiable {
    pub scheme: &'static str,
    pub cost: u64,
}

/// Work units per guess, roughly proportional to time: one md5-crypt guess (1,000 MD5
/// rounds) is 1; sha-crypt's default 5,000 rounds is 5; yescrypt's default (N=4096, r=32,
/// 16 MiB) is 16, about ten times slower than sha512-crypt as measured on the same machine.
const SHA_ROUNDS_PER_UNIT: u64 = 1_000;
const YESCRYPT_NR_PER_UNIT: u64 = 8_192;

/// Which scheme `hash` uses and what a guess costs; `Err` says why it will not be checked.
pub fn classify(hash: &str, limits: &HashLimits) -> Result<Verifiable, String> {
    let mut fields = hash.split('$');
    let (Some(""), Some(id), Some(param)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("unknown scheme ({})", scheme_hint(hash)));
    };
    match id {
        "y" => yescrypt_cost(param, limits).map(|cost| Verifiable {
            scheme: "yescrypt",
            cost,
        }),
        "6" => sha_cost(param, limits).map(|cost| Verifiable {
            scheme: "sha512-crypt",
            cost,
        }),
        "5" => sha_cost(param, limits).map(|cost| Verifiable {
            scheme: "sha256-crypt",
            cost,
        }),
        "1" => Ok(Verifiable {
            scheme: "md5-crypt",
            cost: 1,
        }),
        _ => Err(format!("unsupported scheme ({})", scheme_hint(hash))),
    }
}

/// A short, non-secret name for a hash's scheme: `$2b$`, or `DES/other` for the rest.
fn scheme_hint(hash: &str) -> String {
    match hash.strip_prefix('$').and_then(|r| r.split_once('$')) {
        Some((id, _))
            if id.len() <= 12 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            format!("${id}$")
        }
        _ => "DES or other".to_owned(),
    }
}

fn sha_cost(param: &str, limits: &HashLimits) -> Result<u64, String> {
    let Some(rounds) = param.strip_prefix("rounds=") else {
        return Ok(5_000 / SHA_ROUNDS_PER_UNIT); // no rounds field: the default 5,000
    };
    let rounds: u32 = rounds.parse().map_err(|_| "malformed rounds".to_owned())?;
    // glibc clamps rounds below 1,000 up to 1,000; the verifier refuses them instead, so
    // such a hash is reported rather than misjudged.
    if rounds < 1_000 {
        return Err(format!("rounds={rounds} below the minimum of 1000"));
    }
    if rounds > limits.max_sha_crypt_rounds {
        return Err(format!(
            "rounds={rounds} over the cap of {}",
            limits.max_sha_crypt_rounds
        ));
    }
    Ok(u64::from(rounds).div_ceil(SHA_ROUNDS_PER_UNIT))
}

fn yescrypt_cost(param: &str, limits: &HashLimits) -> Result<u64, String> {
    let params: YesParams = param
        .parse()
        .map_err(|_| "malformed yescrypt parameters".to_owned())?;
    // Only the default mode with t=0 and g=0 is verified: `t` multiplies the time without
    // showing in N, r or p, so a hash that re-encodes differently could cost anything.
    let canonical = YesParams::new(Mode::default(), params.n(), params.r(), params.p())
        .map(|p| p.to_string() == param)
        .unwrap_or(false);
    if !canonical {
        return Err("yescrypt parameters other than N, r, p".to_owned());
    }
    let nrp = params
        .n()
        .checked_mul(u64::from(params.r()))
        .and_then(|v| v.checked_mul(u64::from(params.p())))
        .ok_or_else(|| "yescrypt parameters overflow".to_owned())?;
    let memory = nrp.saturating_mul(128);
    if memory > limits.max_yescrypt_memory {
        return Err(format!(
            "yescrypt needs {memory} bytes, over the cap of {}",
            limits.max_yescrypt_memory
        ));
    }
    Ok(nrp.div_ceil(YESCRYPT_NR_PER_UNIT).max(1))
}

/// Whether `password` hashes to `hash` (already [`classify`]d); `Err` if the hash is malformed.
pub fn matches(v: &Verifiable, hash: &str, password: &[u8]) -> Result<bool, String> {
    let outcome = match v.scheme {
        "yescrypt" => {
            yescrypt::PasswordVerifier::verify_password(&Yescrypt::default(), password, hash)
        }
        "md5-crypt" => return md5_crypt_matches(hash, password),
        _ => ShaCrypt::SHA512.verify_password(password, hash),
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(sha_crypt::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(format!("malformed {} hash ({e})", v.scheme)),
    }
}

/// The crypt alphabet, least significant 6 bits first.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// md5-crypt (`$1$salt$hash`) as in Poul-Henning Kamp's FreeBSD original and glibc.
fn md5_crypt_matches(hash: &str, password: &[u8]) -> Result<bool, String> {
    let rest = hash.strip_prefix("$1$").ok_or("malformed md5-crypt hash")?;
    let (salt, expected) = rest.split_once('$').ok_or("malformed md5-crypt hash")?;
    if expected.len() != 22 || salt.len() > 8 {
        return Err("malformed md5-crypt hash".to_owned());
    }
    Ok(md5_crypt_encode(password, salt.as_bytes()) == expected)
}

fn md5_crypt_encode(pw: &[u8], salt: &[u8]) -> String {
    let alt: [u8; 16] = Md5::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize()
        .into();
    let mut ctx = Md5::new()
        .chain_update(pw)
        .chain_update(b"$1$")
        .chain_update(salt);
    for chunk in pw.chunks(16) {
        ctx.update(&alt[..chunk.len()]);
    }
    let mut n = pw.len();
    while n > 0 {
        // Odd bits add a NUL, even bits the password's first byte: a quirk of the original.
        if n & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        n >>= 1;
    }
    let mut f: [u8; 16] = ctx.finalize().into();
    for i in 0..1000 {
        let mut c = Md5::new();
        if i & 1 == 1 {
            c.update(pw)
        } else {
            c.update(f)
        }
        if i % 3 != 0 {
            c.update(salt)
        }
        if i % 7 != 0 {
            c.update(pw)
        }
        if i & 1 == 1 {
            c.update(f)
        } else {
            c.update(pw)
        }
        f = c.finalize().into();
    }
    let mut out = String::with_capacity(22);
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push64(
            &mut out,
            (u32::from(f[a]) << 16) | (u32::from(f[b]) << 8) | u32::from(f[c]),
            4,
        );
    }
    push64(&mut out, u32::from(f[11]), 2);
    out
}

fn push64(out: &mut String, mut v: u32, n: usize) {
    for _ in 0..n {
        out.push(char::from(ITOA64[(v & 0x3f) as usize]));
        v >>= 6;
    }
}
