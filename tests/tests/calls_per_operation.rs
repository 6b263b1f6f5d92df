//! DynamoDB requests and signer calls per Alipay+ operation, measured through the real function
//! handlers (signed API Gateway events in, signed envelopes out) on a `DynamoStore` against
//! DynamoDB Local, with the SDK's `CallCounter` and a counting `Signer` around the MPP's key.
//!
//! Design targets asserted: a new payment in at most 2 store calls and 1 signer call, a repeat in
//! at most 1 store call; a refund and a cancel in at most 2 (one read, one write), their repeats
//! in 1; and no operation signs more than once (with `SIGNER=kms` each signer
//! call is one KMS `Sign`; with `kms-envelope` it is local, after one `Decrypt` per cold start).
//! Every other row is printed for `BENCHMARKS.md`. Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test calls_per_operation -- --nocapture`.

use async_trait::async_trait;
use mpp_aws::dynamo::CallCounter;
use mpp_core::payments::Policy;
use mpp_core::signature::{LocalSigner, Signer, SignerError};
use mpp_core::store::Ports;
use mpp_e2e::harness::{
    auto_debit, evaluation, keys, nfc, refund_body, user_presented, with_krw, Answer, Mpp, CODE,
    TOKEN,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod dynamodb_local;

/// Counts signatures, then signs with the MPP's test key (so the harness still verifies).
struct CountingSigner {
    inner: Arc<LocalSigner>,
    calls: AtomicU64,
}

#[async_trait]
impl Signer for CountingSigner {
    fn key_version(&self) -> u32 {
        self.inner.key_version()
    }

    async fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.sign(content).await
    }
}

/// One measured operation.
struct Row {
    operation: &'static str,
    code: String,
    store_calls: u64,
    by_operation: BTreeMap<String, u64>,
    signer_calls: u64,
    target: &'static str,
}

/// Counts what `op` costs.
struct Meter {
    store: CallCounter,
    signer: Arc<CountingSigner>,
    rows: Vec<Row>,
}

impl Meter {
    async fn measure<F>(&mut self, operation: &'static str, target: &'static str, op: F) -> Answer
    where
        F: Future<Output = Answer>,
    {
        self.store.reset();
        self.signer.calls.store(0, Ordering::SeqCst);
        let answer = op.await;
        self.rows.push(Row {
            operation,
            code: answer.code().to_string(),
            store_calls: self.store.total(),
            by_operation: self.store.snapshot(),
            signer_calls: self.signer.calls.load(Ordering::SeqCst),
            target,
        });
        answer
    }

    fn row(&self, operation: &str) -> &Row {
        match self.rows.iter().find(|r| r.operation == operation) {
            Some(r) => r,
            None => panic!("{operation} was not measured"),
        }
    }

    fn print(&self) {
        println!(
            "\n| operation | answer | DynamoDB calls | by DynamoDB operation | signer calls | target |"
        );
        println!("| --- | --- | ---: | --- | ---: | --- |");
        for r in &self.rows {
            let by: Vec<String> = r
                .by_operation
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.operation,
                r.code,
                r.store_calls,
                by.join(", "),
                r.signer_calls,
                r.target
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_per_operation_meet_the_design_targets() {
    let Some((store, calls)) = dynamodb_local::store().await else {
        return;
    };
    let mut m = Mpp::on(Ports::of(Arc::new(store)), Policy::default()).await;
    let signer = Arc::new(CountingSigner {
        inner: keys().mpp.clone(),
        calls: AtomicU64::new(0),
    });
    let dyn_signer: Arc<dyn Signer> = signer.clone();
    m.pay.edge.signer = dyn_signer.clone();
    m.evaluation.edge.signer = dyn_signer.clone();
    m.inquiry.edge.signer = dyn_signer.clone();
    m.cancel.edge.signer = dyn_signer.clone();
    m.refund.edge.signer = dyn_signer.clone();
    m.send_otp.edge.signer = dyn_signer.clone();
    m.verify_otp.edge.signer = dyn_signer;
    let mut meter = Meter {
        store: calls,
        signer,
        rows: Vec::new(),
    };

    let new = "new payment (token)";
    let repeat = "repeat";
    let a = meter
        .measure(new, "≤ 2 store, ≤ 1 signer", m.pay(&auto_debit("CPO-1")))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure(repeat, "≤ 1 store", m.pay(&auto_debit("CPO-1")))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure(
            "new payment (payment code)",
            "",
            m.pay(&user_presented("CPO-C", CODE, 1_000)),
        )
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("new payment (NFC)", "", m.pay(&nfc("CPO-N")))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let over = with_krw(auto_debit("CPO-OVER"), 40_000);
    let a = meter
        .measure("declined payment (over balance)", "", m.pay(&over))
        .await;
    assert_eq!(a.code(), "USER_BALANCE_NOT_ENOUGH");
    let a = meter.measure("repeat of a decline", "", m.pay(&over)).await;
    assert_eq!(a.code(), "USER_BALANCE_NOT_ENOUGH");
    let a = meter
        .measure("evaluation", "", m.evaluate(&evaluation("CPO-E")))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter.measure("inquiry", "", m.inquire("CPO-1")).await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("inquiry (unknown id)", "", m.inquire("CPO-NONE"))
        .await;
    assert_eq!(a.code(), "ORDER_NOT_EXIST");
    let paid = m.pay(&auto_debit("CPO-2")).await;
    assert_eq!(paid.code(), "SUCCESS");
    let refund = refund_body("CPO-2", "CPO-2-R", 500);
    let a = meter
        .measure("refund", "≤ 2 store", m.refund(&refund))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("refund (repeat)", "≤ 1 store", m.refund(&refund))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("cancel (of a success)", "≤ 2 store", m.cancel("CPO-1"))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("cancel (repeat)", "≤ 1 store", m.cancel("CPO-1"))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("cancel (of a decline)", "≤ 2 store", m.cancel("CPO-OVER"))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("cancel (unknown id)", "≤ 2 store", m.cancel("CPO-NONE"))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure("sendOTP", "≤ 3 store", m.send_otp(TOKEN, None))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let id = a.body["verifyRequestId"].as_str().unwrap().to_string();
    let code = m.last_otp_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let a = meter
        .measure(
            "verifyOTP (wrong code)",
            "≤ 2 store",
            m.verify_otp(TOKEN, &id, wrong),
        )
        .await;
    assert_eq!(a.code(), "USER_PAYMENT_VERIFICATION_FAILED");
    let a = meter
        .measure("verifyOTP", "≤ 2 store", m.verify_otp(TOKEN, &id, &code))
        .await;
    assert_eq!(a.code(), "SUCCESS");
    let a = meter
        .measure(
            "verifyOTP (used)",
            "≤ 1 store",
            m.verify_otp(TOKEN, &id, &code),
        )
        .await;
    assert_eq!(a.code(), "INVALID_CODE");
    meter.print();

    let r = meter.row(new);
    assert!(
        r.store_calls <= 2,
        "a new payment took {} store calls: {:?}",
        r.store_calls,
        r.by_operation
    );
    assert!(
        r.signer_calls <= 1,
        "a new payment took {} signer calls",
        r.signer_calls
    );
    let r = meter.row(repeat);
    assert!(
        r.store_calls <= 1,
        "a repeat took {} store calls: {:?}",
        r.store_calls,
        r.by_operation
    );
    for (operation, budget) in [
        ("refund", 2),
        ("refund (repeat)", 1),
        ("cancel (of a success)", 2),
        ("cancel (repeat)", 1),
        ("cancel (of a decline)", 2),
        ("cancel (unknown id)", 2),
        ("sendOTP", 3),
        ("verifyOTP (wrong code)", 2),
        ("verifyOTP", 2),
        ("verifyOTP (used)", 1),
    ] {
        let r = meter.row(operation);
        assert!(
            r.store_calls <= budget,
            "{operation} took {} store calls (budget {budget}): {:?}",
            r.store_calls,
            r.by_operation
        );
    }
    for r in &meter.rows {
        assert!(
            r.signer_calls <= 1,
            "{} signed {} times",
            r.operation,
            r.signer_calls
        );
    }
    m.assert_ledger_balances().await;
}
