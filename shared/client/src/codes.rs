//! getPaymentCode (MPP → Alipay+, `user-presented-mpp.md` §2): the one user-presented call the
//! MPP makes itself. Its app asks the MPP server for a payment code to show; the server asks
//! Alipay+ here, signed, and verifies the signed answer.
//!
//! Retries: a lost or U answer is asked again on the [`RETRIES`] schedule. Re-asking is safe:
//! every call issues fresh codes and an unused code simply expires a minute later. The budget
//! (3 × 2 s + 2 × 250 ms = 6.5 s) fits inside its 7 s deadline, which the app backend's own call
//! (the getPaymentCode function's 8 s timeout) leaves room for.

use crate::ask::{ask, Answer, AskError, Retries, QUESTION};
use crate::SignedClient;
use mpp_core::codes::{
    CodeIssuer, GetPaymentCodeRequest, GetPaymentCodeResponse, IssueError, PaymentCodeInfo,
    CODE_QUANTITY_MAX, CODE_QUANTITY_MIN, GET_PAYMENT_CODE_PATH,
};
use mpp_core::operations::GET_PAYMENT_CODE;
use mpp_core::payments::Env;
use mpp_core::wire::{to_body, Natural, Region, ResultObject, Text};
use std::time::Duration;

/// The schedule of one getPaymentCode: a question ([`QUESTION`]); a code that comes later than
/// 2 s is of little use to a user waiting at the till.
pub const RETRIES: Retries = QUESTION;
/// Patience per attempt: the signed client's own timeout.
pub const ATTEMPT_TIMEOUT: Duration = RETRIES.attempt_timeout;

/// Codes Alipay+ issued, and how many attempts it took.
#[derive(Clone, Debug)]
pub struct PaymentCodes {
    /// The codes, each with its validity.
    pub codes: Vec<PaymentCodeInfo>,
    /// Attempts made (1 to `RETRIES.attempts_max`).
    pub attempts: u32,
}

/// Why no codes came back.
#[derive(Debug, thiserror::Error)]
pub enum GetPaymentCodeError {
    /// The request itself is not valid (nothing was sent).
    #[error("{field}: {rule}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        rule: String,
    },
    /// Asked, and no codes came back (Alipay+ refused, no trusted answer, no answer in time).
    #[error(transparent)]
    Ask(#[from] AskError),
}

/// Builds a request for `quantity` codes (1 to 10) for `customer_id`, with the device's token id
/// and the region when known.
pub fn request(
    customer_id: &str,
    quantity: u64,
    device_token_id: Option<&str>,
    region: Option<&str>,
) -> Result<GetPaymentCodeRequest, GetPaymentCodeError> {
    let invalid = |field: &'static str, rule: String| GetPaymentCodeError::Invalid { field, rule };
    if !(CODE_QUANTITY_MIN..=CODE_QUANTITY_MAX).contains(&quantity) {
        return Err(invalid(
            "codeQuantity",
            format!("must be {CODE_QUANTITY_MIN} to {CODE_QUANTITY_MAX} (got {quantity})"),
        ));
    }
    let customer_id = Text::new(customer_id).map_err(|r| invalid("customerId", r))?;
    let region = region
        .map(|r| Region::parse(r).map_err(|e| invalid("region", e)))
        .transpose()?;
    let env = device_token_id
        .map(|d| {
            Text::new(d)
                .map(|t| Env {
                    terminal_type: None,
                    os_type: None,
                    device_token_id: Some(t),
                    client_ip: None,
                    cookie_id: None,
                    user_agent: None,
                })
                .map_err(|e| invalid("env.deviceTokenId", e))
        })
        .transpose()?;
    Ok(GetPaymentCodeRequest {
        customer_id,
        region,
        code_quantity: Natural::new(quantity),
        env,
    })
}

/// Asks Alipay+ (the client's base URL) for codes: signed, the answer verified and validated,
/// transient failures retried within [`RETRIES`].
pub async fn get_payment_code(
    client: &SignedClient,
    req: &GetPaymentCodeRequest,
) -> Result<PaymentCodes, GetPaymentCodeError> {
    let codes = ask(
        client,
        GET_PAYMENT_CODE.name,
        GET_PAYMENT_CODE_PATH,
        &to_body(req),
        &RETRIES,
        |parsed: GetPaymentCodeResponse, attempt| {
            Ok(PaymentCodes {
                codes: parsed.payment_code_info_list.unwrap_or_default(),
                attempts: attempt,
            })
        },
    )
    .await?;
    Ok(codes)
}

impl Answer for GetPaymentCodeResponse {
    fn result(&self) -> &ResultObject {
        &self.result
    }
}

/// The [`CodeIssuer`] port on Alipay+: the getPaymentCode function's way out.
#[derive(Clone)]
pub struct AlipayCodeIssuer {
    /// Signs with our key, verifies with Alipay+'s, based at Alipay+'s API URL.
    pub client: SignedClient,
}

#[async_trait::async_trait]
impl CodeIssuer for AlipayCodeIssuer {
    async fn issue(&self, req: &GetPaymentCodeRequest) -> Result<Vec<PaymentCodeInfo>, IssueError> {
        match get_payment_code(&self.client, req).await {
            Ok(got) => Ok(got.codes),
            Err(GetPaymentCodeError::Ask(e)) => Err(e.into()),
            Err(e @ GetPaymentCodeError::Invalid { .. }) => Err(IssueError::Unknown(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_retry_budget_fits_the_deadline() {
        assert!(
            RETRIES.budget() <= RETRIES.deadline,
            "{:?}",
            RETRIES.budget()
        );
        assert!(RETRIES.deadline < mpp_core::operations::GET_PAYMENT_CODE.function_timeout);
    }

    #[test]
    fn requests_hold_1_to_10_codes() {
        let r = request("2160000000000001", 3, Some("dev-1"), Some("KR")).unwrap();
        assert_eq!(r.quantity(), 3);
        let json: serde_json::Value = serde_json::from_slice(&to_body(&r)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"customerId": "2160000000000001", "region": "KR",
                "codeQuantity": "3", "env": {"deviceTokenId": "dev-1"}})
        );
        for bad in [0, 11] {
            assert!(matches!(
                request("2160000000000001", bad, None, None),
                Err(GetPaymentCodeError::Invalid {
                    field: "codeQuantity",
                    ..
                })
            ));
        }
        assert!(request("", 1, None, None).is_err());
        assert!(request("2160000000000001", 1, None, Some("kr")).is_err());
        assert_eq!(
            request("2160000000000001", 10, None, None)
                .unwrap()
                .quantity(),
            10
        );
    }
}
