//! A seeded, reproducible random run: several concurrent callers send pay, repeats,
//! evaluations, inquiries, cancels and refunds through the real handlers, over a store that
//! fails before and after writes. Callers behave as Alipay+ does: after a U they re-send the
//! same request. Afterwards: every answer was a signed envelope (the harness checks each), every
//! repeat matched the first final answer, no payment was debited twice, and the ledger equation
//! holds for every wallet.
//!
//! Size and seed: `RELIABILITY_OPS` (default 10 000), `RELIABILITY_SEED` (default 20261122).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::ids::{CustomerId, Secret};
use mpp_core::money::{Currency, MinorUnit};
use mpp_core::payments::PaymentPorts;
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::{AccessToken, Account, AccountStatus, KycStatus, Ports};
use mpp_e2e::faults::{FaultRates, Faulty};
use mpp_e2e::harness::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Concurrent callers (each with its own wallet and ids, so its expectations are exact).
const CALLERS: u64 = 8;
/// How often Alipay+ re-sends one request after U before the test calls it lost.
const RESENDS_MAX: u32 = 25;
/// Each caller's opening balance.
const OPENING_KRW: u64 = 200_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Debug)]
struct Paid {
    amount: u64,
    /// The first final answer: (code, paymentId).
    first: (String, Option<String>),
    cancelled: bool,
    refunded: u64,
}

#[derive(Default)]
struct Tally {
    ops: u64,
    resends: u64,
    by_kind: BTreeMap<&'static str, u64>,
}

/// Sends until the answer is not U (Alipay+'s behaviour), bounded.
async fn until_final<F, Fut>(tally: &mut Tally, mut send: F) -> Answer
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    for _ in 0..RESENDS_MAX {
        let a = send().await;
        if a.status_letter() != "U" {
            return a;
        }
        tally.resends += 1;
    }
    panic!("still U after {RESENDS_MAX} re-sends");
}

async fn caller(m: Arc<Mpp>, k: u64, ops: u64, seed: u64) -> (Tally, HashMap<String, Paid>) {
    let mut rng = StdRng::seed_from_u64(seed ^ (k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let token = format!("RANDOM-TOKEN-{k}");
    let mut paid: HashMap<String, Paid> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    let mut tally = Tally::default();
    let pay_body = |id: &str, amount: u64| {
        let mut v = with_krw(auto_debit(id), amount);
        v["paymentMethod"]["paymentMethodId"] = json!(token.clone());
        v
    };
    for n in 0..ops {
        tally.ops += 1;
        let roll = rng.gen_range(0..100);
        let kind = match roll {
            0..=34 => "pay",
            35..=49 if !ids.is_empty() => "repeat",
            50..=59 => "evaluation",
            60..=74 => "inquiry",
            75..=84 if !ids.is_empty() => "cancel",
            85..=99 if !ids.is_empty() => "refund",
            _ => "pay",
        };
        *tally.by_kind.entry(kind).or_default() += 1;
        match kind {
            "pay" => {
                let id = format!("R{k}-{n}");
                let amount = rng.gen_range(100..2_000u64) * 10;
                let body = pay_body(&id, amount);
                let a = until_final(&mut tally, || m.pay(&body)).await;
                assert!(
                    a.status_letter() == "S" || a.status_letter() == "F",
                    "{}",
                    a.body
                );
                let first = (
                    a.code().to_string(),
                    a.body["paymentId"].as_str().map(str::to_string),
                );
                paid.insert(
                    id.clone(),
                    Paid {
                        amount,
                        first,
                        cancelled: false,
                        refunded: 0,
                    },
                );
                ids.push(id);
            }
            "repeat" => {
                let id = ids[rng.gen_range(0..ids.len())].clone();
                let p = paid[&id].clone();
                let body = pay_body(&id, p.amount);
                let a = until_final(&mut tally, || m.pay(&body)).await;
                if p.cancelled {
                    assert_eq!(a.code(), "ORDER_IS_CLOSED", "{id}: {}", a.body);
                } else {
                    assert_eq!(
                        (a.code(), a.body["paymentId"].as_str()),
                        (p.first.0.as_str(), p.first.1.as_deref()),
                        "{id}: repeat differs from the first answer"
                    );
                }
            }
            "evaluation" => {
                let mut v = with_krw(
                    evaluation(&format!("E{k}-{n}")),
                    rng.gen_range(1..30u64) * 1_000,
                );
                v["paymentMethod"]["paymentMethodId"] = json!(token.clone());
                let a = until_final(&mut tally, || m.evaluate(&v)).await;
                assert!(
                    matches!(a.code(), "SUCCESS" | "USER_BALANCE_NOT_ENOUGH"),
                    "{}",
                    a.body
                );
            }
            "inquiry" => {
                let known = !ids.is_empty() && rng.gen_bool(0.8);
                let id = if known {
                    ids[rng.gen_range(0..ids.len())].clone()
                } else {
                    format!("NEVER-{k}-{n}")
                };
                let a = until_final(&mut tally, || m.inquire(&id)).await;
                match paid.get(&id) {
                    None => assert_eq!(a.code(), "ORDER_NOT_EXIST"),
                    Some(p) => {
                        let expected = if p.cancelled {
                            "ORDER_IS_CLOSED"
                        } else {
                            p.first.0.as_str()
                        };
                        assert_eq!(a.body["paymentResult"]["resultCode"], expected, "{id}");
                    }
                }
            }
            "cancel" => {
                let id = ids[rng.gen_range(0..ids.len())].clone();
                let a = until_final(&mut tally, || m.cancel(&id)).await;
                assert_eq!(a.code(), "SUCCESS", "{}", a.body);
                if let Some(p) = paid.get_mut(&id) {
                    p.cancelled = true;
                }
            }
            "refund" => {
                let id = ids[rng.gen_range(0..ids.len())].clone();
                let p = paid[&id].clone();
                let amount = rng.gen_range(1..=5u64) * 500;
                let rid = format!("RF{k}-{n}");
                let body = refund_body(&id, &rid, amount);
                let a = until_final(&mut tally, || m.refund(&body)).await;
                let expected = if p.first.0 != "SUCCESS" || p.cancelled {
                    "ORDER_STATUS_INVALID"
                } else if p.refunded + amount > p.amount {
                    "REFUND_AMOUNT_EXCEED"
                } else {
                    "SUCCESS"
                };
                assert_eq!(a.code(), expected, "{id} refund {amount}: {}", a.body);
                if expected == "SUCCESS" {
                    paid.get_mut(&id).unwrap().refunded += amount;
                    // The repeat of a refund answers the same.
                    let again = until_final(&mut tally, || m.refund(&body)).await;
                    assert_eq!(again.body["refundId"], a.body["refundId"]);
                }
            }
            other => unreachable!("{other}"),
        }
    }
    (tally, paid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_operations_under_faults_keep_every_invariant() {
    let ops_total = env_u64("RELIABILITY_OPS", 10_000);
    let seed = env_u64("RELIABILITY_SEED", 20_261_122);
    let inner = Arc::new(MemoryStore::new());
    let rates = FaultRates {
        throttle_per_mille: 20,
        error_per_mille: 20,
        lost_answer_per_mille: 30,
    };
    let faulty = Arc::new(Faulty::new(inner.clone(), rates, seed));
    // Faults on every payment port the operations below drive (they drive no other area). Named
    // one by one, so a payment port added later needs no faulty twin until this driver calls it;
    // until then it stays plain here and meets faults through the DynamoDB fault proxy.
    #[allow(clippy::needless_update)]
    let payments = PaymentPorts {
        pay: faulty.clone(),
        wallet: faulty.clone(),
        inquiry_payment: faulty.clone(),
        cancel_payment: faulty.clone(),
        refund: faulty.clone(),
        ..PaymentPorts::of(inner.clone())
    };
    let faulted = Ports {
        payments,
        admin: faulty.clone(),
        deliveries: faulty.clone(),
        ..Ports::of(inner.clone())
    };
    let mut m = Mpp::on(faulted, Default::default()).await;
    // The handlers keep the faulty ports; the test's own reads and checks go straight to the store.
    m.ports = Ports::of(inner.clone());
    let krw = Currency::from_code("KRW").unwrap();
    for k in 0..CALLERS {
        let customer = CustomerId::new(format!("21699000000000{k:02}"));
        let account = Account {
            customer_id: customer.clone(),
            status: AccountStatus::Normal,
            kyc: KycStatus::Passed,
            balances: [(krw, MinorUnit(OPENING_KRW))].into(),
            limits: BTreeMap::new(),
            usage: BTreeMap::new(),
            nfc_enabled: false,
        };
        m.ports
            .admin
            .create_account(&account, start_time())
            .await
            .unwrap();
        let token = AccessToken {
            token_hash: Secret::new(format!("RANDOM-TOKEN-{k}")).hash(),
            customer_id: customer,
            scopes: vec!["AGREEMENT_PAY".into()],
            expires_at: start_time() + chrono::Duration::days(365),
            revoked: false,
        };
        m.ports.admin.put_token(&token).await.unwrap();
    }
    let m = Arc::new(m);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for k in 0..CALLERS {
        tasks.push(tokio::spawn(caller(
            m.clone(),
            k,
            ops_total / CALLERS,
            seed,
        )));
    }
    let mut totals = Tally::default();
    for (k, t) in tasks.into_iter().enumerate() {
        let (tally, paid) = t.await.unwrap();
        totals.ops += tally.ops;
        totals.resends += tally.resends;
        for (kind, n) in tally.by_kind {
            *totals.by_kind.entry(kind).or_default() += n;
        }
        // The wallet holds exactly what the answers say it should.
        let expected: u64 = OPENING_KRW
            - paid
                .values()
                .filter(|p| p.first.0 == "SUCCESS" && !p.cancelled)
                .map(|p| p.amount - p.refunded)
                .sum::<u64>();
        let customer = format!("21699000000000{k:02}");
        assert_eq!(
            m.balance(&customer, "KRW").await,
            expected,
            "wallet {customer}"
        );
        // No payment was debited twice: one DEBIT entry per succeeded payment.
        let ledger = m
            .ports
            .admin
            .ledger(&CustomerId::new(customer.clone()))
            .await
            .unwrap();
        let mut debits: HashMap<String, u32> = HashMap::new();
        for e in ledger
            .iter()
            .filter(|e| e.kind == mpp_core::store::EntryKind::Debit)
        {
            *debits
                .entry(e.payment_request_id.clone().unwrap())
                .or_default() += 1;
        }
        assert!(debits.values().all(|&n| n == 1));
        assert_eq!(
            debits.len(),
            paid.values().filter(|p| p.first.0 == "SUCCESS").count()
        );
    }
    m.assert_ledger_balances().await;
    let c = &faulty.counts;
    let report: Value = json!({
        "ops": totals.ops, "resends_after_u": totals.resends, "by_kind": totals.by_kind,
        "store_calls": c.calls.load(Ordering::Relaxed),
        "faults_before_write": c.before.load(Ordering::Relaxed),
        "faults_after_write": c.after.load(Ordering::Relaxed),
        "seconds": started.elapsed().as_secs_f64(), "seed": seed,
    });
    println!("random run: {report}");
    assert!(totals.ops >= ops_total - CALLERS);
    assert!(
        c.after.load(Ordering::Relaxed) > 0 && c.before.load(Ordering::Relaxed) > 0,
        "faults were injected"
    );
}
