//! The seed page's `paymentExpiryTime` table, row by row, and the expiry a sale goes out with.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use mpp_acquirer::expiry::{final_expiry, to_wire_second, ExpiryError, ALIPAY_ORDER_LIFE};
use mpp_acquirer::NoSteps;
use mpp_core::wire::{acquirer::AcqPayRequest, parse_request};

#[test]
fn absent_means_one_minute_after_the_order() {
    let placed = common::t0();
    assert_eq!(
        final_expiry(placed, None, ALIPAY_ORDER_LIFE),
        Ok(placed + Duration::minutes(1))
    );
}

#[test]
fn exactly_one_minute_is_one_minute() {
    let placed = common::t0();
    let one = placed + Duration::minutes(1);
    assert_eq!(final_expiry(placed, Some(one), ALIPAY_ORDER_LIFE), Ok(one));
}

#[test]
fn more_than_one_minute_is_capped_at_one_minute() {
    let placed = common::t0();
    for later in [
        Duration::seconds(61),
        Duration::minutes(5),
        Duration::days(1),
    ] {
        assert_eq!(
            final_expiry(placed, Some(placed + later), ALIPAY_ORDER_LIFE),
            Ok(placed + Duration::minutes(1)),
            "{later}"
        );
    }
}

#[test]
fn less_than_one_minute_is_taken_as_given() {
    let placed = common::t0();
    for sooner in [
        Duration::milliseconds(1),
        Duration::seconds(3),
        Duration::seconds(59),
    ] {
        assert_eq!(
            final_expiry(placed, Some(placed + sooner), ALIPAY_ORDER_LIFE),
            Ok(placed + sooner)
        );
    }
}

#[test]
fn an_expiry_not_after_the_order_is_refused() {
    let placed = common::t0();
    for at in [placed, placed - Duration::seconds(1)] {
        assert_eq!(
            final_expiry(placed, Some(at), ALIPAY_ORDER_LIFE),
            Err(ExpiryError::NotAfterOrder {
                requested: at,
                placed
            })
        );
    }
}

#[test]
fn wire_seconds_truncate_never_round_up() {
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 59).unwrap() + Duration::milliseconds(999);
    assert_eq!(
        to_wire_second(at),
        Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 59).unwrap()
    );
}

#[tokio::test]
async fn the_sale_carries_the_final_expiry_in_utc_plus_8() {
    // Asked for 5 minutes: 1 minute goes out.
    let rig = common::rig(Default::default(), |g| {
        g.pay_fallback = common::pay(mpp_core::result_code::ResultCode::Success)
    });
    let mut sale = common::sale();
    sale.expiry = Some(common::t0() + Duration::minutes(5));
    let order = rig.acquirer.pay(&sale, &NoSteps).await.unwrap();
    assert_eq!(order.expires_at, common::t0() + Duration::minutes(1));
    let sent: AcqPayRequest = parse_request(&rig.gateway.calls("pay")[0].body).unwrap();
    assert_eq!(
        sent.payment_expiry_time.unwrap().as_str(),
        "2026-11-21T10:01:00+08:00"
    );

    // Asked for 20 s: 20 s goes out.
    let rig = common::rig(Default::default(), |g| {
        g.pay_fallback = common::pay(mpp_core::result_code::ResultCode::Success)
    });
    let mut sale = common::sale();
    sale.expiry = Some(common::t0() + Duration::seconds(20));
    let order = rig.acquirer.pay(&sale, &NoSteps).await.unwrap();
    assert_eq!(order.expires_at, common::t0() + Duration::seconds(20));
    let sent: AcqPayRequest = parse_request(&rig.gateway.calls("pay")[0].body).unwrap();
    assert_eq!(
        sent.payment_expiry_time.unwrap().as_str(),
        "2026-11-21T10:00:20+08:00"
    );
}

#[tokio::test]
async fn an_expiry_in_the_past_sends_nothing() {
    let rig = common::rig(Default::default(), |_| {});
    let mut sale = common::sale();
    sale.expiry = Some(common::t0() - Duration::seconds(1));
    assert!(rig.acquirer.pay(&sale, &NoSteps).await.is_err());
    assert!(rig.gateway.calls.lock().unwrap().is_empty());
}
