//! `mpp serve` as a process, played against as Alipay+ would: signed HTTP both ways, on the
//! memory store and on DynamoDB Local. Also `mpp call` itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_e2e::harness::{auto_debit, evaluation, refund_body, with_krw};
use mpp_e2e::process::{dynamodb_endpoint, mpp_binary, workspace, Alipay, Server};
use mpp_e2e::receiver::{Behaviour, Receiver};
use serde_json::{json, Value};
use std::time::Duration;

fn example(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(workspace().join("examples").join(name)).unwrap())
        .unwrap()
}

fn code(v: &Value) -> &str {
    v["result"]["resultCode"].as_str().unwrap()
}

/// The wallet's KRW balance, seen only through the API: an evaluation of exactly the balance
/// passes, ten more does not.
async fn assert_balance(a: &Alipay, krw: u64) {
    let exact = a.call("pay", &with_krw(evaluation("BAL-PROBE"), krw)).await;
    assert_eq!(code(&exact), "SUCCESS", "balance should be {krw}: {exact}");
    let over = a
        .call("pay", &with_krw(evaluation("BAL-PROBE"), krw + 10))
        .await;
    assert_eq!(
        code(&over),
        "USER_BALANCE_NOT_ENOUGH",
        "balance should be {krw}: {over}"
    );
}

/// The README walk-through and the issue's flows, through the real HTTP surface.
async fn walkthrough(server: &Server) {
    let a = server.alipay();
    // Pay, repeat, beyond the balance, evaluate.
    let first = a.call("pay", &example("pay.json")).await;
    assert_eq!(code(&first), "SUCCESS", "{first}");
    assert_eq!(first["customerId"], "2160000000000001");
    let again = a.call("pay", &example("pay.json")).await;
    assert_eq!(first, again, "a repeat gets the first answer");
    assert_eq!(
        code(&a.call("pay", &example("pay-over-balance.json")).await),
        "USER_BALANCE_NOT_ENOUGH"
    );
    let eval = a.call("pay", &example("evaluation.json")).await;
    assert_eq!(
        eval,
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}})
    );
    assert_eq!(
        code(&a.call("evaluation", &example("evaluation.json")).await),
        "SUCCESS"
    );
    assert_balance(&a, 29_000).await;

    // pay → inquiry S → cancel → inquiry F ORDER_IS_CLOSED → balance restored.
    let id = first_id(&example("pay.json"));
    let inq = a.call("inquiryPayment", &inquiry(&id)).await;
    assert_eq!(inq["paymentResult"]["resultCode"], "SUCCESS");
    assert_eq!(inq["paymentId"], first["paymentId"]);
    assert_eq!(
        code(&a.call("cancelPayment", &inquiry(&id)).await),
        "SUCCESS"
    );
    let inq = a.call("inquiryPayment", &inquiry(&id)).await;
    assert_eq!(
        (
            inq["paymentResult"]["resultStatus"].as_str(),
            inq["paymentResult"]["resultCode"].as_str()
        ),
        (Some("F"), Some("ORDER_IS_CLOSED"))
    );
    assert_balance(&a, 30_000).await;

    // pay → two partial refunds → a third that would exceed is refused.
    assert_eq!(
        code(&a.call("pay", &with_krw(auto_debit("E2E-RF"), 10_000)).await),
        "SUCCESS"
    );
    assert_eq!(
        code(
            &a.call("refund", &refund_body("E2E-RF", "E2E-RF-1", 4_000))
                .await
        ),
        "SUCCESS"
    );
    assert_eq!(
        code(
            &a.call("refund", &refund_body("E2E-RF", "E2E-RF-2", 5_000))
                .await
        ),
        "SUCCESS"
    );
    assert_eq!(
        code(
            &a.call("refund", &refund_body("E2E-RF", "E2E-RF-3", 2_000))
                .await
        ),
        "REFUND_AMOUNT_EXCEED"
    );
    assert_balance(&a, 29_000).await;

    // Bad input and unknown routes still get signed envelopes.
    assert_eq!(
        code(&a.call("pay", &json!({"paymentRequestId": 7})).await),
        "PARAM_ILLEGAL"
    );
    assert_eq!(
        code(&a.call("nothingHere", &json!({})).await),
        "NO_INTERFACE_DEF"
    );
    let tampered = a
        .client
        .send(
            "/aps/api/v1/payments/pay",
            b"{}",
            vec![("Client-Id".into(), "TEST_ALIPAYPLUS_CLIENT".into())],
        )
        .await
        .unwrap();
    assert!(tampered.signature.is_ok());
    assert_eq!(code(&tampered.json().unwrap()), "INVALID_SIGNATURE");
}

fn first_id(v: &Value) -> String {
    v["paymentRequestId"].as_str().unwrap().to_string()
}

fn inquiry(id: &str) -> Value {
    json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "paymentRequestId": id})
}

#[tokio::test]
async fn walkthrough_on_the_memory_store() {
    let server = Server::start(&[]);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("created development keys")),
        "{:?}",
        server.banner
    );
    assert!(
        server.banner.iter().any(|l| l.contains("mpp -- call pay")),
        "prints a ready call: {:?}",
        server.banner
    );
    walkthrough(&server).await;
}

/// Every inbound operation of the operation table is routed by `mpp serve` to its function's
/// handler: an empty body is refused by that operation's validation (PARAM_ILLEGAL), never
/// answered NO_INTERFACE_DEF as an unknown route is.
#[tokio::test]
async fn serve_routes_every_inbound_operation_of_the_table() {
    let server = Server::start(&[]);
    let a = server.alipay();
    for op in mpp_core::operations::OPERATIONS
        .iter()
        .filter(|o| o.direction == mpp_core::operations::Direction::Inbound)
    {
        let answer = a.call_op(op, &json!({})).await;
        assert_eq!(code(&answer), "PARAM_ILLEGAL", "{}: {answer}", op.name);
    }
    let unknown = a.call("noSuchOperation", &json!({})).await;
    assert_eq!(code(&unknown), "NO_INTERFACE_DEF", "{unknown}");
}

#[tokio::test]
async fn walkthrough_on_dynamodb_local() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let prefix = format!("e2e-{}", std::process::id());
    let server = Server::start(&[
        "--dynamodb-endpoint",
        &endpoint,
        "--table-prefix",
        &prefix,
        "--seed",
        "examples/seed.json",
    ]);
    walkthrough(&server).await;
}

#[tokio::test]
async fn serve_notifies_the_payment_notify_url() {
    let receiver = Receiver::start(vec![Behaviour::Fail500], Behaviour::Ack).await;
    let server = Server::start_with_harness_keys(&[]);
    let a = server.alipay();
    let mut body = auto_debit("E2E-NT");
    body["paymentNotifyUrl"] = json!(receiver.url);
    let paid = a.call("pay", &body).await;
    assert_eq!(code(&paid), "SUCCESS");
    // First attempt fails (500), the retry 4 s later is acknowledged.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while receiver.received().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "notification not retried: {:?}",
            receiver.received().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = receiver.received();
    assert_eq!(got[0].body, got[1].body, "identical bodies");
    assert!(got.iter().all(|g| g.signature_ok), "signed by the MPP");
    let note: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(note["paymentRequestId"], "E2E-NT");
    assert_eq!(note["paymentResult"]["resultCode"], "SUCCESS");
    assert_eq!(note["paymentId"], paid["paymentId"]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(receiver.received().len(), 2, "nothing after the S");
}

#[tokio::test]
async fn serve_never_contacts_a_notify_url_off_its_allow_list() {
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    // Once a host is listed, loopback is allowed only when listed: the receiver is not.
    let server = Server::start_with_harness_keys(&["--notify-allow-host", "hub.test"]);
    let a = server.alipay();
    let mut body = auto_debit("E2E-REFUSED");
    body["paymentNotifyUrl"] = json!(receiver.url);
    let paid = a.call("pay", &body).await;
    assert_eq!(
        code(&paid),
        "SUCCESS",
        "the payment itself is never refused"
    );
    // The refused job lands in the dead-letter file at once, and nothing is ever sent.
    let dead = server.state_dir.path().join("notify-dead-letters.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&dead).is_ok_and(|t| t.contains("E2E-REFUSED")) {
        assert!(std::time::Instant::now() < deadline, "not dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        receiver.received().is_empty(),
        "a refused URL was contacted"
    );
}

#[test]
fn serve_refuses_a_bad_allow_list_or_a_notify_url_off_it() {
    let run = |args: &[&str]| {
        std::process::Command::new(mpp_binary())
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--state-dir"])
            .arg(tempfile::tempdir().unwrap().path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--notify-allow-host", "bad/host"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--notify-allow-host"));
    let out = run(&[
        "--notify-allow-host",
        "hub.test",
        "--notify-url",
        "http://127.0.0.1:9/notify",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--notify-url"));
}

#[test]
fn mpp_call_verifies_the_answer_and_shouts_when_it_does_not() {
    let server = Server::start(&[]);
    let dir = server.state_dir.path();
    let call = |verify_key: &str| {
        std::process::Command::new(mpp_binary())
            .args(["call", "pay", "examples/pay.json", "--url", &server.url])
            .arg("--key")
            .arg(dir.join("alipay/private_key.pem"))
            .arg("--verify-key")
            .arg(dir.join(verify_key))
            .current_dir(workspace())
            .output()
            .unwrap()
    };
    let good = call("mpp/public_key.pem");
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{out}");
    assert!(
        out.contains("\"resultCode\": \"SUCCESS\"") && out.contains("response signature: verified"),
        "{out}"
    );
    assert!(
        out.to_lowercase().contains("signature: algorithm=rsa256"),
        "prints headers: {out}"
    );
    let bad = call("alipay/public_key.pem");
    assert_eq!(bad.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RESPONSE SIGNATURE INVALID"));
}

#[test]
fn mpp_seed_checks_files_and_names_the_bad_entry() {
    let run = |file: &std::path::Path| {
        std::process::Command::new(mpp_binary())
            .arg("seed")
            .arg(file)
            .current_dir(workspace())
            .output()
            .unwrap()
    };
    let good = run(&workspace().join("examples/seed.json"));
    assert!(good.status.success());
    assert!(String::from_utf8_lossy(&good.stdout).contains("2 accounts, 2 tokens, 1 payment codes"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"accounts": [{"customerId": "1"}, {"customerId": "2", "balances": {"KRW": "-5"}}]}"#,
    )
    .unwrap();
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("accounts[1].balances.KRW"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn mpp_seed_loads_dynamodb_local_and_serve_keeps_the_balances() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let prefix = format!("seed-{}", std::process::id());
    let out = std::process::Command::new(mpp_binary())
        .args([
            "seed",
            "examples/seed.json",
            "--dynamodb-endpoint",
            &endpoint,
            "--table-prefix",
            &prefix,
        ])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 accounts created"));
    let server = Server::start(&["--dynamodb-endpoint", &endpoint, "--table-prefix", &prefix]);
    let a = server.alipay();
    assert_eq!(code(&a.call("pay", &example("pay.json")).await), "SUCCESS");
    assert_balance(&a, 29_000).await;
}

#[tokio::test]
async fn ctrl_c_shuts_down_gracefully() {
    let mut server = Server::start(&[]);
    assert_eq!(
        code(&server.alipay().call("pay", &example("pay.json")).await),
        "SUCCESS"
    );
    let exit = server.interrupt();
    assert!(exit.success(), "{exit:?}");
}
