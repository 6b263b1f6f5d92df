//! The operation's deadline: the instant by which an answer must have left, taken once at the
//! edge and obeyed by every retry loop below it (store, signer, outbound HTTP).
//!
//! Alipay+ stops waiting after 5 or 8 s (alipayplus-apis.md §1) and Lambda kills a function at
//! its timeout; an answer that comes later is no answer at all, so a slow dependency must turn
//! into a `U` in time, never into silence. The edge builds one [`Deadline`] per request (in
//! Lambda: the invocation's remaining time minus [`LAMBDA_MARGIN`]; in `mpp serve` and the hub:
//! [`operation_budget`]) and runs the flow inside [`Deadline::run`], which
//!
//! 1. makes it [`Deadline::current`] for everything the flow awaits, so an adapter's retry loop
//!    reads its budget without a deadline parameter on every port method (ports stay sized to one
//!    function's permissions, and a deadline is as ambient to a call as its tracing span); and
//! 2. cuts the flow off when it passes, so even a loop that forgot to look cannot outlive it.
//!
//! Outside any scope (`mpp seed`, admin calls, tests of a store alone) there is no deadline and
//! loops keep only their own named bounds.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Kept back from the Lambda's remaining time: the answer still has to be serialised, handed to
/// the runtime API and passed back through API Gateway after the handler returns.
pub const LAMBDA_MARGIN: Duration = Duration::from_millis(300);

/// Kept back from Alipay+'s published wait when we set the deadline ourselves (`mpp serve`, the
/// hub): the time the request and the answer spend on the network between Alipay+ and us.
pub const NETWORK_MARGIN: Duration = Duration::from_millis(1_000);

/// Kept back from the flow for signing the answer: one KMS `Sign` takes tens of milliseconds and
/// its client gives one attempt 2 s; a second may not start past the deadline. A flow cut off
/// here still leaves time for a signed `U`.
pub const SIGN_RESERVE: Duration = Duration::from_millis(1_500);

/// The shortest published wait: the budget of an operation the table does not list.
pub const SHORTEST_WAIT: Duration = Duration::from_secs(5);

/// The time an operation may take from arrival to answer when no runtime tells us: Alipay+'s
/// wait for it less the network margin.
pub fn operation_budget(operation: &str) -> Duration {
    // Alipay+'s longest wait per operation (alipayplus-apis.md §1) is the operation table's
    // `wait`; the Lambda timeouts in `infra/template.yaml` are checked against the same table.
    crate::operations::by_name(operation)
        .map(|o| o.wait)
        .unwrap_or(SHORTEST_WAIT)
        .saturating_sub(NETWORK_MARGIN)
}

tokio::task_local! {
    static CURRENT: Deadline;
}

/// The deadline passed before the work finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the operation's deadline passed")]
pub struct Expired;

/// An instant by which an answer must be out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + budget,
        }
    }

    /// At this instant.
    pub fn at(at: Instant) -> Deadline {
        Deadline { at }
    }

    /// The operation's own budget from now ([`operation_budget`]).
    pub fn for_operation(operation: &str) -> Deadline {
        Deadline::after(operation_budget(operation))
    }

    /// The instant.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether it has passed.
    pub fn is_past(&self) -> bool {
        self.remaining().is_zero()
    }

    /// `reserve` earlier (never before now): the part of the budget left to a step that must
    /// leave `reserve` for what comes after it.
    pub fn less(self, reserve: Duration) -> Deadline {
        let now = Instant::now();
        let at = self.at.checked_sub(reserve).unwrap_or(now).max(now);
        Deadline {
            at: at.min(self.at),
        }
    }

    /// The earlier of the two.
    pub fn min(self, other: Deadline) -> Deadline {
        if other.at < self.at {
            other
        } else {
            self
        }
    }

    /// `limit`, or less when the deadline comes sooner: the timeout for one attempt.
    pub fn cap(&self, limit: Duration) -> Duration {
        limit.min(self.remaining())
    }

    /// The deadline `fut` runs under, if any ([`Deadline::run`] or [`Deadline::scope`] set it).
    pub fn current() -> Option<Deadline> {
        CURRENT.try_with(|d| *d).ok()
    }

    /// The earlier of the current deadline and `limit` from now: what one attempt of a retry loop
    /// may take (`limit` is its own per-attempt bound).
    pub fn attempt_budget(limit: Duration) -> Duration {
        match Deadline::current() {
            Some(d) => d.cap(limit),
            None => limit,
        }
    }

    /// Runs `fut` with this deadline current, without cutting it off.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }

    /// Runs `fut` with this deadline current and abandons it when the deadline passes. An
    /// abandoned store write may or may not have happened: callers answer `U`.
    pub async fn run<F: Future>(self, fut: F) -> Result<F::Output, Expired> {
        tokio::time::timeout_at(self.at, CURRENT.scope(self, fut))
            .await
            .map_err(|_| Expired)
    }
}

/// Runs `fut` under the current deadline, if any, as [`Deadline::run`]; without one, to the end.
pub async fn within_current<F: Future>(fut: F) -> Result<F::Output, Expired> {
    match Deadline::current() {
        Some(d) => d.run(fut).await,
        None => Ok(fut.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_follow_the_published_waits() {
        assert_eq!(operation_budget("pay"), Duration::from_secs(7));
        assert_eq!(operation_budget("inquiryPayment"), Duration::from_secs(4));
        assert_eq!(operation_budget("somethingNew"), Duration::from_secs(4));
        for (op, wait) in crate::operations::OPERATIONS.map(|o| (o.name, o.wait)) {
            assert!(operation_budget(op) + NETWORK_MARGIN == wait);
            assert!(
                operation_budget(op) > SIGN_RESERVE,
                "{op} leaves time to sign"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_cuts_off_at_the_deadline_and_scopes_the_current_one() {
        let d = Deadline::after(Duration::from_secs(2));
        assert_eq!(Deadline::current(), None);
        let seen = d.run(async { Deadline::current() }).await;
        assert_eq!(seen, Ok(Some(d)));
        let started = Instant::now();
        let cut = d.run(std::future::pending::<()>()).await;
        assert_eq!(cut, Err(Expired));
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(d.is_past());
        assert_eq!(d.cap(Duration::from_secs(5)), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn less_and_caps_never_go_past_now_or_the_deadline() {
        let d = Deadline::after(Duration::from_secs(3));
        assert_eq!(
            d.less(Duration::from_secs(1)).remaining(),
            Duration::from_secs(2)
        );
        assert_eq!(d.less(Duration::from_secs(10)).remaining(), Duration::ZERO);
        assert_eq!(d.cap(Duration::from_secs(1)), Duration::from_secs(1));
        assert_eq!(d.cap(Duration::from_secs(9)), Duration::from_secs(3));
        let inner = d
            .scope(async { Deadline::attempt_budget(Duration::from_secs(5)) })
            .await;
        assert_eq!(inner, Duration::from_secs(3));
        assert_eq!(
            Deadline::attempt_budget(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        let early = Deadline::after(Duration::from_secs(1));
        assert_eq!(d.min(early), early);
        assert_eq!(early.min(d), early);
    }
}
