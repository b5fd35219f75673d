//! The `ima-ng` / `ima-sig` template data, and the checks every entry passes whichever
//! form it came from, so both parsers and the builder accept exactly the same entries.

use super::error::sanitised_name;
use super::{
    ImaEntry, ImaError, ImaPosition, MAX_PATH_BYTES, MAX_PCR_INDEX, MAX_TEMPLATE_DATA_BYTES,
};
use crate::reader::Reader;
use ironroot_crypto::{digest, HashAlg};
use ironroot_tpm_wire::Digest;

pub(super) const IMA_NG: &str = "ima-ng";
pub(super) const IMA_SIG: &str = "ima-sig";
pub(super) const SHA1_LEN: usize = 20;

/// Checks a template name; returns whether it carries a `sig` field.
pub(super) fn has_sig_field(name: &[u8], at: ImaPosition) -> Result<bool, ImaError> {
    match name {
        n if n == IMA_NG.as_bytes() => Ok(false),
        n if n == IMA_SIG.as_bytes() => Ok(true),
        _ => Err(ImaError::UnsupportedTemplate {
            at,
            name: sanitised_name(name),
        }),
    }
}

/// The digest algorithm as IMA names it; exact lower case, since the name is part of the
/// hashed template data.
pub(super) fn alg_from_ima_name(name: &[u8], at: ImaPosition) -> Result<HashAlg, ImaError> {
    HashAlg::ALL
        .into_iter()
        .find(|a| a.name().as_bytes() == name)
        .ok_or(ImaError::UnknownAlgorithm { at })
}

fn put_field(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// The pieces of an entry's template data; `sig` is present exactly for `ima-sig`.
struct Parts<'e> {
    alg: &'e [u8],
    digest: &'e [u8],
    path: &'e [u8],
    sig: Option<&'e [u8]>,
}

impl<'e> Parts<'e> {
    fn of(e: &'e ImaEntry) -> Self {
        Parts {
            alg: e.file_digest_alg.name().as_bytes(),
            digest: &e.file_digest.0,
            path: e.path.as_bytes(),
            sig: (e.template == IMA_SIG)
                .then(|| e.signature.as_ref().map_or(&[][..], |s| s.0.as_slice())),
        }
    }

    /// Length of the template data, without building it.
    fn encoded_len(&self) -> usize {
        let sig = self.sig.map_or(0, |s| 4 + s.len());
        4 + self.alg.len() + 2 + self.digest.len() + 4 + self.path.len() + 1 + sig
    }

    /// Calls `field` with each length-prefixed field's parts, in order.
    fn for_each_field(&self, mut field: impl FnMut(&[&[u8]])) {
        field(&[self.alg, b":\0", self.digest]);
        field(&[self.path, b"\0"]);
        if let Some(sig) = self.sig {
            field(&[sig]);
        }
    }
}

pub(super) fn encode(e: &ImaEntry) -> Vec<u8> {
    let parts = Parts::of(e);
    let mut out = Vec::with_capacity(parts.encoded_len());
    parts.for_each_field(|f| put_field(&mut out, f));
    out
}

/// Template data of typical entries fits here, so hashing them allocates nothing but
/// the digest; the long ones (deep paths, signatures) take the heap.
const STACK_TEMPLATE_BYTES: usize = 384;

/// `H_alg(template data)`, the template hash in one bank. Replay and the parsers' SHA-1
/// check run it for every entry, so it avoids building the data on the heap.
pub(super) fn hash_template(e: &ImaEntry, alg: HashAlg) -> Vec<u8> {
    let parts = Parts::of(e);
    let len = parts.encoded_len();
    if len > STACK_TEMPLATE_BYTES {
        return digest(alg, &encode(e));
    }
    let mut buf = [0u8; STACK_TEMPLATE_BYTES];
    let mut w = SliceWriter {
        buf: &mut buf,
        len: 0,
    };
    parts.for_each_field(|f| w.field(f));
    let written = w.len;
    match buf.get(..written) {
        Some(data) if written == len => digest(alg, data),
        _ => digest(alg, &encode(e)),
    }
}

/// Writes length-prefixed fields into a slice the caller sized with `encoded_len`; a
/// write past the end is dropped rather than a panic, and the caller then sees a short
/// length and falls back to the heap.
struct SliceWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl SliceWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        }
    }

    fn field(&mut self, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        self.put(&(len as u32).to_le_bytes());
        for p in parts {
            self.put(p);
        }
    }
}

/// The fields of binary template data.
pub(super) struct Fields {
    pub alg: HashAlg,
    pub digest: Vec<u8>,
    pub path: String,
    pub signature: Option<Vec<u8>>,
}

pub(super) fn decode(data: &[u8], sig: bool, at: ImaPosition) -> Result<Fields, ImaError> {
    let bad = |reason| ImaError::BadTemplateData { at, reason };
    if data.len() > MAX_TEMPLATE_DATA_BYTES {
        return Err(ImaError::TooLarge {
            at,
            what: "template data",
            size: data.len(),
            limit: MAX_TEMPLATE_DATA_BYTES,
        });
    }
    let mut r = Reader::new(data);
    let mut field = |name| {
        let len = r.u32_le().ok_or(bad(name))?;
        r.take(usize::try_from(len).unwrap_or(usize::MAX))
            .ok_or(bad(name))
    };
    let d_ng = field("d-ng field overruns the data")?;
    let n_ng = field("n-ng field overruns the data")?;
    let signature = if sig {
        Some(field("sig field overruns the data")?.to_vec())
    } else {
        None
    };
    if !r.is_empty() {
        return Err(bad("bytes after the last field"));
    }
    let split = d_ng
        .windows(2)
        .position(|w| w == b":\0")
        .ok_or(bad("d-ng has no \"<alg>:\\0\" prefix"))?;
    let alg = alg_from_ima_name(&d_ng[..split], at)?;
    let path_bytes = n_ng
        .strip_suffix(b"\0")
        .ok_or(bad("n-ng is not NUL-terminated"))?;
    let path = std::str::from_utf8(path_bytes)
        .map_err(|_| ImaError::BadPath {
            at,
            reason: "not UTF-8",
        })?
        .to_string();
    Ok(Fields {
        alg,
        digest: d_ng[split + 2..].to_vec(),
        path,
        signature,
    })
}

pub(super) fn check_path(path: &str, at: ImaPosition) -> Result<(), ImaError> {
    let reason = if path.is_empty() {
        "empty"
    } else if path.len() > MAX_PATH_BYTES {
        "longer than PATH_MAX"
    } else if path.contains(['\0', '\n']) {
        "contains NUL or newline"
    } else {
        return Ok(());
    };
    Err(ImaError::BadPath { at, reason })
}

/// Checks an entry assembled by a parser or the builder, including that its SHA-1
/// template hash covers its template data (violations excepted: their hash is zero).
pub(super) fn check_entry(e: &ImaEntry, at: ImaPosition) -> Result<(), ImaError> {
    if e.pcr > MAX_PCR_INDEX {
        return Err(ImaError::PcrIndexOutOfRange { at });
    }
    check_path(&e.path, at)?;
    if e.template_hash_sha1.0.len() != SHA1_LEN {
        return Err(ImaError::DigestLength {
            at,
            field: "template hash",
            expected: SHA1_LEN,
            found: e.template_hash_sha1.0.len(),
        });
    }
    let expected = e.file_digest_alg.len();
    let found = e.file_digest.0.len();
    // Kernels before 5.x wrote violations with an empty digest.
    if found != expected && !(found == 0 && e.is_violation()) {
        return Err(ImaError::DigestLength {
            at,
            field: "file digest",
            expected,
            found,
        });
    }
    if !e.is_violation() && hash_template(e, HashAlg::Sha1) != e.template_hash_sha1.0 {
        return Err(ImaError::TemplateHashMismatch { at });
    }
    Ok(())
}

/// An entry whose SHA-1 template hash is computed rather than read.
pub(super) fn new_entry(pcr: u32, alg: HashAlg, file_digest: &[u8], path: &str) -> ImaEntry {
    let mut e = ImaEntry {
        pcr,
        template: IMA_NG.to_string(),
        file_digest_alg: alg,
        file_digest: Digest(file_digest.to_vec()),
        path: path.to_string(),
        signature: None,
        template_hash_sha1: Digest(Vec::new()),
    };
    e.template_hash_sha1 = Digest(digest(HashAlg::Sha1, &e.template_data()));
    e
}
