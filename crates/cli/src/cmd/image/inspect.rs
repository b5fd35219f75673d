//! `ironroot image inspect` and the encryption state `check` and `push` rely on.

use super::layout::Image;
use super::model::Descriptor;
use super::Table;
use ironroot_keyprovider::{Packet, DEFAULT_NAME};
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
    /// A key provider's annotation; for ironroot's, which broker key sealed it.
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

impl Recipient {
    fn describe(&self) -> String {
        match self {
            Recipient::Jwe { count } => format!("jwe x{count}"),
            Recipient::Provider {
                name,
                key_name: Some(k),
                key_id: Some(id),
            } => format!("provider:{name} key {k} ({id})"),
            Recipient::Provider { name, .. } => format!("provider:{name}"),
            Recipient::Other { name } => name.clone(),
        }
    }
}

pub fn report(image: &Image) -> ImageReport {
    ImageReport {
        manifest: image.manifest_desc.digest.clone(),
        tag: image.tag().map(str::to_owned),
        layers: image.manifest.layers.iter().map(layer_report).collect(),
    }
}

pub fn layer_report(desc: &Descriptor) -> LayerReport {
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
                .flat_map(|w| recipients(&w.scheme, &w.blobs))
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

fn recipients(scheme: &KeyScheme, blobs: &[Vec<u8>]) -> Vec<Recipient> {
    match scheme {
        KeyScheme::Jwe => vec![Recipient::Jwe {
            count: blobs.iter().map(|b| jwe_recipient_count(b)).sum(),
        }],
        KeyScheme::Provider(name) => blobs
            .iter()
            .map(|b| {
                let packet = (name == DEFAULT_NAME)
                    .then(|| Packet::parse(b).ok())
                    .flatten();
                Recipient::Provider {
                    name: name.clone(),
                    key_name: packet.as_ref().map(|p| p.key_name.clone()),
                    key_id: packet.map(|p| p.key_id),
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

pub fn render(r: &ImageReport) -> String {
    let mut t = Table::new(&[
        "#",
        "MEDIA TYPE",
        "SIZE",
        "ENCRYPTED",
        "CIPHER",
        "RECIPIENTS",
    ]);
    for (i, l) in r.layers.iter().enumerate() {
        let recipients: Vec<String> = l.recipients.iter().map(Recipient::describe).collect();
        let encrypted = match (&l.problem, l.encrypted) {
            (Some(p), _) => format!("BROKEN: {p}"),
            (None, true) => "yes".into(),
            (None, false) => "NO".into(),
        };
        t.row(vec![
            (i + 1).to_string(),
            l.media_type.clone(),
            l.size.to_string(),
            encrypted,
            l.cipher.clone().unwrap_or_else(|| "-".into()),
            if recipients.is_empty() {
                "-".into()
            } else {
                recipients.join(", ")
            },
        ]);
    }
    // The table escapes its cells; the tag and digest come from the layout too.
    format!(
        "manifest {}{}\n{}",
        crate::cmd::printable(&r.manifest),
        r.tag
            .as_deref()
            .map(|t| format!(" (tag {})", crate::cmd::printable(t)))
            .unwrap_or_default(),
        t.render()
    )
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
        let r = layer_report(&desc);
        assert!(!r.encrypted);
        assert!(r.problem.is_some());
    }
}
