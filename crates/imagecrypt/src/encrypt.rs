//! Encryption: every layer through ocicrypt's AES-256-CTR + HMAC, streamed from the source
//! blob into a temporary file of the destination, with the layer key wrapped for each
//! recipient in the annotations ocicrypt writes.

use crate::{layer_label, CryptError, LayerKeySealer, Summary};
use ironroot_oci::model::Descriptor;
use ironroot_oci::staging::{Staging, TempBlob};
use ironroot_oci::{write_image, Image, ImageError, LayerProgress, LayoutRef};
use ironroot_ocicrypt::annotations::{encode_pubopts, join_wrapped_keys, PUBOPTS_ANNOTATION};
use ironroot_ocicrypt::media_type::is_encrypted_media_type;
use ironroot_ocicrypt::{
    encrypt_layer, encrypted_media_type, jwe_wrap, EncryptedLayer, JwePublicKey, KeyScheme,
};
use std::path::PathBuf;
use std::time::Instant;

/// Recipients of an encryption: every layer key is wrapped for all of them.
pub struct EncryptKeys<'a> {
    pub jwe: Vec<JwePublicKey>,
    /// At most one: a layer is sealed under one broker key.
    pub provider: Option<&'a dyn LayerKeySealer>,
}

pub struct EncryptOptions<'a> {
    pub keys: EncryptKeys<'a>,
    /// Keep layers that are already encrypted as they are instead of refusing the image.
    pub skip_encrypted: bool,
    pub progress: &'a (dyn LayerProgress + Sync),
}

pub async fn encrypt_image(
    src: &LayoutRef,
    dst: &LayoutRef,
    opts: &EncryptOptions<'_>,
) -> Result<Summary, CryptError> {
    let image = Image::open(src)?;
    check_layers(&image, opts.skip_encrypted)?;
    // Fail closed: a layer nobody can decrypt is no better than a refusal.
    if opts.keys.jwe.is_empty() && opts.keys.provider.is_none() {
        return Err(CryptError::Key("no key to wrap the layer keys for".into()));
    }
    let mut staging = Staging::open(&dst.dir)?;
    let n = image.manifest.layers.len();
    let mut layers = Vec::with_capacity(n);
    let mut changed = 0;
    for (i, desc) in image.manifest.layers.iter().enumerate() {
        let label = layer_label(i, n, desc);
        if is_encrypted_media_type(&desc.media_type) {
            staging.copy_blob(&image.layout.dir, desc)?;
            opts.progress
                .note(&format!("{label}: already encrypted, kept"));
            layers.push(desc.clone());
            continue;
        }
        let started = Instant::now();
        let new = encrypt_one(&image, desc, &label, &mut staging, opts).await?;
        opts.progress
            .layer(&label, "encrypted", desc.size, started.elapsed());
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

/// Refuses, before any work, layers that cannot be encrypted and (unless skipped) layers
/// that already are.
fn check_layers(image: &Image, skip_encrypted: bool) -> Result<(), CryptError> {
    let n = image.manifest.layers.len();
    if n == 0 {
        return Err(ImageError::Unsupported("the image has no layers".into()).into());
    }
    let mut encrypted = Vec::new();
    for (i, desc) in image.manifest.layers.iter().enumerate() {
        if is_encrypted_media_type(&desc.media_type) {
            encrypted.push(layer_label(i, n, desc));
        } else if let Err(e) = encrypted_media_type(&desc.media_type) {
            let label = layer_label(i, n, desc);
            return Err(ImageError::Unsupported(format!("{label}: {e}")).into());
        }
    }
    if !encrypted.is_empty() && !skip_encrypted {
        return Err(CryptError::AlreadyEncrypted(encrypted));
    }
    Ok(())
}

async fn encrypt_one(
    image: &Image,
    desc: &Descriptor,
    label: &str,
    staging: &mut Staging,
    opts: &EncryptOptions<'_>,
) -> Result<Descriptor, CryptError> {
    let layer_err = |reason: String| CryptError::layer(label, reason);
    let path = image.blob_path(desc)?;
    let tmp = staging.temp()?;
    let (tmp, enc) = tokio::task::spawn_blocking(move || stream_encrypt(path, tmp))
        .await
        .map_err(|e| layer_err(format!("the encryption task failed: {e}")))??;
    // The source blob is what its descriptor says, or nothing is written.
    if enc.plaintext_digest != desc.digest || enc.plaintext_size != desc.size {
        return Err(ImageError::DigestMismatch {
            what: format!("{label}, the source blob"),
            found: format!("{}, {} bytes", enc.plaintext_digest, enc.plaintext_size),
        }
        .into());
    }
    let private = enc
        .private
        .to_json()
        .map_err(|e| layer_err(format!("private options: {e}")))?;
    let mut annotations = desc.annotations();
    if !opts.keys.jwe.is_empty() {
        let jwe =
            jwe_wrap(&opts.keys.jwe, &private).map_err(|e| layer_err(format!("JWE wrap: {e}")))?;
        annotations.insert(KeyScheme::Jwe.annotation_key(), join_wrapped_keys([jwe]));
    }
    if let Some(sealer) = opts.keys.provider {
        let name = sealer.provider();
        let sealed = sealer
            .seal(&private)
            .await
            .map_err(|e| layer_err(format!("provider:{name}: {e}")))?;
        annotations.insert(
            KeyScheme::Provider(name.into()).annotation_key(),
            join_wrapped_keys([sealed]),
        );
    }
    let pubopts = encode_pubopts(&enc.public).map_err(|e| layer_err(e.to_string()))?;
    annotations.insert(PUBOPTS_ANNOTATION.into(), pubopts);
    let media_type =
        encrypted_media_type(&desc.media_type).map_err(|e| layer_err(e.to_string()))?;
    let mut new = desc.for_new_blob(media_type, &enc.digest, enc.size);
    new.annotations = Some(annotations);
    staging.commit(tmp, &enc.digest)?;
    Ok(new)
}

fn stream_encrypt(
    path: PathBuf,
    mut tmp: TempBlob,
) -> Result<(TempBlob, EncryptedLayer), CryptError> {
    let what = path.display().to_string();
    let src = std::fs::File::open(&path).map_err(|e| CryptError::io(&what, e))?;
    let enc = encrypt_layer(src, tmp.writer())
        .map_err(|e| CryptError::io(&what, std::io::Error::other(e)))?;
    Ok((tmp, enc))
}
