//! An image's encryption as inspect shows it, and the check that `push` (and a pipeline, or
//! an admission webhook) relies on: every layer usably encrypted. Nothing is decrypted.

use crate::{layer_label, CryptError, SealedKeyNames};
use ironroot_oci::model::Descriptor;
use ironroot_oci::{Image, LayoutRef};
use ironroot_ocicrypt::annotations::{decode_pubopts, wrapped_keys, PUBOPTS_ANNOTATION};
use ironroot_ocicrypt::media_type::is_encrypted_media_type;
use ironroot_ocicrypt::KeyScheme;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ImageReport {
    pub manifest: String,
    pub tag: Option<String>,
    pub layers: Vec<LayerReport>,
}

#[derive(Debug, Serialize)]
pub struct LayerReport {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub encrypted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    pub recipients: Vec<Recipient>,
    /// Why a layer with an encrypted media type is not usable (missing or bad
    /// annotations). Such a layer does not count as encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Recipient {
    /// JWE recipients (public keys), counted across the layer's JWE objects.
    Jwe {
        count: usize,
    },
    /// A key provider's annotation; where its format is known, which key sealed it.
    Provider {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
    },
    Other {
        name: String,
    },
}

/// Every layer's encryption; `names` reads the provider annotations it knows.
pub fn report(image: &Image, names: &dyn SealedKeyNames) -> ImageReport {
    ImageReport {
        manifest: image.manifest_desc.digest.clone(),
        tag: image.tag().map(str::to_owned),
        layers: image
            .manifest
            .layers
            .iter()
            .map(|d| layer_report(d, names))
            .collect(),
    }
}

pub fn layer_report(desc: &Descriptor, names: &dyn SealedKeyNames) -> LayerReport {
    let mut r = LayerReport {
        digest: desc.digest.clone(),
        media_type: desc.media_type.clone(),
        size: desc.size,
        encrypted: false,
        cipher: None,
        recipients: Vec::new(),
        problem: None,
    };
    if !is_encrypted_media_type(&desc.media_type) {
        return r;
    }
    let annotations = desc.annotations();
    match annotations
        .get(PUBOPTS_ANNOTATION)
        .map(|v| decode_pubopts(v))
    {
        Some(Ok(p)) => r.cipher = Some(p.cipher),
        Some(Err(e)) => r.problem = Some(format!("pubopts: {e}")),
        None => r.problem = Some("no pubopts annotation".into()),
    }
    match wrapped_keys(&annotations) {
        Ok(all) => {
            r.recipients = all
                .iter()
                .flat_map(|w| recipients(&w.scheme, &w.blobs, names))
                .collect()
        }
        Err(e) => r.problem = Some(format!("wrapped keys: {e}")),
    }
    if r.problem.is_none() && r.recipients.is_empty() {
        r.problem = Some("no wrapped keys: nobody can decrypt it".into());
    }
    r.encrypted = r.problem.is_none();
    r
}

fn recipients(scheme: &KeyScheme, blobs: &[Vec<u8>], names: &dyn SealedKeyNames) -> Vec<Recipient> {
    match scheme {
        KeyScheme::Jwe => vec![Recipient::Jwe {
            count: blobs.iter().map(|b| jwe_recipient_count(b)).sum(),
        }],
        KeyScheme::Provider(name) => blobs
            .iter()
            .map(|b| {
                let key = names.sealed_key(name, b);
                Recipient::Provider {
                    name: name.clone(),
                    key_name: key.as_ref().map(|k| k.name.clone()),
                    key_id: key.map(|k| k.id),
                }
            })
            .collect(),
        other => vec![Recipient::Other { name: other.name() }],
    }
}

/// go-jose writes one recipient flattened and several under `recipients`.
fn jwe_recipient_count(jwe: &[u8]) -> usize {
    match serde_json::from_slice::<serde_json::Value>(jwe) {
        Ok(v) => v["recipients"].as_array().map_or(1, Vec::len),
        Err(_) => 1, // compact serialization: one recipient
    }
}

/// The layers that are not usable encrypted layers, with why.
pub fn plaintext_layers(image: &Image) -> Vec<String> {
    let n = image.manifest.layers.len();
    if n == 0 {
        return vec!["the image has no layers".into()];
    }
    image
        .manifest
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, desc)| {
            let r = layer_report(desc, &());
            (!r.encrypted).then(|| {
                let why = r.problem.unwrap_or_else(|| desc.media_type.clone());
                format!("{} {why}", layer_label(i, n, desc))
            })
        })
        .collect()
}

/// Opens the image and refuses it unless every layer is encrypted.
pub fn require_encrypted(src: &LayoutRef) -> Result<Image, CryptError> {
    let image = Image::open(src)?;
    let plain = plaintext_layers(&image);
    if !plain.is_empty() {
        return Err(CryptError::NotEncrypted(plain));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jwe_recipients_are_counted_in_both_serializations() {
        assert_eq!(
            jwe_recipient_count(br#"{"protected":"x","encrypted_key":"y"}"#),
            1
        );
        assert_eq!(jwe_recipient_count(br#"{"recipients":[{},{},{}]}"#), 3);
    }

    #[test]
    fn an_encrypted_media_type_without_keys_is_not_encrypted() {
        let desc: Descriptor = serde_json::from_str(
            r#"{"mediaType":"application/vnd.oci.image.layer.v1.tar+encrypted","digest":"sha256:00","size":1}"#,
        )
        .unwrap();
        let r = layer_report(&desc, &());
        assert!(!r.encrypted);
        assert!(r.problem.is_some());
    }
}
