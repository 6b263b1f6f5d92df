//! pay and evaluation scenarios, one per result code and per payment scenario of the spec,
//! written once and run against every store (`pay_scenario_tests!`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::harness::*;
use chrono::Duration;
use mpp_core::ids::{CustomerId, Secret};
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::payments::Policy;
use mpp_core::store::{AccessToken, Account, AccountStatus, KycStatus, Limits, PaymentCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Makes a fresh, seeded test MPP with a policy (memory or DynamoDB).
pub type Factory = Arc<dyn Fn(Policy) -> Pin<Box<dyn Future<Output = Mpp> + Send>> + Send + Sync>;

/// Table sets made so far by [`dynamodb_factory`] in this process (each scenario gets its own).
static TABLE_SETS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// MPPs on DynamoDB Local, each on fresh tables named `{label}-{pid}-{n}`; without
/// `DYNAMODB_ENDPOINT` outside CI on the memory store (`process::dynamodb_endpoint` says so, and
/// fails in CI).
pub fn dynamodb_factory(label: &'static str) -> Factory {
    use mpp_aws::dynamo::{dynamo_client, DynamoStore, TableNames};
    use mpp_core::store::memory::MemoryStore;
    use mpp_core::store::Ports;
    Arc::new(move |policy: Policy| {
        Box::pin(async move {
            let Some(endpoint) = crate::process::dynamodb_endpoint() else {
                return Mpp::on(Ports::of(Arc::new(MemoryStore::new())), policy).await;
            };
            let n = TABLE_SETS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let prefix = format!("{label}-{}-{n}", std::process::id());
            let store = DynamoStore::new(
                dynamo_client(Some(&endpoint)).await,
                TableNames::with_prefix(&prefix),
            );
            store.create_tables().await.unwrap();
            Mpp::on(Ports::of(Arc::new(store)), policy).await
        })
    })
}

/// Generates one `#[tokio::test]` per scenario, running on the MPPs `$factory` makes.
#[macro_export]
macro_rules! pay_scenario_tests {
    ($factory:expr) => {
        $crate::pay_scenario_tests!(@each $factory;
            auto_debit_succeeds_and_debits_once, repeat_gets_the_first_answer_without_a_second_debit,
            repeat_with_other_key_parameters_is_inconsistent, repeat_of_a_decline_gets_the_decline,
            concurrent_repeats_debit_once, past_expiry_is_order_is_closed, single_limit, daily_amount_limit,
            daily_count_limit_resets_next_business_day, unknown_token, token_of_wrong_scope, revoked_token,
            expired_token, balance_not_enough, user_not_exist, user_status_abnormal, kyc_not_qualified,
            risk_reject_by_mcc_and_by_amount, merchant_not_registered, regulation_restriction,
            currency_not_supported, access_denied_for_another_psp, unavailable_payment_method,
            nfc_without_custom_data_fails_verification, user_presented_code_pays_once, expired_code,
            nfc_sample_pays_by_customer_id, supplemental_payment, multi_currency_debits_pay_to_currency,
            surcharge_debits_the_surcharge_amount, promotion_debits_pay_to_amount, inconsistent_quote_is_param_illegal,
            evaluation_checks_and_moves_no_money, evaluation_on_the_pay_route_is_the_same_evaluation,
            evaluation_route_refuses_a_real_payment, spec_samples_give_the_spec_responses,
            bad_signatures_get_envelopes, bad_input_gets_envelopes,
            customer_id_with_payment_code_scenario_pays_without_nfc, customer_id_without_scenario_is_unavailable,
            quote_unit_prices_that_many_base_units, unknown_payment_method_type_is_processed,
            supplemental_links_to_an_earlier_success_of_the_same_customer,
            supplemental_without_its_original_fails, supplemental_after_the_original_was_cancelled_fails);
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::pay_scenarios::$name($factory).await;
            }
        )*
    };
}

async fn mpp(f: &Factory) -> Mpp {
    f(Policy::default()).await
}

fn krw(v: u64) -> Money {
    Money {
        currency: Currency::from_code("KRW").unwrap(),
        value: MinorUnit(v),
    }
}

async fn expect(m: &Mpp, body: &Value, code: &str) -> Answer {
    let a = m.pay(body).await;
    assert_eq!(a.code(), code, "{}", a.body);
    assert_eq!(a.status, 200);
    a
}

async fn set_limits(m: &Mpp, single: u64, daily: u64, count: u32) {
    let mut limits = BTreeMap::new();
    limits.insert(
        Currency::from_code("KRW").unwrap(),
        Limits {
            single_max: MinorUnit(single),
            daily_amount_max: MinorUnit(daily),
            daily_count_max: count,
        },
    );
    m.ports
        .admin
        .update_account_settings(
            &CustomerId::new(CUSTOMER),
            AccountStatus::Normal,
            KycStatus::Passed,
            &limits,
        )
        .await
        .unwrap();
}

async fn put_token(
    m: &Mpp,
    token: &str,
    customer: &str,
    scope: &str,
    expires_in: Duration,
    revoked: bool,
) {
    m.ports
        .admin
        .put_token(&AccessToken {
            token_hash: Secret::new(token).hash(),
            customer_id: CustomerId::new(customer),
            scopes: vec![scope.into()],
            expires_at: start_time() + expires_in,
            revoked,
        })
        .await
        .unwrap();
}

fn with_token(mut v: Value, token: &str) -> Value {
    v["paymentMethod"]["paymentMethodId"] = json!(token);
    v
}

pub async fn auto_debit_succeeds_and_debits_once(f: Factory) {
    let m = mpp(&f).await;
    let a = expect(&m, &auto_debit("AD-1"), "SUCCESS").await;
    assert_eq!(a.status_letter(), "S");
    assert_eq!(a.body["customerId"], CUSTOMER);
    assert!(a.body["paymentId"]
        .as_str()
        .is_some_and(|p| !p.is_empty() && p.len() <= 64));
    assert_eq!(a.body["paymentTime"], "2026-11-21T10:00:00+08:00");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

pub async fn repeat_gets_the_first_answer_without_a_second_debit(f: Factory) {
    let m = mpp(&f).await;
    let first = expect(&m, &auto_debit("AD-2"), "SUCCESS").await;
    m.clock.advance(Duration::seconds(30));
    let again = expect(&m, &auto_debit("AD-2"), "SUCCESS").await;
    assert_eq!(first.body, again.body);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

pub async fn repeat_with_other_key_parameters_is_inconsistent(f: Factory) {
    let m = mpp(&f).await;
    expect(&m, &auto_debit("AD-3"), "SUCCESS").await;
    let a = expect(
        &m,
        &with_krw(auto_debit("AD-3"), 2000),
        "REPEAT_REQ_INCONSISTENT",
    )
    .await;
    assert_eq!(a.status_letter(), "F");
    let mut other_method = auto_debit("AD-3");
    other_method["paymentMethod"]["paymentMethodId"] = json!(FROZEN_TOKEN);
    expect(&m, &other_method, "REPEAT_REQ_INCONSISTENT").await;
    // Fields outside the key parameters may differ.
    let mut other_order = auto_debit("AD-3");
    other_order["order"]["orderDescription"] = json!("BOOTS");
    expect(&m, &other_order, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
}

pub async fn repeat_of_a_decline_gets_the_decline(f: Factory) {
    let m = mpp(&f).await;
    let big = with_krw(auto_debit("AD-4"), 40_000);
    expect(&m, &big, "USER_BALANCE_NOT_ENOUGH").await;
    m.ports
        .admin
        .credit(
            &CustomerId::new(CUSTOMER),
            krw(20_000),
            "TOPUP-1",
            start_time(),
        )
        .await
        .unwrap();
    expect(&m, &big, "USER_BALANCE_NOT_ENOUGH").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 50_000);
    m.assert_ledger_balances().await;
}

pub async fn concurrent_repeats_debit_once(f: Factory) {
    let m = Arc::new(mpp(&f).await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let m = m.clone();
        tasks.push(tokio::spawn(
            async move { m.pay(&auto_debit("AD-RACE")).await },
        ));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert!(
            matches!(a.code(), "SUCCESS" | "PAYMENT_IN_PROCESS"),
            "{}",
            a.body
        );
        if a.code() == "SUCCESS" {
            ids.insert(a.body["paymentId"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 1, "one payment id for one paymentRequestId");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

pub async fn past_expiry_is_order_is_closed(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("AD-5");
    v["paymentExpiryTime"] = json!("2026-11-21T09:59:59+08:00");
    expect(&m, &v, "ORDER_IS_CLOSED").await;
    v["paymentExpiryTime"] = json!("2026-11-21T10:00:30+08:00");
    // The repeat keeps the first answer.
    expect(&m, &v, "ORDER_IS_CLOSED").await;
    let mut later = auto_debit("AD-5b");
    later["paymentExpiryTime"] = json!("2026-11-21T10:00:30+08:00");
    expect(&m, &later, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
}

pub async fn single_limit(f: Factory) {
    let m = mpp(&f).await;
    expect(
        &m,
        &with_krw(auto_debit("SL-1"), 50_010),
        "PAYMENT_AMOUNT_EXCEED_LIMIT",
    )
    .await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn daily_amount_limit(f: Factory) {
    let m = mpp(&f).await;
    set_limits(&m, 10_000, 2_500, 10).await;
    expect(&m, &with_krw(auto_debit("DA-1"), 1_000), "SUCCESS").await;
    expect(&m, &with_krw(auto_debit("DA-2"), 1_000), "SUCCESS").await;
    expect(
        &m,
        &with_krw(auto_debit("DA-3"), 1_000),
        "USER_AMOUNT_EXCEED_LIMIT",
    )
    .await;
    expect(&m, &with_krw(auto_debit("DA-4"), 500), "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 27_500);
    m.assert_ledger_balances().await;
}

pub async fn daily_count_limit_resets_next_business_day(f: Factory) {
    let m = mpp(&f).await;
    set_limits(&m, 10_000, 100_000, 2).await;
    expect(&m, &auto_debit("DC-1"), "SUCCESS").await;
    expect(&m, &auto_debit("DC-2"), "SUCCESS").await;
    expect(&m, &auto_debit("DC-3"), "PAYMENT_COUNT_EXCEED_LIMIT").await;
    // 10:00 + 14h = 00:00 the next day in UTC+8: a new business day.
    m.clock.advance(Duration::hours(14));
    expect(&m, &auto_debit("DC-4"), "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 27_000);
}

pub async fn unknown_token(f: Factory) {
    let m = mpp(&f).await;
    expect(
        &m,
        &with_token(auto_debit("TK-1"), "2810000000000000000000000000NOPE"),
        "INVALID_TOKEN",
    )
    .await;
}

pub async fn token_of_wrong_scope(f: Factory) {
    let m = mpp(&f).await;
    put_token(
        &m,
        "SCOPE-TOKEN",
        CUSTOMER,
        "USER_LOGIN_ID",
        Duration::days(1),
        false,
    )
    .await;
    expect(
        &m,
        &with_token(auto_debit("TK-2"), "SCOPE-TOKEN"),
        "INVALID_TOKEN",
    )
    .await;
}

pub async fn revoked_token(f: Factory) {
    let m = mpp(&f).await;
    put_token(
        &m,
        "REVOKED-TOKEN",
        CUSTOMER,
        "AGREEMENT_PAY",
        Duration::days(1),
        true,
    )
    .await;
    expect(
        &m,
        &with_token(auto_debit("TK-3"), "REVOKED-TOKEN"),
        "INVALID_TOKEN",
    )
    .await;
}

pub async fn expired_token(f: Factory) {
    let m = mpp(&f).await;
    put_token(
        &m,
        "OLD-TOKEN",
        CUSTOMER,
        "AGREEMENT_PAY",
        Duration::seconds(-1),
        false,
    )
    .await;
    expect(
        &m,
        &with_token(auto_debit("TK-4"), "OLD-TOKEN"),
        "EXPIRED_ACCESS_TOKEN",
    )
    .await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn balance_not_enough(f: Factory) {
    let m = mpp(&f).await;
    let body: Value =
        serde_json::from_str(include_str!("../../examples/pay-over-balance.json")).unwrap();
    expect(&m, &body, "USER_BALANCE_NOT_ENOUGH").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn user_not_exist(f: Factory) {
    let m = mpp(&f).await;
    put_token(
        &m,
        "GHOST-TOKEN",
        "2160000000000999",
        "AGREEMENT_PAY",
        Duration::days(1),
        false,
    )
    .await;
    expect(
        &m,
        &with_token(auto_debit("US-1"), "GHOST-TOKEN"),
        "USER_NOT_EXIST",
    )
    .await;
}

pub async fn user_status_abnormal(f: Factory) {
    let m = mpp(&f).await;
    expect(
        &m,
        &with_token(auto_debit("US-2"), FROZEN_TOKEN),
        "USER_STATUS_ABNORMAL",
    )
    .await;
}

pub async fn kyc_not_qualified(f: Factory) {
    let m = mpp(&f).await;
    m.ports
        .admin
        .update_account_settings(
            &CustomerId::new(CUSTOMER),
            AccountStatus::Normal,
            KycStatus::Pending,
            &BTreeMap::new(),
        )
        .await
        .unwrap();
    expect(&m, &auto_debit("US-3"), "USER_KYC_NOT_QUALIFIED").await;
}

pub async fn risk_reject_by_mcc_and_by_amount(f: Factory) {
    let m = f(Policy {
        blocked_mccs: ["5411".to_string()].into(),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("RK-1"), "RISK_REJECT").await;
    let m = f(Policy {
        risk_max_amount: [(Currency::from_code("KRW").unwrap(), MinorUnit(5_000))].into(),
        ..Policy::default()
    })
    .await;
    expect(&m, &with_krw(auto_debit("RK-2"), 4_000), "SUCCESS").await;
    expect(&m, &with_krw(auto_debit("RK-3"), 6_000), "RISK_REJECT").await;
}

pub async fn merchant_not_registered(f: Factory) {
    let m = f(Policy {
        blocked_merchants: ["M00000000001".to_string()].into(),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("MR-1"), "MERCHANT_NOT_REGISTERED").await;
    let m = f(Policy {
        registered_merchants: Some(["M00000000002".to_string()].into()),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("MR-2"), "MERCHANT_NOT_REGISTERED").await;
}

pub async fn regulation_restriction(f: Factory) {
    let m = f(Policy {
        blocked_regions: ["JP".to_string()].into(),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("RG-1"), "REGULATION_RESTRICTION").await;
}

pub async fn currency_not_supported(f: Factory) {
    let m = mpp(&f).await;
    // The wallet holds KRW and USD, not EUR.
    let mut v = auto_debit("CU-1");
    v["payToAmount"] = json!({"currency": "EUR", "value": "61"});
    v["paymentQuote"] =
        json!({"quoteId": "q-eur", "quoteCurrencyPair": "JPY/EUR", "quotePrice": "0.0061"});
    expect(&m, &v, "CURRENCY_NOT_SUPPORT").await;
    let m = f(Policy {
        currencies: Some([Currency::from_code("USD").unwrap()].into()),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("CU-2"), "CURRENCY_NOT_SUPPORT").await;
}

pub async fn access_denied_for_another_psp(f: Factory) {
    let m = f(Policy {
        psp_id: Some("1022000000000000009".into()),
        ..Policy::default()
    })
    .await;
    expect(&m, &auto_debit("AC-1"), "ACCESS_DENIED").await;
}

pub async fn unavailable_payment_method(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("UM-1");
    v["paymentMethod"] = json!({"paymentMethodType": "CONNECT_WALLET",
        "paymentMethodMetaData": {"userLoginId": "user@example.com", "userLoginIdType": "EMAIL"}});
    expect(&m, &v, "UNAVAILABLE_PAYMENT_METHOD").await;
    // An account without NFC enabled, paying by customer id.
    let mut balances = BTreeMap::new();
    balances.insert(Currency::from_code("KRW").unwrap(), MinorUnit(50_000));
    let account = Account {
        customer_id: CustomerId::new("2160000000000003"),
        status: AccountStatus::Normal,
        kyc: KycStatus::Passed,
        balances,
        limits: BTreeMap::new(),
        usage: BTreeMap::new(),
        nfc_enabled: false,
    };
    m.ports
        .admin
        .create_account(&account, start_time())
        .await
        .unwrap();
    let mut v = nfc("UM-2");
    v["paymentMethod"]["customerId"] = json!("2160000000000003");
    expect(&m, &v, "UNAVAILABLE_PAYMENT_METHOD").await;
}

pub async fn nfc_without_custom_data_fails_verification(f: Factory) {
    let m = mpp(&f).await;
    let mut v = nfc("NV-1");
    v["paymentMethod"]
        .as_object_mut()
        .unwrap()
        .remove("customData");
    expect(&m, &v, "USER_PAYMENT_VERIFICATION_FAILED").await;
}

pub async fn user_presented_code_pays_once(f: Factory) {
    let m = mpp(&f).await;
    let a = expect(&m, &user_presented("UP-1", CODE, 1_500), "SUCCESS").await;
    assert_eq!(a.body["customerId"], CUSTOMER);
    // A payment code is single-use.
    expect(&m, &user_presented("UP-2", CODE, 1_500), "INVALID_CODE").await;
    expect(
        &m,
        &user_presented("UP-3", "281006029999999999", 1_500),
        "INVALID_CODE",
    )
    .await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_500);
}

pub async fn expired_code(f: Factory) {
    let m = mpp(&f).await;
    m.ports
        .admin
        .put_payment_code(&PaymentCode {
            code_hash: Secret::new("281006021111111111").hash(),
            customer_id: CustomerId::new(CUSTOMER),
            expires_at: start_time() + Duration::minutes(1),
            used_by: None,
        })
        .await
        .unwrap();
    m.clock.advance(Duration::seconds(61));
    expect(
        &m,
        &user_presented("UP-4", "281006021111111111", 1_000),
        "EXPIRED_CODE",
    )
    .await;
}

pub async fn nfc_sample_pays_by_customer_id(f: Factory) {
    let m = mpp(&f).await;
    let a = expect(&m, &nfc("NFC-1"), "SUCCESS").await;
    assert_eq!(a.body["customerId"], CUSTOMER);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
}

pub async fn supplemental_payment(f: Factory) {
    let m = mpp(&f).await;
    expect(&m, &nfc("SP-0"), "SUCCESS").await;
    let mut v: Value = serde_json::from_str(include_str!(
        "../../shared/core/tests/fixtures/pay_supplemental_request.json"
    ))
    .unwrap();
    v["paymentRequestId"] = json!("SP-1");
    v.as_object_mut().unwrap().remove("paymentExpiryTime");
    let a = expect(&m, &v, "SUCCESS").await;
    assert_eq!(a.body["customerId"], CUSTOMER);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_000);
}

pub async fn multi_currency_debits_pay_to_currency(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("MC-1");
    v["paymentAmount"] = json!({"currency": "JPY", "value": "1000"});
    v["order"]["orderAmount"] = json!({"currency": "JPY", "value": "1000"});
    v["payToAmount"] = json!({"currency": "USD", "value": "670"});
    v["paymentQuote"] =
        json!({"quoteId": "q-usd", "quoteCurrencyPair": "JPY/USD", "quotePrice": "0.0067"});
    expect(&m, &v, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "USD").await, 4_330);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}

pub async fn surcharge_debits_the_surcharge_amount(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("SC-1");
    v["paymentFactor"]["needSurcharge"] = json!("true");
    v["surchargeInfo"] = json!({"surchargeAmount": {"currency": "KRW", "value": "1100"},
        "surchargeQuote": {"quoteId": "q-s", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "11"}});
    expect(&m, &v, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_900);
    // The surcharge is a key parameter.
    v["surchargeInfo"]["surchargeAmount"]["value"] = json!("1200");
    v["surchargeInfo"]["surchargeQuote"]["quotePrice"] = json!("12");
    expect(&m, &v, "REPEAT_REQ_INCONSISTENT").await;
}

pub async fn promotion_debits_pay_to_amount(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("PR-1");
    v["paymentPromoInfo"] = json!({"paymentPromoDetails": [{"promoId": "P1", "promoType": "COUPON",
        "promoName": "Welcome", "savingsAmount": {"currency": "KRW", "value": "200"}}]});
    expect(&m, &v, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    v["paymentPromoInfo"]["paymentPromoDetails"][0]["savingsAmount"]["value"] = json!("300");
    expect(&m, &v, "REPEAT_REQ_INCONSISTENT").await;
}

pub async fn inconsistent_quote_is_param_illegal(f: Factory) {
    let m = mpp(&f).await;
    let mut v = auto_debit("QT-1");
    v["payToAmount"]["value"] = json!("1500");
    let a = expect(&m, &v, "PARAM_ILLEGAL").await;
    assert!(a.body["result"]["resultMessage"]
        .as_str()
        .unwrap()
        .contains("payToAmount"));
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn evaluation_checks_and_moves_no_money(f: Factory) {
    let m = mpp(&f).await;
    let a = m.evaluate(&evaluation("EV-1")).await;
    assert_eq!(a.code(), "SUCCESS", "{}", a.body);
    assert_eq!(
        a.body,
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}})
    );
    let over = with_krw(evaluation("EV-2"), 40_000);
    assert_eq!(m.evaluate(&over).await.code(), "USER_BALANCE_NOT_ENOUGH");
    assert_eq!(
        m.evaluate(&with_token(evaluation("EV-3"), FROZEN_TOKEN))
            .await
            .code(),
        "USER_STATUS_ABNORMAL"
    );
    assert_eq!(
        m.evaluate(&with_token(evaluation("EV-4"), "NOPE"))
            .await
            .code(),
        "INVALID_TOKEN"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    // Nothing an evaluation did collides with a real payment of the same id.
    expect(&m, &auto_debit("EV-1"), "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
}

pub async fn evaluation_on_the_pay_route_is_the_same_evaluation(f: Factory) {
    let m = mpp(&f).await;
    for (id, body) in [
        ("EVP-1", evaluation("EVP-1")),
        ("EVP-2", with_krw(evaluation("EVP-2"), 40_000)),
    ] {
        let on_pay = m.pay(&body).await;
        let on_eval = m.evaluate(&body).await;
        assert_eq!(on_pay.body, on_eval.body, "{id}");
    }
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    assert!(m
        .ports
        .payments
        .inquiry_payment
        .payment("EVP-1")
        .await
        .unwrap()
        .is_none());
}

pub async fn evaluation_route_refuses_a_real_payment(f: Factory) {
    let m = mpp(&f).await;
    let a = m.evaluate(&auto_debit("EVR-1")).await;
    assert_eq!(a.code(), "PARAM_ILLEGAL");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn spec_samples_give_the_spec_responses(f: Factory) {
    let m = mpp(&f).await;
    let fixtures = [
        (
            include_str!("../../shared/core/tests/fixtures/pay_auto_debit_request.json"),
            include_str!("../../shared/core/tests/fixtures/pay_auto_debit_response.json"),
        ),
        (
            include_str!("../../shared/core/tests/fixtures/pay_nfc_request.json"),
            include_str!("../../shared/core/tests/fixtures/pay_nfc_response.json"),
        ),
    ];
    // The NFC sample expires 2020-01-01T12:01:01+08:30: replay it a minute before.
    m.clock.set(
        chrono::DateTime::parse_from_rfc3339("2020-01-01T12:00:01+08:30")
            .unwrap()
            .into(),
    );
    for (i, (req, resp)) in fixtures.iter().enumerate() {
        let mut req: Value = serde_json::from_str(req).unwrap();
        req["paymentRequestId"] = json!(format!("SPEC-{i}"));
        let expected: Value = serde_json::from_str(resp).unwrap();
        let a = m.pay(&req).await;
        assert_eq!(a.body["result"], expected["result"], "{}", a.body);
        assert_eq!(a.body["customerId"], expected["customerId"]);
        for field in ["paymentId", "paymentTime"] {
            assert!(
                a.body[field].is_string() && expected[field].is_string(),
                "{field}"
            );
        }
        assert_eq!(
            a.body.as_object().unwrap().len(),
            expected.as_object().unwrap().len()
        );
    }
    let eval: Value = serde_json::from_str(include_str!(
        "../../shared/core/tests/fixtures/pay_evaluation_request.json"
    ))
    .unwrap();
    let expected: Value = serde_json::from_str(include_str!(
        "../../shared/core/tests/fixtures/pay_evaluation_response.json"
    ))
    .unwrap();
    assert_eq!(m.pay(&eval).await.body, expected);
}

pub async fn bad_signatures_get_envelopes(f: Factory) {
    use mpp_core::signature::sign_headers;
    let m = mpp(&f).await;
    let body = serde_json::to_vec(&auto_debit("SIG-1")).unwrap();
    let time = mpp_core::flows::wire_time(start_time());
    let good = sign_headers(
        keys().alipay.as_ref(),
        CLIENT_ID,
        "POST",
        PAY_PATH,
        "Request-Time",
        &time,
        &body,
    )
    .await
    .unwrap();
    let set = |name: &str, value: &str| -> Vec<(String, String)> {
        good.iter()
            .map(|(k, v)| {
                if k == name {
                    (k.clone(), value.to_string())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    };
    let sig = good
        .iter()
        .find(|(k, _)| k == "Signature")
        .unwrap()
        .1
        .clone();
    type Case<'a> = (&'a str, Vec<(String, String)>, Vec<u8>);
    let cases: Vec<Case> = vec![
        (
            "INVALID_SIGNATURE",
            good.clone(),
            serde_json::to_vec(&with_krw(auto_debit("SIG-1"), 2000)).unwrap(),
        ),
        (
            "INVALID_CLIENT",
            set("Client-Id", "SOMEONE_ELSE"),
            body.clone(),
        ),
        (
            "KEY_NOT_FOUND",
            set("Signature", &sig.replace("keyVersion=1", "keyVersion=9")),
            body.clone(),
        ),
        (
            "INVALID_SIGNATURE",
            set("Signature", &sig.replace("RSA256", "RSA512")),
            body.clone(),
        ),
        (
            "INVALID_SIGNATURE",
            set("Request-Time", "2026-11-21T09:00:00+08:00"),
            body.clone(),
        ),
    ];
    for (code, headers, body) in cases {
        let request = raw_event(PAY_PATH, &body, &headers);
        let a = answer(PAY_PATH, pay::handle(&m.pay, request).await.unwrap());
        assert_eq!(a.code(), code, "{}", a.body);
    }
    let missing: Vec<(String, String)> = good
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let a = answer(
        PAY_PATH,
        pay::handle(&m.pay, raw_event(PAY_PATH, &body, &missing))
            .await
            .unwrap(),
    );
    assert_eq!(a.status_letter(), "F");
    assert!(
        matches!(a.code(), "INVALID_SIGNATURE" | "PARAM_ILLEGAL"),
        "{}",
        a.body
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

pub async fn bad_input_gets_envelopes(f: Factory) {
    let m = mpp(&f).await;
    for (body, code) in [
        (b"{not json".to_vec(), "PARAM_ILLEGAL"),
        (b"[]".to_vec(), "PARAM_ILLEGAL"),
        (vec![0xff, 0xfe, 0x00], "PARAM_ILLEGAL"),
        (
            serde_json::to_vec(&json!({"paymentRequestId": 5})).unwrap(),
            "PARAM_ILLEGAL",
        ),
    ] {
        let request = m.event(PAY_PATH, &body).await;
        let a = answer(PAY_PATH, pay::handle(&m.pay, request).await.unwrap());
        assert_eq!(a.code(), code, "{}", a.body);
    }
    let mut v = auto_debit("BI-1");
    v["paymentAmount"]["value"] = json!("01");
    let a = expect(&m, &v, "PARAM_ILLEGAL").await;
    assert!(
        a.body["result"]["resultMessage"]
            .as_str()
            .unwrap()
            .contains("paymentAmount.value"),
        "{}",
        a.body
    );
    let mut get = m.event(PAY_PATH, b"{}").await;
    *get.method_mut() = http::Method::GET;
    let a = answer(PAY_PATH, pay::handle(&m.pay, get).await.unwrap());
    assert_eq!((a.code(), a.status), ("METHOD_NOT_SUPPORTED", 405));
}

/// An account like the demo wallet's (30 000 KRW), with NFC as given.
async fn second_account(m: &Mpp, id: &str, nfc_enabled: bool) {
    let mut balances = BTreeMap::new();
    balances.insert(Currency::from_code("KRW").unwrap(), MinorUnit(30_000));
    let account = Account {
        customer_id: CustomerId::new(id),
        status: AccountStatus::Normal,
        kyc: KycStatus::Passed,
        balances,
        limits: BTreeMap::new(),
        usage: BTreeMap::new(),
        nfc_enabled,
    };
    m.ports
        .admin
        .create_account(&account, start_time())
        .await
        .unwrap();
}

/// What Alipay+ sends after decoding a code it issued (user-presented-mpp.md §1): the user by
/// `customerId`, in-store, `PaymentCode`.
fn decoded_code(payment_request_id: &str, customer: &str, krw: u64) -> Value {
    let mut v = user_presented(payment_request_id, CODE, krw);
    v["paymentMethod"] = json!({"paymentMethodType": "CONNECT_WALLET", "customerId": customer});
    v
}

/// The spec's supplemental sample with this id (the sample reuses the original's id).
fn supplemental(payment_request_id: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../shared/core/tests/fixtures/pay_supplemental_request.json"
    ))
    .unwrap();
    v["paymentRequestId"] = json!(payment_request_id);
    v.as_object_mut().unwrap().remove("paymentExpiryTime");
    v
}

pub async fn customer_id_with_payment_code_scenario_pays_without_nfc(f: Factory) {
    let m = mpp(&f).await;
    let plain = "2160000000000003";
    second_account(&m, plain, false).await;
    // A code Alipay+ issued and decoded: a normal user-presented payment, NFC or not.
    let a = expect(&m, &decoded_code("CP-1", plain, 1_500), "SUCCESS").await;
    assert_eq!(a.body["customerId"], plain);
    assert_eq!(m.balance(plain, "KRW").await, 28_500);
    // The repeat answers from the record, no second debit.
    let again = expect(&m, &decoded_code("CP-1", plain, 1_500), "SUCCESS").await;
    assert_eq!(again.body["paymentId"], a.body["paymentId"]);
    assert_eq!(m.balance(plain, "KRW").await, 28_500);
    // The demo wallet (NFC enabled) pays the same way.
    expect(&m, &decoded_code("CP-2", CUSTOMER, 2_000), "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_000);
    // nfcEnabled still gates taps, and only taps.
    let mut tap = nfc("CP-3");
    tap["paymentMethod"]["customerId"] = json!(plain);
    expect(&m, &tap, "UNAVAILABLE_PAYMENT_METHOD").await;
    // An account in bad standing is refused as for any payer.
    expect(
        &m,
        &decoded_code("CP-4", "2160000000000099", 1_000),
        "USER_NOT_EXIST",
    )
    .await;
    expect(
        &m,
        &decoded_code("CP-5", plain, 90_000),
        "USER_BALANCE_NOT_ENOUGH",
    )
    .await;
    assert_eq!(m.balance(plain, "KRW").await, 28_500);
    m.assert_ledger_balances().await;
}

pub async fn customer_id_without_scenario_is_unavailable(f: Factory) {
    let m = mpp(&f).await;
    // customerId with no scenario, not supplemental, not debt recovery: nothing says how the
    // user authorised it (docs/decisions.md).
    let mut v = decoded_code("NS-1", CUSTOMER, 1_000);
    v["paymentFactor"] = json!({"isInStorePayment": "true"});
    expect(&m, &v, "UNAVAILABLE_PAYMENT_METHOD").await;
    v["paymentRequestId"] = json!("NS-2");
    v.as_object_mut().unwrap().remove("paymentFactor");
    v["paymentFactor"] = json!({});
    expect(&m, &v, "UNAVAILABLE_PAYMENT_METHOD").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    // A transit debt recovery by customerId is a debt the user owes: paid without a tap.
    let mut debt = decoded_code("NS-3", CUSTOMER, 1_000);
    debt["paymentFactor"] = json!({"isInStorePayment": "true", "isTransitDebtRecovery": "true"});
    expect(&m, &debt, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
}

pub async fn quote_unit_prices_that_many_base_units(f: Factory) {
    let m = mpp(&f).await;
    // 100 JPY = 1000 KRW, written as quotePrice 1000 per quoteUnit 100 (baseCurrency JPY).
    let mut v = auto_debit("QU-1");
    v["paymentQuote"] = json!({"quoteId": "q-u", "quoteCurrencyPair": "JPY/KRW",
        "quotePrice": "1000", "quoteUnit": "100", "baseCurrency": "JPY"});
    expect(&m, &v, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    // The same price without the unit would be 1 JPY = 1000 KRW: payToAmount does not match.
    let mut w = auto_debit("QU-2");
    w["paymentQuote"] =
        json!({"quoteId": "q-u", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "1000"});
    let a = expect(&m, &w, "PARAM_ILLEGAL").await;
    assert!(a.body["result"]["resultMessage"]
        .as_str()
        .unwrap()
        .contains("payToAmount.value"));
    // A unit that is not an amount.
    let mut x = auto_debit("QU-3");
    x["paymentQuote"] = json!({"quoteId": "q-u", "quoteCurrencyPair": "JPY/KRW",
        "quotePrice": "1000", "quoteUnit": "hundred"});
    let a = expect(&m, &x, "PARAM_ILLEGAL").await;
    assert!(a.body["result"]["resultMessage"]
        .as_str()
        .unwrap()
        .contains("paymentQuote.quoteUnit"));
    // The surcharge quote too: 1100 KRW for 100 JPY at 1100 per 100.
    let mut s = auto_debit("QU-4");
    s["paymentFactor"]["needSurcharge"] = json!("true");
    s["surchargeInfo"] = json!({"surchargeAmount": {"currency": "KRW", "value": "1100"},
        "surchargeQuote": {"quoteId": "q-s", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "1100", "quoteUnit": "100"}});
    expect(&m, &s, "SUCCESS").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 27_900);
    // And the refund quote: 50 JPY back = 500 KRW at 1000 per 100.
    let mut r = refund_body("QU-1", "QU-1-r", 500);
    r["refundQuote"] = json!({"quoteId": "q-r", "quoteCurrencyPair": "JPY/KRW",
        "quotePrice": "1000", "quoteUnit": "100", "baseCurrency": "JPY"});
    let a = m.refund(&r).await;
    assert_eq!(a.code(), "SUCCESS", "{}", a.body);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_400);
    let mut r = refund_body("QU-1", "QU-1-s", 500);
    r["refundQuote"] =
        json!({"quoteId": "q-r", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "1000"});
    assert_eq!(m.refund(&r).await.code(), "PARAM_ILLEGAL");
    m.assert_ledger_balances().await;
}

pub async fn unknown_payment_method_type_is_processed(f: Factory) {
    let m = mpp(&f).await;
    // "Sample values include": a wallet type the page does not list is processed normally.
    for (id, wallet) in [
        ("PT-1", "SOME_NEW_WALLET"),
        ("PT-2", "KAKAOPAY"),
        ("PT-3", "X"),
    ] {
        let mut v = auto_debit(id);
        v["paymentMethod"]["paymentMethodType"] = json!(wallet);
        expect(&m, &v, "SUCCESS").await;
    }
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 27_000);
    let mut v = auto_debit("PT-4");
    v["paymentMethod"]["paymentMethodType"] = json!("W".repeat(33));
    expect(&m, &v, "PARAM_ILLEGAL").await;
}

pub async fn supplemental_links_to_an_earlier_success_of_the_same_customer(f: Factory) {
    let m = mpp(&f).await;
    // The spec's NFC sample, then its supplemental sample (same orderLifecycleId).
    expect(&m, &nfc("SL-0"), "SUCCESS").await;
    let a = expect(&m, &supplemental("SL-1"), "SUCCESS").await;
    assert_eq!(a.body["customerId"], CUSTOMER);
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 28_000);
    // inquiryPayment shows the link on both.
    let lifecycle = "2010000000000000000000000007772";
    for id in ["SL-0", "SL-1"] {
        let i = m.inquire(id).await;
        assert_eq!(
            i.body["paymentResult"]["resultCode"], "SUCCESS",
            "{}",
            i.body
        );
        assert_eq!(i.body["orderLifecycleId"], lifecycle, "{}", i.body);
    }
    // The stored supplemental names its original; both ledger debits carry the lifecycle.
    let record = m
        .ports
        .payments
        .inquiry_payment
        .payment("SL-1")
        .await
        .unwrap()
        .unwrap();
    let supplemental_of =
        |r: &mpp_core::payments::PaymentRecord| r.order().and_then(|o| o.supplemental_of.clone());
    assert_eq!(supplemental_of(&record).as_deref(), Some("SL-0"));
    assert_eq!(record.order_lifecycle_id(), Some(lifecycle));
    let ledger = m
        .ports
        .admin
        .ledger(&CustomerId::new(CUSTOMER))
        .await
        .unwrap();
    for id in ["SL-0", "SL-1"] {
        let debit = ledger
            .iter()
            .find(|e| e.payment_request_id.as_deref() == Some(id))
            .unwrap();
        assert_eq!(debit.order_lifecycle_id.as_deref(), Some(lifecycle));
    }
    // A second supplemental of the same lifecycle links to the same original.
    expect(&m, &supplemental("SL-2"), "SUCCESS").await;
    let record = m
        .ports
        .payments
        .inquiry_payment
        .payment("SL-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(supplemental_of(&record).as_deref(), Some("SL-0"));
    m.assert_ledger_balances().await;
}

pub async fn supplemental_without_its_original_fails(f: Factory) {
    let m = mpp(&f).await;
    // No earlier payment in this lifecycle at all.
    expect(&m, &supplemental("SN-1"), "PROCESS_FAIL").await;
    // A repeat gets the stored decline.
    expect(&m, &supplemental("SN-1"), "PROCESS_FAIL").await;
    // An earlier payment in the lifecycle that failed does not count.
    let mut failed = nfc("SN-2");
    failed["orderLifecycleId"] = json!("LC-FAILED");
    failed["paymentMethod"]["customerId"] = json!("2160000000000099");
    expect(&m, &failed, "USER_NOT_EXIST").await;
    let mut v = supplemental("SN-3");
    v["orderLifecycleId"] = json!("LC-FAILED");
    expect(&m, &v, "PROCESS_FAIL").await;
    // Another customer's original does not count either.
    let other = "2160000000000003";
    second_account(&m, other, true).await;
    let mut theirs = nfc("SN-4");
    theirs["orderLifecycleId"] = json!("LC-OTHER");
    theirs["paymentMethod"]["customerId"] = json!(other);
    expect(&m, &theirs, "SUCCESS").await;
    let mut v = supplemental("SN-5");
    v["orderLifecycleId"] = json!("LC-OTHER");
    expect(&m, &v, "PROCESS_FAIL").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    let i = m.inquire("SN-5").await;
    assert_eq!(
        i.body["paymentResult"]["resultCode"], "PROCESS_FAIL",
        "{}",
        i.body
    );
    assert_eq!(i.body["orderLifecycleId"], "LC-OTHER", "{}", i.body);
    m.assert_ledger_balances().await;
}

pub async fn supplemental_after_the_original_was_cancelled_fails(f: Factory) {
    let m = mpp(&f).await;
    expect(&m, &nfc("SC-0"), "SUCCESS").await;
    assert_eq!(m.cancel("SC-0").await.code(), "SUCCESS");
    expect(&m, &supplemental("SC-1"), "PROCESS_FAIL").await;
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
    m.assert_ledger_balances().await;
}
