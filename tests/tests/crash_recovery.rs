//! Crash recovery: `mpp serve` on DynamoDB Local is killed with SIGKILL in the middle of a load,
//! restarted on the same tables, and every request that got no answer is re-sent (as Alipay+
//! does). Every payment is then settled exactly once and the ledger equation holds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_aws::dynamo::{dynamo_client, DynamoStore, TableNames};
use mpp_core::ids::CustomerId;
use mpp_core::payments::{PaymentReader, PaymentState, WalletReader};
use mpp_core::store::{ledger_mismatches, AdminStore, EntryKind};
use mpp_e2e::harness::{auto_debit, with_krw};
use mpp_e2e::process::{dynamodb_endpoint, Server};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Payments in the load.
const PAYMENTS: usize = 240;
/// Concurrent senders.
const SENDERS: usize = 12;
/// Answers after which the server is killed.
const KILL_AFTER_ANSWERS: usize = 80;
/// Re-sends of one request after the restart before the test gives up on it.
const RESENDS_MAX: usize = 10;
const CUSTOMER: &str = "2169800000000001";
const TOKEN: &str = "CRASH-TOKEN-0001";
const OPENING: u64 = 10_000_000;

fn body(i: usize) -> Value {
    let mut v = with_krw(auto_debit(&format!("CR-{i}")), 10 * (1 + (i as u64 % 7)));
    v["paymentMethod"]["paymentMethodId"] = json!(TOKEN);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_load_and_restarted_every_payment_settles_once() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let prefix = format!("crash-{}", std::process::id());
    let seed_dir = tempfile::tempdir().unwrap();
    let seed = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({"accounts": [{"customerId": CUSTOMER, "balances": {"KRW": OPENING.to_string()}}],
               "tokens": [{"accessToken": TOKEN, "customerId": CUSTOMER, "expiresAt": "2030-01-01T00:00:00+08:00"}]})
        .to_string(),
    )
    .unwrap();
    let args = [
        "--dynamodb-endpoint",
        endpoint.as_str(),
        "--table-prefix",
        prefix.as_str(),
        "--seed",
        seed.to_str().unwrap(),
    ];

    let mut first = Server::start_with_harness_keys(&args);
    let alipay = Arc::new(first.alipay());
    let answers: Arc<Mutex<BTreeMap<usize, Value>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (alipay, answers, next) = (alipay.clone(), answers.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= PAYMENTS {
                    return;
                }
                let bytes = serde_json::to_vec(&body(i)).unwrap();
                // A transport error (the server died) leaves the request unanswered.
                if let Ok(a) = alipay.client.call("/aps/api/v1/payments/pay", &bytes).await {
                    if let Some(json) = a.json() {
                        if a.signature.is_ok() && json["result"]["resultStatus"] != "U" {
                            answers.lock().await.insert(i, json);
                        }
                    }
                }
            }
        }));
    }
    // Kill the server once part of the load is answered (bounded wait).
    for _ in 0..600 {
        if answers.lock().await.len() >= KILL_AFTER_ANSWERS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    first.kill();
    for s in senders {
        s.await.unwrap();
    }
    let answered_before = answers.lock().await.len();
    assert!(
        (KILL_AFTER_ANSWERS..PAYMENTS).contains(&answered_before),
        "killed mid-load: {answered_before} answered"
    );

    let second = Server::start_with_harness_keys(&args);
    let alipay = second.alipay();
    let first_answers = answers.lock().await.clone();
    for i in 0..PAYMENTS {
        let mut settled = None;
        for _ in 0..RESENDS_MAX {
            let a = alipay.call("pay", &body(i)).await;
            if a["result"]["resultStatus"] != "U" {
                settled = Some(a);
                break;
            }
        }
        let a = settled.unwrap_or_else(|| panic!("CR-{i} still unknown"));
        assert_eq!(a["result"]["resultCode"], "SUCCESS", "CR-{i}: {a}");
        if let Some(before) = first_answers.get(&i) {
            assert_eq!(
                &a, before,
                "CR-{i}: the re-send after the restart answers as before"
            );
        }
    }

    // The store itself: one debit per payment, the balance, the ledger equation.
    let store = DynamoStore::new(
        dynamo_client(Some(&endpoint)).await,
        TableNames::with_prefix(&prefix),
    );
    let customer = CustomerId::new(CUSTOMER);
    let ledger = store.ledger(&customer).await.unwrap();
    let debits: Vec<_> = ledger
        .iter()
        .filter(|e| e.kind == EntryKind::Debit)
        .collect();
    assert_eq!(debits.len(), PAYMENTS, "one debit per payment");
    let mut seen = std::collections::BTreeSet::new();
    for d in &debits {
        assert!(
            seen.insert(d.payment_request_id.clone()),
            "debited twice: {:?}",
            d.payment_request_id
        );
    }
    let total: u64 = (0..PAYMENTS).map(|i| 10 * (1 + (i as u64 % 7))).sum();
    let account = store.account(&customer).await.unwrap().unwrap();
    let krw = mpp_core::money::Currency::from_code("KRW").unwrap();
    assert_eq!(account.balances[&krw].get(), OPENING - total);
    assert!(ledger_mismatches(&account, &ledger).is_empty());
    for i in 0..PAYMENTS {
        let p = store.payment(&format!("CR-{i}")).await.unwrap().unwrap();
        assert_eq!(p.state(), PaymentState::Succeeded);
    }
    println!("crash recovery: {PAYMENTS} payments, {answered_before} answered before SIGKILL, {} re-sent after restart", PAYMENTS - answered_before);
}
