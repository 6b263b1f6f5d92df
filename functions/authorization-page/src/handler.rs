//! The authorization page Lambda function: the wallet's H5 page of `authUrl` (GET and POST, HTML).
//!
//! HTTP in, the page, HTTP out (HTML; not an Alipay+ envelope: a person's browser asks).

use lambda_http::{Body, Request, Response};
use mpp_core::bindings::{serve_page, PageDeps, PageRequest};
use std::convert::Infallible;
use tracing::Instrument;

/// The page's name in the operation table (`mpp_core::operations`): route, log field, metric.
pub const OPERATION: &str = mpp_core::operations::AUTHORIZATION_PAGE.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Authorizations and logins, the clock, the page's settings.
    pub page: PageDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from.
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            page: PageDeps {
                store: w.ports.bindings.authorization_page.clone(),
                clock: w.clock.clone(),
                settings: w.bindings.clone(),
            },
        }
    }
}

/// Handles one `GET` or `POST /wallet/authorizationPage?authId=…`. Never fails: every outcome is
/// an HTML page or a redirect.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    let invocation = mpp_aws::lambda::invocation(OPERATION, &request);
    let span = tracing::info_span!(
        "page",
        flow = OPERATION,
        request_id = invocation.request_id.as_deref(),
        trace_id = invocation.trace_id.as_deref()
    );
    let cookie = request
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    let page = PageRequest {
        method: request.method().as_str(),
        query: request.uri().query().unwrap_or(""),
        cookie: (!cookie.is_empty()).then_some(cookie.as_str()),
        body: mpp_aws::lambda::body_bytes(request.body()),
    };
    // The page's own bounded work (one Argon2id check, a few store calls) runs under the
    // function's deadline; a store that stops answering is cut off there with a "try again" page.
    let started = std::time::Instant::now();
    let work = serve_page(&deps.page, page);
    let answer = match invocation.deadline {
        Some(d) => d
            .run(work)
            .instrument(span)
            .await
            .unwrap_or_else(|_| mpp_core::bindings::unavailable()),
        None => work.instrument(span).await,
    };
    // The page's answers in the same EMF metrics as the signed functions': S a page or a
    // redirect, F the user's or the link's fault (4xx), U the store did not answer (503).
    let status = match answer.status {
        500.. => "U",
        400..=499 => "F",
        _ => "S",
    };
    mpp_aws::metrics::emit(
        &[
            (mpp_aws::metrics::ANSWERS, 1.0),
            (
                mpp_aws::metrics::LATENCY_MS,
                started.elapsed().as_secs_f64() * 1000.0,
            ),
        ],
        &[
            ("flow", OPERATION),
            ("result_code", answer.outcome),
            ("result_status", status),
        ],
    );
    let mut builder = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    Ok(builder
        .body(Body::Text(answer.body))
        .unwrap_or_else(|_| Response::new(Body::Text("unavailable".into()))))
}
