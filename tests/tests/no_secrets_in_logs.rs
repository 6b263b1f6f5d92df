//! Runs every flow with the logs captured (the JSON format the Lambdas use) and finds no access
//! token, payment code, private key material or full customer id in any line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::signature::private_key_pem;
use mpp_e2e::harness::*;
use mpp_e2e::logs::Captured;
use serde_json::json;

#[test]
fn no_secret_reaches_a_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let m = Mpp::memory().await;
            m.pay(&auto_debit("LOG-1")).await;
            m.pay(&auto_debit("LOG-1")).await;
            m.pay(&with_krw(auto_debit("LOG-2"), 40_000)).await;
            m.pay(&user_presented("LOG-3", CODE, 1_000)).await;
            m.pay(&user_presented("LOG-4", CODE, 1_000)).await; // used code
            m.pay(&nfc("LOG-5")).await;
            let mut bad = auto_debit("LOG-6");
            bad["paymentMethod"]["paymentMethodId"] = json!(format!("{TOKEN}{}", "X".repeat(200)));
            m.pay(&bad).await; // over-length token: PARAM_ILLEGAL
            let mut wrong_type = auto_debit("LOG-7");
            wrong_type["paymentMethod"]["customerId"] = json!(2160000000000001u64);
            m.pay(&wrong_type).await;
            m.evaluate(&evaluation("LOG-8")).await;
            m.inquire("LOG-1").await;
            m.refund(&refund_body("LOG-1", "LOG-R", 500)).await;
            m.cancel("LOG-1").await;
            let body = serde_json::to_vec(&auto_debit("LOG-9")).unwrap();
            let tampered = raw_event(
                PAY_PATH,
                &body,
                &[
                    ("Client-Id".into(), CLIENT_ID.into()),
                    (
                        "Signature".into(),
                        "algorithm=RSA256,keyVersion=1,signature=AAAA".into(),
                    ),
                ],
            );
            let _ = pay::handle(&m.pay, tampered).await;
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() >= 10, "the flows logged: {logs}");
    assert!(
        logs.contains("\"result_code\""),
        "log lines carry the result code"
    );
    let k = keys();
    let pem = private_key_pem(&k.mpp_private);
    let key_fragment: String = pem.lines().nth(2).unwrap().chars().take(40).collect();
    let secrets = [
        TOKEN,
        CODE,
        CUSTOMER,
        "2160000000000001",
        key_fragment.as_str(),
        "PRIVATE KEY",
    ];
    for line in logs.lines() {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "a log line carries a secret ({secret}): {line}"
            );
        }
    }
}
