//! getPaymentCode (MPP → Alipay+, `POST /aps/api/v1/codes/getPaymentCode`,
//! `user-presented-mpp.md` §2): the MPP asks Alipay+ for payment codes its app shows. Alipay+
//! decodes such a code back to `customerId` when an acquirer pays with it, and calls the MPP's
//! pay with the `PaymentCode` scenario.
//!
//! The app backend asks for codes on the MPP's internal route, which the deployed
//! `get-payment-code` function serves (IAM-authorised, never called by Alipay+): it posts the
//! getPaymentCode request body (`customerId`, `codeQuantity`, `region`, `env`); the flow validates
//! it, asks Alipay+ through the [`CodeIssuer`] port (signed, verified, bounded retries:
//! `mpp_client::codes`), and answers an unsigned Alipay+-style envelope with the codes. Bad input
//! is `PARAM_ILLEGAL` naming the field; Alipay+'s refusal is passed on as its F code; no usable
//! answer is U `UNKNOWN_EXCEPTION` (the app asks again: unused codes simply expire). No store:
//! this operation has no port or memory-store section.

use crate::edge::{scrub, Invocation};
use crate::ids::CustomerId;
use crate::internal::{internal_within, refuse_transport, InternalAnswer};
use crate::payments::Env;
use crate::result_code::{ResultCode, ResultStatus};
use crate::wire::{
    opt_bounded_vec, parse_request, to_body, Natural, ParamIllegal, Region, ResultObject, Text,
    Timestamp, Validate,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// The path Alipay+ serves getPaymentCode on.
pub const GET_PAYMENT_CODE_PATH: &str = "/aps/api/v1/codes/getPaymentCode";

/// Fewest codes one call asks for (`codeQuantity` "1", the default).
pub const CODE_QUANTITY_MIN: u64 = 1;
/// Most codes one call asks for (`codeQuantity` "10"): codes live one minute, so an app fetches
/// a few at a time.
pub const CODE_QUANTITY_MAX: u64 = 10;
/// Longest payment code (Alipay+ codes have 16 to 32 digits).
pub const PAYMENT_CODE_MAX_CHARS: usize = 32;

/// The request. `Debug` masks `customerId`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentCodeRequest {
    /// The MPP's user the codes are for.
    pub customer_id: Text<64>,
    /// ISO 3166 alpha-2; required when the region is `CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// `"1"` to `"10"`; absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_quantity: Option<Natural>,
    /// The user's device (at least `deviceTokenId`; the rest is not published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Env>,
}

impl GetPaymentCodeRequest {
    /// How many codes are asked for (absent: 1).
    pub fn quantity(&self) -> u64 {
        self.code_quantity
            .map(Natural::get)
            .unwrap_or(CODE_QUANTITY_MIN)
    }
}

impl fmt::Debug for GetPaymentCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetPaymentCodeRequest")
            .field(
                "customer_id",
                &CustomerId::new(self.customer_id.as_str()).masked(),
            )
            .field("region", &self.region)
            .field("code_quantity", &self.code_quantity)
            .field("env", &self.env)
            .finish()
    }
}

impl Validate for GetPaymentCodeRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        let q = self.quantity();
        if !(CODE_QUANTITY_MIN..=CODE_QUANTITY_MAX).contains(&q) {
            return Err(ParamIllegal::new(
                "codeQuantity",
                format!("must be {CODE_QUANTITY_MIN} to {CODE_QUANTITY_MAX} (got {q})"),
            ));
        }
        Ok(())
    }
}

/// One code and its validity. `Debug` hides the code: it is a bearer credential until used or
/// expired.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCodeInfo {
    /// The digits the app shows (as a QR code or barcode).
    pub payment_code: Text<PAYMENT_CODE_MAX_CHARS>,
    /// Valid from.
    pub code_validity_start_time: Timestamp,
    /// Valid until (one minute after the start).
    pub code_expiry_time: Timestamp,
}

impl fmt::Debug for PaymentCodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentCodeInfo")
            .field("payment_code", &"<redacted>")
            .field("code_validity_start_time", &self.code_validity_start_time)
            .field("code_expiry_time", &self.code_expiry_time)
            .finish()
    }
}

/// The answer: `result`, and on S the codes (field names as Ant's demo wallet uses them; not
/// published in the readable docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentCodeResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The codes (on success), at most [`CODE_QUANTITY_MAX`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bounded_vec::<_, _, 10>"
    )]
    pub payment_code_info_list: Option<Vec<PaymentCodeInfo>>,
}

impl Validate for GetPaymentCodeResponse {
    /// A success carries at least one code, each expiring after it starts.
    fn validate(&self) -> Result<(), ParamIllegal> {
        if self.result.result_status != ResultStatus::S {
            return Ok(());
        }
        let codes = self.payment_code_info_list.as_deref().unwrap_or_default();
        if codes.is_empty() {
            return Err(ParamIllegal::new(
                "paymentCodeInfoList",
                "must hold at least one code when result.resultStatus is \"S\"",
            ));
        }
        for (i, c) in codes.iter().enumerate() {
            if c.code_expiry_time.at() <= c.code_validity_start_time.at() {
                return Err(ParamIllegal::new(
                    format!("paymentCodeInfoList[{i}].codeExpiryTime"),
                    "must be after codeValidityStartTime",
                ));
            }
        }
        Ok(())
    }
}

// ---- port ---------------------------------------------------------------------------------------

/// Why Alipay+ issued no codes: refused (F), or no trustworthy answer within the retry budget.
pub type IssueError = crate::outbound::Unanswered;

/// The port where Alipay+ sits: getPaymentCode, signed and verified.
#[async_trait]
pub trait CodeIssuer: Send + Sync {
    /// The codes Alipay+ issued for the request.
    async fn issue(&self, req: &GetPaymentCodeRequest) -> Result<Vec<PaymentCodeInfo>, IssueError>;
}

// ---- flow ---------------------------------------------------------------------------------------

/// What the function needs.
#[derive(Clone)]
pub struct CodesDeps {
    /// Alipay+.
    pub issuer: Arc<dyn CodeIssuer>,
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

fn answer(status: u16, response: &GetPaymentCodeResponse, code: ResultCode) -> InternalAnswer {
    InternalAnswer {
        status,
        body: to_body(response),
        code,
    }
}

/// Serves one call: `POST` with a JSON body only, the body validated as a getPaymentCode
/// request, then [`get_payment_code`].
pub async fn serve_internal(
    deps: &CodesDeps,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> InternalAnswer {
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
) -> InternalAnswer {
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

    fn json(a: &InternalAnswer) -> serde_json::Value {
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
