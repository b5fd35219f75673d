//! AdmissionReview bodies as the API server (or anyone who reaches the webhook's port)
//! sends them: untrusted JSON of up to 1 MiB, through the webhook's real routes (parse,
//! version checks, mutation and validation decisions) with fixed node views and images.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ironroot_api::TrustState;
use ironroot_controller::view::{NodeView, NodeViews};
use ironroot_controller::webhook::{self, FixedImages, FixedPods, ImageNeeds, KeyNeeds, Webhook};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

struct Views;

impl NodeViews for Views {
    fn view(&self, node: &str) -> NodeView {
        match node {
            "eu-1" => NodeView {
                trust: TrustState::Trusted,
                tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
                host_id: Some("h1".into()),
                reason: String::new(),
                ..NodeView::unknown("")
            },
            _ => NodeView::unknown("no binding"),
        }
    }
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let eu = ImageNeeds::Encrypted(vec![KeyNeeds {
            key: "eu".into(),
            tags: BTreeMap::from([("region".to_string(), "EU".to_string())]),
        }]);
        let images = HashMap::from([("eu:1".to_string(), eu)]);
        let hook = Webhook::new(
            Arc::new(Views),
            Arc::new(FixedPods(HashMap::new())),
            Arc::new(FixedImages(images)),
        );
        Fixture {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime"),
            router: webhook::router(Arc::new(hook)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    for path in ["/mutate/pods", "/validate/pods"] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(data.to_vec()))
            .expect("a request");
        let res = f.rt.block_on(f.router.clone().oneshot(req)).expect("an answer");
        // An answer, or a refusal of the body: never a server error.
        assert!(
            matches!(res.status(), StatusCode::OK | StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE),
            "{path}: {}",
            res.status()
        );
    }
});
