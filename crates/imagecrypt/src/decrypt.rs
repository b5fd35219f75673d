//! Decryption: each encrypted layer's key is unwrapped with the first given key that fits,
//! the layer is streamed into a temporary file while its ciphertext is hashed and MACed,
//! and kept only if both the descriptor digest and the HMAC match.

use crate::{layer_label, CryptError, LayerKeyOpener, Summary};
use ironroot_crypto::{HashAlg, Hasher};
use ironroot_oci::model::Descriptor;
use ironroot_oci::staging::{Staging, TempBlob};
use ironroot_oci::{write_image, Image, ImageError, LayerProgress, LayoutRef};
use ironroot_ocicrypt::annotations::{
    decode_pubopts, remove_encryption_annotations, wrapped_keys, PUBOPTS_ANNOTATION,
};
use ironroot_ocicrypt::media_type::is_encrypted_media_type;
use ironroot_ocicrypt::{
    decrypt_layer, decrypted_media_type, jwe_unwrap, DecryptedLayer, JwePrivateKey, KeyScheme,
    LayerError, PrivateOptions, PublicOptions,
};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

/// Keys a decryption may use; each layer is opened by the first that fits.
pub struct DecryptKeys<'a> {
    pub jwe: Vec<JwePrivateKey>,
    /// The key provider whose annotations to open (the node's agent).
    pub provider: Option<&'a dyn LayerKeyOpener>,
}

pub struct DecryptOptions<'a> {
    pub keys: DecryptKeys<'a>,
    pub progress: &'a (dyn LayerProgress + Sync),
}

pub async fn decrypt_image(
    src: &LayoutRef,
    dst: &LayoutRef,
    opts: &DecryptOptions<'_>,
) -> Result<Summary, CryptError> {
    let image = Image::open(src)?;
    let mut staging = Staging::open(&dst.dir)?;
    let n = image.manifest.layers.len();
    let mut layers = Vec::with_capacity(n);
    let mut changed = 0;
    for (i, desc) in image.manifest.layers.iter().enumerate() {
        let label = layer_label(i, n, desc);
        if !is_encrypted_media_type(&desc.media_type) {
            staging.copy_blob(&image.layout.dir, desc)?;
            opts.progress.note(&format!("{label}: not encrypted, kept"));
            layers.push(desc.clone());
            continue;
        }
        let started = Instant::now();
        let new = decrypt_one(&image, desc, &label, &mut staging, opts).await?;
        opts.progress
            .layer(&label, "decrypted", desc.size, started.elapsed());
        layers.push(new);
        changed += 1;
    }
    let top = write_image(&image, staging, layers, dst.tag.as_deref())?;
    Ok(Summary {
        top,
        layers: n,
        changed,
    })
}

async fn decrypt_one(
    image: &Image,
    desc: &Descriptor,
    label: &str,
    staging: &mut Staging,
    opts: &DecryptOptions<'_>,
) -> Result<Descriptor, CryptError> {
    let layer_err = |reason: String| CryptError::layer(label, reason);
    let mut annotations = desc.annotations();
    let public = annotations
        .get(PUBOPTS_ANNOTATION)
        .ok_or_else(|| layer_err("no pubopts annotation: not an ocicrypt layer".into()))
        .and_then(|v| decode_pubopts(v).map_err(|e| layer_err(e.to_string())))?;
    let private = open_layer_key(desc, label, &opts.keys).await?;
    let media_type =
        decrypted_media_type(&desc.media_type).map_err(|e| layer_err(e.to_string()))?;
    let path = image.blob_path(desc)?;
    let tmp = staging.temp()?;
    let (tmp, result, seen) =
        tokio::task::spawn_blocking(move || stream_decrypt(path, tmp, &private, &public))
            .await
            .map_err(|e| layer_err(format!("the decryption task failed: {e}")))??;
    // Dropping `tmp` on any error below deletes the plaintext written so far.
    let decrypted = match result {
        Err(LayerError::Io(e)) => return Err(CryptError::io(label, e)),
        r => r,
    };
    // The blob must be the one the manifest names before its HMAC means anything.
    if seen.0 != desc.digest || seen.1 != desc.size {
        return Err(ImageError::DigestMismatch {
            what: format!("{label}, the encrypted blob"),
            found: format!("{}, {} bytes", seen.0, seen.1),
        }
        .into());
    }
    let decrypted = decrypted.map_err(|e| match e {
        LayerError::HmacMismatch => CryptError::HmacMismatch(label.to_owned()),
        other => layer_err(other.to_string()),
    })?;
    remove_encryption_annotations(&mut annotations);
    let mut new = desc.for_new_blob(
        media_type,
        &decrypted.plaintext_digest,
        decrypted.plaintext_size,
    );
    new.annotations = (!annotations.is_empty()).then_some(annotations);
    staging.commit(tmp, &decrypted.plaintext_digest)?;
    Ok(new)
}

/// The layer's private options, from the first recipient one of our keys opens.
async fn open_layer_key(
    desc: &Descriptor,
    label: &str,
    keys: &DecryptKeys<'_>,
) -> Result<PrivateOptions, CryptError> {
    let layer_err = |reason: String| CryptError::layer(label, reason);
    let wrapped = wrapped_keys(&desc.annotations()).map_err(|e| layer_err(e.to_string()))?;
    let mut tried = Vec::new();
    for w in &wrapped {
        for blob in &w.blobs {
            let opened = match (&w.scheme, keys.provider) {
                (KeyScheme::Jwe, _) if !keys.jwe.is_empty() => {
                    jwe_unwrap(&keys.jwe, blob).map_err(|e| format!("jwe: {e}"))
                }
                (KeyScheme::Provider(name), Some(opener)) if name == opener.provider() => opener
                    .open(blob)
                    .await
                    .map_err(|e| format!("provider.{name}: {e}")),
                _ => continue,
            };
            match opened {
                Ok(json) => {
                    return PrivateOptions::from_json(&json)
                        .map_err(|e| layer_err(format!("the unwrapped options: {e}")));
                }
                Err(e) => tried.push(e),
            }
        }
    }
    let schemes: Vec<String> = wrapped.iter().map(|w| w.scheme.name()).collect();
    Err(layer_err(format!(
        "none of the given keys opens it (its recipients: {}){}",
        if schemes.is_empty() {
            "none".into()
        } else {
            schemes.join(", ")
        },
        if tried.is_empty() {
            String::new()
        } else {
            format!("; {}", tried.join("; "))
        }
    )))
}

/// The ciphertext's digest and size as read, whatever the decryption's outcome.
type Seen = (String, u64);

fn stream_decrypt(
    path: PathBuf,
    mut tmp: TempBlob,
    private: &PrivateOptions,
    public: &PublicOptions,
) -> Result<(TempBlob, Result<DecryptedLayer, LayerError>, Seen), CryptError> {
    let what = path.display().to_string();
    let file = std::fs::File::open(&path).map_err(|e| CryptError::io(&what, e))?;
    let mut reader = HashingReader {
        inner: file,
        hasher: Hasher::new(HashAlg::Sha256),
        size: 0,
    };
    let result = decrypt_layer(&mut reader, tmp.writer(), private, public);
    let seen = (
        format!("sha256:{}", hex::encode(reader.hasher.finish())),
        reader.size,
    );
    Ok((tmp, result, seen))
}

struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    size: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}
