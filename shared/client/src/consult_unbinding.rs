//! consultUnbinding (MPP → Alipay+, `account-binding.md` §6): before the wallet undoes a
//! binding, it asks Alipay+ whether the merchant allows it; signed, the answer verified.
//!
//! Retries: a lost or U answer is asked again, at most [`ATTEMPTS_MAX`] times. Re-asking is safe:
//! consultUnbinding is a question and changes nothing at Alipay+ (the revocation and its
//! TOKEN_CANCELED come afterwards, from us). The budget (3 × 2 s + 2 × 250 ms = 6.5 s) fits inside
//! [`DEADLINE`], which the consult-unbinding function's 8 s timeout leaves room for (the token
//! MAC and the revoking write run in the remaining time; past the deadline the answer is U and
//! nothing was revoked unless the write went through, which a re-sent request answers S).

use crate::{CallError, SignedClient};
use mpp_core::flows::unbinding::{ConsultError, UnbindingConsultant};
use mpp_core::result_code::ResultStatus;
use mpp_core::wire::{
    parse_request, to_body, ConsultUnbindingRequest, ConsultUnbindingResponse,
    CONSULT_UNBINDING_PATH,
};
use std::time::Duration;

/// Most attempts of one consultUnbinding.
pub const ATTEMPTS_MAX: u32 = 3;
/// Patience per attempt (Alipay+ answers a question in well under a second).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause before a retry.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(250);
/// The whole call's bound: attempts × timeout + backoffs (6.5 s) fit inside it.
pub const DEADLINE: Duration = Duration::from_secs(7);

/// Asks Alipay+ (the client's base URL): `Ok(true)` only on an S with `allowUnbinding` "true",
/// `Ok(false)` on an S with "false"; an S with anything else is not an answer (retried, then
/// `Unknown`).
pub async fn consult_unbinding(
    client: &SignedClient,
    req: &ConsultUnbindingRequest,
) -> Result<bool, ConsultError> {
    let body = to_body(req);
    let mut last = String::new();
    // Bounded by ATTEMPTS_MAX; each attempt by ATTEMPT_TIMEOUT and the current deadline.
    for attempt in 1..=ATTEMPTS_MAX {
        if attempt > 1 {
            tokio::time::sleep(RETRY_BACKOFF).await;
        }
        let patience = mpp_core::deadline::Deadline::attempt_budget(ATTEMPT_TIMEOUT);
        if patience.is_zero() {
            last = "the deadline came before another attempt".to_owned();
            break;
        }
        let sent = tokio::time::timeout(patience, client.call(CONSULT_UNBINDING_PATH, &body)).await;
        let answer = match sent {
            Err(_) => {
                last = format!("timed out after {} ms", patience.as_millis());
                continue;
            }
            Ok(Err(e @ (CallError::Sign(_) | CallError::Refused(_)))) => {
                return Err(ConsultError::Unknown(e.to_string()))
            }
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
            // Not trusted, and not retried: the same server would sign the same way.
            return Err(ConsultError::Unknown(format!(
                "the answer's signature does not verify: {e}"
            )));
        }
        let parsed = parse_request::<ConsultUnbindingResponse>(&answer.body)
            .map_err(|e| ConsultError::Unknown(format!("not a consultUnbinding answer: {e}")))?;
        let r = &parsed.result;
        match r.result_status {
            ResultStatus::S => match parsed.allowed() {
                Some(yes) => return Ok(yes),
                None => last = "S without a \"true\" or \"false\" allowUnbinding".to_owned(),
            },
            ResultStatus::F => {
                return Err(ConsultError::Refused {
                    code: r.result_code.clone(),
                    message: r.result_message.clone().unwrap_or_default(),
                })
            }
            ResultStatus::U => last = format!("U {}", r.result_code),
        }
    }
    Err(ConsultError::Unknown(last))
}

/// The [`UnbindingConsultant`] port on Alipay+: the consult-unbinding function's way out.
#[derive(Clone)]
pub struct AlipayUnbindingConsultant {
    /// Signs with our key, verifies with Alipay+'s, based at Alipay+'s API URL.
    pub client: SignedClient,
}

#[async_trait::async_trait]
impl UnbindingConsultant for AlipayUnbindingConsultant {
    async fn consult(&self, req: &ConsultUnbindingRequest) -> Result<bool, ConsultError> {
        consult_unbinding(&self.client, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_budget_fits_the_deadline() {
        let budget = ATTEMPT_TIMEOUT * ATTEMPTS_MAX + RETRY_BACKOFF * (ATTEMPTS_MAX - 1);
        assert!(budget <= DEADLINE, "{budget:?}");
        assert!(DEADLINE < mpp_core::operations::CONSULT_UNBINDING.function_timeout);
    }
}
