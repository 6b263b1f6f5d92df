//! sendOTP and verifyOTP scenarios through the real handlers (signed events in, signed answers
//! out), written once and run on every store (`otp_scenario_tests!`: `tests/tests/otp.rs` runs
//! them on memory and on DynamoDB Local). The code is read from the outbox, as a user reads the
//! SMS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::harness::*;
use crate::pay_scenarios::Factory;
use async_trait::async_trait;
use chrono::Duration;
use mpp_core::clock::Clock;
use mpp_core::ids::{CustomerId, Secret};
use mpp_core::messaging::{Message, MessageSender, SendError};
use mpp_core::otp::SendOtpDeps;
use mpp_core::otp::{OtpState, OTP_DAILY_MAX, OTP_LIFETIME_SECS, OTP_TRIES_MAX};
use mpp_core::payments::Policy;
use mpp_core::store::{AccessToken, Account, AccountStatus, KycStatus};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Generates one `#[tokio::test]` per scenario, on the MPPs `$factory` makes.
#[macro_export]
macro_rules! otp_scenario_tests {
    ($factory:expr) => {
        $crate::otp_scenario_tests!(@each $factory;
            send_then_verify_succeeds, email_goes_to_the_accounts_address,
            wrong_code_then_the_right_one, expired_code, reused_code, over_the_tries,
            over_the_daily_cap_until_the_next_business_day, token_cancelled_or_expired,
            another_tokens_verify_request_id, unknown_verify_request_id,
            account_state_and_missing_address, the_store_keeps_only_a_salted_hash,
            delivery_refused_or_unknown, concurrent_sends_never_pass_the_daily_cap,
            concurrent_wrong_codes_each_count_once);
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::otp_scenarios::$name($factory).await;
            }
        )*
    };
}

async fn mpp(f: &Factory) -> Mpp {
    f(Policy::default()).await
}

/// A valid token for the demo customer, stored under `name`.
async fn extra_token(m: &Mpp, name: &str, revoked: bool, expires_in: Duration) -> String {
    m.ports
        .admin
        .put_token(&AccessToken {
            token_hash: Secret::new(name).hash(),
            customer_id: CustomerId::new(CUSTOMER),
            scopes: vec!["AGREEMENT_PAY".into()],
            expires_at: m.clock.now() + expires_in,
            revoked,
        })
        .await
        .unwrap();
    name.to_string()
}

/// Sends an OTP for `token` and answers its `verifyRequestId` and the code from the outbox.
async fn sent(m: &Mpp, token: &str) -> (String, String) {
    let a = m.send_otp(token, None).await;
    assert_eq!(a.code(), "SUCCESS", "{:?}", a.body);
    let id = a.body["verifyRequestId"].as_str().unwrap().to_string();
    (id, m.last_otp_code())
}

/// A code that is not `code` (same length).
fn wrong(code: &str) -> String {
    let last = code.chars().last().unwrap().to_digit(10).unwrap();
    format!("{}{}", &code[..code.len() - 1], (last + 1) % 10)
}

fn assert_code(a: &Answer, code: &str, status: &str) {
    assert_eq!(a.code(), code, "{:?}", a.body);
    assert_eq!(a.status_letter(), status, "{:?}", a.body);
}

pub async fn send_then_verify_succeeds(f: Factory) {
    let m = mpp(&f).await;
    let a = m.send_otp(TOKEN, None).await;
    assert_code(&a, "SUCCESS", "S");
    let id = a.body["verifyRequestId"].as_str().unwrap();
    assert!(!id.is_empty() && id.chars().count() <= 64);
    let messages = m.outbox.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].channel.as_str(),
        "MOBILE",
        "MOBILE is the default"
    );
    assert_eq!(messages[0].to, "+821012345678");
    let code = m.last_otp_code();
    assert_eq!(code.len(), 6);
    let line: serde_json::Value =
        serde_json::from_str(m.outbox.json_lines().lines().next().unwrap()).unwrap();
    assert_eq!(line["channel"], "MOBILE");
    assert_eq!(line["to"], "+821012345678");
    assert!(line["text"].as_str().unwrap().contains(&code));
    assert_code(&m.verify_otp(TOKEN, id, &code).await, "SUCCESS", "S");
}

pub async fn email_goes_to_the_accounts_address(f: Factory) {
    let m = mpp(&f).await;
    let a = m.send_otp(TOKEN, Some("EMAIL")).await;
    assert_code(&a, "SUCCESS", "S");
    let msg = m.outbox.messages().pop().unwrap();
    assert_eq!(msg.channel.as_str(), "EMAIL");
    assert_eq!(msg.to, "kim.minji@example.com");
    assert!(msg.subject.is_some());
    let id = a.body["verifyRequestId"].as_str().unwrap();
    assert_code(
        &m.verify_otp(TOKEN, id, &m.last_otp_code()).await,
        "SUCCESS",
        "S",
    );
    // An unknown channel is a bad request, not a silent SMS.
    let bad = m
        .send_otp_raw(br#"{"acquirerId":"1","pspId":"1","accessToken":"2810000000000000000000000000JWDQ","verifyType":"PIGEON"}"#)
        .await;
    assert_code(&bad, "PARAM_ILLEGAL", "F");
    assert_eq!(m.outbox.messages().len(), 1);
}

pub async fn wrong_code_then_the_right_one(f: Factory) {
    let m = mpp(&f).await;
    let (id, code) = sent(&m, TOKEN).await;
    let a = m.verify_otp(TOKEN, &id, &wrong(&code)).await;
    assert_code(&a, "USER_PAYMENT_VERIFICATION_FAILED", "F");
    // Not digits, too short: a wrong code too (never PARAM_ILLEGAL for what a user typed).
    assert_code(
        &m.verify_otp(TOKEN, &id, "12a").await,
        "USER_PAYMENT_VERIFICATION_FAILED",
        "F",
    );
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
}

pub async fn expired_code(f: Factory) {
    let m = mpp(&f).await;
    let (id, code) = sent(&m, TOKEN).await;
    m.clock.advance(Duration::seconds(OTP_LIFETIME_SECS - 1));
    let (id2, code2) = sent(&m, TOKEN).await;
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
    m.clock.advance(Duration::seconds(OTP_LIFETIME_SECS));
    assert_code(
        &m.verify_otp(TOKEN, &id2, &code2).await,
        "EXPIRED_CODE",
        "F",
    );
}

pub async fn reused_code(f: Factory) {
    let m = mpp(&f).await;
    let (id, code) = sent(&m, TOKEN).await;
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "INVALID_CODE", "F");
}

pub async fn over_the_tries(f: Factory) {
    let m = mpp(&f).await;
    let (id, code) = sent(&m, TOKEN).await;
    for _ in 0..OTP_TRIES_MAX {
        assert_code(
            &m.verify_otp(TOKEN, &id, &wrong(&code)).await,
            "USER_PAYMENT_VERIFICATION_FAILED",
            "F",
        );
    }
    // Locked: even the right code is refused now.
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "RISK_REJECT", "F");
    // A new OTP works.
    let (id, code) = sent(&m, TOKEN).await;
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
}

pub async fn over_the_daily_cap_until_the_next_business_day(f: Factory) {
    let m = mpp(&f).await;
    const { assert!(OTP_DAILY_MAX >= 3, "Alipay+ asks for at least 3 a day") };
    let mut last = None;
    for _ in 0..OTP_DAILY_MAX {
        last = Some(sent(&m, TOKEN).await);
    }
    assert_code(&m.send_otp(TOKEN, None).await, "RISK_REJECT", "F");
    assert_eq!(
        m.outbox.messages().len(),
        OTP_DAILY_MAX as usize,
        "no message over the cap"
    );
    // The OTPs already sent still verify.
    let (id, code) = last.unwrap();
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
    // The cap is per token: another token of the same user has its own.
    let other = extra_token(
        &m,
        "2810000000000000000000000000OTHR",
        false,
        Duration::days(1),
    )
    .await;
    sent(&m, &other).await;
    // Midnight UTC+8 (16:00 UTC; the harness starts at 10:00 UTC+8): a new day, a new count.
    m.clock.advance(Duration::hours(14));
    sent(&m, TOKEN).await;
}

pub async fn token_cancelled_or_expired(f: Factory) {
    let m = mpp(&f).await;
    let revoked = extra_token(
        &m,
        "2810000000000000000000000000RVKD",
        true,
        Duration::days(1),
    )
    .await;
    assert_code(&m.send_otp(&revoked, None).await, "INVALID_TOKEN", "F");
    let expired = extra_token(
        &m,
        "2810000000000000000000000000EXPD",
        false,
        Duration::seconds(-1),
    )
    .await;
    assert_code(
        &m.send_otp(&expired, None).await,
        "EXPIRED_ACCESS_TOKEN",
        "F",
    );
    assert_code(
        &m.send_otp("2810000000000000000000000000NONE", None).await,
        "INVALID_TOKEN",
        "F",
    );
    assert!(
        m.outbox.messages().is_empty(),
        "nothing sent for a bad token"
    );
    // Sent while valid, cancelled before the verify.
    let later = extra_token(
        &m,
        "2810000000000000000000000000LATE",
        false,
        Duration::days(1),
    )
    .await;
    let (id, code) = sent(&m, &later).await;
    extra_token(&m, &later, true, Duration::days(1)).await;
    assert_code(
        &m.verify_otp(&later, &id, &code).await,
        "INVALID_TOKEN",
        "F",
    );
    // Sent while valid, expired before the verify.
    let short = extra_token(
        &m,
        "2810000000000000000000000000SHRT",
        false,
        Duration::seconds(60),
    )
    .await;
    let (id, code) = sent(&m, &short).await;
    m.clock.advance(Duration::seconds(61));
    assert_code(
        &m.verify_otp(&short, &id, &code).await,
        "EXPIRED_ACCESS_TOKEN",
        "F",
    );
}

pub async fn another_tokens_verify_request_id(f: Factory) {
    let m = mpp(&f).await;
    let other = extra_token(
        &m,
        "2810000000000000000000000000OTHR",
        false,
        Duration::days(1),
    )
    .await;
    let (id, code) = sent(&m, TOKEN).await;
    // Another token (even of the same user) cannot use it, and does not burn its tries.
    for _ in 0..=OTP_TRIES_MAX {
        assert_code(&m.verify_otp(&other, &id, &code).await, "INVALID_CODE", "F");
    }
    assert_code(&m.verify_otp(TOKEN, &id, &code).await, "SUCCESS", "S");
}

pub async fn unknown_verify_request_id(f: Factory) {
    let m = mpp(&f).await;
    let (_, code) = sent(&m, TOKEN).await;
    assert_code(
        &m.verify_otp(
            TOKEN,
            "20261121100000ffffffffffffffffffffffffffffffff",
            &code,
        )
        .await,
        "INVALID_CODE",
        "F",
    );
    // The key of a day's count on the DynamoDB table is no OTP either.
    let day_key = format!("DAY#20261121#{}", Secret::new(TOKEN).hash().as_str());
    let day_key: String = day_key.chars().take(64).collect();
    assert_code(
        &m.verify_otp(TOKEN, &day_key, &code).await,
        "INVALID_CODE",
        "F",
    );
}

pub async fn account_state_and_missing_address(f: Factory) {
    let m = mpp(&f).await;
    assert_code(
        &m.send_otp(FROZEN_TOKEN, None).await,
        "USER_STATUS_ABNORMAL",
        "F",
    );
    let id = CustomerId::new("2160000000000077");
    m.ports
        .admin
        .create_account(
            &Account {
                customer_id: id.clone(),
                status: AccountStatus::Normal,
                kyc: KycStatus::Passed,
                balances: BTreeMap::new(),
                limits: BTreeMap::new(),
                usage: BTreeMap::new(),
                nfc_enabled: false,
            },
            m.clock.now(),
        )
        .await
        .unwrap();
    m.ports
        .admin
        .put_contacts(
            &id,
            &mpp_core::otp::Contacts {
                phone: None,
                email: Some("lee@example.com".into()),
            },
        )
        .await
        .unwrap();
    let t = "2810000000000000000000000000NOPH";
    m.ports
        .admin
        .put_token(&AccessToken {
            token_hash: Secret::new(t).hash(),
            customer_id: id,
            scopes: vec!["AGREEMENT_PAY".into()],
            expires_at: m.clock.now() + Duration::days(1),
            revoked: false,
        })
        .await
        .unwrap();
    assert_code(&m.send_otp(t, None).await, "PROCESS_FAIL", "F");
    assert_code(&m.send_otp(t, Some("EMAIL")).await, "SUCCESS", "S");
    assert_eq!(m.outbox.messages().len(), 1);
}

pub async fn the_store_keeps_only_a_salted_hash(f: Factory) {
    let m = mpp(&f).await;
    let (id, code) = sent(&m, TOKEN).await;
    let (_, otp) = m
        .ports
        .otp
        .verify_otp
        .load_for_verify(&Secret::new(TOKEN).hash(), &id)
        .await
        .unwrap();
    let otp = otp.unwrap();
    assert_eq!(otp.state, OtpState::Pending);
    assert_eq!(otp.code_hash.len(), 64);
    assert!(!otp.code_hash.contains(&code) && !otp.salt.contains(&code));
    assert_ne!(
        otp.code_hash,
        mpp_core::otp::hash_otp("", &id, &code),
        "salted"
    );
    assert!(otp.matches(&code));
    assert!(!format!("{otp:?}").contains(&otp.code_hash));
}

/// A delivery service that answers as told.
struct Broken(bool);

#[async_trait]
impl MessageSender for Broken {
    async fn send(&self, _m: &Message) -> Result<(), SendError> {
        Err(if self.0 {
            SendError::Rejected("test: opted out".into())
        } else {
            SendError::Unknown("test: no answer".into())
        })
    }
}

pub async fn delivery_refused_or_unknown(f: Factory) {
    let mut m = mpp(&f).await;
    let original = m.send_otp.clone();
    let deps = |rejected: bool, m: &Mpp| send_otp::Deps {
        edge: m.send_otp.edge.clone(),
        send: SendOtpDeps {
            sender: Arc::new(Broken(rejected)),
            ..m.send_otp.send.clone()
        },
    };
    m.send_otp = deps(true, &m);
    assert_code(&m.send_otp(TOKEN, None).await, "PROCESS_FAIL", "F");
    m.send_otp = deps(false, &m);
    assert_code(&m.send_otp(TOKEN, None).await, "UNKNOWN_EXCEPTION", "U");
    // Both were stored and counted (a retry sends a new OTP; the cap bounds the retries).
    m.send_otp = original;
    for _ in 0..OTP_DAILY_MAX - 2 {
        sent(&m, TOKEN).await;
    }
    assert_code(&m.send_otp(TOKEN, None).await, "RISK_REJECT", "F");
}

pub async fn concurrent_sends_never_pass_the_daily_cap(f: Factory) {
    let m = Arc::new(mpp(&f).await);
    let n = 2 * OTP_DAILY_MAX as usize;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let m = m.clone();
        set.spawn(async move { m.send_otp(TOKEN, None).await.code().to_string() });
    }
    let mut codes = Vec::new();
    while let Some(c) = set.join_next().await {
        codes.push(c.unwrap());
    }
    let ok = codes.iter().filter(|c| *c == "SUCCESS").count();
    let capped = codes.iter().filter(|c| *c == "RISK_REJECT").count();
    // U answers appear only behind the fault proxy (throttling or contention past the bounds).
    let unknown = codes.iter().filter(|c| unknown_outcome(c)).count();
    let cap = OTP_DAILY_MAX as usize;
    assert_eq!(ok + capped + unknown, n, "{codes:?}");
    assert!(ok <= cap, "over the cap: {codes:?}");
    assert_eq!(m.outbox.messages().len(), ok, "one message per S");
    if unknown == 0 {
        assert_eq!((ok, capped), (cap, n - cap), "{codes:?}");
    }
    if ok == cap {
        assert_code(&m.send_otp(TOKEN, None).await, "RISK_REJECT", "F");
    }
}

/// A U answer: the outcome is unknown, the caller retries.
fn unknown_outcome(code: &str) -> bool {
    code == "UNKNOWN_EXCEPTION" || code == "REQUEST_TRAFFIC_EXCEED_LIMIT"
}

pub async fn concurrent_wrong_codes_each_count_once(f: Factory) {
    let m = Arc::new(mpp(&f).await);
    let (id, code) = sent(&m, TOKEN).await;
    let n = 2 * OTP_TRIES_MAX as usize;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (m, id, bad) = (m.clone(), id.clone(), wrong(&code));
        set.spawn(async move { m.verify_otp(TOKEN, &id, &bad).await.code().to_string() });
    }
    let mut codes = Vec::new();
    while let Some(c) = set.join_next().await {
        codes.push(c.unwrap());
    }
    let counted = codes
        .iter()
        .filter(|c| *c == "USER_PAYMENT_VERIFICATION_FAILED")
        .count();
    let locked = codes.iter().filter(|c| *c == "RISK_REJECT").count();
    let unknown = codes.iter().filter(|c| unknown_outcome(c)).count();
    let tries = OTP_TRIES_MAX as usize;
    assert_eq!(counted + locked + unknown, n, "{codes:?}");
    // Never more wrong answers than tries: each was counted, once.
    assert!(
        counted <= tries,
        "a wrong code answered without being counted: {codes:?}"
    );
    if unknown == 0 {
        assert_eq!((counted, locked), (tries, n - tries), "{codes:?}");
    }
    if counted == tries {
        assert_code(&m.verify_otp(TOKEN, &id, &code).await, "RISK_REJECT", "F");
    }
}
