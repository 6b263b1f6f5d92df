//! getPaymentCode for the MPP's own app backend: the internal route the deployed
//! `get-payment-code` function serves (IAM-authorised, never called by Alipay+). The app backend
//! posts the getPaymentCode request body (`customerId`, `codeQuantity`, `region`, `env`); the
//! flow validates it, asks Alipay+ through the [`CodeIssuer`] port (signed, verified, bounded
//! retries: `mpp_client::codes`), and answers an unsigned Alipay+-style envelope with the codes.
//! Bad input is `PARAM_ILLEGAL` naming the field; Alipay+'s refusal is passed on as its F code; no
//! usable answer is U `UNKNOWN_EXCEPTION` (the app asks again: unused codes simply expire).

use crate::edge::{scrub, Invocation};
use crate::result_code::{ResultCode, ResultStatus};
use crate::wire::{
    parse_request, to_body, GetPaymentCodeRequest, GetPaymentCodeResponse, PaymentCodeInfo,
    ResultObject,
};
use async_trait::async_trait;
use std::sync::Arc;
use tracing::Instrument;

/// Why Alipay+ issued no codes: refused (F), or no trustworthy answer within the retry budget.
pub type IssueError = crate::outbound::Unanswered;

/// The port where Alipay+ sits: getPaymentCode, signed and verified.
#[async_trait]
pub trait CodeIssuer: Send + Sync {
    /// The codes Alipay+ issued for the request.
    async fn issue(&self, req: &GetPaymentCodeRequest) -> Result<Vec<PaymentCodeInfo>, IssueError>;
}

/// What the function needs.
#[derive(Clone)]
pub struct CodesDeps {
    /// Alipay+.
    pub issuer: Arc<dyn CodeIssuer>,
}

/// The answer: HTTP status, JSON body, and the code for the log line.
#[derive(Debug, Clone)]
pub struct CodesAnswer {
    /// The result table's HTTP status: 200 for every business answer, 405 and 415 as on the
    /// Alipay+-facing routes.
    pub status: u16,
    /// The envelope.
    pub body: Vec<u8>,
    /// The code answered.
    pub code: ResultCode,
}

fn envelope(code: ResultCode, message: Option<String>) -> GetPaymentCodeResponse {
    let mut result = ResultObject::from(code);
    if let Some(m) = message {
        result.result_message = Some(m.chars().take(256).collect());
    }
    GetPaymentCodeResponse {
        result,
        payment_code_info_list: None,
    }
}

fn answer(status: u16, response: &GetPaymentCodeResponse, code: ResultCode) -> CodesAnswer {
    CodesAnswer {
        status,
        body: to_body(response),
        code,
    }
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

/// Serves one call: `POST` with a JSON body only, the body validated as a getPaymentCode
/// request, then [`get_payment_code`].
pub async fn serve_internal(
    deps: &CodesDeps,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> CodesAnswer {
    if let Some(code) = refuse_transport(method, content_type) {
        return answer(code.http_status(), &envelope(code, None), code);
    }
    let req = match parse_request::<GetPaymentCodeRequest>(body) {
        Ok(r) => r,
        Err(p) => {
            let code = ResultCode::ParamIllegal;
            let message = format!("{} `{}`: {}", code.message(), p.field, scrub(&p.rule));
            return answer(code.http_status(), &envelope(code, Some(message)), code);
        }
    };
    let response = get_payment_code(deps, &req).await;
    let code = response
        .result
        .code()
        .unwrap_or(ResultCode::UnknownException);
    answer(code.http_status(), &response, code)
}

/// [`serve_internal`] for one invocation: its request and trace ids on every log line of it, and
/// the answer out by its deadline — U `UNKNOWN_EXCEPTION` when Alipay+ has not answered in time
/// (the app asks again; codes never fetched cost nothing).
pub async fn serve_internal_within(
    deps: &CodesDeps,
    operation: &'static str,
    invocation: &Invocation,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> CodesAnswer {
    internal_within(
        operation,
        invocation,
        serve_internal(deps, method, content_type, body),
        || {
            let code = ResultCode::UnknownException;
            answer(code.http_status(), &envelope(code, None), code)
        },
    )
    .await
}

/// Runs one internal route's `work` for one invocation: its request and trace ids on every log
/// line, the answer's log line, and `late()` (a U envelope) when the invocation's deadline comes
/// first.
pub async fn internal_within<W>(
    operation: &'static str,
    invocation: &Invocation,
    work: W,
    late: impl FnOnce() -> CodesAnswer,
) -> CodesAnswer
where
    W: std::future::Future<Output = CodesAnswer>,
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

/// Asks Alipay+ for the codes and says what became of it.
pub async fn get_payment_code(
    deps: &CodesDeps,
    req: &GetPaymentCodeRequest,
) -> GetPaymentCodeResponse {
    match deps.issuer.issue(req).await {
        Ok(codes) if !codes.is_empty() => GetPaymentCodeResponse {
            result: ResultObject::from(ResultCode::Success),
            payment_code_info_list: Some(codes),
        },
        Ok(_) => envelope(
            ResultCode::UnknownException,
            Some("Alipay+ answered S without codes".to_string()),
        ),
        Err(IssueError::Refused { code, message }) => GetPaymentCodeResponse {
            result: ResultObject {
                result_code: code,
                result_status: ResultStatus::F,
                result_message: Some(message.chars().take(256).collect()),
            },
            payment_code_info_list: None,
        },
        Err(IssueError::Unknown(_)) => envelope(ResultCode::UnknownException, None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::wire::{Text, Timestamp};
    use std::sync::Mutex;

    /// An issuer answering a fixed outcome and remembering what it was asked.
    struct Fixed(Result<Vec<PaymentCodeInfo>, IssueError>, Mutex<Vec<u64>>);

    #[async_trait]
    impl CodeIssuer for Fixed {
        async fn issue(
            &self,
            req: &GetPaymentCodeRequest,
        ) -> Result<Vec<PaymentCodeInfo>, IssueError> {
            self.1.lock().unwrap().push(req.quantity());
            self.0.clone()
        }
    }

    fn deps(out: Result<Vec<PaymentCodeInfo>, IssueError>) -> (CodesDeps, Arc<Fixed>) {
        let f = Arc::new(Fixed(out, Mutex::new(Vec::new())));
        (CodesDeps { issuer: f.clone() }, f)
    }

    fn code() -> PaymentCodeInfo {
        PaymentCodeInfo {
            payment_code: Text::new("289912345678901234567890").unwrap(),
            code_validity_start_time: Timestamp::parse("2026-11-30T20:00:00+08:00").unwrap(),
            code_expiry_time: Timestamp::parse("2026-11-30T20:01:00+08:00").unwrap(),
        }
    }

    fn json(a: &CodesAnswer) -> serde_json::Value {
        serde_json::from_slice(&a.body).unwrap()
    }

    const JSON: Option<&str> = Some("application/json; charset=UTF-8");

    #[tokio::test]
    async fn codes_come_back_in_an_envelope() {
        let (d, f) = deps(Ok(vec![code()]));
        let body =
            br#"{"customerId":"2160000000000001","codeQuantity":"3","env":{"deviceTokenId":"d1"}}"#;
        let a = serve_internal(&d, "POST", JSON, body).await;
        assert_eq!((a.status, a.code), (200, ResultCode::Success));
        let v = json(&a);
        assert_eq!(v["result"]["resultStatus"], "S");
        assert_eq!(
            v["paymentCodeInfoList"][0]["paymentCode"],
            "289912345678901234567890"
        );
        assert_eq!(*f.1.lock().unwrap(), vec![3]);
    }

    #[tokio::test]
    async fn bad_input_is_an_envelope_and_asks_nothing() {
        let (d, f) = deps(Ok(vec![code()]));
        for (body, field) in [
            (
                &br#"{"customerId":"2160000000000001","codeQuantity":"11"}"#[..],
                "codeQuantity",
            ),
            (br#"{"codeQuantity":"1"}"#, "customerId"),
            (br#"{"customerId":""}"#, "customerId"),
            (b"not json", "body"),
        ] {
            let a = serve_internal(&d, "POST", JSON, body).await;
            assert_eq!((a.status, a.code), (200, ResultCode::ParamIllegal));
            let message = json(&a)["result"]["resultMessage"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(message.contains(field), "{message}");
        }
        assert_eq!(serve_internal(&d, "GET", JSON, b"{}").await.status, 405);
        assert_eq!(
            serve_internal(&d, "POST", Some("text/plain"), b"{}")
                .await
                .status,
            415
        );
        assert!(f.1.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn refusals_pass_on_and_unknowns_are_u() {
        let body = br#"{"customerId":"2160000000000001"}"#;
        let (d, _) = deps(Err(IssueError::Refused {
            code: "USER_NOT_EXIST".into(),
            message: "The user does not exist.".into(),
        }));
        let v = json(&serve_internal(&d, "POST", JSON, body).await);
        assert_eq!(
            (
                v["result"]["resultStatus"].as_str(),
                v["result"]["resultCode"].as_str()
            ),
            (Some("F"), Some("USER_NOT_EXIST"))
        );
        let (d, _) = deps(Err(IssueError::Unknown("timed out".into())));
        let a = serve_internal(&d, "POST", JSON, body).await;
        assert_eq!(a.code, ResultCode::UnknownException);
        assert_eq!(json(&a)["result"]["resultStatus"], "U");
        let (d, _) = deps(Ok(vec![]));
        assert_eq!(
            serve_internal(&d, "POST", JSON, body).await.code,
            ResultCode::UnknownException
        );
    }
}
