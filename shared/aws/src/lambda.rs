//! The Lambda side of the edge: API Gateway events in, signed Alipay+ answers out, and the
//! logging set-up every function shares. The Alipay+ logic itself is `mpp_core::edge`.

use lambda_http::{Body, Request, RequestExt, Response};
use mpp_core::deadline::{Deadline, LAMBDA_MARGIN};
use mpp_core::edge::{Inbound, Invocation, Outbound};
use std::time::{Duration, SystemTime};

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

/// The invocation a request belongs to: the Lambda request id and X-Ray trace id from the
/// runtime's context, and the deadline: the earlier of the function's remaining time less
/// [`LAMBDA_MARGIN`] and the operation's own budget (`mpp_core::deadline::operation_budget`).
/// Without a context, or one that names no deadline (`mpp serve` sets only a request id), the
/// operation's budget alone.
pub fn invocation(operation: &str, request: &Request) -> Invocation {
    let own = Deadline::for_operation(operation);
    let Some(ctx) = request.lambda_context_ref() else {
        return Invocation {
            deadline: Some(own),
            ..Invocation::default()
        };
    };
    invocation_of(operation, ctx)
}

/// The function's own deadline: its remaining time less [`LAMBDA_MARGIN`].
pub fn remaining_deadline(ctx: &lambda_http::Context) -> Deadline {
    let remaining = ctx
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Deadline::after(remaining.saturating_sub(LAMBDA_MARGIN))
}

/// [`invocation`] from a Lambda context (the notify function's events carry one too).
pub fn invocation_of(operation: &str, ctx: &lambda_http::Context) -> Invocation {
    let own = Deadline::for_operation(operation);
    let deadline = match ctx.deadline {
        0 => own,
        _ => remaining_deadline(ctx).min(own),
    };
    Invocation {
        request_id: Some(ctx.request_id.clone()).filter(|id| !id.is_empty()),
        trace_id: ctx.xray_trace_id.clone().filter(|id| !id.is_empty()),
        deadline: Some(deadline),
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
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let _ = tracing::subscriber::set_global_default(json_logs(filter, std::io::stdout));
}

/// The functions' log filter from a `RUST_LOG` value: `target=level` directives and a bare
/// default level (`info`, `warn,mpp_core=debug`); missing or unreadable, `info`.
///
/// A `Targets` filter rather than `EnvFilter`: the functions never filter on span fields or by
/// regular expression, and `EnvFilter` alone links a regex engine (`regex-automata`,
/// `regex-syntax`, `matchers`) into every Lambda binary (issue 16: size; `docs/decisions.md`).
pub fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    rust_log
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// The functions' log format, writing to `writer`: one JSON object per line with the event's
/// fields and its innermost span's (`flow`, `request_id`, `trace_id`, `payment_request_id`).
/// Tests capture the functions' logs with it.
pub fn json_logs<W>(
    filter: tracing_subscriber::filter::Targets,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer)
        .finish()
        .with(filter)
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
    let started = std::time::Instant::now();
    let invocation = invocation(operation, request);
    let out =
        mpp_core::edge::serve_within(edge, operation, &invocation, inbound(request), flow).await;
    record_answer(operation, out.code, started.elapsed());
    Ok(respond(out))
}

/// The `Answers` and `LatencyMs` metrics of one answer: one EMF line on stdout, which CloudWatch
/// Logs turns into metrics (no API call on the path).
pub fn record_answer(
    operation: &str,
    code: mpp_core::result_code::ResultCode,
    latency: std::time::Duration,
) {
    crate::metrics::emit(
        &answer_metrics(latency),
        &answer_dimensions(operation, code),
    );
}

fn answer_metrics(latency: std::time::Duration) -> [(crate::metrics::Metric, f64); 2] {
    [
        (crate::metrics::ANSWERS, 1.0),
        (crate::metrics::LATENCY_MS, latency.as_secs_f64() * 1000.0),
    ]
}

fn answer_dimensions(
    operation: &str,
    code: mpp_core::result_code::ResultCode,
) -> [(&'static str, &str); 3] {
    [
        ("flow", operation),
        ("result_code", code.code()),
        ("result_status", code.status().as_str()),
    ]
}

/// An Embedded Metric Format line for one answer in the configured namespace
/// (`crate::metrics`): `Answers` (count) and `LatencyMs` per operation, and per operation and
/// result code / status.
pub fn emf_line(
    operation: &str,
    code: mpp_core::result_code::ResultCode,
    latency: std::time::Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    crate::metrics::line(
        crate::metrics::namespace(),
        &answer_metrics(latency),
        &answer_dimensions(operation, code),
        now,
    )
}

/// The end of a cold start: the `ready` log line and the `InitMs` metric.
pub fn ready(operation: &'static str, init: std::time::Duration) {
    tracing::info!(flow = operation, init_ms = init.as_millis() as u64, "ready");
    crate::metrics::emit(
        &[(crate::metrics::INIT_MS, init.as_secs_f64() * 1000.0)],
        &[("flow", operation)],
    );
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
    try_run_function(operation, |rt| Ok(deps(rt)), handle).await
}

/// [`run_function`] for dependencies whose building can fail (a client with its own
/// configuration): the failure ends the cold start, which Lambda reports as an init error.
pub async fn try_run_function<D, F, H, Fut>(
    operation: &'static str,
    deps: F,
    handle: H,
) -> Result<(), lambda_http::Error>
where
    F: FnOnce(&crate::config::Runtime) -> Result<D, lambda_http::Error>,
    D: Send + Sync + 'static,
    H: Fn(std::sync::Arc<D>, Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send,
{
    init_tracing();
    let started = std::time::Instant::now();
    let runtime = crate::config::Runtime::from_env().await?;
    let deps = std::sync::Arc::new(deps(&runtime)?);
    ready(operation, started.elapsed());
    lambda_http::run(lambda_http::service_fn(|request| {
        handle(deps.clone(), request)
    }))
    .await
}

/// What an internal route (the MPP's app backend calling on the IAM-authorised API) hands its
/// flow: the invocation's ids and deadline, and the request's method, content type and body.
pub struct InternalRequest<'a> {
    /// Request and trace ids, the deadline.
    pub invocation: Invocation,
    /// The HTTP method.
    pub method: &'a str,
    /// The `Content-Type` header, when it is text.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// The parts of `request` an internal route's flow reads.
pub fn internal_request<'a>(operation: &str, request: &'a Request) -> InternalRequest<'a> {
    InternalRequest {
        invocation: invocation(operation, request),
        method: request.method().as_str(),
        content_type: request
            .headers()
            .get(lambda_http::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        body: body_bytes(request.body()),
    }
}

/// An internal route's answer as HTTP (JSON, unsigned: the caller is authenticated by IAM), with
/// its `Answers` and `LatencyMs` metrics.
pub fn internal_response(
    operation: &str,
    answer: mpp_core::internal::InternalAnswer,
    started: std::time::Instant,
) -> Response<Body> {
    record_answer(operation, answer.code, started.elapsed());
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(answer.status)
        .unwrap_or(lambda_http::http::StatusCode::OK);
    response.headers_mut().insert(
        lambda_http::http::header::CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpp_core::result_code::ResultCode;

    fn context(request_id: &str, deadline_in: Option<Duration>) -> lambda_http::Context {
        let mut ctx = lambda_http::Context::default();
        ctx.request_id = request_id.into();
        ctx.xray_trace_id = Some("Root=1-abc".into());
        ctx.deadline = deadline_in
            .map(|d| {
                (SystemTime::now() + d)
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as u64
            })
            .unwrap_or(0);
        ctx
    }

    #[test]
    fn rust_log_sets_the_level_per_target_and_defaults_to_info() {
        use tracing::Level;
        let on = |f: &tracing_subscriber::filter::Targets, target: &str, level: Level| {
            f.would_enable(target, &level)
        };
        let default = log_filter(None);
        assert!(on(&default, "mpp_core::flows", Level::INFO));
        assert!(!on(&default, "mpp_core::flows", Level::DEBUG));
        let unreadable = log_filter(Some("mpp_core=loud"));
        assert!(on(&unreadable, "pay", Level::INFO));
        assert!(!on(&unreadable, "pay", Level::DEBUG));
        let set = log_filter(Some("warn,mpp_core=debug"));
        assert!(!on(&set, "pay", Level::INFO));
        assert!(on(&set, "pay", Level::WARN));
        assert!(on(&set, "mpp_core::store", Level::DEBUG));
        assert!(!on(&set, "mpp_core::store", Level::TRACE));
    }

    #[tokio::test]
    async fn the_invocation_takes_ids_and_the_earlier_deadline_from_the_context() {
        let short = invocation_of("pay", &context("r-1", Some(Duration::from_secs(3))));
        assert_eq!(short.request_id.as_deref(), Some("r-1"));
        assert_eq!(short.trace_id.as_deref(), Some("Root=1-abc"));
        let left = short.deadline.unwrap().remaining();
        // 3 s less the margin (the context's deadline has millisecond resolution).
        assert!(left <= Duration::from_secs(3) - LAMBDA_MARGIN, "{left:?}");
        assert!(left > Duration::from_millis(2_500), "{left:?}");
        // A function with more time than Alipay+ waits answers within the operation's budget.
        let long = invocation_of(
            "inquiryPayment",
            &context("r-2", Some(Duration::from_secs(60))),
        );
        let left = long.deadline.unwrap().remaining();
        assert!(
            left <= mpp_core::deadline::operation_budget("inquiryPayment"),
            "{left:?}"
        );
        assert!(left > Duration::from_millis(3_900), "{left:?}");
        // `mpp serve` sets a request id and no deadline: the operation's budget.
        let serve = invocation_of("pay", &context("r-3", None));
        assert!(serve.deadline.unwrap().remaining() > Duration::from_millis(6_900));
        assert_eq!(invocation_of("pay", &context("", None)).request_id, None);
    }

    #[test]
    fn emf_lines_carry_the_operation_code_and_latency() {
        let line = emf_line(
            "pay",
            ResultCode::UserBalanceNotEnough,
            std::time::Duration::from_millis(12),
            chrono::Utc::now(),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["flow"], "pay");
        assert_eq!(v["result_code"], "USER_BALANCE_NOT_ENOUGH");
        assert_eq!(v["result_status"], "F");
        assert_eq!(v["LatencyMs"], 12.0);
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            crate::metrics::namespace()
        );
        let dims = &v["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
        assert!(dims.as_array().unwrap().iter().all(|d| d
            .as_array()
            .unwrap()
            .iter()
            .all(|k| v.get(k.as_str().unwrap()).is_some())));
    }
}
