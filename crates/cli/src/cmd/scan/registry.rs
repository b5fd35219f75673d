//! Images straight from a registry, with `oci-client`: the manifest (checked against the
//! digest in the reference, when there is one), the config, then each layer as a stream
//! into the scan, never stored. The client and credentials are `crate::registry`'s: TLS
//! with the system's CA bundle, plain HTTP only with `--plain-http` (loopback tests).

use crate::cmd::image::model::{Descriptor, Index, Manifest, OCI_INDEX, OCI_MANIFEST};
use crate::cmd::image::progress::Progress;
use anyhow::{bail, Context};
use futures_util::StreamExt;
use ironroot_crypto::HashAlg;
use ironroot_scanner::{BlobDigest, ImageInfo, Scan};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::io::Read;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const MAX_DOC: usize = 4 << 20;

pub struct Fed {
    pub info: ImageInfo,
    pub config: Vec<u8>,
}

fn client(reference: &Reference, plain_http: bool) -> anyhow::Result<Client> {
    crate::registry::client(reference, plain_http, std::time::Duration::from_secs(120))
}

fn check(what: &str, expected: &str, data: &[u8]) -> anyhow::Result<()> {
    let want = BlobDigest::parse(expected)
        .with_context(|| format!("{what}: {expected:?} is not a digest"))?;
    let got = BlobDigest::of(want.alg(), data);
    if got != want {
        bail!("{what}: the registry sent content whose digest is {got}, not {want}; refused");
    }
    Ok(())
}

/// The manifest of `reference` (one platform: linux/amd64 from an index), digest-checked.
async fn manifest(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
) -> anyhow::Result<(Manifest, String)> {
    let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
    let (raw, digest) = client
        .pull_manifest_raw(reference, auth, &accept)
        .await
        .with_context(|| match auth {
            RegistryAuth::Anonymous => format!(
                "{}: the manifest (no credentials were found for {}: if it needs them, log in \
                 with `podman login` or `skopeo login`, or set REGISTRY_AUTH_FILE)",
                reference.whole(),
                reference.registry()
            ),
            _ => format!("{}: the manifest", reference.whole()),
        })?;
    anyhow::ensure!(
        raw.len() <= MAX_DOC,
        "the manifest is larger than {MAX_DOC} bytes"
    );
    let digest = match reference.digest() {
        Some(pinned) => {
            check("the manifest", pinned, &raw)?;
            pinned.to_owned()
        }
        // By tag: the registry's Docker-Content-Digest, when sent, must be the content's.
        None => {
            let computed = BlobDigest::of(HashAlg::Sha256, &raw).to_string();
            if !digest.is_empty() && digest.starts_with("sha256:") && digest != computed {
                bail!("the registry says the manifest is {digest}, but its content is {computed}; refused");
            }
            computed
        }
    };
    let kind: serde_json::Value =
        serde_json::from_slice(&raw).context("the manifest is not JSON")?;
    let media = kind
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or(OCI_MANIFEST);
    if media == OCI_INDEX || media == DOCKER_LIST || kind.get("manifests").is_some() {
        let index: Index = serde_json::from_slice(&raw).context("the image index")?;
        let pick = index
            .manifests
            .iter()
            .find(|d| platform(d) == Some(("linux", "amd64")))
            .with_context(|| "the index has no linux/amd64 image")?;
        let one = reference.clone_with_digest(pick.digest.clone());
        let (raw, _) = client
            .pull_manifest_raw(&one, auth, &accept)
            .await
            .with_context(|| format!("{}: the linux/amd64 manifest", reference.whole()))?;
        check("the linux/amd64 manifest", &pick.digest, &raw)?;
        let m: Manifest = serde_json::from_slice(&raw).context("the image manifest")?;
        return Ok((m, pick.digest.clone()));
    }
    let m: Manifest = serde_json::from_slice(&raw).context("the image manifest")?;
    Ok((m, digest))
}

fn platform(d: &Descriptor) -> Option<(&str, &str)> {
    let p = d.other.get("platform")?;
    Some((p.get("os")?.as_str()?, p.get("architecture")?.as_str()?))
}

/// Feeds the image's layers into `scan` (called on a blocking thread).
pub fn feed(
    reference_text: &str,
    plain_http: bool,
    scan: &mut Scan<'_>,
    progress: Progress,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<Fed> {
    let reference: Reference = reference_text
        .parse()
        .with_context(|| format!("{reference_text:?} is not an image reference"))?;
    let client = client(&reference, plain_http)?;
    let auth = crate::registry::auth::for_reference(&reference)?;
    let (manifest, manifest_digest) = runtime.block_on(manifest(&client, &reference, &auth))?;
    let mut config = Vec::new();
    anyhow::ensure!(
        manifest.config.size as usize <= MAX_DOC,
        "the image config is larger than {MAX_DOC} bytes"
    );
    runtime
        .block_on(client.pull_blob(&reference, manifest.config.digest.as_str(), &mut config))
        .context("the image config")?;
    check("the image config", &manifest.config.digest, &config)?;
    let n = manifest.layers.len();
    for (i, layer) in manifest.layers.iter().enumerate() {
        if layer.media_type.ends_with("+encrypted") {
            bail!(
                "layer {} is encrypted ({}); scan the image before encrypting it",
                layer.digest,
                layer.media_type
            );
        }
        let expected = BlobDigest::parse(&layer.digest)
            .with_context(|| format!("layer {i}: {:?} is not a digest", layer.digest))?;
        let stream = runtime
            .block_on(client.pull_blob_stream(&reference, layer.digest.as_str()))
            .with_context(|| format!("layer {i} ({})", layer.digest))?;
        let reader = BlockingStream {
            runtime,
            stream: stream.stream,
            buf: bytes::Bytes::new(),
        };
        super::source::layer(
            scan,
            i,
            n,
            &expected,
            std::io::BufReader::with_capacity(1 << 20, reader),
            progress,
        )?;
    }
    Ok(Fed {
        info: ImageInfo {
            reference: reference_text.to_owned(),
            source: "registry".into(),
            manifest_digest: Some(manifest_digest),
            config_digest: Some(manifest.config.digest.clone()),
        },
        config,
    })
}

/// A byte stream read from a blocking thread, a chunk at a time.
struct BlockingStream<'r> {
    runtime: &'r tokio::runtime::Handle,
    stream: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    buf: bytes::Bytes,
}

impl Read for BlockingStream<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                Some(chunk) => self.buf = chunk?,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}
