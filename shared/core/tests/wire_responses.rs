//! What we send passes our own validator: responses built in code serialize into the Alipay+
//! form (strings only, absent optionals left out) and parse back to the same value.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::payments::*;
use mpp_core::result_code::{ResultCode, ResultStatus};
use mpp_core::wire::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn krw(v: u64) -> Amount {
    Amount {
        currency: Currency::from_code("KRW").unwrap(),
        value: MinorUnit(v),
    }
}

fn back<T: Serialize + DeserializeOwned + Validate + PartialEq + std::fmt::Debug>(v: &T) -> Value {
    let body = to_body(v);
    let parsed: T = parse_request(&body).unwrap_or_else(|e| panic!("our own body refused: {e}"));
    assert_eq!(&parsed, v);
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn a_pay_response_with_every_field_round_trips() {
    let resp = PayResponse {
        result: ResultCode::Success.into(),
        payment_id: Some(Text::new("201000000000000000000000004444").unwrap()),
        payment_time: Some(ts("2020-01-01T12:01:01+08:30")),
        customer_id: Some(Text::new("2160000000000001").unwrap()),
        pass_through_info: Some(Text::new("語".repeat(20000)).unwrap()),
        guide_url: Some(Text::new("https://wallet.example/kyc").unwrap()),
    };
    let v = back(&resp);
    assert_eq!(
        v["result"],
        json!({"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"})
    );
    assert_eq!(v["paymentTime"], json!("2020-01-01T12:01:01+08:30"));
}

#[test]
fn every_result_code_makes_a_valid_result_only_response() {
    for &code in ResultCode::ALL {
        let v = back(&PayResponse::result_only(code.into()));
        assert_eq!(
            v.as_object().unwrap().len(),
            1,
            "absent optionals are left out"
        );
        assert_eq!(v["result"]["resultCode"], json!(code.code()));
        assert_eq!(v["result"]["resultStatus"], json!(code.status().as_str()));
        let obj = ResultObject::from(code);
        assert_eq!(obj.code(), Some(code));
        back(&CancelPaymentResponse {
            result: obj.clone(),
        });
        back(&NotifyPaymentResponse {
            result: obj.clone(),
        });
        back(&RefundResponse {
            result: obj,
            refund_id: None,
            refund_time: None,
        });
    }
}

#[test]
fn other_responses_round_trip() {
    let at = Timestamp::from_datetime(
        Utc.with_ymd_and_hms(2020, 1, 1, 3, 31, 1)
            .unwrap()
            .with_timezone(&mpp_core::clock::business_tz()),
    );
    assert_eq!(at.as_str(), "2020-01-01T11:31:01+08:00");
    let inquiry = InquiryPaymentResponse {
        result: ResultCode::Success.into(),
        payment_result: Some(ResultCode::OrderIsClosed.into()),
        payment_request_id: Some(Text::new("2010000000000000000000000007771").unwrap()),
        payment_id: Some(Text::new("p1").unwrap()),
        payment_time: Some(at.clone()),
        payment_amount: Some(Amount::from_money(Money {
            currency: Currency::from_code("JPY").unwrap(),
            value: MinorUnit(100),
        })),
        pay_to_amount: Some(krw(1000)),
        customer_id: Some(Text::new("2160000000000001").unwrap()),
        order_lifecycle_id: Some(Text::new("2010000000000000000000000007772").unwrap()),
    };
    let v = back(&inquiry);
    assert_eq!(v["orderLifecycleId"], "2010000000000000000000000007772");
    assert_eq!(
        v["payToAmount"],
        json!({"currency": "KRW", "value": "1000"})
    );
    assert_eq!(v["paymentResult"]["resultStatus"], json!("F"));
    back(&RefundResponse {
        result: ResultCode::Success.into(),
        refund_id: Some(Text::new("r1").unwrap()),
        refund_time: Some(at.clone()),
    });
    let notify = NotifyPaymentRequest {
        payment_result: ResultCode::Success.into(),
        payment_request_id: Text::new("2010000000000000000000000007771").unwrap(),
        payment_id: Some(Text::new("p1").unwrap()),
        payment_time: Some(at),
        payment_amount: krw(1000),
        pay_to_amount: Some(krw(1000)),
        customer_id: None,
    };
    back(&notify);
}

#[test]
fn our_serialized_notify_with_status_u_is_refused_by_our_validator() {
    let notify = NotifyPaymentRequest {
        payment_result: ResultCode::PaymentInProcess.into(),
        payment_request_id: Text::new("r").unwrap(),
        payment_id: None,
        payment_time: None,
        payment_amount: krw(1),
        pay_to_amount: None,
        customer_id: None,
    };
    let e = parse_request::<NotifyPaymentRequest>(&to_body(&notify)).unwrap_err();
    assert_eq!(e.field, "paymentResult.resultStatus");
}

#[test]
fn a_failing_serializer_falls_back_to_unknown_exception() {
    struct Broken;
    impl Serialize for Broken {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("broken"))
        }
    }
    let resp: PayResponse = parse_request(&to_body(&Broken)).unwrap();
    assert_eq!(resp.result.code(), Some(ResultCode::UnknownException));
    assert_eq!(resp.result.result_status, ResultStatus::U);
}

#[test]
fn scalars_behave() {
    assert_eq!(Text::<3>::new("語語語").unwrap().as_str(), "語語語");
    assert!(Text::<3>::new("語語語語").is_err());
    assert!(Text::<3>::new("").is_err());
    assert_eq!(Text::<5>::new("abc").unwrap().to_string(), "abc");
    assert!(is_true(Some(Flag::new(true))));
    assert!(!is_true(Some(Flag::new(false))));
    assert!(!is_true(None));
    let t = ts("2019-11-27T12:01:01+08:00");
    assert_eq!(
        t.utc(),
        DateTime::parse_from_rfc3339("2019-11-27T04:01:01Z")
            .unwrap()
            .with_timezone(&Utc)
    );
    assert_eq!(t.at().offset().local_minus_utc(), 8 * 3600);
    assert_eq!(
        serde_json::to_value(&t).unwrap(),
        json!("2019-11-27T12:01:01+08:00")
    );
    assert!(Timestamp::parse("2019-11-27T12:01:01").is_err());
    assert_eq!(Region::parse("KR").unwrap().as_str(), "KR");
    let c: CurrencyCode = serde_json::from_value(json!("KWD")).unwrap();
    assert_eq!(c.currency().minor_digits(), 3);
    let a: Amount = serde_json::from_value(json!({"currency": "USD", "value": "100"})).unwrap();
    assert_eq!(a.money().to_string(), "100 USD");
    assert_eq!(Amount::from_money(a.money()), a);
    assert_eq!(
        PaymentMethodType::new("KAKAOPAY").unwrap().sample(),
        Some(SampleWallet::KakaoPay)
    );
    assert_eq!(SampleWallet::ALL.len(), 10);
    // "Sample values include": an open set, 1 to 32 characters.
    let other: PaymentMethodType = serde_json::from_value(json!("NEW_WALLET_2027")).unwrap();
    assert_eq!((other.as_str(), other.sample()), ("NEW_WALLET_2027", None));
    assert!(serde_json::from_value::<PaymentMethodType>(json!("")).is_err());
    assert!(serde_json::from_value::<PaymentMethodType>(json!("X".repeat(33))).is_err());
    assert!(serde_json::from_value::<PaymentMethodType>(json!("X".repeat(32))).is_ok());
    for w in SampleWallet::ALL {
        assert_eq!(PaymentMethodType::from(*w).as_str(), w.as_str());
    }
    let e = ParamIllegal::new("order.orderAmount.value", "must be a natural number");
    assert_eq!(
        e.to_string(),
        "`order.orderAmount.value`: must be a natural number"
    );
}

#[test]
fn debug_output_hides_payment_credentials() {
    let body = std::fs::read(format!(
        "{}/tests/fixtures/pay_auto_debit_request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let req: PayRequest = parse_request(&body).unwrap();
    let dbg = format!("{req:?}");
    assert!(!dbg.contains("JWDQ"), "the access token leaked into Debug");
    let body = std::fs::read(format!(
        "{}/tests/fixtures/pay_nfc_request.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let dbg = format!("{:?}", parse_request::<PayRequest>(&body).unwrap());
    assert!(
        !dbg.contains("2160000000000001") && !dbg.contains("0000008c21c727f2be19"),
        "{dbg}"
    );
}
