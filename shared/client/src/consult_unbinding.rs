//! consultUnbinding (MPP → Alipay+, `account-binding.md` §6): before the wallet undoes a
//! binding, it asks Alipay+ whether the merchant allows it; signed, the answer verified.
//!
//! Retries: a lost or U answer is asked again, at most [`ATTEMPTS_MAX`] times. Re-asking is safe:
//! consultUnbinding is a question and changes nothing at Alipay+ (the revocation and its
//! TOKEN_CANCELED come afterwards, from us). The budget (3 × 2 s + 2 × 250 ms = 6.5 s) fits inside
//! [`DEADLINE`], which the consult-unbinding function's 8 s timeout leaves room for (the token
//! MAC and the revoking write run in the remaining time; past the deadline the answer is U and
//! nothing was revoked unless the write went through, which a re-sent request answers S).

use crate::ask::{ask, Answer, AskError, Retries};
use crate::SignedClient;
use mpp_core::flows::unbinding::{ConsultError, UnbindingConsultant};
use mpp_core::operations::CONSULT_UNBINDING;
use mpp_core::wire::{
    to_body, ConsultUnbindingRequest, ConsultUnbindingResponse, ResultObject,
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
/// The schedule of one consultUnbinding.
pub const RETRIES: Retries = Retries {
    attempts_max: ATTEMPTS_MAX,
    attempt_timeout: ATTEMPT_TIMEOUT,
    backoff: RETRY_BACKOFF,
    deadline: DEADLINE,
};

/// Asks Alipay+ (the client's base URL): `Ok(true)` only on an S with `allowUnbinding` "true",
/// `Ok(false)` on an S with "false"; an S with anything else is not an answer (retried, then
/// `Unknown`).
pub async fn consult_unbinding(
    client: &SignedClient,
    req: &ConsultUnbindingRequest,
) -> Result<bool, ConsultError> {
    let asked = ask(
        client,
        CONSULT_UNBINDING.name,
        CONSULT_UNBINDING_PATH,
        &to_body(req),
        &RETRIES,
        |parsed: ConsultUnbindingResponse, _| {
            parsed
                .allowed()
                .ok_or_else(|| "S without a \"true\" or \"false\" allowUnbinding".to_owned())
        },
    )
    .await;
    match asked {
        Ok(allowed) => Ok(allowed),
        Err(AskError::Refused { code, message }) => Err(ConsultError::Refused { code, message }),
        Err(
            e @ (AskError::Sign(_)
            | AskError::Destination(_)
            | AskError::BadSignature(_)
            | AskError::BadAnswer { .. }
            | AskError::Unknown { .. }),
        ) => Err(ConsultError::Unknown(e.to_string())),
    }
}

impl Answer for ConsultUnbindingResponse {
    fn result(&self) -> &ResultObject {
        &self.result
    }
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
        assert!(RETRIES.budget() <= DEADLINE, "{:?}", RETRIES.budget());
        assert!(DEADLINE < mpp_core::operations::CONSULT_UNBINDING.function_timeout);
    }
}
