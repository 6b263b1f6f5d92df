//! The edge of the internal routes: what the wallet's own app backend calls on the IAM-authorised
//! API (getPaymentCode, the wallet's unbinding), never Alipay+. Unlike `crate::edge` nothing is
//! signed or verified here (IAM authenticates the caller); what the routes share is the
//! transport check, one invocation's span and deadline, and the answer's shape.

use crate::edge::Invocation;
use crate::result_code::ResultCode;
use tracing::Instrument;

/// The answer: HTTP status, JSON body, and the code for the log line.
#[derive(Debug, Clone)]
pub struct InternalAnswer {
    /// The result table's HTTP status: 200 for every business answer, 405 and 415 as on the
    /// Alipay+-facing routes.
    pub status: u16,
    /// The envelope.
    pub body: Vec<u8>,
    /// The code answered.
    pub code: ResultCode,
}

/// What an internal route refuses before reading the body: not a `POST`
/// (`METHOD_NOT_SUPPORTED`, 405), not JSON (`MEDIA_TYPE_NOT_ACCEPTABLE`, 415).
pub fn refuse_transport(method: &str, content_type: Option<&str>) -> Option<ResultCode> {
    if method != "POST" {
        return Some(ResultCode::MethodNotSupported);
    }
    let json = content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    (!json).then_some(ResultCode::MediaTypeNotAcceptable)
}

/// Runs one internal route's `work` for one invocation: its request and trace ids on every log
/// line, the answer's log line, and `late()` (a U envelope) when the invocation's deadline comes
/// first.
pub async fn internal_within<W>(
    operation: &'static str,
    invocation: &Invocation,
    work: W,
    late: impl FnOnce() -> InternalAnswer,
) -> InternalAnswer
where
    W: std::future::Future<Output = InternalAnswer>,
{
    let span = tracing::info_span!(
        "internal",
        flow = operation,
        request_id = invocation.request_id.as_deref(),
        trace_id = invocation.trace_id.as_deref(),
    );
    let started = std::time::Instant::now();
    async move {
        let out = match invocation.deadline {
            Some(d) => d.run(work).await.unwrap_or_else(|_| late()),
            None => work.await,
        };
        crate::edge::log_answered(out.code, started);
        out
    }
    .instrument(span)
    .await
}
