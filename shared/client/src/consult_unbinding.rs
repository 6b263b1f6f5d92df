//! consultUnbinding (MPP → Alipay+, `account-binding.md` §6): before the wallet undoes a
//! binding, it asks Alipay+ whether the merchant allows it; signed, the answer verified.
//!
//! Retries: a lost or U answer is asked again on the [`RETRIES`] schedule. Re-asking is safe:
//! consultUnbinding is a question and changes nothing at Alipay+ (the revocation and its
//! TOKEN_CANCELED come afterwards, from us). The budget (3 × 2 s + 2 × 250 ms = 6.5 s) fits
//! inside its 7 s deadline, which the consult-unbinding function's 8 s timeout leaves room for
//! (the token MAC and the revoking write run in the remaining time; past the deadline the answer
//! is U and nothing was revoked unless the write went through, which a re-sent request answers
//! S).

use crate::ask::{ask, Answer, Retries, QUESTION};
use crate::SignedClient;
use mpp_core::bindings::{
    ConsultError, ConsultUnbindingRequest, ConsultUnbindingResponse, UnbindingConsultant,
    CONSULT_UNBINDING_PATH,
};
use mpp_core::operations::CONSULT_UNBINDING;
use mpp_core::wire::{to_body, ResultObject};
use std::time::Duration;

/// The schedule of one consultUnbinding: a question ([`QUESTION`]); the token MAC and the
/// revoking write run in the second the deadline leaves.
pub const RETRIES: Retries = QUESTION;
/// Patience per attempt: the signed client's own timeout.
pub const ATTEMPT_TIMEOUT: Duration = RETRIES.attempt_timeout;

/// Asks Alipay+ (the client's base URL): `Ok(true)` only on an S with `allowUnbinding` "true",
/// `Ok(false)` on an S with "false"; an S with anything else is not an answer (retried, then
/// `Unknown`).
pub async fn consult_unbinding(
    client: &SignedClient,
    req: &ConsultUnbindingRequest,
) -> Result<bool, ConsultError> {
    ask(
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
    .await
    .map_err(ConsultError::from)
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
        assert!(
            RETRIES.budget() <= RETRIES.deadline,
            "{:?}",
            RETRIES.budget()
        );
        assert!(RETRIES.deadline < mpp_core::operations::CONSULT_UNBINDING.function_timeout);
    }
}
