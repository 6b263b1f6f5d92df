//! Table-driven rule tests: start from a valid request, break one field, and check that the
//! answer is a `ParamIllegal` naming exactly that field's JSON path.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpp_core::payments::*;
use mpp_core::wire::acquirer::AcqPayRequest;
use mpp_core::wire::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The request with every field of the pay page present.
fn full() -> Value {
    fixture("pay_all_fields_request.json")
}

/// Splits `a.b[0].c` into keys and indices.
fn segments(path: &str) -> Vec<Result<String, usize>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut pieces = part.split('[');
        let key = pieces.next().unwrap();
        if !key.is_empty() {
            out.push(Ok(key.to_string()));
        }
        for idx in pieces {
            out.push(Err(idx.trim_end_matches(']').parse().unwrap()));
        }
    }
    out
}

fn at<'v>(v: &'v mut Value, path: &str) -> &'v mut Value {
    let mut cur = v;
    for seg in segments(path) {
        cur = match seg {
            Ok(k) => {
                let obj = cur
                    .as_object_mut()
                    .unwrap_or_else(|| panic!("{path}: not an object"));
                obj.entry(k).or_insert(Value::Null)
            }
            Err(i) => &mut cur[i],
        };
    }
    cur
}

fn set(mut v: Value, path: &str, new: Value) -> Value {
    *at(&mut v, path) = new;
    v
}

fn remove(mut v: Value, path: &str) -> Value {
    let (parent, key) = path.rsplit_once('.').map_or(("", path), |(p, k)| (p, k));
    let obj = if parent.is_empty() {
        &mut v
    } else {
        at(&mut v, parent)
    };
    assert!(
        obj.as_object_mut().unwrap().remove(key).is_some(),
        "{path} was not there"
    );
    v
}

fn parse<T: DeserializeOwned + Validate>(v: &Value) -> Result<T, ParamIllegal> {
    parse_request::<T>(&serde_json::to_vec(v).unwrap())
}

#[track_caller]
fn fails_as<T: DeserializeOwned + Validate>(v: &Value, field: &str) -> ParamIllegal {
    match parse::<T>(v) {
        Ok(_) => panic!("expected `{field}` to be refused, but the request parsed"),
        Err(e) => {
            assert_eq!(e.field, field, "wrong field; rule was: {}", e.rule);
            assert!(!e.rule.is_empty());
            e
        }
    }
}

#[track_caller]
fn fails(v: &Value, field: &str) -> ParamIllegal {
    fails_as::<PayRequest>(v, field)
}

#[track_caller]
fn passes(v: &Value) -> PayRequest {
    parse::<PayRequest>(v).unwrap_or_else(|e| panic!("expected Ok, got {e}"))
}

/// Every string leaf of a value, by path.
fn string_leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                string_leaves(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                string_leaves(x, format!("{path}[{i}]"), out);
            }
        }
        Value::String(_) => out.push(path),
        _ => {}
    }
}

fn all_leaves() -> Vec<String> {
    let mut leaves = Vec::new();
    string_leaves(&full(), String::new(), &mut leaves);
    assert!(leaves.len() > 90, "{}", leaves.len());
    leaves
}

#[test]
fn the_full_request_is_valid() {
    let req = passes(&full());
    assert_eq!(req.order.goods.as_ref().unwrap().len(), 1);
}

#[test]
fn every_scalar_must_be_a_string_not_a_number() {
    for leaf in all_leaves() {
        let e = fails(&set(full(), &leaf, json!(5)), &leaf);
        assert!(e.rule.contains("invalid type"), "{leaf}: {}", e.rule);
    }
}

#[test]
fn every_scalar_must_be_a_string_not_a_boolean_or_object() {
    for leaf in all_leaves() {
        fails(&set(full(), &leaf, json!(true)), &leaf);
        fails(&set(full(), &leaf, json!({"a": "b"})), &leaf);
        fails(&set(full(), &leaf, json!(["x"])), &leaf);
    }
}

#[test]
fn no_scalar_may_be_an_empty_string() {
    for leaf in all_leaves() {
        fails(&set(full(), &leaf, json!("")), &leaf);
    }
}

/// Every maximum length the pay page states for a free-text field (characters, not bytes).
const MAX_LENGTHS: &[(&str, usize)] = &[
    ("acquirerId", 64),
    ("pspId", 64),
    ("order.referenceOrderId", 64),
    ("order.orderDescription", 256),
    ("order.merchant.referenceMerchantId", 32),
    ("order.merchant.merchantMCC", 32),
    ("order.merchant.merchantName", 256),
    ("order.merchant.merchantAddress.state", 64),
    ("order.merchant.merchantAddress.city", 64),
    ("order.merchant.merchantAddress.address1", 256),
    ("order.merchant.merchantAddress.address2", 256),
    ("order.merchant.merchantAddress.zipCode", 32),
    ("order.merchant.merchantDisplayName", 64),
    ("order.merchant.store.referenceStoreId", 32),
    ("order.merchant.store.storeName", 256),
    ("order.merchant.store.storeMCC", 32),
    ("order.merchant.store.storeDisplayName", 64),
    ("order.merchant.store.storeTerminalId", 64),
    ("order.merchant.store.storeAddress.city", 64),
    ("order.goods[0].referenceGoodsId", 64),
    ("order.goods[0].goodsName", 256),
    ("order.goods[0].goodsCategory", 256),
    ("order.shipping.shippingName.firstName", 32),
    ("order.shipping.shippingName.middleName", 32),
    ("order.shipping.shippingName.lastName", 32),
    ("order.shipping.shippingName.fullName", 128),
    ("order.shipping.shippingAddress.state", 64),
    ("order.shipping.shippingAddress.address1", 256),
    ("order.shipping.shippingAddress.zipCode", 32),
    ("order.shipping.shippingCarrier", 128),
    ("order.shipping.shippingPhoneNo", 16),
    ("order.buyer.referenceBuyerId", 64),
    ("order.buyer.buyerName.firstName", 32),
    ("order.buyer.buyerName.middleName", 32),
    ("order.buyer.buyerName.lastName", 32),
    ("order.buyer.buyerName.fullName", 128),
    ("order.buyer.buyerPhoneNo", 24),
    ("order.buyer.buyerEmail", 64),
    ("order.env.deviceTokenId", 64),
    ("order.env.clientIp", 64),
    ("order.env.cookieId", 64),
    ("order.env.userAgent", 1024),
    ("paymentRequestId", 64),
    ("paymentQuote.quoteId", 64),
    ("surchargeInfo.surchargeQuote.quoteId", 64),
    ("paymentMethod.customerId", 64),
    ("paymentMethod.customData", 20),
    ("paymentMethod.paymentMethodMetaData.authClientId", 64),
    ("paymentNotifyUrl", 2048),
    ("orderLifecycleId", 64),
    ("paymentPromoInfo.paymentPromoDetails[0].promoId", 128),
    ("paymentPromoInfo.paymentPromoDetails[0].promoName", 128),
    ("paymentNetworkAdditionalInfo.paymentNetworkLifecycleId", 64),
    ("paymentNetworkAdditionalInfo.paymentNetworkOrderId", 64),
    ("passThroughInfo", 20000),
];

#[test]
fn every_max_length_is_enforced_in_characters() {
    for &(path, max) in MAX_LENGTHS {
        // Three-byte characters: the limit counts characters, so `max` of them is fine.
        passes(&set(full(), path, json!("語".repeat(max))));
        passes(&set(full(), path, json!("a".repeat(max))));
        let e = fails(&set(full(), path, json!("a".repeat(max + 1))), path);
        assert!(
            e.rule.contains(&format!("at most {max} characters")),
            "{path}: {}",
            e.rule
        );
    }
}

#[test]
fn quote_unit_is_a_positive_amount_of_at_most_12_characters() {
    // "The amount in the base currency" the price is for (issue 14, point 2).
    for path in [
        "paymentQuote.quoteUnit",
        "surchargeInfo.surchargeQuote.quoteUnit",
    ] {
        for ok in ["1", "100", "10000", "0.5", "999999999999"] {
            passes(&set(full(), path, json!(ok)));
        }
        let e = fails(&set(full(), path, json!("1000000000000")), path);
        assert!(
            e.rule.contains("at most 12 characters"),
            "{path}: {}",
            e.rule
        );
        for bad in ["0", "0.0", "abc", "-1", "1e2", "01", "1.", "語"] {
            let e = fails(&set(full(), path, json!(bad)), path);
            assert!(
                e.rule.contains("positive") || e.rule.contains("at most"),
                "{path} {bad}: {}",
                e.rule
            );
        }
    }
}

#[test]
fn payer_field_lengths_are_enforced() {
    // paymentMethodId (our 128) and userLoginId (128), each as the only payer.
    let by_id = |s: String| {
        let v = remove(full(), "paymentMethod.customerId");
        set(v, "paymentMethod.paymentMethodId", json!(s))
    };
    passes(&by_id("x".repeat(128)));
    fails(&by_id("x".repeat(129)), "paymentMethod.paymentMethodId");
    let by_login = |s: String| {
        let v = remove(full(), "paymentMethod.customerId");
        let v = set(
            v,
            "paymentMethod.paymentMethodMetaData.userLoginIdType",
            json!("EMAIL"),
        );
        set(
            v,
            "paymentMethod.paymentMethodMetaData.userLoginId",
            json!(s),
        )
    };
    passes(&by_login("x".repeat(128)));
    fails(
        &by_login("x".repeat(129)),
        "paymentMethod.paymentMethodMetaData.userLoginId",
    );
}

const AMOUNT_VALUES: &[&str] = &[
    "order.orderAmount.value",
    "order.goods[0].goodsUnitAmount.value",
    "paymentAmount.value",
    "payToAmount.value",
    "surchargeInfo.surchargeAmount.value",
    "paymentPromoInfo.paymentPromoDetails[0].savingsAmount.value",
];

#[test]
fn amounts_are_natural_numbers_in_strings() {
    for path in AMOUNT_VALUES {
        for bad in [
            "0",
            "0100",
            "-1",
            "+1",
            "1.5",
            "1.0",
            "1e3",
            " 1",
            "1 ",
            "18446744073709551616",
            "x",
        ] {
            fails(&set(full(), path, json!(bad)), path);
        }
        fails(&set(full(), path, json!(100)), path);
        passes(&set(full(), path, json!("1")));
        passes(&set(full(), path, json!("18446744073709551615")));
    }
    fails(
        &set(full(), "order.goods[0].goodsQuantity", json!("0")),
        "order.goods[0].goodsQuantity",
    );
    fails(
        &set(full(), "order.goods[0].goodsQuantity", json!("01")),
        "order.goods[0].goodsQuantity",
    );
}

#[test]
fn currencies_come_from_the_iso_4217_table() {
    for path in [
        "order.orderAmount.currency",
        "order.goods[0].goodsUnitAmount.currency",
        "paymentAmount.currency",
        "payToAmount.currency",
        "surchargeInfo.surchargeAmount.currency",
        "paymentPromoInfo.paymentPromoDetails[0].savingsAmount.currency",
        "paymentQuote.baseCurrency",
    ] {
        for bad in ["jpy", "Jpy", "XYZ", "JP", "JPYY", " JPY", "123"] {
            fails(&set(full(), path, json!(bad)), path);
        }
    }
    passes(&set(full(), "order.orderAmount.currency", json!("USD")));
}

#[test]
fn regions_come_from_the_iso_3166_table() {
    for path in [
        "order.merchant.merchantAddress.region",
        "order.merchant.store.storeAddress.region",
        "order.shipping.shippingAddress.region",
    ] {
        for bad in ["XX", "jp", "JPN", "J", "ZZ", "1A"] {
            fails(&set(full(), path, json!(bad)), path);
        }
        passes(&set(full(), path, json!("US")));
    }
}

#[test]
fn datetimes_need_iso_8601_with_an_offset() {
    for path in [
        "paymentExpiryTime",
        "order.merchant.merchantRegisterDate",
        "paymentQuote.quoteStartTime",
        "paymentQuote.quoteExpiryTime",
    ] {
        for bad in [
            "2020-01-01T12:01:01",
            "2020-01-01",
            "garbage",
            "2020-13-01T00:00:00+08:00",
            "2020-01-01T25:00:00+08:00",
            "1577851261",
            "2020-01-01T12:01:01+0800x",
        ] {
            fails(&set(full(), path, json!(bad)), path);
        }
    }
    let v = set(
        full(),
        "paymentExpiryTime",
        json!("2025-02-20T08:51:49.09Z"),
    );
    assert_eq!(
        passes(&v).payment_expiry_time.unwrap().as_str(),
        "2025-02-20T08:51:49.09Z"
    );
}

const FLAGS: &[&str] = &[
    "paymentFactor.isInStorePayment",
    "paymentFactor.needSurcharge",
    "paymentFactor.isCashierPayment",
    "paymentFactor.isSupplementalPayment",
    "paymentFactor.isTransitDebtRecovery",
    "paymentFactor.isDomestic",
    "paymentFactor.isAgreementPayment",
    "paymentFactor.isPaymentEvaluation",
];

#[test]
fn booleans_are_exactly_true_or_false_strings() {
    for path in FLAGS {
        for bad in ["True", "TRUE", "1", "0", "yes", "t", " true"] {
            fails(&set(full(), path, json!(bad)), path);
        }
        fails(&set(full(), path, json!(true)), path);
    }
}

#[test]
fn payment_method_type_is_an_open_set_of_1_to_32_characters() {
    // "Sample values include": unknown wallets are processed normally (point 3 of issue 14).
    let path = "paymentMethod.paymentMethodType";
    for ok in [
        "CONNECT_WALLET",
        "KAKAOPAY",
        "ALIPAY",
        "connect_wallet",
        "NEW_WALLET",
        "W",
    ] {
        let req = passes(&set(full(), path, json!(ok)));
        assert_eq!(req.payment_method.payment_method_type.as_str(), ok);
    }
    passes(&set(full(), path, json!("X".repeat(32))));
    fails(&set(full(), path, json!("X".repeat(33))), path);
    fails(&set(full(), path, json!("")), path);
    fails(&set(full(), path, json!(7)), path);
}

#[test]
fn enums_accept_only_the_listed_values() {
    let cases: &[(&str, &str, &str)] = &[
        ("paymentFactor.inStorePaymentScenario", "NFC", "PaymentCode"),
        (
            "paymentFactor.inStorePaymentScenario",
            "nfcPayment",
            "EntryCode",
        ),
        (
            "paymentFactor.authorizationType",
            "FINAL",
            "PRE_AUTHORIZATION",
        ),
        ("order.env.terminalType", "PC", "WEB"),
        ("order.env.osType", "ios", "IOS"),
        (
            "paymentPromoInfo.paymentPromoDetails[0].promoType",
            "VOUCHER",
            "INSTANT_DISCOUNT",
        ),
        (
            "paymentNetworkAdditionalInfo.orderSource",
            "POS",
            "ECOMMERCE",
        ),
        (
            "paymentNetworkAdditionalInfo.paymentNetworkType",
            "VISA",
            "MASTER_CARD",
        ),
    ];
    for &(path, bad, good) in cases {
        let e = fails(&set(full(), path, json!(bad)), path);
        assert!(
            e.rule.contains("must be one of") && e.rule.contains(good),
            "{path}: {}",
            e.rule
        );
        passes(&set(full(), path, json!(good)));
    }
    let login = remove(full(), "paymentMethod.customerId");
    let login = set(
        login,
        "paymentMethod.paymentMethodMetaData.userLoginId",
        json!("a@b.c"),
    );
    passes(&set(
        login.clone(),
        "paymentMethod.paymentMethodMetaData.userLoginIdType",
        json!("MOBILE"),
    ));
    fails(
        &set(
            login,
            "paymentMethod.paymentMethodMetaData.userLoginIdType",
            json!("PHONE"),
        ),
        "paymentMethod.paymentMethodMetaData.userLoginIdType",
    );
}

#[test]
fn quote_price_is_a_bounded_decimal() {
    let path = "paymentQuote.quotePrice";
    for good in [
        "10",
        "10.0000",
        "0.5",
        "0",
        "0.000000000000001",
        "1234567890123456.123456789012345",
    ] {
        let req = passes(&set(full(), path, json!(good)));
        assert_eq!(req.payment_quote.unwrap().quote_price.as_str(), good);
    }
    for bad in [
        "1.0000000000000001",
        "-1",
        "+1",
        "1e5",
        "01.5",
        ".5",
        "1.",
        "1,5",
        " 1",
        "NaN",
        "12345678901234567.123456789012345",
    ] {
        fails(&set(full(), path, json!(bad)), path);
    }
    let d = Decimal::parse("10.0250").unwrap();
    assert_eq!((d.mantissa(), d.scale()), (100250, 4));
}

#[test]
fn currency_pairs_are_two_iso_codes() {
    let path = "paymentQuote.quoteCurrencyPair";
    for bad in [
        "JPYKRW", "jpy/krw", "JPY/ABC", "JPY-KRW", "JPY/KRW/", "JPY/KRWW", "/KRW",
    ] {
        fails(&set(full(), path, json!(bad)), path);
    }
    let swapped = set(full(), "paymentQuote.baseCurrency", json!("KRW"));
    let req = passes(&set(swapped, path, json!("KRW/JPY")));
    let pair = req.payment_quote.unwrap().quote_currency_pair;
    assert_eq!((pair.base().code(), pair.quote().code()), ("KRW", "JPY"));
}

#[test]
fn goods_hold_at_most_100_elements() {
    let one = full()["order"]["goods"][0].clone();
    passes(&set(
        full(),
        "order.goods",
        Value::Array(vec![one.clone(); 100]),
    ));
    let e = fails(
        &set(full(), "order.goods", Value::Array(vec![one; 101])),
        "order.goods",
    );
    assert!(e.rule.contains("at most 100"), "{}", e.rule);
    fails(&set(full(), "order.goods", json!({})), "order.goods");
    fails(&set(full(), "order.goods", json!("goods")), "order.goods");
}

#[test]
fn required_fields_must_be_present_and_not_null() {
    for path in [
        "acquirerId",
        "pspId",
        "order",
        "order.referenceOrderId",
        "order.orderDescription",
        "order.orderAmount",
        "order.orderAmount.currency",
        "order.orderAmount.value",
        "order.merchant",
        "order.merchant.referenceMerchantId",
        "order.merchant.merchantMCC",
        "order.merchant.merchantName",
        "order.merchant.merchantAddress",
        "order.merchant.merchantAddress.region",
        "order.merchant.store.referenceStoreId",
        "order.merchant.store.storeName",
        "order.merchant.store.storeMCC",
        "order.merchant.store.storeAddress.region",
        "order.goods[0].referenceGoodsId",
        "order.goods[0].goodsName",
        "order.shipping.shippingName",
        "order.shipping.shippingName.fullName",
        "order.shipping.shippingAddress",
        "order.buyer.buyerName.fullName",
        "paymentRequestId",
        "paymentAmount",
        "paymentAmount.value",
        "payToAmount",
        "payToAmount.currency",
        "paymentQuote.quoteId",
        "paymentQuote.quoteCurrencyPair",
        "paymentQuote.quotePrice",
        "surchargeInfo.surchargeAmount",
        "surchargeInfo.surchargeQuote",
        "paymentMethod",
        "paymentMethod.paymentMethodType",
        "paymentFactor",
        "paymentPromoInfo.paymentPromoDetails[0].promoId",
        "paymentPromoInfo.paymentPromoDetails[0].promoType",
        "paymentPromoInfo.paymentPromoDetails[0].promoName",
        "paymentPromoInfo.paymentPromoDetails[0].savingsAmount",
        "paymentNetworkAdditionalInfo.orderSource",
    ] {
        let e = fails(&remove(full(), path), path);
        assert_eq!(e.rule, "is required", "{path}");
        fails(&set(full(), path, Value::Null), path);
    }
}

#[test]
fn optional_fields_may_be_absent_or_null() {
    let mut v = full();
    // These two are required by cross-field rules in the full request; relax those first.
    v = set(v, "paymentFactor.needSurcharge", json!("false"));
    v = remove(v, "surchargeInfo");
    for path in [
        "order.goods",
        "order.shipping",
        "order.buyer",
        "order.env",
        "order.merchant.merchantDisplayName",
        "order.merchant.merchantRegisterDate",
        "order.merchant.store",
        "order.merchant.merchantAddress.city",
        "order.goods",
        "paymentExpiryTime",
        "paymentNotifyUrl",
        "orderLifecycleId",
        "paymentPromoInfo",
        "paymentNetworkAdditionalInfo",
        "passThroughInfo",
        "paymentMethod.customData",
        "paymentMethod.paymentMethodMetaData",
        "paymentFactor.isInStorePayment",
        "paymentFactor.authorizationType",
        "paymentQuote.quoteStartTime",
        "paymentQuote.baseCurrency",
    ] {
        passes(&set(v.clone(), path, Value::Null));
        passes(&remove(v.clone(), path));
    }
    passes(&set(v, "paymentFactor", json!({})));
}

#[test]
fn unknown_fields_are_tolerated() {
    let v = set(
        full(),
        "someNewField",
        json!({"nested": [1, 2, {"x": null}]}),
    );
    let v = set(v, "order.merchant.newThing", json!(42));
    passes(&v);
}

#[test]
fn the_payer_is_named_exactly_once() {
    fails(&remove(full(), "paymentMethod.customerId"), "paymentMethod");
    fails(
        &set(full(), "paymentMethod.paymentMethodId", json!("28100000")),
        "paymentMethod",
    );
    let both = set(
        full(),
        "paymentMethod.paymentMethodMetaData.userLoginId",
        json!("a@b.c"),
    );
    let both = set(
        both,
        "paymentMethod.paymentMethodMetaData.userLoginIdType",
        json!("EMAIL"),
    );
    fails(&both, "paymentMethod");
    let login_only = remove(full(), "paymentMethod.customerId");
    let login_only = set(
        login_only,
        "paymentMethod.paymentMethodMetaData.userLoginId",
        json!("+82"),
    );
    fails(
        &login_only,
        "paymentMethod.paymentMethodMetaData.userLoginIdType",
    );
    let type_only = set(
        full(),
        "paymentMethod.paymentMethodMetaData.userLoginIdType",
        json!("EMAIL"),
    );
    fails(
        &type_only,
        "paymentMethod.paymentMethodMetaData.userLoginId",
    );
}

#[test]
fn surcharge_info_is_present_iff_need_surcharge() {
    fails(&remove(full(), "surchargeInfo"), "surchargeInfo");
    fails(
        &set(full(), "paymentFactor.needSurcharge", json!("false")),
        "surchargeInfo",
    );
    fails(
        &remove(full(), "paymentFactor.needSurcharge"),
        "surchargeInfo",
    );
    fails(
        &set(
            full(),
            "surchargeInfo.surchargeQuote.quoteCurrencyPair",
            json!("USD/KRW"),
        ),
        "surchargeInfo.surchargeQuote.quoteCurrencyPair",
    );
    fails(
        &set(
            full(),
            "surchargeInfo.surchargeAmount.currency",
            json!("USD"),
        ),
        "surchargeInfo.surchargeQuote.quoteCurrencyPair",
    );
}

#[test]
fn supplemental_payments_need_an_order_lifecycle_id() {
    let v = set(full(), "paymentFactor.isSupplementalPayment", json!("true"));
    passes(&v);
    fails(&remove(v.clone(), "orderLifecycleId"), "orderLifecycleId");
    fails(&set(v, "orderLifecycleId", Value::Null), "orderLifecycleId");
}

#[test]
fn cross_currency_payments_need_a_matching_quote() {
    fails(&remove(full(), "paymentQuote"), "paymentQuote");
    fails(
        &set(full(), "paymentQuote.quoteCurrencyPair", json!("USD/KRW")),
        "paymentQuote.quoteCurrencyPair",
    );
    fails(
        &set(full(), "paymentQuote.quoteCurrencyPair", json!("JPY/USD")),
        "paymentQuote.quoteCurrencyPair",
    );
    fails(
        &set(full(), "paymentQuote.baseCurrency", json!("KRW")),
        "paymentQuote.baseCurrency",
    );
    fails(
        &set(
            full(),
            "paymentQuote.quoteExpiryTime",
            json!("2020-01-01T11:00:00+08:00"),
        ),
        "paymentQuote.quoteExpiryTime",
    );
    // Same currency: the quote may be left out.
    let mut v = set(full(), "payToAmount.currency", json!("JPY"));
    v = set(
        v,
        "paymentPromoInfo.paymentPromoDetails[0].savingsAmount.currency",
        json!("JPY"),
    );
    v = set(v, "surchargeInfo.surchargeAmount.currency", json!("JPY"));
    v = remove(v, "paymentQuote");
    passes(&v);
}

#[test]
fn savings_are_in_the_pay_to_currency() {
    fails(
        &set(
            full(),
            "paymentPromoInfo.paymentPromoDetails[0].savingsAmount.currency",
            json!("JPY"),
        ),
        "paymentPromoInfo.paymentPromoDetails[0].savingsAmount.currency",
    );
}

#[test]
fn evaluation_requires_agreement_payment() {
    let v = set(full(), "paymentFactor.isPaymentEvaluation", json!("true"));
    fails(&v, "paymentFactor.isAgreementPayment");
    fails(
        &remove(v.clone(), "paymentFactor.isAgreementPayment"),
        "paymentFactor.isAgreementPayment",
    );
    let ok = passes(&set(v, "paymentFactor.isAgreementPayment", json!("true")));
    assert!(ok.is_evaluation());
}

#[test]
fn other_requests_check_their_fields_and_rules() {
    let inquiry = fixture("inquiry_payment_request.json");
    fails_as::<InquiryPaymentRequest>(&remove(inquiry.clone(), "pspId"), "pspId");
    fails_as::<InquiryPaymentRequest>(
        &set(inquiry.clone(), "paymentRequestId", json!(1)),
        "paymentRequestId",
    );
    parse::<InquiryPaymentRequest>(&remove(inquiry, "acquirerId")).unwrap();

    let cancel = fixture("cancel_payment_request.json");
    fails_as::<CancelPaymentRequest>(
        &set(cancel.clone(), "paymentRequestId", json!("")),
        "paymentRequestId",
    );
    fails_as::<CancelPaymentRequest>(&set(cancel, "pspId", json!("x".repeat(65))), "pspId");

    let refund = fixture("refund_request.json");
    fails_as::<RefundRequest>(&remove(refund.clone(), "refundQuote"), "refundQuote");
    fails_as::<RefundRequest>(
        &remove(refund.clone(), "refundRequestId"),
        "refundRequestId",
    );
    fails_as::<RefundRequest>(
        &set(refund.clone(), "refundAmount.value", json!("0")),
        "refundAmount.value",
    );
    fails_as::<RefundRequest>(
        &set(
            refund.clone(),
            "refundQuote.quoteCurrencyPair",
            json!("USD/KRW"),
        ),
        "refundQuote.quoteCurrencyPair",
    );
    fails_as::<RefundRequest>(
        &set(refund.clone(), "refundReason", json!("r".repeat(257))),
        "refundReason",
    );
    let promo = json!({"refundPromoDetails": [{
        "promoId": "P", "promoType": "COUPON", "promoName": "N",
        "savingsAmount": {"currency": "JPY", "value": "1"}}]});
    fails_as::<RefundRequest>(
        &set(refund.clone(), "refundPromoInfo", promo),
        "refundPromoInfo.refundPromoDetails[0].savingsAmount.currency",
    );

    let notify = fixture("notify_payment_request.json");
    fails_as::<NotifyPaymentRequest>(
        &set(
            notify.clone(),
            "paymentResult",
            json!({"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"}),
        ),
        "paymentResult.resultStatus",
    );
    fails_as::<NotifyPaymentRequest>(
        &set(notify.clone(), "paymentResult.resultStatus", json!("X")),
        "paymentResult.resultStatus",
    );
    fails_as::<NotifyPaymentRequest>(
        &set(notify.clone(), "paymentResult.resultCode", json!("")),
        "paymentResult.resultCode",
    );
    fails_as::<NotifyPaymentRequest>(&remove(notify, "paymentAmount"), "paymentAmount");

    let acq = fixture("acq_pay_user_presented_request.json");
    fails_as::<AcqPayRequest>(
        &remove(acq.clone(), "paymentMethod.paymentMethodId"),
        "paymentMethod.paymentMethodId",
    );
    fails_as::<AcqPayRequest>(
        &set(acq.clone(), "order.merchant.store.storeMcc", json!(1405)),
        "order.merchant.store.storeMcc",
    );
    fails_as::<AcqPayRequest>(
        &set(acq, "settlementStrategy.settlementCurrency", json!("usd")),
        "settlementStrategy.settlementCurrency",
    );
}
