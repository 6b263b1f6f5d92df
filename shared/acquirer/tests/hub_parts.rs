//! The hub's pure parts: fault specs, routes, the rate arithmetic (checked against the MPP's
//! own quote rule), and the acquirer pay → MPP pay translation.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration as ChronoDuration;
use mpp_acquirer::hub::faults::{Fault, FaultApi, FaultKind, Faults};
use mpp_acquirer::hub::quote::{convert, ConvertError, Rate};
use mpp_acquirer::hub::translate::{to_mpp_pay, Additions};
use mpp_acquirer::hub::Route;
use mpp_core::money::{Currency, MinorUnit};
use mpp_core::payments::quote::converts;
use mpp_core::result_code::ResultCode;
use mpp_core::wire::acquirer::AcqPayRequest;
use mpp_core::wire::{parse_request, Amount, InStorePaymentScenario};
use std::time::Duration;

fn c(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

fn amount(code: &str, v: u64) -> Amount {
    Amount {
        currency: c(code),
        value: MinorUnit(v),
    }
}

#[test]
fn faults_parse_print_and_count_down() {
    for spec in [
        "pay=drop",
        "pay=delay:1500",
        "pay=u:UNKNOWN_EXCEPTION*2",
        "pay=slow:800",
        "inquiry=u:PAYMENT_IN_PROCESS",
        "cancel=u:UNKNOWN_EXCEPTION*1",
        "notify=drop",
    ] {
        let f: Fault = spec.parse().unwrap();
        assert_eq!(f.to_string(), spec);
    }
    assert_eq!(
        "pay=u".parse::<Fault>().unwrap().kind,
        FaultKind::AnswerU(ResultCode::UnknownException)
    );
    for bad in [
        "pay",
        "refund=drop",
        "pay=explode",
        "pay=u:SUCCESS",
        "pay=u:PROCESS_FAIL",
        "inquiry=slow:5",
        "pay=delay",
        "pay=delay:x",
        "pay=delay:999999",
        "pay=drop*0",
        "pay=drop*x",
    ] {
        assert!(bad.parse::<Fault>().is_err(), "{bad} parsed");
    }
    let faults = Faults::new();
    faults.set("pay=drop*2".parse().unwrap());
    faults.set("inquiry=u:PAYMENT_IN_PROCESS".parse().unwrap());
    assert_eq!(faults.take(FaultApi::Pay), Some(FaultKind::Drop));
    assert_eq!(faults.take(FaultApi::Pay), Some(FaultKind::Drop));
    assert_eq!(faults.take(FaultApi::Pay), None);
    for _ in 0..5 {
        assert_eq!(
            faults.take(FaultApi::Inquiry),
            Some(FaultKind::AnswerU(ResultCode::PaymentInProcess))
        );
    }
    assert_eq!(faults.take(FaultApi::Cancel), None);
    faults.clear();
    assert!(faults.list().is_empty());
    assert_eq!(faults.take(FaultApi::Inquiry), None);
    let _ = Duration::ZERO;
}

#[test]
fn routes_parse() {
    let r: Route = "28=http://127.0.0.1:8080/".parse().unwrap();
    assert_eq!(
        (r.prefix.as_str(), r.url.as_str()),
        ("28", "http://127.0.0.1:8080")
    );
    for bad in [
        "28",
        "x=http://a",
        "=http://a",
        "28=ftp://a",
        "28=not a url",
    ] {
        assert!(bad.parse::<Route>().is_err(), "{bad}");
    }
}

#[test]
fn conversions_are_what_the_mpp_accepts() {
    let rates: Vec<Rate> = ["JPY/KRW=10", "USD/KRW=1350.5", "KRW/EUR=0.00068"]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    // Same currency: no quote.
    assert_eq!(convert(amount("KRW", 1000), c("KRW"), &rates), Ok(None));
    let cases = [
        (amount("JPY", 100), "KRW", 1000), // the seed sample: 100 JPY at 10
        (amount("USD", 100), "KRW", 1351), // 1.00 USD at 1350.5 → 1350.5, half up
        (amount("USD", 1), "KRW", 14),     // 0.01 USD → 13.505 KRW
        (amount("EUR", 100), "KRW", 1471), // reversed pair: 1.00 EUR / 0.00068 = 1470.59
    ];
    for (from, to, expected) in cases {
        let (to_amount, quote) = convert(from, c(to), &rates).unwrap().unwrap();
        assert_eq!(to_amount.value, MinorUnit(expected), "{from:?}");
        assert_eq!(
            converts(&from, &to_amount, &quote),
            Some(true),
            "MPP refuses {from:?} → {to_amount:?}"
        );
    }
    assert_eq!(
        convert(amount("GBP", 100), c("KRW"), &rates),
        Err(ConvertError::NoRate {
            from: c("GBP"),
            to: c("KRW")
        })
    );
    // 0.01 USD in KRW at 0.001 rounds to nothing payable.
    let tiny: Vec<Rate> = vec!["USD/KRW=0.001".parse().unwrap()];
    assert!(matches!(
        convert(amount("USD", 1), c("KRW"), &tiny),
        Err(ConvertError::OutOfRange(_))
    ));
    assert!("JPY/KRW=0".parse::<Rate>().is_err());
    assert!("JPY-KRW=1".parse::<Rate>().is_err());
}

#[test]
fn the_acquirer_pay_becomes_a_valid_mpp_pay() {
    let acq: AcqPayRequest = parse_request(common::SEED_PAY.as_bytes()).unwrap();
    let rates = vec!["JPY/KRW=10".parse::<Rate>().unwrap()];
    let expires_at = common::t0() + ChronoDuration::seconds(60);
    let add = Additions {
        mpp_payment_request_id: "20261121100000abc",
        acquirer_id: "1022188000000000001",
        psp_id: "1022172000000000001",
        mpp_currency: c("KRW"),
        rates: &rates,
        notify_url: "http://127.0.0.1:9/aps/api/v1/payments/notifyPayment",
        expires_at,
        customer_id: None,
    };
    let pay = to_mpp_pay(&acq, &add).unwrap();
    assert_eq!(pay.payment_request_id.as_str(), "20261121100000abc");
    assert_eq!(pay.acquirer_id.as_str(), "1022188000000000001");
    assert_eq!(pay.psp_id.as_str(), "1022172000000000001");
    assert_eq!(pay.payment_amount, amount("JPY", 100));
    assert_eq!(pay.pay_to_amount, amount("KRW", 1000));
    assert_eq!(
        pay.payment_quote.as_ref().unwrap().quote_price.as_str(),
        "10"
    );
    assert_eq!(pay.payment_method, acq.payment_method);
    assert_eq!(
        pay.payment_factor.in_store_payment_scenario,
        Some(InStorePaymentScenario::PaymentCode)
    );
    assert_eq!(pay.payment_notify_url.unwrap().as_str(), add.notify_url);
    assert_eq!(
        pay.payment_expiry_time.unwrap().as_str(),
        "2026-11-21T10:01:00+08:00"
    );
    assert_eq!(pay.order.merchant.store.unwrap().store_mcc.as_str(), "1405");
    // The terminal's fields stay with Alipay+; nothing of the user's device was given.
    assert!(pay.order.env.is_none());

    let mut no_address = acq.clone();
    no_address.order.merchant.merchant_address = None;
    let e = to_mpp_pay(&no_address, &add).unwrap_err();
    assert_eq!(e.code, ResultCode::ParamIllegal);
    assert!(e.message.contains("merchantAddress"));

    let no_rate = Additions { rates: &[], ..add };
    assert_eq!(
        to_mpp_pay(&acq, &no_rate).unwrap_err().code,
        ResultCode::CurrencyNotSupport
    );
}
