//! What every request passes before a handler reads a byte of its body: the caller is
//! authenticated (a person, an API token or the bootstrap token with a role that allows
//! the route; an agent's or a cluster's client certificate), the body fits
//! the route's limit, and the replica has room for it (a count of requests and a budget
//! of body bytes in flight; beyond either the request is shed with 503, not queued).

use crate::error::ServiceError;
use crate::pki::ClientKind;
use crate::tls::{PeerAddr, PeerIdentity};
use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The administration API: who the caller is (`identity::authn`), whether its role may
/// call this route (`identity::rules`), and the decision recorded in the audit trail
/// (`identity::access`) before the handler runs. The handler finds the
/// [`Principal`](crate::identity::Principal) in the request's extensions.
pub(crate) async fn principal(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    use crate::identity::{access, authn, rules};
    let method = match req.method().as_str() {
        // axum answers HEAD with the GET route.
        "HEAD" => "GET".to_owned(),
        m => m.to_owned(),
    };
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let source = req
        .extensions()
        .get::<PeerAddr>()
        .map(|a| a.0.to_string())
        .unwrap_or_default();
    let now = crate::now();
    let who = authn::authenticate(&st, req.headers(), req.extensions().get::<PeerIdentity>()).await;
    let principal = match who {
        Ok(Some(p)) => p,
        Ok(None) | Err(authn::AuthnError::Refused(_)) => {
            let reason = match &who {
                Err(e) => e.to_string(),
                _ => authn::Refused::Missing.to_string(),
            };
            tracing::warn!(%source, %route, %reason, "authentication failed");
            if st.access.anonymous_budget(now) {
                let entry = access::decision(&access::Decision {
                    at: now,
                    actor: "anonymous",
                    org: None,
                    method: &method,
                    route: &route,
                    allowed: false,
                    reason: Some(&reason),
                    source: &source,
                });
                if let Err(e) = st.access.record(entry).await {
                    return ServiceError::Store(e).into_response();
                }
            }
            // A person whose ID token is good but who must say which organisation to act
            // in is told so: it is their own binding, and nothing else would help them.
            if let Err(authn::AuthnError::Refused(r @ authn::Refused::WhichOrganisation(_))) = &who
            {
                return ServiceError::BadRequest(r.to_string()).into_response();
            }
            return ServiceError::Unauthenticated.into_response();
        }
        Err(authn::AuthnError::Store(e)) => return ServiceError::Store(e).into_response(),
    };
    let denied = match rules::rule(&method, &route) {
        None => Some("no access rule for this route".to_owned()),
        Some(rule) => crate::identity::decide(&principal, rule).err(),
    };
    let entry = access::decision(&access::Decision {
        at: now,
        actor: &principal.actor,
        org: principal.org.as_deref(),
        method: &method,
        route: &route,
        allowed: denied.is_none(),
        reason: denied.as_deref(),
        source: &source,
    });
    if let Err(e) = st.access.record(entry).await {
        return ServiceError::Store(e).into_response();
    }
    if let Some(reason) = denied {
        tracing::warn!(actor = %principal.actor, %route, %reason, "access denied");
        return ServiceError::Forbidden(reason).into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Agent routes: a client certificate issued by the service CA (whether it is the
/// host's current one is checked against the database by the handler).
/// A cluster's certificate is refused here whatever its name.
pub(crate) async fn agent(req: Request, next: Next) -> Response {
    match req.extensions().get::<PeerIdentity>() {
        Some(PeerIdentity(Some(id))) if id.kind == ClientKind::Host => next.run(req).await,
        _ => ServiceError::Unauthenticated.into_response(),
    }
}

/// Cluster routes (docs/hub.md): a cluster certificate of the service CA whose serial is
/// the registered cluster's current one (so removing the cluster revokes it at once);
/// the handler finds the [`crate::hub::CallingCluster`] in the request's extensions.
pub(crate) async fn cluster(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    match crate::hub::authenticate(&st, req.extensions().get::<PeerIdentity>()).await {
        Ok(Some(c)) => {
            req.extensions_mut().insert(c);
            next.run(req).await
        }
        Ok(None) => ServiceError::Unauthenticated.into_response(),
        Err(e) => ServiceError::Store(e).into_response(),
    }
}

/// Requests in flight on this replica, counted and weighed by their bodies.
pub(crate) struct InFlight {
    requests: Arc<Semaphore>,
    /// In KiB, so that a 32 MiB body takes 32768 permits of a `u32` count.
    body_kib: Arc<Semaphore>,
    largest_body: usize,
}

impl InFlight {
    pub fn new(max_requests: usize, body_budget_bytes: usize, largest_body: usize) -> InFlight {
        InFlight {
            requests: Arc::new(Semaphore::new(max_requests.max(1))),
            body_kib: Arc::new(Semaphore::new((body_budget_bytes / 1024).max(1))),
            largest_body,
        }
    }
}

/// Sheds a request when the replica is full. A request that ends with its headers (a GET)
/// weighs nothing; a body without a length is weighed at the largest any route accepts.
pub(crate) async fn in_flight(
    State(f): State<Arc<InFlight>>,
    req: Request,
    next: Next,
) -> Response {
    use axum::body::HttpBody;
    let claimed = if req.body().is_end_stream() {
        0
    } else {
        req.headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(f.largest_body)
            .min(f.largest_body)
    };
    let kib = u32::try_from(claimed / 1024 + 1).unwrap_or(u32::MAX);
    let (Ok(_request), Ok(_bytes)) = (
        f.requests.clone().try_acquire_owned(),
        f.body_kib.clone().try_acquire_many_owned(kib),
    ) else {
        return ServiceError::Busy.into_response();
    };
    next.run(req).await
}

/// Per-route body limits, sized to what each route carries.
pub(crate) mod limits {
    /// Enrollment: two TPM public areas and an EK certificate, in base64.
    pub const ENROLL: usize = 64 * 1024;
    /// Activation: a 32-byte secret and a CSR.
    pub const ACTIVATE: usize = 16 * 1024;
    /// Bodies that carry no more than a few fields (or none).
    pub const SMALL: usize = 16 * 1024;
    /// Flavor imports and groups: the flavors of a fleet's golden hosts.
    pub const FLAVORS: usize = 4 * 1024 * 1024;
    /// A policy set (the engine's 1 MiB, as a JSON string), a compliance report (256
    /// policies of 20 samples) or a violation batch (500 events).
    pub const HUB: usize = 4 * 1024 * 1024;
}
