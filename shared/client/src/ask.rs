//! One signed question to Alipay+, asked again on a lost or U answer within a bounded schedule:
//! the loop every MPP → Alipay+ call that waits for its answer shares (getPaymentCode,
//! consultUnbinding; notifyPayment is delivered by the outbox's own schedule instead).
//!
//! Asking again is only right for a call that changes nothing at Alipay+ or whose repeat is
//! harmless; each caller says why in its module. What is never retried: our own signing
//! failing, a destination off the allow-list, an answer whose signature does not verify (the
//! same server would sign the same way) and an F (Alipay+'s decision).

use crate::{CallError, SignedClient};
use mpp_core::result_code::ResultStatus;
use mpp_core::signature::SignerError;
use mpp_core::wire::{parse_request, ResultObject, Validate};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How one question may be asked: every bound named, so the budget can be checked against the
/// deadline of the function that asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// Most attempts.
    pub attempts_max: u32,
    /// Patience per attempt (also cut to the current operation's remaining time).
    pub attempt_timeout: Duration,
    /// Pause before a retry.
    pub backoff: Duration,
    /// The whole question's bound; [`Retries::budget`] must fit inside it.
    pub deadline: Duration,
}

impl Retries {
    /// The longest the schedule can take: every attempt timing out, with the pauses between.
    pub fn budget(&self) -> Duration {
        self.attempt_timeout * self.attempts_max
            + self.backoff * self.attempts_max.saturating_sub(1)
    }
}

/// The schedule of a question Alipay+ answers in well under a second, asked by a function with an
/// 8 s timeout: 3 attempts of 2 s, 250 ms apart (6.5 s), bounded by 7 s, which leaves the
/// function a second of its own for the work around the question.
pub const QUESTION: Retries = Retries {
    attempts_max: 3,
    attempt_timeout: Duration::from_secs(2),
    backoff: Duration::from_millis(250),
    deadline: Duration::from_secs(7),
};

/// An Alipay+ response: parsed and validated, with its `result`.
pub trait Answer: DeserializeOwned + Validate {
    /// The response's `result` object.
    fn result(&self) -> &ResultObject;
}

/// Why a question got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Signing our request failed (nothing was sent).
    #[error("signing the request: {0}")]
    Sign(SignerError),
    /// Alipay+'s URL is not on the client's allow-list: nothing was sent, not retried.
    #[error("destination refused: {0}")]
    Destination(mpp_core::outbound::Refused),
    /// The answer's signature did not verify: not trusted, not retried.
    #[error("the answer's signature does not verify: {0}")]
    BadSignature(String),
    /// A signed answer that is not a response of the operation asked.
    #[error("the answer is not a {operation} response: {reason}")]
    BadAnswer {
        /// The operation asked.
        operation: &'static str,
        /// Why it is not its response.
        reason: String,
    },
    /// Alipay+ answered F.
    #[error("Alipay+ refused: {code} ({message})")]
    Refused {
        /// `resultCode`.
        code: String,
        /// `resultMessage`.
        message: String,
    },
    /// No answer, or U, or an S the caller could not use, on every attempt.
    #[error("no result after {attempts} attempts: {last}")]
    Unknown {
        /// Attempts made.
        attempts: u32,
        /// The last reason.
        last: String,
    },
}

impl From<AskError> for mpp_core::outbound::Unanswered {
    /// The flows see Alipay+'s F as it came; anything else is "no result", its cause kept for
    /// the log.
    fn from(e: AskError) -> Self {
        match e {
            AskError::Refused { code, message } => Self::Refused { code, message },
            e @ (AskError::Sign(_)
            | AskError::Destination(_)
            | AskError::BadSignature(_)
            | AskError::BadAnswer { .. }
            | AskError::Unknown { .. }) => Self::Unknown(e.to_string()),
        }
    }
}

/// POSTs `body` (signed) to `path` of the client's base URL, as `operation`, until an answer
/// settles it or `retries` is spent. An S goes to `on_success` with the attempt's number:
/// `Ok` ends the question, `Err(reason)` counts as no answer (asked again).
pub async fn ask<R, T>(
    client: &SignedClient,
    operation: &'static str,
    path: &str,
    body: &[u8],
    retries: &Retries,
    mut on_success: impl FnMut(R, u32) -> Result<T, String>,
) -> Result<T, AskError>
where
    R: Answer,
{
    let mut last = String::new();
    let mut made = 0;
    // Bounded by attempts_max; each attempt by attempt_timeout.
    for attempt in 1..=retries.attempts_max {
        if attempt > 1 {
            tokio::time::sleep(retries.backoff).await;
        }
        // Each attempt also ends by the operation's deadline when one is current (the function's
        // remaining time), so whoever asked always gets an answer.
        let patience = mpp_core::deadline::Deadline::attempt_budget(retries.attempt_timeout);
        if patience.is_zero() {
            last = "the deadline came before another attempt".to_owned();
            break;
        }
        made = attempt;
        let sent = tokio::time::timeout(patience, client.call(path, body)).await;
        let answer = match sent {
            Err(_) => {
                last = format!("timed out after {} ms", patience.as_millis());
                continue;
            }
            Ok(Err(CallError::Sign(e))) => return Err(AskError::Sign(e)),
            Ok(Err(CallError::Refused(r))) => return Err(AskError::Destination(r)),
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
            return Err(AskError::BadSignature(e.to_string()));
        }
        let parsed = parse_request::<R>(&answer.body).map_err(|e| AskError::BadAnswer {
            operation,
            reason: e.to_string(),
        })?;
        let r = parsed.result();
        match r.result_status {
            ResultStatus::S => match on_success(parsed, attempt) {
                Ok(done) => return Ok(done),
                Err(reason) => last = reason,
            },
            ResultStatus::F => {
                return Err(AskError::Refused {
                    code: r.result_code.clone(),
                    message: r.result_message.clone().unwrap_or_default(),
                })
            }
            ResultStatus::U => last = format!("U {}", r.result_code),
        }
    }
    Err(AskError::Unknown {
        attempts: made,
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_every_attempt_timing_out_with_the_pauses_between() {
        let r = QUESTION;
        assert_eq!(r.budget(), Duration::from_millis(6_500));
        assert!(r.budget() <= r.deadline);
        let once = Retries {
            attempts_max: 1,
            ..r
        };
        assert_eq!(once.budget(), Duration::from_secs(2));
    }
}
