//! Sending requests: bounded retries with jittered exponential backoff, SDK errors turned into
//! `StoreError`s (nothing of the SDK crosses the port), and transactions with their
//! cancellation reasons.

use super::item::Item;
use super::DynamoStore;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use mpp_core::cause::Cause;
use mpp_core::deadline::Deadline;
use mpp_core::store::StoreError;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Attempts of one request when DynamoDB throttles, fails internally or times out. Throttling on
/// on-demand tables clears within a second or two; six attempts with the backoff below wait at
/// most about 2.5 s in all, inside the pay call's time budget.
pub const SEND_ATTEMPTS_MAX: u32 = 6;
/// First backoff ceiling; doubles per attempt.
pub const BACKOFF_BASE_MS: u64 = 20;
/// Largest backoff ceiling: beyond a second a caller is better served by an error.
pub const BACKOFF_CAP_MS: u64 = 1_000;

/// The least time worth starting an attempt with: DynamoDB answers in single-digit
/// milliseconds; an attempt begun with less than this left would only be abandoned.
pub const ATTEMPT_MIN: Duration = Duration::from_millis(50);

/// Error codes that mean "slow down".
const THROTTLE_CODES: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];
/// Error codes of a failure on DynamoDB's side after it received the request: the write may
/// or may not have happened.
const SERVER_CODES: [&str; 2] = ["InternalServerError", "ServiceUnavailable"];
/// The same transaction (same client token) is still running: wait and ask again.
const IN_PROGRESS_CODE: &str = "TransactionInProgressException";

/// Cancellation reason codes.
pub(crate) const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const CONFLICT: &str = "TransactionConflict";
const THROTTLE_REASONS: [&str; 3] = [
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
];
/// A reason that means an expression could not be evaluated on the stored item.
pub(crate) const VALIDATION_ERROR: &str = "ValidationError";

/// Full-jitter backoff before attempt `attempt` (1-based retries): uniform in
/// `1 ..= min(cap, base * 2^attempt)` ms, so that racing writers spread out.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE_MS
        .saturating_mul(1u64 << attempt.min(16))
        .min(BACKOFF_CAP_MS);
    Duration::from_millis(1 + jitter() % ceiling.max(1))
}

/// Sleeps the backoff before retry `attempt` of an outer loop (a transaction lost a race, a
/// batch left keys unprocessed), never past the operation's deadline: the request after it then
/// finds no time left and ends the loop with a `StoreError`.
pub(crate) async fn pause(attempt: u32) {
    tokio::time::sleep(Deadline::attempt_budget(backoff(attempt))).await;
}

/// A random number without a random-number crate: `RandomState` is seeded per process from the
/// OS and advanced per instance.
fn jitter() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Whether a request changes data (then a lost answer is `OutcomeUnknown`, not `Unavailable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Reads only.
    Read,
    /// Writes.
    Write,
}

/// Sends a request built by `call`, retrying throttling, server errors and lost answers up to
/// [`SEND_ATTEMPTS_MAX`] times. Returns the output, or the service's own error for the caller to
/// interpret (a failed condition, a cancelled transaction), or a `StoreError` when retrying did
/// not help.
pub(crate) async fn send<T, E, F, Fut>(
    effect: Effect,
    operation: &'static str,
    call: F,
) -> Result<Result<T, E>, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    send_tracked(effect, operation, call)
        .await
        .map(|s| s.result)
}

/// What [`send_tracked`] got.
pub(crate) struct Sent<T, E> {
    /// The output or the service's own error.
    pub result: Result<T, E>,
    /// An earlier attempt of this call was sent and its answer lost: a failed condition now may
    /// be our own earlier write.
    pub after_lost_answer: bool,
}

/// [`send`], also saying whether an earlier attempt may have been applied.
pub(crate) async fn send_tracked<T, E, F, Fut>(
    effect: Effect,
    operation: &'static str,
    mut call: F,
) -> Result<Sent<T, E>, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut maybe_applied = false;
    let mut throttled = false;
    // The last failure, kept whole: it becomes the source of the StoreError.
    let mut last_error: Option<SdkError<E, HttpResponse>> = None;
    // Why the loop stopped early, if the deadline stopped it.
    let mut stopped: Option<&'static str> = None;
    // The operation's deadline (set by the edge) bounds the whole loop: no attempt starts when
    // too little is left for it to be answered, and an attempt in flight is abandoned when the
    // deadline comes. Outside any deadline (admin, seed) the loop keeps SEND_ATTEMPTS_MAX and
    // the client's ATTEMPT_TIMEOUT_MS only.
    let deadline = Deadline::current();
    for attempt in 0..SEND_ATTEMPTS_MAX {
        if attempt > 0 {
            let pause = backoff(attempt);
            if deadline.is_some_and(|d| d.remaining() < pause + ATTEMPT_MIN) {
                stopped = Some("no time left for another attempt before the deadline");
                break;
            }
            tokio::time::sleep(pause).await;
        }
        if deadline.is_some_and(|d| d.remaining() < ATTEMPT_MIN) {
            stopped = Some("the deadline came before an attempt could be sent");
            break;
        }
        let answered = match deadline {
            Some(d) => d.run(call()).await,
            None => Ok(call().await),
        };
        let Ok(answered) = answered else {
            // Abandoned in flight: a write may have reached DynamoDB.
            maybe_applied = true;
            throttled = false;
            stopped = Some("no answer before the operation's deadline");
            tracing::warn!(
                operation,
                attempt,
                "dynamodb request cut off at the deadline"
            );
            break;
        };
        let err = match answered {
            Ok(out) => {
                return Ok(Sent {
                    result: Ok(out),
                    after_lost_answer: maybe_applied,
                })
            }
            Err(err) => err,
        };
        let last = DisplayErrorContext(&err).to_string();
        throttled = false;
        match err {
            SdkError::ServiceError(ctx) => {
                let code = ctx.err().code().map(str::to_string);
                match code.as_deref() {
                    Some(c) if THROTTLE_CODES.contains(&c) => throttled = true,
                    Some(c) if SERVER_CODES.contains(&c) => maybe_applied = true,
                    Some(IN_PROGRESS_CODE) => {}
                    _ => {
                        return Ok(Sent {
                            result: Err(ctx.into_err()),
                            after_lost_answer: maybe_applied,
                        })
                    }
                }
                last_error = Some(SdkError::ServiceError(ctx));
            }
            // Sent, but no usable answer: the write may have happened.
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
                maybe_applied = true;
                last_error = Some(err);
            }
            SdkError::DispatchFailure(ref d) if !d.is_user() => {
                maybe_applied = true;
                last_error = Some(err);
            }
            // Never sent (a bad request or configuration): retrying cannot help.
            _ => return Err(StoreError::Unavailable(Cause::with_source(operation, err))),
        }
        tracing::warn!(operation, attempt, throttled, error = %last, "dynamodb request retried");
    }
    // The context says how the loop ended; the SDK's last error, when there was one, is the
    // source (DisplayErrorContext of it is in the retry warnings already).
    let context = match stopped {
        Some(why) => format!("{operation}: {why}"),
        None => format!("{operation}: gave up after {SEND_ATTEMPTS_MAX} attempts"),
    };
    let cause = match last_error {
        Some(e) => Cause::with_source(context, e),
        None => Cause::new(context),
    };
    Err(if effect == Effect::Write && maybe_applied {
        StoreError::OutcomeUnknown(cause)
    } else if throttled {
        StoreError::Throttled
    } else {
        StoreError::Unavailable(cause)
    })
}

/// A service error the caller did not expect, as a `StoreError`.
pub(crate) fn unexpected<E>(operation: &str, e: E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::Unavailable(Cause::with_source(operation.to_string(), e))
}

/// One item's fate in a cancelled transaction.
#[derive(Clone, Debug)]
pub(crate) struct Reason {
    /// `None`, `ConditionalCheckFailed`, `TransactionConflict`, ...
    pub code: String,
    /// The item as it was (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), if it existed.
    pub item: Option<Item>,
}

/// How a transaction ended.
#[derive(Debug)]
pub(crate) enum TxOutcome {
    /// Every write applied.
    Done,
    /// Nothing applied; one reason per item, in request order.
    Cancelled(Vec<Reason>),
}

/// The cancellation reasons of one transaction.
pub(crate) struct Reasons<'a>(pub &'a [Reason]);

impl Reasons<'_> {
    /// The reason of item `i` if its condition failed: `Some(old item or None)`.
    pub fn failed(&self, i: usize) -> Option<Option<&Item>> {
        self.0
            .get(i)
            .filter(|r| r.code == CONDITION_FAILED)
            .map(|r| r.item.as_ref())
    }

    /// The code of item `i`.
    pub fn code(&self, i: usize) -> &str {
        self.0.get(i).map(|r| r.code.as_str()).unwrap_or("None")
    }

    /// Another transaction held one of the items: try again.
    pub fn conflict(&self) -> bool {
        self.0.iter().any(|r| r.code == CONFLICT)
    }

    /// DynamoDB throttled one of the items: back off and try again.
    pub fn throttled(&self) -> bool {
        self.0
            .iter()
            .any(|r| THROTTLE_REASONS.contains(&r.code.as_str()))
    }

    /// All codes, for error messages.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Largest number of items in one `TransactWriteItems` (DynamoDB's limit).
pub const TRANSACT_ITEMS_MAX: usize = 100;

impl DynamoStore {
    /// Runs one `TransactWriteItems` with an idempotency token.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        token: &str,
    ) -> Result<TxOutcome, StoreError> {
        let req = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token);
        match send(Effect::Write, "TransactWriteItems", || req.clone().send()).await? {
            Ok(_) => Ok(TxOutcome::Done),
            Err(TransactWriteItemsError::TransactionCanceledException(e)) => {
                let reasons = e
                    .cancellation_reasons()
                    .iter()
                    .map(|r| Reason {
                        code: r.code().unwrap_or("None").to_string(),
                        item: r.item().cloned(),
                    })
                    .collect();
                Ok(TxOutcome::Cancelled(reasons))
            }
            Err(e) => Err(unexpected("TransactWriteItems", e)),
        }
    }
}

impl DynamoStore {
    /// [`DynamoStore::transact`], run again (same token) while the only reasons are lost races
    /// or throttling, at most [`TXN_ATTEMPTS_MAX`](super::TXN_ATTEMPTS_MAX) times; for writes
    /// that need no fresh read between attempts (the admin ones).
    pub(crate) async fn transact_retrying(
        &self,
        items: Vec<TransactWriteItem>,
        token: &str,
    ) -> Result<TxOutcome, StoreError> {
        let mut throttled = false;
        for attempt in 0..super::TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                pause(attempt).await;
            }
            match self.transact(items.clone(), token).await? {
                TxOutcome::Done => return Ok(TxOutcome::Done),
                TxOutcome::Cancelled(reasons) => {
                    let r = Reasons(&reasons);
                    let race_only = (r.conflict() || r.throttled())
                        && !reasons.iter().any(|x| x.code == CONDITION_FAILED);
                    if !race_only {
                        return Ok(TxOutcome::Cancelled(reasons));
                    }
                    throttled = r.throttled();
                }
            }
        }
        Err(if throttled {
            StoreError::Throttled
        } else {
            StoreError::Contention(super::TXN_ATTEMPTS_MAX)
        })
    }
}

/// A `ClientRequestToken` (at most 36 characters): the first 32 hex digits of the SHA-256 of the
/// parts. The same parts give the same token, so a repeated request after a lost answer is
/// applied once; different parts never collide in practice.
pub(crate) fn request_token(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so ("ab","c") and ("a","bc") differ.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `ClientRequestToken` for one call of an operation: random, and reused by every retry within
/// the call, so a retry after a lost answer is applied once. A second call gets another token and
/// meets the stored state through its conditions, exactly as the memory store answers it (a
/// shared token would make DynamoDB answer the second call with the first one's success).
pub(crate) fn call_token(operation: &str) -> String {
    request_token(&[operation, &call_nonce()])
}

/// A random string naming one call of an operation; attempts of the call that send the same
/// items derive the same token from it ([`request_token`] of the nonce and what varies).
pub(crate) fn call_nonce() -> String {
    format!("{:016x}{:016x}", jitter(), jitter())
}

/// Every conditional item asks for the old item back when its condition fails, so a
/// cancellation can be diagnosed without another read.
pub(crate) const ALL_OLD: aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure =
    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld;

/// An SDK request builder refused its input (a missing required field: a bug here).
pub(crate) fn build_err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Cause::with_source("building a request", e))
}

/// The transaction item that credits `money` to an existing account (a top-up, a refund): the
/// balance grows, and a currency the wallet did not hold yet gets unlimited limits.
pub(crate) fn credit_update(
    accounts_table: &str,
    customer_id: &mpp_core::ids::CustomerId,
    money: mpp_core::money::Money,
) -> Result<aws_sdk_dynamodb::types::Update, StoreError> {
    use super::item;
    aws_sdk_dynamodb::types::Update::builder()
        .table_name(accounts_table)
        .set_key(Some(item::key(item::CUSTOMER_ID, customer_id.as_str())))
        .update_expression(
            "SET #bal.#cur = if_not_exists(#bal.#cur, :zero) + :amount, \
             #lim.#cur = if_not_exists(#lim.#cur, :unlimited)",
        )
        .condition_expression("attribute_exists(#id)")
        .expression_attribute_names("#id", item::CUSTOMER_ID)
        .expression_attribute_names("#bal", item::BALANCES)
        .expression_attribute_names("#lim", item::LIMITS)
        .expression_attribute_names("#cur", money.currency.code())
        .expression_attribute_values(":amount", item::n(money.value.get()))
        .expression_attribute_values(":zero", item::n(0))
        .expression_attribute_values(
            ":unlimited",
            item::limits(mpp_core::store::Limits::UNLIMITED, false),
        )
        .return_values_on_condition_check_failure(ALL_OLD)
        .build()
        .map_err(build_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_ceiling() {
        for attempt in 1..SEND_ATTEMPTS_MAX + 10 {
            let d = backoff(attempt);
            assert!(d >= Duration::from_millis(1));
            assert!(d <= Duration::from_millis(BACKOFF_CAP_MS));
        }
    }

    #[test]
    fn request_tokens_are_deterministic_and_short() {
        let t = request_token(&["commit", "pr-1"]);
        assert_eq!(t, request_token(&["commit", "pr-1"]));
        assert_ne!(t, request_token(&["commit", "pr-2"]));
        assert_ne!(request_token(&["ab", "c"]), request_token(&["a", "bc"]));
        assert_eq!(t.len(), 32);
        assert_ne!(call_token("cancel"), call_token("cancel"));
    }
}
