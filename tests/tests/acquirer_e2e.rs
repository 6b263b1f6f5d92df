//! The acquirer side end to end on loopback: the acquirer (in process) → `mpp hub` (in process)
//! → `mpp serve` (a real process) → notifyPayment back through the hub to the acquirer's
//! webhook. Each case checks the acquirer's order, the hub's record, the MPP's record (an
//! inquiry signed as Alipay+) and the wallet's balance (the next pay of one more than what is
//! left fails `USER_BALANCE_NOT_ENOUGH`, a pay of exactly what is left succeeds).
//!
//! Bounds are shortened: every retry gap is divided by 20, calls time out after 500 ms, and the
//! orders ask for a `paymentExpiryTime` of seconds (the table's "less than 1 minute" row).

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use mpp_acquirer::gateway::{HttpGateway, Reply, DEFAULT_PATH_PREFIX, NOTIFY_PATH};
use mpp_acquirer::http::{bind_loopback, Server as HttpServer};
use mpp_acquirer::hub::{Forward, Hub, HubConfig, HubKeys, HubPayment, Route};
use mpp_acquirer::schedule::{ORDER_LIFE, PAY_ATTEMPTS_MAX};
use mpp_acquirer::store::{MemoryOrderStore, OrderStore};
use mpp_acquirer::timer::SystemTimer;
use mpp_acquirer::webhook::Webhook;
use mpp_acquirer::{Acquirer, Merchant, NoSteps, Order, OrderState, RetryPolicy, Sale, Source};
use mpp_client::SignedClient;
use mpp_core::clock::SystemClock;
use mpp_core::edge::Edge;
use mpp_core::money::{Currency, MinorUnit};
use mpp_core::signature::{
    generate_key_pair, load_private_key, load_public_key, LocalSigner, Signer, VerifierConfig,
};
use mpp_core::wire::Amount;
use mpp_e2e::process::{Alipay, Server};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const ACQP_CLIENT: &str = "TEST_ACQP_CLIENT";
const MPP_CLIENT: &str = "TEST_ALIPAYPLUS_CLIENT";
const CUSTOMER: &str = "2160000000000001";
/// The wallet's KRW balance in the seed.
const BALANCE: u64 = 30_000;
/// Codes the test seed gives the wallet (payment codes are single-use).
const CODES: u32 = 8;
/// One call's patience: loopback answers in milliseconds.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Polls for asynchronous effects (notifications): 100 × 50 ms.
const POLLS_MAX: u32 = 100;
const POLL_GAP: Duration = Duration::from_millis(50);

fn code(n: u32) -> String {
    format!("2810060200000000{n:02}")
}

fn amount(currency: &str, value: u64) -> Amount {
    Amount {
        currency: Currency::from_code(currency).unwrap(),
        value: MinorUnit(value),
    }
}

/// The acquirer's key pair, made once per test binary.
fn acquirer_key() -> &'static mpp_core::signature::RsaPrivateKey {
    static KEY: OnceLock<mpp_core::signature::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate_key_pair(2048).unwrap())
}

/// The seed's wallet with eight payment codes.
fn seed_file(dir: &std::path::Path) -> String {
    let codes: Vec<Value> = (0..CODES)
        .map(|n| json!({"code": code(n), "customerId": CUSTOMER, "expiresAt": "2030-01-01T00:00:00+08:00"}))
        .collect();
    let seed = json!({
        "accounts": [{
            "customerId": CUSTOMER, "status": "NORMAL", "kyc": "PASSED",
            "balances": {"KRW": BALANCE.to_string()},
            "limits": {"KRW": {"singleMax": "50000", "dailyAmountMax": "200000", "dailyCountMax": "20"}}
        }],
        "paymentCodes": codes,
    });
    let path = dir.join("seed.json");
    std::fs::write(&path, serde_json::to_vec(&seed).unwrap()).unwrap();
    path.display().to_string()
}

/// One network: an MPP process, a hub, an acquirer with its webhook.
struct Net {
    mpp: Server,
    hub: Hub,
    webhook: HttpServer,
    acquirer: Acquirer,
    orders: Arc<MemoryOrderStore>,
    alipay: Alipay,
    next_code: std::sync::atomic::AtomicU32,
    _seed: tempfile::TempDir,
}

impl Net {
    async fn start() -> Net {
        let seed_dir = tempfile::tempdir().unwrap();
        let seed = seed_file(seed_dir.path());
        let mpp = Server::start(&["--seed", &seed]);
        let dir = mpp.state_dir.path().to_path_buf();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let alipay_signer: Arc<dyn Signer> = Arc::new(LocalSigner::new(
            load_private_key(&read("alipay/private_key.pem")).unwrap(),
            1,
        ));
        let alipay_public = load_public_key(&read("alipay/public_key.pem")).unwrap();
        let acquirer_signer: Arc<dyn Signer> =
            Arc::new(LocalSigner::new(acquirer_key().clone(), 1));

        let mut config = HubConfig::new(
            vec![Route {
                prefix: "28".into(),
                url: mpp.url.clone(),
            }],
            Currency::from_code("KRW").unwrap(),
        );
        config.rates = vec!["JPY/KRW=10".parse().unwrap()];
        config.drop_hold = CALL_TIMEOUT * 2;
        config.mpp_timeout = Duration::from_secs(2);
        config.notify_timeout = Duration::from_secs(1);
        config.notify_retry_delays = vec![Duration::from_millis(100), Duration::from_millis(200)];
        let keys = HubKeys {
            signer: alipay_signer,
            mpp_public_key: load_public_key(&read("mpp/public_key.pem")).unwrap(),
            mpp_key_version: 1,
            mpp_client_id: MPP_CLIENT.into(),
            acquirer_public_key: acquirer_key().to_public_key(),
            acquirer_key_version: 1,
            acquirer_client_id: ACQP_CLIENT.into(),
        };
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let hub = Hub::start(config, keys, bind_loopback(loopback).await.unwrap())
            .await
            .unwrap();

        let gateway = HttpGateway::new(
            &hub.url(),
            DEFAULT_PATH_PREFIX,
            ACQP_CLIENT,
            acquirer_signer.clone(),
            alipay_public.clone(),
            CALL_TIMEOUT,
        )
        .unwrap();
        let orders = Arc::new(MemoryOrderStore::new());
        let acquirer = Acquirer {
            gateway: Arc::new(gateway),
            orders: orders.clone(),
            timer: Arc::new(SystemTimer),
            // Gaps ÷ 20; the order life stays Alipay+'s minute: orders ask for seconds instead.
            policy: RetryPolicy {
                order_life: ORDER_LIFE,
                ..RetryPolicy::default().scaled_down(20)
            },
        };
        let hook = Webhook {
            edge: Edge {
                verifier: Arc::new(VerifierConfig::new(ACQP_CLIENT, 1, alipay_public)),
                signer: acquirer_signer,
                clock: Arc::new(SystemClock),
                client_id: ACQP_CLIENT.into(),
            },
            acquirer: acquirer.clone(),
            path: format!("{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}"),
        };
        let webhook =
            mpp_acquirer::webhook::start(hook, bind_loopback(loopback).await.unwrap()).unwrap();
        let alipay = mpp.alipay();
        Net {
            mpp,
            hub,
            webhook,
            acquirer,
            orders,
            alipay,
            next_code: Default::default(),
            _seed: seed_dir,
        }
    }

    fn faults(&self, specs: &[&str]) {
        self.hub.faults().clear();
        for s in specs {
            self.hub.faults().set(s.parse().unwrap());
        }
    }

    fn notify_url(&self) -> String {
        format!("{}{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}", self.webhook.url())
    }

    /// A sale with the next unused code, asking for a `paymentExpiryTime` `expiry` from now.
    fn sale(&self, amount: Amount, expiry: Duration) -> Sale {
        let n = self
            .next_code
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert!(n < CODES, "out of seeded codes");
        let now = Utc::now();
        Sale {
            code: code(n),
            amount,
            order: Merchant::sample()
                .order(&format!("ORDER-{n}"), "Mi Band 3 Wrist Strap", amount, now)
                .unwrap(),
            expiry: Some(now + chrono::Duration::from_std(expiry).unwrap()),
            notify_url: Some(self.notify_url()),
            settlement_currency: None,
        }
    }

    async fn pay(&self, amount: Amount, expiry: Duration) -> Order {
        self.acquirer
            .pay(&self.sale(amount, expiry), &NoSteps)
            .await
            .unwrap()
    }

    /// The MPP's own record, asked as Alipay+ asks it.
    async fn mpp_inquiry(&self, order: &Order) -> Value {
        let mpp_id = self
            .hub
            .payment(&order.payment_request_id)
            .unwrap()
            .mpp_payment_request_id;
        self.alipay
            .call("inquiryPayment", &json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001", "paymentRequestId": mpp_id}))
            .await
    }

    /// What is left in the wallet is exactly `krw`: one more fails, exactly that succeeds.
    async fn assert_balance(&self, krw: u64) {
        self.faults(&[]);
        let over = self
            .pay(amount("KRW", krw + 1), Duration::from_secs(10))
            .await;
        assert_eq!(
            (over.state, over.result_code.as_deref()),
            (OrderState::Failed, Some("USER_BALANCE_NOT_ENOUGH")),
            "balance should be {krw}: {over:?}"
        );
        let exact = self.pay(amount("KRW", krw), Duration::from_secs(10)).await;
        assert_eq!(
            exact.state,
            OrderState::Succeeded,
            "balance should be {krw}: {exact:?}"
        );
    }

    /// Waits (bounded) until the hub's record satisfies `ok`.
    async fn hub_when(&self, id: &str, ok: impl Fn(&HubPayment) -> bool) -> HubPayment {
        for _ in 0..POLLS_MAX {
            if let Some(p) = self.hub.payment(id).filter(|p| ok(p)) {
                return p;
            }
            tokio::time::sleep(POLL_GAP).await;
        }
        panic!(
            "hub record {id} never got there: {:?}",
            self.hub.payment(id)
        );
    }

    /// Waits (bounded) until the order satisfies `ok`.
    async fn order_when(&self, id: &str, ok: impl Fn(&Order) -> bool) -> Order {
        for _ in 0..POLLS_MAX {
            let order = self.orders.get(id).await.unwrap().unwrap();
            if ok(&order) {
                return order;
            }
            tokio::time::sleep(POLL_GAP).await;
        }
        panic!(
            "order {id} never got there: {:?}",
            self.orders.get(id).await.unwrap()
        );
    }
}

fn result(v: &Value, field: &str) -> (String, String) {
    (
        v[field]["resultStatus"].as_str().unwrap_or("").to_string(),
        v[field]["resultCode"].as_str().unwrap_or("").to_string(),
    )
}

fn pair(status: &str, code: &str) -> (String, String) {
    (status.to_string(), code.to_string())
}

/// The seed page's sample: 100 JPY, converted at JPY/KRW 10 into 1000 KRW for the wallet; the
/// MPP's notification comes back through the hub and agrees.
#[tokio::test(flavor = "multi_thread")]
async fn the_seed_sample_succeeds_on_both_sides() {
    let net = Net::start().await;
    let order = net.pay(amount("JPY", 100), Duration::from_secs(10)).await;
    assert_eq!(order.state, OrderState::Succeeded, "{order:?}");
    assert_eq!(order.result_code.as_deref(), Some("SUCCESS"));
    assert!(
        matches!(order.resolved_by, Some(Source::Pay | Source::Notify)),
        "{order:?}"
    );
    assert_eq!(
        (order.pay_attempts, order.inquiries, order.cancel_attempts),
        (1, 0, 0)
    );
    let success = order.success.clone().unwrap();
    assert_eq!(success.customer_id.as_deref(), Some(CUSTOMER));

    let hub = net.hub.payment(&order.payment_request_id).unwrap();
    assert_eq!(hub.pay_to_amount, amount("KRW", 1000));
    assert_eq!(
        success.payment_id.as_deref(),
        Some(hub.mpp_payment_request_id.as_str())
    );

    let mpp = net.mpp_inquiry(&order).await;
    assert_eq!(result(&mpp, "result"), pair("S", "SUCCESS"), "{mpp}");
    assert_eq!(result(&mpp, "paymentResult"), pair("S", "SUCCESS"), "{mpp}");
    assert_eq!(
        mpp["payToAmount"],
        json!({"currency": "KRW", "value": "1000"})
    );
    assert_eq!(
        mpp["paymentAmount"],
        json!({"currency": "JPY", "value": "100"})
    );
    assert_eq!(mpp["customerId"], CUSTOMER);

    // MPP → hub → acquirer: the notification arrives, is acknowledged, agrees.
    let notified = net
        .order_when(&order.payment_request_id, |o| !o.notifications.is_empty())
        .await;
    assert_eq!(notified.notifications[0].code, "SUCCESS");
    assert_eq!(notified.state, OrderState::Succeeded);
    assert!(notified.remarks.is_empty(), "{:?}", notified.remarks);
    net.hub_when(&order.payment_request_id, |p| {
        p.notifications_forwarded == 1
    })
    .await;

    net.assert_balance(BALANCE - 1000).await;
}

/// More than the balance: F `USER_BALANCE_NOT_ENOUGH` on both sides, nothing taken.
#[tokio::test(flavor = "multi_thread")]
async fn insufficient_balance_fails_on_both_sides_and_takes_nothing() {
    let net = Net::start().await;
    let order = net
        .pay(amount("KRW", BALANCE + 1), Duration::from_secs(10))
        .await;
    assert_eq!(order.state, OrderState::Failed, "{order:?}");
    assert_eq!(
        order.result_code.as_deref(),
        Some("USER_BALANCE_NOT_ENOUGH")
    );
    assert_eq!(
        (order.pay_attempts, order.inquiries, order.cancel_attempts),
        (1, 0, 0)
    );
    let hub = net.hub.payment(&order.payment_request_id).unwrap();
    assert_eq!(
        hub.pay_to_amount,
        amount("KRW", BALANCE + 1),
        "same currency: no conversion"
    );
    let mpp = net.mpp_inquiry(&order).await;
    assert_eq!(
        result(&mpp, "paymentResult"),
        pair("F", "USER_BALANCE_NOT_ENOUGH"),
        "{mpp}"
    );
    // The MPP notifies declines too; the notification agrees with the order.
    let notified = net
        .order_when(&order.payment_request_id, |o| !o.notifications.is_empty())
        .await;
    assert_eq!(notified.notifications[0].code, "USER_BALANCE_NOT_ENOUGH");
    assert!(notified.remarks.is_empty(), "{:?}", notified.remarks);
    net.assert_balance(BALANCE).await;
}

/// Every pay answer is lost (the MPP takes the money on the first, the repeats are idempotent);
/// the acquirer re-sends the same request up to its budget, then inquiry finds the success.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_pay_answer_is_recovered_by_inquiry() {
    let net = Net::start().await;
    net.faults(&["pay=drop", "notify=drop"]);
    let order = net.pay(amount("JPY", 100), Duration::from_secs(10)).await;
    assert_eq!(order.state, OrderState::Succeeded, "{order:?}");
    assert_eq!(order.resolved_by, Some(Source::Inquiry));
    assert_eq!(order.pay_attempts, PAY_ATTEMPTS_MAX);
    assert_eq!((order.inquiries, order.cancel_attempts), (1, 0));
    assert!(order.notifications.is_empty());

    let hub = net.hub.payment(&order.payment_request_id).unwrap();
    assert_eq!(
        hub.pay_forwards, PAY_ATTEMPTS_MAX,
        "every re-send reached the MPP"
    );
    assert_eq!(hub.forward, Forward::Answered);
    assert_eq!(hub.notifications_forwarded, 0);
    let mpp = net.mpp_inquiry(&order).await;
    assert_eq!(result(&mpp, "paymentResult"), pair("S", "SUCCESS"), "{mpp}");
    // Four pays, one debit.
    net.assert_balance(BALANCE - 1000).await;
}

/// The MPP is slow: pay answers U `PAYMENT_IN_PROCESS`, inquiries answer U while the MPP works,
/// then S.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_mpp_answers_u_then_s() {
    let net = Net::start().await;
    net.faults(&["pay=slow:800", "notify=drop"]);
    let started = Instant::now();
    let order = net.pay(amount("JPY", 100), Duration::from_secs(10)).await;
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(order.state, OrderState::Succeeded, "{order:?}");
    assert_eq!(order.resolved_by, Some(Source::Inquiry));
    assert_eq!(order.pay_attempts, 1);
    assert!(order.inquiries >= 3, "U at least twice before S: {order:?}");
    assert_eq!(order.cancel_attempts, 0);
    let hub = net.hub.payment(&order.payment_request_id).unwrap();
    assert_eq!((hub.pay_forwards, hub.forward), (1, Forward::Answered));
    let mpp = net.mpp_inquiry(&order).await;
    assert_eq!(result(&mpp, "paymentResult"), pair("S", "SUCCESS"), "{mpp}");
    net.assert_balance(BALANCE - 1000).await;
}

/// Nothing resolves: pay always U (the MPP did take the money), inquiries always in process,
/// notifications lost. At expiry the acquirer cancels; the first two cancels get U, the third
/// S; the MPP gives the money back and answers F `ORDER_IS_CLOSED` from then on.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_never_resolved_is_cancelled_and_the_money_returns() {
    let net = Net::start().await;
    net.faults(&[
        "pay=u:UNKNOWN_EXCEPTION",
        "inquiry=u:PAYMENT_IN_PROCESS",
        "cancel=u:UNKNOWN_EXCEPTION*2",
        "notify=drop",
    ]);
    let started = Instant::now();
    let order = net.pay(amount("KRW", 2000), Duration::from_secs(3)).await;
    assert_eq!(order.state, OrderState::Cancelled, "{order:?}");
    assert_eq!(order.result_code.as_deref(), Some("ORDER_IS_CLOSED"));
    assert_eq!(order.resolved_by, Some(Source::Cancel));
    assert_eq!(order.pay_attempts, PAY_ATTEMPTS_MAX);
    assert!(order.inquiries >= 1, "{order:?}");
    assert_eq!(order.cancel_attempts, 3);
    assert!(Utc::now() >= order.expires_at, "cancelled before expiry");
    assert!(started.elapsed() < Duration::from_secs(10));

    let hub = net.hub.payment(&order.payment_request_id).unwrap();
    assert!(hub.closed);
    assert_eq!(
        hub.mpp_result.as_ref().map(|r| r.result_code.as_str()),
        Some("SUCCESS"),
        "the MPP had taken the money"
    );

    let mpp = net.mpp_inquiry(&order).await;
    assert_eq!(result(&mpp, "result"), pair("S", "SUCCESS"), "{mpp}");
    assert_eq!(
        result(&mpp, "paymentResult"),
        pair("F", "ORDER_IS_CLOSED"),
        "{mpp}"
    );
    net.faults(&[]);
    match net
        .acquirer
        .inquire(&order.payment_request_id)
        .await
        .unwrap()
    {
        Reply::Answer(a) => assert_eq!(a.payment_result.unwrap().result_code, "ORDER_IS_CLOSED"),
        Reply::NoAnswer(why) => panic!("no answer: {why}"),
    }
    // A late re-send of the same pay takes nothing.
    let resent = net.acquirer.gateway.pay(&order.request_body).await;
    match resent {
        Reply::Answer(a) => assert_eq!(a.result.result_code, "ORDER_IS_CLOSED"),
        Reply::NoAnswer(why) => panic!("no answer: {why}"),
    }
    net.assert_balance(BALANCE).await;
}

/// Pay and inquiry never tell; the MPP's notification, relayed by the hub, settles the order
/// long before expiry. A repeated notification agrees; the webhook refuses forgeries and
/// strangers, and records a contradiction with what inquiry then says.
#[tokio::test(flavor = "multi_thread")]
async fn the_notification_settles_a_pending_order_and_the_webhook_checks_what_it_is_told() {
    let net = Net::start().await;
    net.faults(&["pay=u:PAYMENT_IN_PROCESS", "inquiry=u:PAYMENT_IN_PROCESS"]);
    let started = Instant::now();
    let order = net.pay(amount("JPY", 100), Duration::from_secs(10)).await;
    assert_eq!(order.state, OrderState::Succeeded, "{order:?}");
    assert_eq!(order.resolved_by, Some(Source::Notify));
    assert_eq!(order.cancel_attempts, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The hub counts a notification as forwarded once the acquirer's acknowledgement is back.
    let hub = net
        .hub_when(&order.payment_request_id, |p| {
            p.notifications_forwarded == 1
        })
        .await;
    assert_eq!(hub.notifications_received, 1);

    let dir = net.mpp.state_dir.path();
    let key =
        |name: &str| load_private_key(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    let public =
        |name: &str| load_public_key(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();

    // The MPP sends it again (as after a lost acknowledgement): relayed, acknowledged, agrees.
    let as_mpp = SignedClient::new(
        net.hub.url(),
        MPP_CLIENT,
        Arc::new(LocalSigner::new(key("mpp/private_key.pem"), 1)),
        Some(public("alipay/public_key.pem")),
        Duration::from_secs(2),
    )
    .unwrap();
    let again = json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": hub.mpp_payment_request_id,
        "paymentAmount": {"currency": "JPY", "value": "100"},
        "payToAmount": {"currency": "KRW", "value": "1000"},
        "customerId": CUSTOMER,
    });
    let answer = as_mpp
        .call(
            &format!("{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}"),
            &serde_json::to_vec(&again).unwrap(),
        )
        .await
        .unwrap();
    answer.signature.as_ref().unwrap();
    assert_eq!(
        result(&answer.json().unwrap(), "result"),
        pair("S", "SUCCESS")
    );
    let twice = net
        .order_when(&order.payment_request_id, |o| o.notifications.len() == 2)
        .await;
    net.hub_when(&order.payment_request_id, |p| {
        p.notifications_forwarded == 2
    })
    .await;
    assert_eq!(twice.state, OrderState::Succeeded);
    assert!(twice.remarks.is_empty(), "{:?}", twice.remarks);

    // Straight at the webhook, signed as Alipay+.
    let webhook_path = format!("{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}");
    let as_alipay = SignedClient::new(
        net.webhook.url(),
        ACQP_CLIENT,
        Arc::new(LocalSigner::new(key("alipay/private_key.pem"), 1)),
        Some(acquirer_key().to_public_key()),
        Duration::from_secs(2),
    )
    .unwrap();
    let notify = |id: &str, status: &str, code: &str, value: &str| {
        serde_json::to_vec(&json!({
            "paymentResult": {"resultCode": code, "resultStatus": status},
            "paymentRequestId": id,
            "paymentAmount": {"currency": "JPY", "value": value},
        }))
        .unwrap()
    };
    let ack = |r: mpp_client::SignedResponse| {
        r.signature.as_ref().expect("the acknowledgement is signed");
        result(&r.json().unwrap(), "result")
    };
    let stranger = as_alipay
        .call(&webhook_path, &notify("acq-unknown", "S", "SUCCESS", "100"))
        .await
        .unwrap();
    assert_eq!(ack(stranger), pair("F", "ORDER_NOT_EXIST"));
    let wrong_amount = as_alipay
        .call(
            &webhook_path,
            &notify(&order.payment_request_id, "S", "SUCCESS", "101"),
        )
        .await
        .unwrap();
    assert_eq!(ack(wrong_amount), pair("F", "PARAM_ILLEGAL"));
    // A forgery: signed by the acquirer's own key, not Alipay+'s.
    let forger = SignedClient::new(
        net.webhook.url(),
        ACQP_CLIENT,
        Arc::new(LocalSigner::new(acquirer_key().clone(), 1)),
        Some(acquirer_key().to_public_key()),
        Duration::from_secs(2),
    )
    .unwrap();
    let forged = forger
        .call(
            &webhook_path,
            &notify(&order.payment_request_id, "F", "PROCESS_FAIL", "100"),
        )
        .await
        .unwrap();
    assert_eq!(ack(forged), pair("F", "INVALID_SIGNATURE"));
    // A genuine contradiction: acknowledged, kept as a conflict, and inquiry's word recorded.
    net.faults(&[]);
    let contradiction = as_alipay
        .call(
            &webhook_path,
            &notify(&order.payment_request_id, "F", "PROCESS_FAIL", "100"),
        )
        .await
        .unwrap();
    assert_eq!(ack(contradiction), pair("S", "SUCCESS"));
    let reconciled = net
        .order_when(&order.payment_request_id, |o| {
            o.remarks.iter().any(|r| r.starts_with("inquiry:"))
        })
        .await;
    assert_eq!(
        reconciled.state,
        OrderState::Succeeded,
        "the first final result stays"
    );
    assert!(
        reconciled.remarks.iter().any(|r| r.contains("amount")),
        "{:?}",
        reconciled.remarks
    );
    assert!(
        reconciled
            .remarks
            .iter()
            .any(|r| r.contains("PROCESS_FAIL")),
        "{:?}",
        reconciled.remarks
    );
    let inquiry_line = reconciled
        .remarks
        .iter()
        .find(|r| r.starts_with("inquiry:"))
        .unwrap();
    assert!(
        inquiry_line.contains("paymentResult S SUCCESS"),
        "{inquiry_line}"
    );

    net.assert_balance(BALANCE - 1000).await;
}
