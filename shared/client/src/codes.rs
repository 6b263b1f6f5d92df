//! getPaymentCode (MPP → Alipay+, `user-presented-mpp.md` §2): the one user-presented call the
//! MPP makes itself. Its app asks the MPP server for a payment code to show; the server asks
//! Alipay+ here, signed, and verifies the signed answer.
//!
//! Retries: a lost or U answer is asked again, at most [`ATTEMPTS_MAX`] times. Re-asking is safe:
//! every call issues fresh codes and an unused code simply expires a minute later. The budget
//! (3 × 2 s + 2 × 250 ms = 6.5 s) fits inside [`DEADLINE`], which the app backend's own call
//! (the getPaymentCode function's 8 s timeout) leaves room for.

use crate::{CallError, SignedClient};
use mpp_core::flows::codes::{CodeIssuer, IssueError};
use mpp_core::result_code::ResultStatus;
use mpp_core::signature::SignerError;
use mpp_core::wire::{
    parse_request, to_body, Env, GetPaymentCodeRequest, GetPaymentCodeResponse, Natural,
    PaymentCodeInfo, Region, Text, CODE_QUANTITY_MAX, CODE_QUANTITY_MIN, GET_PAYMENT_CODE_PATH,
};
use std::time::Duration;

/// Most attempts of one getPaymentCode.
pub const ATTEMPTS_MAX: u32 = 3;
/// Patience per attempt: Alipay+ answers in well under a second; a code that comes later than
/// this is of little use to a user waiting at the till.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause before a retry.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// The whole call's bound: attempts × timeout + backoffs (6.5 s) fit inside it.
pub const DEADLINE: Duration = Duration::from_secs(7);

/// Codes Alipay+ issued, and how many attempts it took.
#[derive(Clone, Debug)]
pub struct PaymentCodes {
    /// The codes, each with its validity.
    pub codes: Vec<PaymentCodeInfo>,
    /// Attempts made (1 to [`ATTEMPTS_MAX`]).
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
    /// Signing our request failed.
    #[error("signing the request: {0}")]
    Sign(#[from] SignerError),
    /// Alipay+ answered F.
    #[error("Alipay+ refused: {code} ({message})")]
    Refused {
        /// `resultCode`.
        code: String,
        /// `resultMessage`.
        message: String,
    },
    /// The answer's signature did not verify: not trusted, not retried.
    #[error("the answer's signature does not verify: {0}")]
    BadSignature(String),
    /// A signed answer that is not a getPaymentCode response.
    #[error("the answer is not a getPaymentCode response: {0}")]
    BadAnswer(String),
    /// Alipay+'s URL is not on the client's allow-list: nothing was sent, not retried.
    #[error("destination refused: {0}")]
    Destination(mpp_core::outbound::Refused),
    /// No answer, or U, on every attempt.
    #[error("no result after {attempts} attempts: {last}")]
    Unknown {
        /// Attempts made.
        attempts: u32,
        /// The last reason.
        last: String,
    },
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
/// transient failures retried within [`DEADLINE`].
pub async fn get_payment_code(
    client: &SignedClient,
    req: &GetPaymentCodeRequest,
) -> Result<PaymentCodes, GetPaymentCodeError> {
    let body = to_body(req);
    let mut last = String::new();
    let mut made = 0;
    // Bounded by ATTEMPTS_MAX; each attempt by ATTEMPT_TIMEOUT.
    for attempt in 1..=ATTEMPTS_MAX {
        if attempt > 1 {
            tokio::time::sleep(RETRY_BACKOFF).await;
        }
        // Each attempt also ends by the operation's deadline when one is current (the function's
        // remaining time), so the app backend always gets an answer.
        let patience = mpp_core::deadline::Deadline::attempt_budget(ATTEMPT_TIMEOUT);
        if patience.is_zero() {
            last = "the deadline came before another attempt".to_owned();
            break;
        }
        made = attempt;
        let sent = tokio::time::timeout(patience, client.call(GET_PAYMENT_CODE_PATH, &body)).await;
        let answer = match sent {
            Err(_) => {
                last = format!("timed out after {} ms", patience.as_millis());
                continue;
            }
            Ok(Err(CallError::Sign(e))) => return Err(GetPaymentCodeError::Sign(e)),
            Ok(Err(CallError::Refused(r))) => return Err(GetPaymentCodeError::Destination(r)),
            Ok(Err(CallError::Transport(t))) => {
                last = t;
                continue;
            }
            Ok(Ok(a)) => a,
        };
        if answer.status >= 500 {
            last = format!("HTTP {}", answer.status);
            continue;
        }
        if let Err(e) = &answer.signature {
            return Err(GetPaymentCodeError::BadSignature(e.to_string()));
        }
        let parsed = parse_request::<GetPaymentCodeResponse>(&answer.body)
            .map_err(|e| GetPaymentCodeError::BadAnswer(e.to_string()))?;
        let r = &parsed.result;
        match r.result_status {
            ResultStatus::S => {
                return Ok(PaymentCodes {
                    codes: parsed.payment_code_info_list.unwrap_or_default(),
                    attempts: attempt,
                })
            }
            ResultStatus::F => {
                return Err(GetPaymentCodeError::Refused {
                    code: r.result_code.clone(),
                    message: r.result_message.clone().unwrap_or_default(),
                })
            }
            ResultStatus::U => last = format!("U {}", r.result_code),
        }
    }
    Err(GetPaymentCodeError::Unknown {
        attempts: made,
        last,
    })
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
            Err(GetPaymentCodeError::Refused { code, message }) => {
                Err(IssueError::Refused { code, message })
            }
            Err(
                e @ (GetPaymentCodeError::Invalid { .. }
                | GetPaymentCodeError::Sign(_)
                | GetPaymentCodeError::BadSignature(_)
                | GetPaymentCodeError::BadAnswer(_)
                | GetPaymentCodeError::Destination(_)
                | GetPaymentCodeError::Unknown { .. }),
            ) => Err(IssueError::Unknown(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_retry_budget_fits_the_deadline() {
        let budget = ATTEMPT_TIMEOUT * ATTEMPTS_MAX + RETRY_BACKOFF * (ATTEMPTS_MAX - 1);
        assert!(budget <= DEADLINE, "{budget:?}");
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
