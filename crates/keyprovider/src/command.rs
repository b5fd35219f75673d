//! ocicrypt's command transport: one JSON request on stdin, the reply on stdout, and on
//! failure a message on stderr (ocicrypt shows it to the user) and a non-zero exit.

use crate::grpc::Client;
use crate::{BoxFuture, Handler, Packet, ProviderError, Unwrapper};
use ironroot_ocicrypt::keyprovider::{parse_unwrap_response, MAX_MESSAGE_LEN};
use ironroot_ocicrypt::KeyProviderRequest;
use std::collections::BTreeMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

/// Reads one request from `input` (at most the protocol's limit), answers it on `output`.
pub async fn run_once(
    handler: &Handler,
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> Result<(), ProviderError> {
    let mut json = Zeroizing::new(Vec::new());
    input
        .take(MAX_MESSAGE_LEN as u64 + 1)
        .read_to_end(&mut json)
        .await
        .map_err(|e| ProviderError::Request(format!("reading stdin: {e}")))?;
    if json.len() > MAX_MESSAGE_LEN {
        return Err(ProviderError::Request(format!(
            "the request is larger than {MAX_MESSAGE_LEN} bytes"
        )));
    }
    let reply = handler.handle(&json).await?;
    output
        .write_all(&reply)
        .await
        .and(output.flush().await)
        .map_err(|e| ProviderError::Internal(format!("writing stdout: {e}")))
}

/// Unwraps by asking the node's agent over its keyprovider socket: the command transport
/// has no TPM of its own.
pub struct AgentSocketUnwrapper {
    client: Client,
}

impl AgentSocketUnwrapper {
    pub fn new(client: Client) -> Self {
        AgentSocketUnwrapper { client }
    }
}

impl Unwrapper for AgentSocketUnwrapper {
    fn unwrap<'a>(
        &'a self,
        packet: &'a Packet,
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderError>> {
        Box::pin(async move {
            let req = KeyProviderRequest::Unwrap {
                parameters: BTreeMap::new(),
                annotation: packet.to_bytes()?,
            };
            let reply = self.client.call(req.to_json()?.to_vec(), true).await?;
            let opts = parse_unwrap_response(&reply)?;
            Ok(Zeroizing::new(opts.expose().to_vec()))
        })
    }
}
