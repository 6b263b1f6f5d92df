//! Deadlines: when DynamoDB or KMS stops answering (a proxy on 127.0.0.1 that accepts and never
//! replies, `mpp_e2e::stall`), pay, cancelPayment and refund still answer `U` before their
//! Lambda deadline; once the dependency is back, the same requests succeed, and each moves
//! money exactly once.
//!
//! Run with `bash .ci/dynamodb-local.sh run bash -c 'eval "$(bash .ci/moto.sh start)"; cargo
//! test -p mpp-e2e --test deadlines'` (see `.ci/test.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use base64::Engine as _;
use lambda_http::{Body, Response};
use mpp_aws::kms::{kms_client, KmsSigner};
use mpp_core::signature::{load_public_key, verify_response, RsaPublicKey, Signer};
use mpp_core::store::Ports;
use mpp_e2e::harness::*;
use mpp_e2e::stall::Stall;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(dead_code)] // this file uses only part of the helpers
mod dynamodb_local;

/// The time the test's Lambda invocations have: short, so the test is quick, and long enough
/// for a healthy call on a loaded CI machine.
const LAMBDA_BUDGET: Duration = Duration::from_secs(3);

/// One of the three money-moving operations.
#[derive(Clone, Copy, Debug)]
enum Op {
    Pay,
    Cancel,
    Refund,
}

/// The requests the test sends, each before and after the stall.
fn requests() -> [(Op, &'static str, Value); 3] {
    [
        (Op::Pay, PAY_PATH, with_krw(auto_debit("DL-NEW"), 1_000)),
        (
            Op::Cancel,
            CANCEL_PATH,
            serde_json::json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "paymentRequestId": "DL-CANCEL"}),
        ),
        (
            Op::Refund,
            REFUND_PATH,
            refund_body("DL-REFUND", "DL-REFUND-1", 500),
        ),
    ]
}

/// Sends `body` to `op`'s handler as a Lambda invocation with [`LAMBDA_BUDGET`]; the raw answer
/// and how long it took.
async fn invoke(m: &Mpp, op: Op, path: &str, body: &Value, id: &str) -> (Response<Body>, Duration) {
    let request = m.event(path, &serde_json::to_vec(body).unwrap()).await;
    let request = in_lambda(request, id, LAMBDA_BUDGET);
    let started = Instant::now();
    let response = match op {
        Op::Pay => pay::handle(&m.pay, request).await,
        Op::Cancel => cancel_payment::handle(&m.cancel, request).await,
        Op::Refund => refund::handle(&m.refund, request).await,
    }
    .unwrap();
    (response, started.elapsed())
}

/// The answer's `result` and, when it carries one, whether its signature verifies with `key`.
fn read(path: &str, response: &Response<Body>, key: &RsaPublicKey) -> (Value, Option<bool>) {
    let body = mpp_aws::lambda::body_bytes(response.body()).to_vec();
    let signed = response
        .headers()
        .get("signature")
        .map(|_| verify_response(key, "POST", path, response.headers(), &body).is_ok());
    let json: Value = serde_json::from_slice(&body).unwrap();
    (json, signed)
}

async fn seed_payments(m: &Mpp, key: &RsaPublicKey) {
    for id in ["DL-CANCEL", "DL-REFUND"] {
        let (response, _) =
            invoke(m, Op::Pay, PAY_PATH, &with_krw(auto_debit(id), 1_000), id).await;
        let (json, signed) = read(PAY_PATH, &response, key);
        assert_eq!(json["result"]["resultStatus"], "S", "{json}");
        assert_eq!(signed, Some(true));
    }
}

/// Sends every request while the dependency hangs: each is `U` before the deadline.
async fn all_answer_u_in_time(m: &Mpp, key: &RsaPublicKey, expect_signed: bool) {
    for (op, path, body) in requests() {
        let (response, took) = invoke(m, op, path, &body, &format!("stalled-{op:?}")).await;
        let (json, signed) = read(path, &response, key);
        assert!(took < LAMBDA_BUDGET, "{op:?} answered after {took:?}");
        assert_eq!(response.status(), 200);
        assert_eq!(json["result"]["resultStatus"], "U", "{op:?}: {json}");
        assert_eq!(json["result"]["resultCode"], "UNKNOWN_EXCEPTION", "{op:?}");
        match expect_signed {
            true => assert_eq!(signed, Some(true), "{op:?}: signed U"),
            false => assert_eq!(signed, None, "{op:?}: no signer, no signature"),
        }
        println!("{op:?}: U after {took:?}");
    }
}

/// Sends every request twice once the dependency is back: S both times, the same ids.
async fn all_succeed_once(m: &Mpp, key: &RsaPublicKey, balance_before: u64) {
    for (op, path, body) in requests() {
        let mut ids = Vec::new();
        for round in 0..2 {
            let (response, _) = invoke(m, op, path, &body, &format!("back-{op:?}-{round}")).await;
            let (json, signed) = read(path, &response, key);
            assert_eq!(
                json["result"]["resultStatus"], "S",
                "{op:?} round {round}: {json}"
            );
            assert_eq!(signed, Some(true));
            ids.push(json.get("paymentId").or(json.get("refundId")).cloned());
        }
        assert_eq!(ids[0], ids[1], "{op:?}: a repeat answers the same");
    }
    // One debit of 1000 (the new payment), one reversal of 1000 (the cancel), one credit of 500
    // (the refund): exactly once each.
    assert_eq!(
        m.balance(CUSTOMER, "KRW").await,
        balance_before - 1_000 + 1_000 + 500
    );
    m.assert_ledger_balances().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_that_stops_answering_gets_u_in_time_then_each_resend_applies_once() {
    let Some(upstream) = dynamodb_local::endpoint() else {
        return;
    };
    let stall = Stall::start(&upstream).await;
    let (store, _) = dynamodb_local::store_at(&stall.url).await;
    let m = Mpp::on(Ports::of(Arc::new(store)), Default::default()).await;
    let key = keys().mpp_public.clone();
    seed_payments(&m, &key).await;
    let before = m.balance(CUSTOMER, "KRW").await;

    stall.stall();
    all_answer_u_in_time(&m, &key, true).await;
    assert!(
        stall.swallowed() > 0,
        "the store did call the stalled proxy"
    );

    stall.resume();
    assert_eq!(m.balance(CUSTOMER, "KRW").await, before, "nothing moved");
    all_succeed_once(&m, &key, before).await;
}

/// The moto endpoint (`eval "$(bash .ci/moto.sh start)"`), or `None` (skip) outside CI.
fn moto_endpoint() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("MOTO_ENDPOINT is not set and CI is: start moto with .ci/moto.sh")
        }
        _ => {
            eprintln!("skipped: MOTO_ENDPOINT is not set (eval \"$(bash .ci/moto.sh start)\")");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_that_stops_answering_gets_u_in_time_then_each_resend_applies_once() {
    let Some(moto) = moto_endpoint() else {
        return;
    };
    let direct = kms_client(Some(&moto)).await;
    let created = direct
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    let der = direct
        .get_public_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .public_key()
        .unwrap()
        .as_ref()
        .to_vec();
    let key = load_public_key(&base64::engine::general_purpose::STANDARD.encode(der)).unwrap();

    let stall = Stall::start(&moto).await;
    let signer: Arc<dyn Signer> = Arc::new(KmsSigner::new(
        kms_client(Some(&stall.url)).await,
        key_id,
        1,
    ));
    let mut m = Mpp::memory().await;
    m.pay.edge.signer = signer.clone();
    m.cancel.edge.signer = signer.clone();
    m.refund.edge.signer = signer;
    seed_payments(&m, &key).await;
    let before = m.balance(CUSTOMER, "KRW").await;

    stall.stall();
    // The flows ran and wrote; only the signature could not be had in time: an unsigned U.
    all_answer_u_in_time(&m, &key, false).await;
    assert!(
        stall.swallowed() > 0,
        "the signer did call the stalled proxy"
    );

    stall.resume();
    all_succeed_once(&m, &key, before).await;
}
