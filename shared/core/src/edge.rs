//! The Alipay+ edge: the one place where HTTP meets the domain and errors become envelopes.
//!
//! Every request goes through [`serve`]: method, media type, signature, validation, the flow,
//! then a signed response. Whatever fails, the caller gets an Alipay+ `result` envelope, signed
//! with our key; clients see codes, the log sees causes. Only when the signer itself fails does
//! an answer leave unsigned (U `UNKNOWN_EXCEPTION`: Alipay+ treats it as unknown and retries).

use crate::clock::Clock;
use crate::deadline::{Deadline, Expired, SIGN_RESERVE};
use crate::flows::wire_time;
use crate::result_code::{ResultCode, ResultStatus};
use crate::signature::{sign_headers, verify_request, SignatureError, Signer, VerifierConfig};
use crate::store::StoreError;
use crate::wire::{
    parse_request, to_body, ParamIllegal, ResultObject, Validate, BODY_FIELD, MAX_BODY_BYTES,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Longest `resultMessage` the spec allows.
const RESULT_MESSAGE_MAX_CHARS: usize = 256;

/// What the edge needs: who may call, how we sign, what time it is.
#[derive(Clone)]
pub struct Edge {
    /// Accepted Alipay+ client ids and their public keys.
    pub verifier: Arc<VerifierConfig>,
    /// Our response signer.
    pub signer: Arc<dyn Signer>,
    /// Now (for the clock-skew window and `Response-Time`).
    pub clock: Arc<dyn Clock>,
    /// The `Client-Id` we answer with when the request did not give a usable one.
    pub client_id: String,
}

/// An HTTP request as it arrived: method, the path that was called, headers, raw body bytes.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// `POST`, normally.
    pub method: &'a str,
    /// The path (and query) the caller signed.
    pub path_and_query: &'a str,
    /// Headers, any case.
    pub headers: &'a http::HeaderMap,
    /// The body exactly as received.
    pub body: &'a [u8],
}

/// The HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// HTTP status (200 for every business result; see the result-code table).
    pub status: u16,
    /// Headers: `Content-Type`, `Client-Id`, `Response-Time`, `Signature`.
    pub headers: Vec<(String, String)>,
    /// The exact bytes that were signed.
    pub body: Vec<u8>,
    /// The code answered, for logs and metrics.
    pub code: ResultCode,
}

/// Everything that ends a request before the flow gives a business answer.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// Not a POST.
    #[error("method {0} is not supported")]
    Method(String),
    /// Not JSON.
    #[error("content type {0} is not acceptable")]
    MediaType(String),
    /// Signature, client or key problems.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The request breaks the contract.
    #[error(transparent)]
    Param(#[from] ParamIllegal),
    /// The store failed: the outcome is unknown.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The flow did not finish before the operation's deadline (a store or another dependency
    /// stopped answering): whatever it was writing may or may not have happened.
    #[error("the flow was cut off at the operation's deadline")]
    Deadline(#[from] Expired),
    /// sendOTP's message may or may not have gone out (the delivery service did not answer in
    /// time, throttled us or failed): U, so the caller asks again.
    #[error(transparent)]
    Delivery(crate::messaging::SendError),
}

impl EdgeError {
    /// The code the caller sees.
    pub fn code(&self) -> ResultCode {
        match self {
            EdgeError::Method(_) => ResultCode::MethodNotSupported,
            EdgeError::MediaType(_) => ResultCode::MediaTypeNotAcceptable,
            EdgeError::Signature(e) => e.result_code(),
            EdgeError::Param(_) => ResultCode::ParamIllegal,
            EdgeError::Store(StoreError::Throttled) => ResultCode::RequestTrafficExceedLimit,
            EdgeError::Store(
                StoreError::OutcomeUnknown(_)
                | StoreError::Unavailable(_)
                | StoreError::Corrupt(_)
                | StoreError::Contention(_)
                | StoreError::AlreadyExists(_)
                | StoreError::NotFound(_),
            ) => ResultCode::UnknownException,
            EdgeError::Deadline(_) | EdgeError::Delivery(_) => ResultCode::UnknownException,
        }
    }

    /// The `resultMessage`: the code's message, plus the field and rule for `PARAM_ILLEGAL`.
    fn message(&self) -> String {
        let code = self.code();
        let text = match self {
            EdgeError::Param(p) => format!("{} `{}`: {}", code.message(), p.field, scrub(&p.rule)),
            _ => code.message().to_string(),
        };
        text.chars().take(RESULT_MESSAGE_MAX_CHARS).collect()
    }

    /// The cause for the log line: never a value from the request (a parser's message may quote
    /// one, and it may be a token or a customer id).
    pub fn log_text(&self) -> String {
        match self {
            EdgeError::Param(p) => format!("`{}`: {}", p.field, scrub(&p.rule)),
            other => scrub(&crate::cause::chain(other)),
        }
    }
}

/// Replaces every quoted part of a message (`` `...` ``, `"..."`) with `…`: parser
/// messages quote the offending value, and values do not go into logs.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match (open, c) {
            (None, '`' | '"') => {
                open = Some(c);
                out.push('…');
            }
            (Some(q), c) if c == q => open = None,
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

/// A request type that names the payment it is about (for the log line).
pub trait Keyed {
    /// The `paymentRequestId`.
    fn payment_request_id(&self) -> &str;
}

/// A response type whose `result` the edge reads for the log line.
pub trait Answered {
    /// The code answered.
    fn code(&self) -> ResultCode;
}

/// The `{"result": ...}` envelope of an error.
#[derive(Serialize)]
struct Envelope {
    result: ResultObject,
}

/// Which call this is, for every log line of it, and when its answer is due.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The runtime's id of this invocation (Lambda's request id; `mpp serve` makes one up).
    pub request_id: Option<String>,
    /// The X-Ray trace id, when tracing is on.
    pub trace_id: Option<String>,
    /// When the answer must have left. `None`: no deadline (the local hub, which simulates
    /// Alipay+ and applies its own delay faults).
    pub deadline: Option<Deadline>,
}

/// Serves one Alipay+ call: checks, runs `flow` on the validated request, signs the answer.
/// No deadline and no request id: [`serve_within`] is the production path.
pub async fn serve<Req, Resp, F, Fut>(
    edge: &Edge,
    operation: &'static str,
    inbound: Inbound<'_>,
    flow: F,
) -> Outbound
where
    Req: DeserializeOwned + Validate + Keyed,
    Resp: Serialize + Answered,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Result<Resp, EdgeError>>,
{
    serve_within(edge, operation, &Invocation::default(), inbound, flow).await
}

/// [`serve`] for one invocation: its ids go on the span of every log line, and the answer goes
/// out by its deadline. The flow (and every store call in it) runs under the deadline less
/// [`SIGN_RESERVE`] and is cut off there with U `UNKNOWN_EXCEPTION`; signing runs under the
/// deadline itself, and a signer that does not answer in time gives the unsigned U.
pub async fn serve_within<Req, Resp, F, Fut>(
    edge: &Edge,
    operation: &'static str,
    invocation: &Invocation,
    inbound: Inbound<'_>,
    flow: F,
) -> Outbound
where
    Req: DeserializeOwned + Validate + Keyed,
    Resp: Serialize + Answered,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Result<Resp, EdgeError>>,
{
    let started = Instant::now();
    let span = tracing::info_span!(
        "alipay",
        flow = operation,
        request_id = invocation.request_id.as_deref(),
        trace_id = invocation.trace_id.as_deref(),
        payment_request_id = tracing::field::Empty,
        client_id = tracing::field::Empty
    );
    let deadline = invocation.deadline;
    async move {
        let client_id = header(inbound.headers, "client-id")
            .unwrap_or(&edge.client_id)
            .to_string();
        let handled = match deadline {
            Some(d) => d
                .less(SIGN_RESERVE)
                .run(handle::<Req, Resp, F, Fut>(edge, inbound, flow))
                .await
                .unwrap_or_else(|e| Err(EdgeError::Deadline(e))),
            None => handle::<Req, Resp, F, Fut>(edge, inbound, flow).await,
        };
        let (body, code) = match handled {
            Ok(resp) => (to_body(&resp), resp.code()),
            Err(e) => {
                let code = e.code();
                let cause = e.log_text();
                match code.status() {
                    ResultStatus::U => {
                        tracing::error!(error = %cause, result_code = code.code(), "failed")
                    }
                    ResultStatus::F | ResultStatus::S => {
                        tracing::warn!(error = %cause, result_code = code.code(), "refused")
                    }
                }
                let envelope = Envelope {
                    result: ResultObject {
                        result_code: code.code().to_string(),
                        result_status: code.status(),
                        result_message: Some(e.message()),
                    },
                };
                (to_body(&envelope), code)
            }
        };
        let outbound = match deadline {
            Some(d) => match d
                .run(sign(edge, &client_id, inbound.path_and_query, body, code))
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    tracing::error!(error = %e, "response signing did not finish in time");
                    unsigned_unknown(edge, &client_id)
                }
            },
            None => sign(edge, &client_id, inbound.path_and_query, body, code).await,
        };
        log_answered(outbound.code, started);
        outbound
    }
    .instrument(span)
    .await
}

/// The one `answered` log line of a call (inside its span): the code, its status and the latency.
/// Every inbound answer logs it, signed Alipay+ routes and the internal routes alike.
pub(crate) fn log_answered(code: ResultCode, started: Instant) {
    tracing::info!(
        result_code = code.code(),
        result_status = code.status().as_str(),
        latency_ms = started.elapsed().as_millis() as u64,
        "answered"
    );
}

async fn handle<Req, Resp, F, Fut>(
    edge: &Edge,
    inbound: Inbound<'_>,
    flow: F,
) -> Result<Resp, EdgeError>
where
    Req: DeserializeOwned + Validate + Keyed,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = Result<Resp, EdgeError>>,
{
    if !inbound.method.eq_ignore_ascii_case("POST") {
        return Err(EdgeError::Method(inbound.method.chars().take(16).collect()));
    }
    if let Some(ct) = header(inbound.headers, "content-type") {
        if !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return Err(EdgeError::MediaType(ct.chars().take(64).collect()));
        }
    }
    // Too large to be a request: refused before any hashing or parsing (cheap for a hostile
    // 10 MB body; `mpp serve` hands over a stand-in of this size for bodies it does not read).
    if inbound.body.len() > MAX_BODY_BYTES {
        return Err(EdgeError::Param(ParamIllegal::new(
            BODY_FIELD,
            format!("must be at most {MAX_BODY_BYTES} bytes"),
        )));
    }
    let verified = verify_request(
        &edge.verifier,
        "POST",
        inbound.path_and_query,
        inbound.headers,
        inbound.body,
        edge.clock.now(),
    )?;
    tracing::Span::current().record("client_id", verified.client_id.as_str());
    let req: Req = parse_request(inbound.body)?;
    tracing::Span::current().record("payment_request_id", req.payment_request_id());
    flow(req).await
}

fn header<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn sign(
    edge: &Edge,
    client_id: &str,
    path: &str,
    body: Vec<u8>,
    code: ResultCode,
) -> Outbound {
    let time = wire_time(edge.clock.now());
    match sign_headers(
        edge.signer.as_ref(),
        client_id,
        "POST",
        path,
        "Response-Time",
        &time,
        &body,
    )
    .await
    {
        Ok(headers) => Outbound {
            status: code.http_status(),
            headers,
            body,
            code,
        },
        Err(e) => {
            tracing::error!(error = %e, "response signing failed");
            unsigned_unknown(edge, client_id)
        }
    }
}

/// The answer when no signature can be had (the signer failed or did not answer in time): U
/// `UNKNOWN_EXCEPTION`, unsigned. Alipay+ treats it as unknown and inquires or re-sends.
fn unsigned_unknown(edge: &Edge, client_id: &str) -> Outbound {
    let code = ResultCode::UnknownException;
    let body = to_body(&Envelope {
        result: ResultObject::from(code),
    });
    Outbound {
        status: code.http_status(),
        headers: vec![
            (
                "Content-Type".into(),
                "application/json; charset=UTF-8".into(),
            ),
            ("Client-Id".into(), client_id.to_string()),
            ("Response-Time".into(), wire_time(edge.clock.now())),
        ],
        body,
        code,
    }
}

/// The answer for a path no API lives at (`mpp serve`'s fallback route), signed.
pub async fn no_interface(edge: &Edge, inbound: Inbound<'_>) -> Outbound {
    let code = ResultCode::NoInterfaceDef;
    let client_id = header(inbound.headers, "client-id")
        .unwrap_or(&edge.client_id)
        .to_string();
    let body = to_body(&Envelope {
        result: ResultObject::from(code),
    });
    sign(edge, &client_id, inbound.path_and_query, body, code).await
}

/// The `Keyed` (no payment to name: the log field stays empty; tokens and codes never go on a
/// span) and `Answered` impls of an operation that names no payment. Each bindings operation
/// calls it in its own file (`crate::bindings::*`).
macro_rules! unkeyed_and_answered {
    ($($req:ty => $resp:ty),* $(,)?) => {
        $(
            impl $crate::edge::Keyed for $req {
                fn payment_request_id(&self) -> &str {
                    ""
                }
            }

            impl $crate::edge::Answered for $resp {
                fn code(&self) -> $crate::result_code::ResultCode {
                    self.result
                        .code()
                        .unwrap_or($crate::result_code::ResultCode::UnknownException)
                }
            }
        )*
    };
}
pub(crate) use unkeyed_and_answered;

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_drops_quoted_values_and_keeps_the_rule() {
        assert_eq!(
            scrub("invalid type: integer `2160000000000001`, expected a string"),
            "invalid type: integer …, expected a string"
        );
        assert_eq!(
            scrub(r#"unknown variant "TOKEN123", expected one of"#),
            "unknown variant …, expected one of"
        );
        assert_eq!(
            scrub("rounded to the currency's minor unit"),
            "rounded to the currency's minor unit"
        );
    }
}
