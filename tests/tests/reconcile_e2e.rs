//! Reconciliation on one machine, every party a real process on loopback: `mpp serve` (the
//! MPP, on memory or on DynamoDB Local), `mpp hub --clearing-dir` (Alipay+), and the acquirer's
//! pays, a refund and a cancel sent to the hub signed with the acquirer's key. The hub writes
//! the day's clearing file on `POST /hub/clearing?day=`; `mpp reconcile` finds it balanced
//! against the MPP's ledger (through `mpp serve`'s `/dev/clearing`, or the DynamoDB day
//! indexes); then the file is changed (a payment missing on each side, an amount changed, a
//! refund only on each side, a wrong summary) and each change is reported, with exit status 1.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use mpp_acquirer::driver::build_request;
use mpp_acquirer::gateway::{CANCEL_PATH, DEFAULT_PATH_PREFIX, PAY_PATH};
use mpp_acquirer::hub::clearing::{CLEARING_PATH, REFUND_PATH};
use mpp_acquirer::{Merchant, Sale};
use mpp_client::SignedClient;
use mpp_core::money::{Currency, MinorUnit, Money};
use mpp_core::reconcile::clearing::{summarise, ClearingReader, ClearingWriter};
use mpp_core::reconcile::{ClearingDay, Transaction, TransactionType};
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
use mpp_core::wire::{to_body, Amount};
use mpp_e2e::process::{dynamodb_endpoint, run_mpp, HubProcess, Server};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const CUSTOMER: &str = "2160000000000001";
/// Payment codes in the seed (single-use).
const CODES: u32 = 4;

fn code(n: u32) -> String {
    format!("2810060200000000{n:02}")
}

fn seed_file(dir: &Path) -> String {
    let codes: Vec<Value> = (0..CODES)
        .map(|n| json!({"code": code(n), "customerId": CUSTOMER, "expiresAt": "2030-01-01T00:00:00+08:00"}))
        .collect();
    let seed = json!({
        "accounts": [{
            "customerId": CUSTOMER, "status": "NORMAL", "kyc": "PASSED",
            "balances": {"KRW": "100000"}
        }],
        "paymentCodes": codes,
    });
    let path = dir.join("seed.json");
    std::fs::write(&path, serde_json::to_vec(&seed).unwrap()).unwrap();
    path.display().to_string()
}

/// The acquirer: signs with the key `mpp hub` made in the state directory.
fn acquirer(state: &Path, hub: &HubProcess) -> SignedClient {
    let read = |name: &str| std::fs::read_to_string(state.join(name)).unwrap();
    SignedClient::new(
        &hub.url,
        "TEST_ACQP_CLIENT",
        Arc::new(LocalSigner::new(
            load_private_key(&read("acquirer/private_key.pem")).unwrap(),
            1,
        )),
        Some(load_public_key(&read("alipay/public_key.pem")).unwrap()),
        Duration::from_secs(10),
    )
    .unwrap()
}

async fn call(client: &SignedClient, route: &str, body: &[u8]) -> Value {
    let answer = client
        .call(&format!("{DEFAULT_PATH_PREFIX}{route}"), body)
        .await
        .unwrap();
    answer.signature.as_ref().unwrap();
    answer.json().unwrap()
}

fn jpy(value: u64) -> Amount {
    Amount {
        currency: Currency::from_code("JPY").unwrap(),
        value: MinorUnit(value),
    }
}

/// The acquirer's pay of `yen` JPY with code `n` (the hub converts at JPY/KRW 10).
async fn pay(client: &SignedClient, id: &str, n: u32, yen: u64) {
    let now = Utc::now();
    let sale = Sale {
        code: code(n),
        amount: jpy(yen),
        order: Merchant::sample()
            .order(&format!("order-{id}"), "goods", jpy(yen), now)
            .unwrap(),
        expiry: None,
        notify_url: None,
        settlement_currency: None,
    };
    let req = build_request(id, &code(n), &sale, now + chrono::Duration::seconds(50)).unwrap();
    let answer = call(client, PAY_PATH, &to_body(&req)).await;
    assert_eq!(answer["result"]["resultCode"], "SUCCESS", "{answer}");
}

/// What `mpp reconcile` said: exit status, stdout, and the report's lines.
struct Outcome {
    rc: i32,
    stdout: String,
    lines: Vec<Value>,
}

impl Outcome {
    /// `(discrepancy, type, id)` of every discrepancy line, sorted.
    fn found(&self) -> Vec<(String, String, String)> {
        let mut v: Vec<(String, String, String)> = self
            .lines
            .iter()
            .filter_map(|l| {
                let kind = l["discrepancy"].as_str()?;
                let side = if l["file"].is_object() {
                    &l["file"]
                } else {
                    &l["ledger"]
                };
                Some((
                    kind.to_string(),
                    side["transactionType"].as_str().unwrap_or("").to_string(),
                    l["id"].as_str().unwrap_or("").to_string(),
                ))
            })
            .collect();
        v.sort();
        v
    }

    fn summary(&self) -> &Value {
        &self.lines.last().unwrap()["summary"]
    }
}

fn reconcile(file: &Path, ledger: &[&str]) -> Outcome {
    let out = file.with_extension("report.jsonl");
    let (file_s, out_s) = (file.display().to_string(), out.display().to_string());
    let mut args = vec!["reconcile", "--file", &file_s, "--out", &out_s];
    args.extend_from_slice(ledger);
    let (rc, stdout, stderr) = run_mpp(&args);
    let lines = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Outcome {
        rc,
        stdout: format!("{stdout}{stderr}"),
        lines,
    }
}

fn read_rows(file: &Path) -> Vec<Transaction> {
    let bytes = std::fs::read(file).unwrap();
    let reader = ClearingReader::open(bytes.as_slice()).unwrap();
    reader.map(Result::unwrap).collect()
}

/// Writes `rows` as a clearing file named like `like` in `dir`, with a summary that adds up
/// (or `net_amount` when given).
fn write_rows(dir: &Path, like: &Path, rows: &[Transaction], net_amount: Option<i128>) -> PathBuf {
    let path = dir.join(like.file_name().unwrap());
    let krw = Currency::from_code("KRW").unwrap();
    let mut summary = summarise(krw, ClearingDay::of(Utc::now()), rows);
    if let Some(net) = net_amount {
        summary.net_amount = net;
    }
    let mut w = ClearingWriter::start(Vec::new(), &summary).unwrap();
    for r in rows {
        w.row(r).unwrap();
    }
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    path
}

fn won(v: u64) -> Money {
    Money {
        currency: Currency::from_code("KRW").unwrap(),
        value: MinorUnit(v),
    }
}

/// The whole round trip against a running `mpp serve`; `ledger` is how `mpp reconcile` reads
/// its ledger.
async fn round_trip(server: &Server, ledger: &[&str]) {
    let state = server.state_dir.path();
    let clearing = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(
        state,
        &[
            "--mpp",
            &format!("28={}", server.url),
            "--clearing-dir",
            clearing.path().to_str().unwrap(),
        ],
    );
    let acq = acquirer(state, &hub);
    let run = Utc::now().timestamp_millis();
    let id = |n: u32| format!("ACQ{run}{n}");
    // Four payments of 100, 200, 300, 400 JPY (1 000 ... 4 000 KRW).
    for n in 0..CODES {
        pay(&acq, &id(n), n, 100 * u64::from(n + 1)).await;
    }
    // Refund 30 JPY (300 KRW) of the first; cancel the second.
    let refund = json!({
        "paymentRequestId": id(0), "refundRequestId": format!("REF{run}"),
        "refundAmount": {"currency": "JPY", "value": "30"}
    });
    let answer = call(&acq, REFUND_PATH, &serde_json::to_vec(&refund).unwrap()).await;
    assert_eq!(answer["result"]["resultCode"], "SUCCESS", "{answer}");
    let cancel = json!({"paymentRequestId": id(1)});
    let answer = call(&acq, CANCEL_PATH, &serde_json::to_vec(&cancel).unwrap()).await;
    assert_eq!(answer["result"]["resultCode"], "SUCCESS", "{answer}");

    // The hub writes today's file now, where and as Alipay+ names it.
    let day = ClearingDay::of(Utc::now());
    let http = mpp_client::http_client(Duration::from_secs(10)).unwrap();
    let written = http
        .post(format!("{}{CLEARING_PATH}?day={day}", hub.url))
        .send()
        .await
        .unwrap();
    assert!(written.status().is_success());
    let file = PathBuf::from(written.text().await.unwrap().trim());
    let name = file.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("transactionItems_")
            && name.contains("_KRW_")
            && name.ends_with("_000.csv"),
        "{name}"
    );
    assert!(
        file.starts_with(clearing.path().join("clearing")),
        "{}",
        file.display()
    );

    // Clean: three payments (1 000, 3 000, 4 000 KRW) and the refund (300), net 7 700.
    let clean = reconcile(&file, ledger);
    assert_eq!(clean.rc, 0, "{}", clean.stdout);
    assert!(clean.stdout.contains("BALANCED"), "{}", clean.stdout);
    let s = clean.summary();
    assert_eq!(s["balanced"], true);
    assert_eq!(s["matched"], json!({"count": 4, "amount": "7700"}), "{s}");
    assert_eq!(s["file"], s["ledger"]);
    assert!(clean.found().is_empty(), "{:?}", clean.found());

    // Planted: payment 0 missing from the file, one payment and one refund only in the file,
    // payment 2's amount changed, the refund missing from the file.
    // The hub names payments to the MPP by its own ids: find them by amount.
    let rows = read_rows(&file);
    assert_eq!(rows.len(), 4);
    let payment_of = |krw: u64| {
        rows.iter()
            .find(|t| {
                t.transaction_type == TransactionType::Payment && t.settlement_amount == won(krw)
            })
            .unwrap()
            .id()
            .to_string()
    };
    let (first, third) = (payment_of(1_000), payment_of(3_000));
    let mut planted: Vec<Transaction> = rows
        .iter()
        .filter(|t| t.id() != first && t.transaction_type != TransactionType::Refund)
        .cloned()
        .collect();
    for t in planted.iter_mut() {
        if t.id() == third {
            t.settlement_amount = won(3_001);
        }
    }
    let stranger = Transaction {
        transaction_type: TransactionType::Payment,
        payment_request_id: format!("NOT-OURS-{run}"),
        payment_id: None,
        refund_request_id: None,
        refund_id: None,
        transaction_time: None,
        transaction_amount: None,
        settlement_amount: won(5_000),
    };
    let stray_refund = Transaction {
        transaction_type: TransactionType::Refund,
        refund_request_id: Some(format!("REF-NOT-OURS-{run}")),
        settlement_amount: won(100),
        ..stranger.clone()
    };
    planted.push(stranger);
    planted.push(stray_refund);
    planted.reverse(); // Alipay+ promises no order.
    let dir = tempfile::tempdir().unwrap();
    let changed = write_rows(dir.path(), &file, &planted, None);
    let out = reconcile(&changed, ledger);
    assert_eq!(out.rc, 1, "{}", out.stdout);
    assert!(out.stdout.contains("DISCREPANCIES"), "{}", out.stdout);
    let pay = "PAYMENT".to_string();
    let rf = "REFUND".to_string();
    let mut want = vec![
        ("AMOUNT_MISMATCH".to_string(), pay.clone(), third),
        (
            "ONLY_IN_FILE".to_string(),
            pay.clone(),
            format!("NOT-OURS-{run}"),
        ),
        (
            "ONLY_IN_FILE".to_string(),
            rf.clone(),
            format!("REF-NOT-OURS-{run}"),
        ),
        ("ONLY_IN_LEDGER".to_string(), pay, first),
        ("ONLY_IN_LEDGER".to_string(), rf, format!("REF{run}")),
    ];
    want.sort();
    assert_eq!(out.found(), want);
    assert_eq!(out.summary()["balanced"], false);
    assert_eq!(out.summary()["matched"]["count"], 1);

    // A summary that does not add up is a discrepancy of its own.
    let wrong = write_rows(dir.path(), &file, &rows, Some(1));
    let out = reconcile(&wrong, ledger);
    assert_eq!(out.rc, 1, "{}", out.stdout);
    assert_eq!(
        out.found(),
        [(
            "SUMMARY_AMOUNT_MISMATCH".to_string(),
            String::new(),
            String::new()
        )]
    );

    // An empty cycle: the file still comes, with zero totals, and balances.
    let empty = http
        .post(format!("{}{CLEARING_PATH}?day=2020-01-01", hub.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = reconcile(Path::new(empty.trim()), ledger);
    assert_eq!(out.rc, 0, "{}", out.stdout);
    assert_eq!(out.summary()["file"], json!({"count": 0, "amount": "0"}));

    // A file that is not a clearing file: exit 2, no report.
    let junk = dir.path().join("transactionItems_1_KRW_1_A_000.csv");
    std::fs::write(&junk, "hello\n").unwrap();
    let out = reconcile(&junk, ledger);
    assert_eq!(out.rc, 2, "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hubs_file_reconciles_clean_then_each_planted_discrepancy_is_reported() {
    let seed_dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--seed", &seed_file(seed_dir.path())]);
    let url = server.url.clone();
    round_trip(&server, &["--mpp-url", &url]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_on_dynamodb_local_through_the_day_indexes() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let prefix = format!("rec{}", Utc::now().timestamp_millis());
    let seed_dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--seed",
        &seed_file(seed_dir.path()),
        "--dynamodb-endpoint",
        &endpoint,
        "--table-prefix",
        &prefix,
    ]);
    round_trip(
        &server,
        &["--dynamodb-endpoint", &endpoint, "--table-prefix", &prefix],
    )
    .await;
}

#[test]
fn the_dev_ledger_endpoint_answers_loopback_and_refuses_bad_queries() {
    let server = Server::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = mpp_client::http_client(Duration::from_secs(10)).unwrap();
        let get = |q: &str| http.get(format!("{}/dev/clearing?{q}", server.url)).send();
        assert_eq!(
            get("day=2026-11-21&type=PAYMENT").await.unwrap().status(),
            200
        );
        assert_eq!(get("type=PAYMENT").await.unwrap().status(), 400);
        assert_eq!(
            get("day=2026-11-21&type=CHARGE").await.unwrap().status(),
            400
        );
        assert_eq!(
            get("day=2026-11-21&type=REFUND&limit=501")
                .await
                .unwrap()
                .status(),
            400
        );
    });
    // A non-loopback --mpp-url is refused before anything is read.
    let (rc, _, err) = run_mpp(&[
        "reconcile",
        "--file",
        "/nonexistent.csv",
        "--mpp-url",
        "http://example.com",
    ]);
    assert_eq!(rc, 2);
    assert!(err.contains("loopback"), "{err}");
}
