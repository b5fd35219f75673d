//! One keyprovider request in, one reply out, whatever the transport.

use crate::{KeySpec, Packet, ProviderError};
use ironroot_ocicrypt::keyprovider::{unwrap_response_json, wrap_response_json};
use ironroot_ocicrypt::KeyProviderRequest;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use zeroize::Zeroizing;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Seals a layer's private options under a broker key (build hosts).
pub trait Wrapper: Send + Sync {
    fn wrap<'a>(
        &'a self,
        key: &'a KeySpec,
        optsdata: &'a [u8],
    ) -> BoxFuture<'a, Result<Packet, ProviderError>>;
}

/// Opens a packet: the key comes from the broker to this node's TPM (nodes).
pub trait Unwrapper: Send + Sync {
    fn unwrap<'a>(
        &'a self,
        packet: &'a Packet,
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderError>>;
}

/// Answers ocicrypt's requests for provider `name`, with whichever halves it was given.
#[derive(Clone)]
pub struct Handler {
    name: String,
    wrapper: Option<Arc<dyn Wrapper>>,
    unwrapper: Option<Arc<dyn Unwrapper>>,
}

impl Handler {
    pub fn new(
        name: &str,
        wrapper: Option<Arc<dyn Wrapper>>,
        unwrapper: Option<Arc<dyn Unwrapper>>,
    ) -> Handler {
        Handler {
            name: name.to_owned(),
            wrapper,
            unwrapper,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Handles one request (ocicrypt's JSON) and returns the reply's JSON.
    pub async fn handle(&self, json: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        match KeyProviderRequest::from_json(json)? {
            KeyProviderRequest::Wrap {
                parameters,
                optsdata,
            } => {
                let wrapper = self.wrapper.as_ref().ok_or_else(|| {
                    ProviderError::NotConfigured(
                        "this ironroot key provider does not encrypt: it runs on a node, which only \
                         decrypts; encrypt on a build host with `ironroot-keyprovider --server URL \
                         --ca FILE --token-file FILE`"
                            .into(),
                    )
                })?;
                let args = match parameters.get(&self.name).map(Vec::as_slice) {
                    Some([one]) => one.clone(),
                    Some([]) | None => {
                        return Err(ProviderError::KeySpec(format!(
                            "the request names no provider:{} key",
                            self.name
                        )))
                    }
                    Some(_) => {
                        return Err(ProviderError::KeySpec(format!(
                            "give one provider:{} key per encryption: a layer is sealed under one broker key",
                            self.name
                        )))
                    }
                };
                let spec = KeySpec::parse(args.expose())?;
                if optsdata.expose().is_empty() {
                    return Err(ProviderError::Request("empty optsdata".into()));
                }
                let packet = wrapper.wrap(&spec, optsdata.expose()).await?;
                Ok(Zeroizing::new(wrap_response_json(&packet.to_bytes()?)?))
            }
            KeyProviderRequest::Unwrap { annotation, .. } => {
                let unwrapper = self.unwrapper.as_ref().ok_or_else(|| {
                    ProviderError::NotConfigured(
                        "this ironroot key provider cannot decrypt: only a node's agent can \
                         (give --agent-socket, or point ocicrypt at the agent's socket)"
                            .into(),
                    )
                })?;
                let packet = Packet::parse(&annotation)?;
                let opts = unwrapper.unwrap(&packet).await?;
                Ok(unwrap_response_json(&opts)?)
            }
        }
    }
}

/// Opens a packet with released key material (AES-256-GCM, key id as associated data).
pub fn open_packet(material: &[u8], packet: &Packet) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
    let (ct, tag) = packet.sealed();
    ironroot_crypto::aes_gcm_open(material, &packet.iv.0, packet.key_id.as_bytes(), ct, tag)
        .map_err(|_| {
            ProviderError::Packet(format!(
                "the sealed options do not open under key {} ({}): the annotation was altered",
                packet.key_name, packet.key_id
            ))
        })
}
