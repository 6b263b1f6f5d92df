//! The Lambda side of the edge: API Gateway events in, signed Alipay+ answers out, and the
//! logging set-up every function shares. The Alipay+ logic itself is `mpp_core::edge`.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::{Inbound, Outbound};

/// The body exactly as received. API Gateway hands a Base64-encoded body to lambda_http, which
/// decodes it into `Body::Binary`; either way these are the bytes Alipay+ signed.
pub fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        // lambda_http's Body is non-exhaustive; anything else carries no bytes to sign over.
        _ => &[],
    }
}

/// The path (and query) the caller signed, as API Gateway reports it.
pub fn signed_path(request: &Request) -> &str {
    request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
}

/// The request seen as an Alipay+ inbound message.
pub fn inbound(request: &Request) -> Inbound<'_> {
    Inbound {
        method: request.method().as_str(),
        path_and_query: signed_path(request),
        headers: request.headers(),
        body: body_bytes(request.body()),
    }
}

/// Turns the signed answer into the Lambda response. The body goes out as text when it is
/// UTF-8 (it always is: we serialise JSON), so API Gateway passes the signed bytes unchanged.
pub fn respond(out: Outbound) -> Response<Body> {
    let mut builder = Response::builder().status(out.status);
    for (name, value) in &out.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match String::from_utf8(out.body) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    match builder.body(body) {
        Ok(r) => r,
        // Only an invalid header name or value gets here; our headers are fixed ASCII.
        Err(e) => {
            tracing::error!(error = %e, "building the response failed");
            let mut r = Response::new(Body::Text(r#"{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U","resultMessage":"An API calling is failed, which is caused by unknown reasons."}}"#.into()));
            *r.status_mut() = http::StatusCode::OK;
            r
        }
    }
}

/// JSON logs for CloudWatch, level from `RUST_LOG` (default `info`), no ANSI colours, no
/// timestamps of our own (CloudWatch stamps each line).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .try_init();
}

/// Serves one Alipay+ call from API Gateway: the edge's checks, `flow`, the signed answer.
/// Every function's `handler::handle` is this with its own request type and flow.
pub async fn answer<Req, Resp, F, Fut>(
    edge: &mpp_core::edge::Edge,
    operation: &'static str,
    request: &Request,
    flow: F,
) -> Result<Response<Body>, std::convert::Infallible>
where
    Req: serde::de::DeserializeOwned + mpp_core::wire::Validate + mpp_core::edge::Keyed,
    Resp: serde::Serialize + mpp_core::edge::Answered,
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<Resp, mpp_core::edge::EdgeError>>,
{
    Ok(respond(
        mpp_core::edge::serve(edge, operation, inbound(request), flow).await,
    ))
}

/// The cold start every HTTP function shares: JSON logs, the environment and the AWS clients
/// read once (`config::Runtime`), the handler's dependencies built by `deps`, the `ready` line
/// with `init_ms`, then the Lambda runtime loop calling `handle` for each event.
pub async fn run_function<D, F, H, Fut>(
    operation: &'static str,
    deps: F,
    handle: H,
) -> Result<(), lambda_http::Error>
where
    F: FnOnce(&crate::config::Runtime) -> D,
    D: Send + Sync + 'static,
    H: Fn(std::sync::Arc<D>, Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send,
{
    init_tracing();
    let started = std::time::Instant::now();
    let runtime = crate::config::Runtime::from_env().await?;
    let deps = std::sync::Arc::new(deps(&runtime));
    tracing::info!(
        flow = operation,
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    lambda_http::run(lambda_http::service_fn(|request| {
        handle(deps.clone(), request)
    }))
    .await
}
