//! The last step of encrypt and decrypt: the config (unchanged), the manifest with its new
//! layers, the one-image index if the source had one, and the index.json entry, written in
//! that order so that index.json names only complete images.

use crate::layout::Image;
use crate::model::{Descriptor, REF_NAME};
use crate::staging::Staging;
use crate::ImageError;

/// Writes `image` with `layers` into `staging` under `tag` (default: the source's tag) and
/// returns the index.json entry.
pub fn write_image(
    image: &Image,
    mut staging: Staging,
    layers: Vec<Descriptor>,
    tag: Option<&str>,
) -> Result<Descriptor, ImageError> {
    staging.copy_blob(&image.layout.dir, &image.manifest.config)?;
    let mut manifest = image.manifest.clone();
    manifest.layers = layers;
    let (digest, size) = staging.put_bytes(&to_json(&manifest)?)?;
    let manifest_desc =
        image
            .manifest_desc
            .for_new_blob(&image.manifest_desc.media_type, &digest, size);
    let mut top = match &image.nested {
        None => manifest_desc,
        Some(nested) => {
            let mut nested = nested.clone();
            nested.manifests = vec![manifest_desc];
            let (digest, size) = staging.put_bytes(&to_json(&nested)?)?;
            image.top.for_new_blob(&image.top.media_type, &digest, size)
        }
    };
    let mut annotations = top.annotations();
    annotations.remove(REF_NAME);
    if let Some(t) = tag.or(image.tag()) {
        annotations.insert(REF_NAME.into(), t.to_owned());
    }
    top.annotations = (!annotations.is_empty()).then_some(annotations);
    staging.finish(top.clone())?;
    Ok(top)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ImageError> {
    serde_json::to_vec(v).map_err(|e| ImageError::Malformed(e.to_string()))
}
