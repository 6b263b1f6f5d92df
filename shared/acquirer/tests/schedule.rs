//! The pay → (inquiry | re-send) → cancel schedule on a virtual clock: a minute of inquiries and
//! minutes of cancel back-off run in microseconds, and every instant is checked.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration as ChronoDuration;
use common::{cancel, inquiry, pay, rig, sale, silence, t0, Recorder};
use mpp_acquirer::order::{OrderState, Source, Transition};
use mpp_acquirer::schedule::{
    Backoff, RetryPolicy, CANCEL, CANCEL_ATTEMPTS_MAX, INQUIRIES_MAX, INQUIRY, PAY_ATTEMPTS_MAX,
    RESEND,
};
use mpp_acquirer::store::OrderStore as _;
use mpp_acquirer::timer::Timer as _;
use mpp_acquirer::{NoSteps, Step};
use mpp_core::result_code::ResultCode;
use std::time::Duration;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn gaps(times: &[chrono::DateTime<chrono::Utc>]) -> Vec<Duration> {
    times
        .windows(2)
        .map(|w| (w[1] - w[0]).to_std().unwrap())
        .collect()
}

#[test]
fn the_default_inquiry_schedule_fits_10_to_20_inquiries_in_60_seconds_with_growing_gaps() {
    let offsets = INQUIRY.offsets_within(Duration::from_secs(60), INQUIRIES_MAX);
    assert!((10..=20).contains(&offsets.len()), "{offsets:?}");
    assert_eq!(offsets.len(), 12);
    let mut previous = Duration::ZERO;
    for n in 0..12 {
        let gap = INQUIRY.gap(n);
        assert!(gap >= previous, "gap {n} shrank");
        previous = gap;
    }
    assert_eq!(INQUIRY.gap(0), secs(2.0));
    assert_eq!(INQUIRY.gap(2), secs(3.0));
    assert_eq!(INQUIRY.gap(100), secs(6.0));
    assert_eq!(RESEND.gap(0), secs(1.0));
    assert_eq!(RESEND.gap(1), secs(2.0));
    assert_eq!(RESEND.gap(9), secs(4.0));
    assert_eq!(
        (0..6).map(|n| CANCEL.gap(n)).collect::<Vec<_>>(),
        [1.0, 2.0, 4.0, 8.0, 16.0, 30.0].map(secs)
    );
    assert_eq!(CANCEL.gap(u32::MAX), secs(30.0));
}

#[test]
fn scaling_keeps_the_shape() {
    let p = RetryPolicy::default().scaled_down(20);
    assert_eq!(p.order_life, ChronoDuration::seconds(3));
    assert_eq!(p.inquiry.gap(0), Duration::from_millis(100));
    assert_eq!(p.inquiry.gap(1), Duration::from_millis(125));
    assert_eq!(p.inquiries_max, INQUIRIES_MAX);
    let shrunk = Backoff {
        first: secs(2.0),
        ..INQUIRY
    };
    assert_eq!(shrunk.offsets_within(secs(3.0), 20).len(), 1);
}

/// Pay answers U `PAYMENT_IN_PROCESS`, every inquiry too; the cancel is answered U twice, then
/// S. The whole default schedule, checked instant by instant.
#[tokio::test]
async fn in_process_forever_inquires_within_the_minute_then_cancels_until_it_succeeds() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.cancels
            .lock()
            .unwrap()
            .extend([cancel(ResultCode::UnknownException), silence()]);
    });
    let steps = Recorder::default();
    let order = rig.acquirer.pay(&sale(), &steps).await.unwrap();

    assert_eq!(order.state, OrderState::Cancelled);
    assert_eq!(order.result_code.as_deref(), Some("ORDER_IS_CLOSED"));
    assert_eq!(order.resolved_by, Some(Source::Cancel));
    assert_eq!(order.expires_at, t0() + ChronoDuration::minutes(1));
    assert_eq!(order.pay_attempts, 1);

    let inquiries: Vec<_> = rig.gateway.calls("inquiry").iter().map(|c| c.at).collect();
    assert!(
        (10..=20).contains(&inquiries.len()),
        "{} inquiries",
        inquiries.len()
    );
    assert_eq!(order.inquiries as usize, inquiries.len());
    assert!(
        inquiries.iter().all(|at| *at < order.expires_at),
        "an inquiry after expiry"
    );
    let g = gaps(&inquiries);
    assert!(
        g.windows(2).all(|w| w[1] >= w[0]),
        "gaps must not shrink: {g:?}"
    );
    assert!(g.last() > g.first(), "gaps must grow: {g:?}");

    let cancels = rig.gateway.calls("cancel");
    assert_eq!(cancels.len(), 3);
    assert!(cancels[0].at >= order.expires_at, "cancelled before expiry");
    // The order is failed only once the cancel succeeded: every cancel found it CANCELLING.
    assert!(cancels
        .iter()
        .all(|c| c.state == Some(OrderState::Cancelling)));
    let cancel_times: Vec<_> = cancels.iter().map(|c| c.at).collect();
    let latency = rig.gateway.latency;
    assert_eq!(
        gaps(&cancel_times),
        [secs(1.0) + latency, secs(2.0) + latency]
    );
    assert!(rig
        .gateway
        .calls("pay")
        .iter()
        .all(|c| c.state == Some(OrderState::Pending)));

    let steps = steps.0.lock().unwrap();
    assert!(steps.contains(&Step::Expired));
    let finished: Vec<_> = steps
        .iter()
        .filter(|s| matches!(s, Step::Finished { .. }))
        .collect();
    assert_eq!(finished.len(), 1);
}

/// No answer to pay: the same bytes again with growing gaps, up to the pay budget; then the
/// inquiry finds the payment.
#[tokio::test]
async fn no_answer_resends_the_same_request_then_inquiry_recovers_it() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pay_fallback = silence();
        g.inquiries
            .lock()
            .unwrap()
            .push_back(inquiry(ResultCode::Success, Some(ResultCode::Success)));
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.resolved_by, Some(Source::Inquiry));
    let pays = rig.gateway.calls("pay");
    assert_eq!(pays.len() as u32, PAY_ATTEMPTS_MAX);
    assert!(
        pays.iter().all(|c| c.body == order.request_body),
        "a re-send changed the bytes"
    );
    let latency = rig.gateway.latency;
    let times: Vec<_> = pays.iter().map(|c| c.at).collect();
    assert_eq!(
        gaps(&times),
        [
            secs(1.0) + latency,
            secs(2.0) + latency,
            secs(4.0) + latency
        ]
    );
    assert_eq!(rig.gateway.calls("inquiry").len(), 1);
    assert!(rig.gateway.calls("cancel").is_empty());
}

/// U other than `PAYMENT_IN_PROCESS`: re-send pay (not inquire), and take its answer.
#[tokio::test]
async fn unknown_exception_resends_pay_and_takes_its_success() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pays.lock().unwrap().extend([
            pay(ResultCode::UnknownException),
            pay(ResultCode::RequestTrafficExceedLimit),
            pay(ResultCode::Success),
        ]);
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.resolved_by, Some(Source::Pay));
    assert_eq!(order.pay_attempts, 3);
    assert_eq!(order.inquiries, 0);
    assert!(order.success.unwrap().payment_id.is_some());
}

#[tokio::test]
async fn f_fails_at_once_with_its_code() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pay_fallback = pay(ResultCode::UserBalanceNotEnough)
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Failed);
    assert_eq!(
        order.result_code.as_deref(),
        Some("USER_BALANCE_NOT_ENOUGH")
    );
    assert_eq!(rig.gateway.calls.lock().unwrap().len(), 1);
}

/// inquiryPayment `ORDER_NOT_EXIST`: the pay never arrived; re-sending it is safe.
#[tokio::test]
async fn order_not_exist_resends_the_pay() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pays
            .lock()
            .unwrap()
            .extend([pay(ResultCode::PaymentInProcess), pay(ResultCode::Success)]);
        g.inquiries
            .lock()
            .unwrap()
            .push_back(inquiry(ResultCode::OrderNotExist, None));
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!((order.pay_attempts, order.inquiries), (2, 1));
    let pays = rig.gateway.calls("pay");
    assert_eq!(pays[0].body, pays[1].body);
}

/// Inquiry F `ORDER_IS_CLOSED` (or any F payment result) fails the order without a cancel.
#[tokio::test]
async fn inquiry_failure_fails_the_order() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.inquiries.lock().unwrap().push_back(inquiry(
            ResultCode::Success,
            Some(ResultCode::OrderIsClosed),
        ));
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Failed);
    assert_eq!(order.result_code.as_deref(), Some("ORDER_IS_CLOSED"));
    assert_eq!(order.resolved_by, Some(Source::Inquiry));
    assert!(rig.gateway.calls("cancel").is_empty());
}

/// A cancel that never gets an answer: exactly the bound, with the back-off, and the order stays
/// CANCELLING (never failed without a successful cancel).
#[tokio::test]
async fn a_cancel_never_confirmed_stops_at_its_bound_and_stays_cancelling() {
    let rig = rig(RetryPolicy::default(), |g| g.cancel_fallback = silence());
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Cancelling);
    assert_eq!(order.result_code, None);
    assert_eq!(order.cancel_attempts, CANCEL_ATTEMPTS_MAX);
    let cancels: Vec<_> = rig.gateway.calls("cancel").iter().map(|c| c.at).collect();
    assert_eq!(cancels.len() as u32, CANCEL_ATTEMPTS_MAX);
    let latency = rig.gateway.latency;
    let expected: Vec<Duration> = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
        .iter()
        .map(|s| secs(*s) + latency)
        .collect();
    assert_eq!(gaps(&cancels), expected);
    // About 2.5 minutes of cancel, then the driver lets go.
    assert!(rig.timer.now() - order.expires_at < ChronoDuration::minutes(3));
}

#[tokio::test]
async fn a_cancel_refused_stops_at_once_and_stays_cancelling() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.cancel_fallback = cancel(ResultCode::CancelWindowExceed)
    });
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Cancelling);
    assert_eq!(
        order.cancel_refused.as_deref(),
        Some("CANCEL_WINDOW_EXCEED")
    );
    assert_eq!(rig.gateway.calls("cancel").len(), 1);
}

/// Settles an order as a notification would (the memory store's futures complete at once).
fn notify_success(
    orders: std::sync::Arc<mpp_acquirer::store::MemoryOrderStore>,
) -> impl FnOnce(String) + Send {
    move |id: String| {
        let t = Transition::Succeed {
            success: Default::default(),
            source: Source::Notify,
        };
        assert!(futures_now(orders.transition(&id, &t)).unwrap().is_ok());
    }
}

/// A notification that settles the order during the third inquiry ends the schedule at once.
#[tokio::test]
async fn a_notification_while_waiting_settles_the_order() {
    let rig = rig(RetryPolicy::default(), |_| {});
    rig.gateway
        .hook("inquiry", 3, notify_success(rig.orders.clone()));
    let steps = Recorder::default();
    let order = rig.acquirer.pay(&sale(), &steps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.resolved_by, Some(Source::Notify));
    assert_eq!(order.inquiries, 3);
    assert!(rig.gateway.calls("cancel").is_empty());
    assert!(steps.0.lock().unwrap().contains(&Step::SettledElsewhere {
        state: OrderState::Succeeded
    }));
}

/// A notification during an inquiry that answered `ORDER_NOT_EXIST`: the driver sees the
/// settled order before it would re-send the pay, and sends nothing more.
#[tokio::test]
async fn a_settled_order_is_not_re_sent() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pays.lock().unwrap().extend([
            pay(ResultCode::PaymentInProcess),
            pay(ResultCode::ProcessFail),
        ]);
        g.inquiries
            .lock()
            .unwrap()
            .push_back(inquiry(ResultCode::OrderNotExist, None));
    });
    rig.gateway
        .hook("inquiry", 1, notify_success(rig.orders.clone()));
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.pay_attempts, 1);
    assert!(order.remarks.is_empty(), "{:?}", order.remarks);
}

/// Pay answers F while a notification already said S: the first final result stays, the
/// disagreement is recorded on the order.
#[tokio::test]
async fn a_conflict_between_sources_is_kept_on_the_order() {
    let rig = rig(RetryPolicy::default(), |g| {
        g.pay_fallback = pay(ResultCode::ProcessFail)
    });
    rig.gateway
        .hook("pay", 1, notify_success(rig.orders.clone()));
    let steps = Recorder::default();
    let order = rig.acquirer.pay(&sale(), &steps).await.unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.resolved_by, Some(Source::Notify));
    assert_eq!(order.remarks.len(), 1, "{:?}", order.remarks);
    assert!(
        order.remarks[0].contains("pay said FAILED"),
        "{:?}",
        order.remarks
    );
    assert!(steps
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|s| matches!(s, Step::Conflict { .. })));
}

/// A scanned value that is not an Alipay+ code: no order, no call.
#[tokio::test]
async fn a_foreign_code_sends_nothing() {
    let rig = rig(RetryPolicy::default(), |_| {});
    let mut s = sale();
    s.code = "6221000000000000".to_string();
    let e = rig.acquirer.pay(&s, &NoSteps).await.unwrap_err();
    assert!(e.to_string().contains("not an Alipay+ payment code"), "{e}");
    assert!(rig.gateway.calls.lock().unwrap().is_empty());
}

/// Shortened bounds (the end-to-end tests' shape): the same logic on a 3-second order.
#[tokio::test]
async fn a_scaled_policy_runs_the_same_schedule_in_seconds() {
    let policy = RetryPolicy::default().scaled_down(20);
    let rig = rig(policy, |g| g.latency = Duration::from_millis(10));
    let order = rig.acquirer.pay(&sale(), &NoSteps).await.unwrap();
    assert_eq!(order.state, OrderState::Cancelled);
    assert_eq!(order.expires_at, t0() + ChronoDuration::seconds(3));
    assert!((10..=20).contains(&order.inquiries), "{}", order.inquiries);
}

/// Runs a future that completes without waiting (the memory store's) to its end.
fn futures_now<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the memory store never waits"),
    }
}
