//! inquiryPayment, cancelPayment and refund scenarios, written once and run against every store
//! (`after_pay_scenario_tests!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::harness::*;
use crate::pay_scenarios::Factory;
use chrono::Duration;
use mpp_core::payments::Policy;
use serde_json::json;
use std::sync::Arc;

/// Generates one `#[tokio::test]` per scenario.
#[macro_export]
macro_rules! after_pay_scenario_tests {
    ($factory:expr) => {
        $crate::after_pay_scenario_tests!(@each $factory;
            inquiry_of_an_unknown_id_is_order_not_exist, inquiry_agrees_with_pay_for_success_and_decline,
            cancel_reverses_a_success_and_inquiry_says_closed, cancel_before_pay_closes_the_order,
            cancel_of_a_decline_closes_it, cancel_after_the_window_is_refused, repeated_cancels_answer_the_same,
            pay_and_cancel_race_never_ends_paid_and_cancelled, partial_refunds_up_to_the_payment,
            refund_repeats_and_inconsistent_repeats, refund_of_what_cannot_be_refunded, concurrent_refunds_never_exceed_the_payment);
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::after_pay_scenarios::$name($factory).await;
            }
        )*
    };
}

async fn mpp(f: &Factory) -> Mpp {
    f(Policy::default()).await
}

pub async fn inquiry_of_an_unknown_id_is_order_not_exist(f: Factory) {
    let m = mpp(&f).await;
    let a = m.inquire("NEVER-SEEN").await;
    assert_eq!(
        (a.status_letter(), a.code()),
        ("F", "ORDER_NOT_EXIST"),
        "{}",
        a.body
    );
    assert!(a.body.get("paymentResult").is_none());
}

pub async fn inquiry_agrees_with_pay_for_success_and_decline(f: Factory) {
    let m = mpp(&f).await;
    let paid = m.pay(&auto_debit("IQ-1")).await;
    let a = m.inquire("IQ-1").await;
    assert_eq!(a.code(), "SUCCESS");
    assert_eq!(a.body["paymentResult"]["resultCode"], "SUCCESS");
    assert_eq!(a.body["paymentResult"]["resultStatus"], "S");
    for field in ["paymentId", "paymentTime", "customerId"] {
        assert_eq!(a.body[field], paid.body[field], "{field}");
    }
    assert_eq!(
        a.body["paymentAmount"],
        json!({"currency": "JPY", "value": "100"})
    );
    assert_eq!(
        a.body["payToAmount"],
        json!({"currency": "KRW", "value": "1000"})
    );
    m.pay(&with_krw(auto_debit("IQ-2"), 40_000)).await;
    let a = m.inquire("IQ-2").await;
    assert_eq!(a.code(), "SUCCESS");
    assert_eq!(
        a.body["paymentResult"]["resultCode"],
        "USER_BALANCE_NOT_ENOUGH"
    );
    assert_eq!(a.body["paymentResult"]["resultStatus"], "F");
    assert!(a.body.get("paymentId").is_none());
}

pub async fn cancel_reverses_a_success_and_inquiry_says_closed(f: Factory) {
    let m = mpp(&f).await;
    assert_eq!(m.pay(&auto_debit("CX-1")).await.code(), "SUCCESS");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    let c = m.cancel("CX-1").await;
    assert_eq!(
        (c.status_letter(), c.code()),
        ("S", "SUCCESS"),
        "{}",
        c.body
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    let a = m.inquire("CX-1").await;
    assert_eq!(a.body["paymentResult"]["resultCode"], "ORDER_IS_CLOSED");
    assert_eq!(a.body["paymentResult"]["resultStatus"], "F");
    // A repeat of the pay now answers closed and takes nothing.
    assert_eq!(m.pay(&auto_debit("CX-1")).await.code(), "ORDER_IS_CLOSED");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}

pub async fn cancel_before_pay_closes_the_order(f: Factory) {
    let m = mpp(&f).await;
    assert_eq!(m.cancel("CX-2").await.code(), "SUCCESS");
    assert_eq!(m.pay(&auto_debit("CX-2")).await.code(), "ORDER_IS_CLOSED");
    assert_eq!(
        m.inquire("CX-2").await.body["paymentResult"]["resultCode"],
        "ORDER_IS_CLOSED"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}

pub async fn cancel_of_a_decline_closes_it(f: Factory) {
    let m = mpp(&f).await;
    assert_eq!(
        m.pay(&with_krw(auto_debit("CX-3"), 40_000)).await.code(),
        "USER_BALANCE_NOT_ENOUGH"
    );
    assert_eq!(m.cancel("CX-3").await.code(), "SUCCESS");
    assert_eq!(
        m.inquire("CX-3").await.body["paymentResult"]["resultCode"],
        "ORDER_IS_CLOSED"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn cancel_after_the_window_is_refused(f: Factory) {
    let m = mpp(&f).await;
    assert_eq!(m.pay(&auto_debit("CX-4")).await.code(), "SUCCESS");
    // Paid 2026-11-21 10:00 UTC+8; the window closes 2026-11-22 00:30 UTC+8.
    m.clock.advance(Duration::hours(14) + Duration::minutes(30));
    assert_eq!(m.pay(&auto_debit("CX-5")).await.code(), "SUCCESS");
    m.clock.advance(Duration::seconds(1));
    let c = m.cancel("CX-4").await;
    assert_eq!(
        (c.status_letter(), c.code()),
        ("F", "CANCEL_WINDOW_EXCEED"),
        "{}",
        c.body
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_000);
    // CX-5 was paid after midnight: its window runs to the next night.
    assert_eq!(m.cancel("CX-5").await.code(), "SUCCESS");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

pub async fn repeated_cancels_answer_the_same(f: Factory) {
    let m = mpp(&f).await;
    m.pay(&auto_debit("CX-6")).await;
    for _ in 0..3 {
        assert_eq!(m.cancel("CX-6").await.code(), "SUCCESS");
    }
    // Even after the window: the cancel already happened.
    m.clock.advance(Duration::days(3));
    assert_eq!(m.cancel("CX-6").await.code(), "SUCCESS");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}

pub async fn pay_and_cancel_race_never_ends_paid_and_cancelled(f: Factory) {
    let m = Arc::new(mpp(&f).await);
    for round in 0..100 {
        let id = format!("RACE-{round}");
        let (pm, cm) = (m.clone(), m.clone());
        let (pid, cid) = (id.clone(), id.clone());
        let pay = tokio::spawn(async move { pm.pay(&auto_debit(&pid)).await });
        let cancel = tokio::spawn(async move { cm.cancel(&cid).await });
        let (p, c) = (pay.await.unwrap(), cancel.await.unwrap());
        assert_eq!(c.code(), "SUCCESS", "{}", c.body);
        assert!(
            matches!(p.code(), "SUCCESS" | "ORDER_IS_CLOSED"),
            "{}",
            p.body
        );
        // Whatever the order, the end state is cancelled with nothing taken.
        assert_eq!(
            m.inquire(&id).await.body["paymentResult"]["resultCode"],
            "ORDER_IS_CLOSED"
        );
        assert_eq!(
            m.balance(CUSTOMER, "KRW").await,
            30_000,
            "round {round}: {}",
            p.body
        );
    }
    m.assert_ledger_balances().await;
}

pub async fn partial_refunds_up_to_the_payment(f: Factory) {
    let m = mpp(&f).await;
    let paid = m.pay(&with_krw(auto_debit("RF-1"), 10_000)).await;
    assert_eq!(paid.code(), "SUCCESS");
    let r1 = m.refund(&refund_body("RF-1", "RF-1-a", 4_000)).await;
    assert_eq!(r1.code(), "SUCCESS", "{}", r1.body);
    assert!(r1.body["refundId"].is_string() && r1.body["refundTime"].is_string());
    assert_eq!(
        m.refund(&refund_body("RF-1", "RF-1-b", 5_000)).await.code(),
        "SUCCESS"
    );
    let r3 = m.refund(&refund_body("RF-1", "RF-1-c", 2_000)).await;
    assert_eq!(
        (r3.status_letter(), r3.code()),
        ("F", "REFUND_AMOUNT_EXCEED")
    );
    assert_eq!(
        m.refund(&refund_body("RF-1", "RF-1-d", 1_000)).await.code(),
        "SUCCESS"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}

pub async fn refund_repeats_and_inconsistent_repeats(f: Factory) {
    let m = mpp(&f).await;
    m.pay(&with_krw(auto_debit("RF-2"), 10_000)).await;
    let first = m.refund(&refund_body("RF-2", "RF-2-a", 3_000)).await;
    let again = m.refund(&refund_body("RF-2", "RF-2-a", 3_000)).await;
    assert_eq!(first.body, again.body);
    assert_eq!(
        m.refund(&refund_body("RF-2", "RF-2-a", 4_000)).await.code(),
        "REPEAT_REQ_INCONSISTENT"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 23_000);
    m.assert_ledger_balances().await;
}

pub async fn refund_of_what_cannot_be_refunded(f: Factory) {
    let m = mpp(&f).await;
    assert_eq!(
        m.refund(&refund_body("RF-NONE", "RF-x", 1_000))
            .await
            .code(),
        "ORDER_NOT_EXIST"
    );
    m.pay(&with_krw(auto_debit("RF-3"), 40_000)).await; // declined
    assert_eq!(
        m.refund(&refund_body("RF-3", "RF-3-a", 1_000)).await.code(),
        "ORDER_STATUS_INVALID"
    );
    m.pay(&auto_debit("RF-4")).await;
    m.cancel("RF-4").await;
    assert_eq!(
        m.refund(&refund_body("RF-4", "RF-4-a", 1_000)).await.code(),
        "ORDER_STATUS_INVALID"
    );
    m.pay(&auto_debit("RF-5")).await;
    let mut usd = refund_body("RF-5", "RF-5-a", 1_000);
    usd["refundFromAmount"] = json!({"currency": "USD", "value": "6700"});
    usd["refundQuote"] =
        json!({"quoteId": "q", "quoteCurrencyPair": "JPY/USD", "quotePrice": "0.67"});
    assert_eq!(m.refund(&usd).await.code(), "PARAM_ILLEGAL");
    let mut bad_quote = refund_body("RF-5", "RF-5-c", 1_000);
    bad_quote["refundFromAmount"]["value"] = json!("1200");
    assert_eq!(m.refund(&bad_quote).await.code(), "PARAM_ILLEGAL");
    let mut other_payment = refund_body("RF-5", "RF-5-b", 1_000);
    other_payment["paymentId"] = json!("not-this-payment");
    assert_eq!(m.refund(&other_payment).await.code(), "PARAM_ILLEGAL");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

pub async fn concurrent_refunds_never_exceed_the_payment(f: Factory) {
    let m = Arc::new(mpp(&f).await);
    m.pay(&with_krw(auto_debit("RF-6"), 10_000)).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            m.refund(&refund_body("RF-6", &format!("RF-6-{i}"), 3_000))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let a = t.await.unwrap();
        match a.code() {
            "SUCCESS" => ok += 1,
            "REFUND_AMOUNT_EXCEED" | "UNKNOWN_EXCEPTION" => {}
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(ok, 3, "3 × 3000 fit in 10000, a fourth does not");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}
