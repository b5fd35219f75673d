//! The webhook transport: HTTPS POST of the signed body (`ironroot_alerts::webhook`),
//! through `ironroot_client::https_client` trusting the sink's CA, or the system's roots.
//! Redirects are not followed (the body would go somewhere unvetted).

use super::SendError;
use crate::alerts::sinks::secret_label;
use crate::AppState;
use ironroot_alerts::webhook::{body, sign, DELIVERY_HEADER, SIGNATURE_HEADER};
use ironroot_alerts::Notice;
use ironroot_api::WebhookSink;
use ironroot_client::{error_chain, https_client};
use std::time::Duration;
use zeroize::Zeroizing;

const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Webhook {
    http: reqwest::Client,
    url: reqwest::Url,
    secret: Zeroizing<Vec<u8>>,
}

impl Webhook {
    pub(super) fn new(
        st: &AppState,
        name: &str,
        spec: &WebhookSink,
        sealed: Option<&[u8]>,
    ) -> Result<Webhook, SendError> {
        let url = crate::alerts::sinks::check_url(&spec.url)
            .map_err(|e| SendError::Config(e.to_string()))?;
        let sealed = sealed.ok_or_else(|| SendError::Config("the webhook has no secret".into()))?;
        let secret = st
            .master
            .open(&secret_label(name), sealed)
            .map_err(|_| SendError::Config("the webhook's secret does not open".into()))?;
        let roots = match &spec.ca_pem {
            Some(pem) => ironroot_tls::roots_from_pem(pem.as_bytes()),
            None => ironroot_tls::system_roots(),
        }
        .map_err(|e| SendError::Config(e.to_string()))?;
        let http =
            https_client(roots, None, TIMEOUT).map_err(|e| SendError::Config(e.to_string()))?;
        Ok(Webhook { http, url, secret })
    }

    pub(super) async fn send(&self, notice: &Notice) -> Result<(), SendError> {
        let body = body(notice).map_err(|e| SendError::Config(e.to_string()))?;
        let signature = sign(&self.secret, crate::now(), &body);
        let res = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, &notice.delivery_id)
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transport(error_chain(&e)))?;
        let status = res.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError::Status(status.as_u16()))
        }
    }
}
