//! getPaymentCode end to end, every party a real process on loopback: `mpp serve` (the MPP),
//! `mpp hub` (Alipay+), `mpp codes get` (the MPP server asking for its app's codes) and
//! `mpp acquirer pay --code` (the merchant's acquirer scanning one). The hub decodes its own code
//! into the MPP's pay with `customerId` and the `PaymentCode` scenario; the wallet is debited
//! once, the notification comes back to the acquirer, and the same code is refused the second
//! time.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mpp_e2e::process::{run_mpp, HubProcess, Server};
use serde_json::{json, Value};

const CUSTOMER: &str = "2160000000000001";

/// The codes `mpp codes get` printed.
fn codes_of(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("paymentCode "))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect()
}

fn get_codes(state: &str, hub: &HubProcess, quantity: &str) -> Vec<String> {
    let (rc, out, err) = run_mpp(&[
        "codes",
        "get",
        "--customer-id",
        CUSTOMER,
        "--quantity",
        quantity,
        "--hub-url",
        &hub.url,
        "--state-dir",
        state,
    ]);
    assert_eq!(rc, 0, "mpp codes get: {out}{err}");
    for line in out.lines() {
        assert!(
            line.contains(" valid from ") && line.contains(" until "),
            "{line}"
        );
    }
    codes_of(&out)
}

fn acquirer_pay(state: &str, hub: &HubProcess, code: &str) -> (i32, String) {
    acquirer_pay_in(state, hub, code, "JPY")
}

fn acquirer_pay_in(state: &str, hub: &HubProcess, code: &str, currency: &str) -> (i32, String) {
    let (rc, out, err) = run_mpp(&[
        "acquirer",
        "pay",
        "--code",
        code,
        "--amount",
        "100",
        "--currency",
        currency,
        "--hub-url",
        &hub.url,
        "--state-dir",
        state,
        "--timeout-ms",
        "3000",
        "--linger-ms",
        "5000",
    ]);
    (rc, format!("{out}{err}"))
}

/// A pay as Alipay+ sends it after decoding its own code: `customerId`, `PaymentCode`, in KRW.
fn decoded_pay(id: &str, krw: u64) -> Value {
    let mut v: Value = serde_json::from_str(include_str!("../../examples/pay.json")).unwrap();
    v["paymentRequestId"] = json!(id);
    let amount = json!({"currency": "KRW", "value": krw.to_string()});
    v["paymentAmount"] = amount.clone();
    v["order"]["orderAmount"] = amount.clone();
    v["payToAmount"] = amount;
    v.as_object_mut().unwrap().remove("paymentQuote");
    v["paymentMethod"] = json!({"paymentMethodType": "CONNECT_WALLET", "customerId": CUSTOMER});
    v["paymentFactor"] =
        json!({"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"});
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_from_get_payment_code_pays_once_and_is_refused_the_second_time() {
    let server = Server::start(&[]);
    let state = server.state_dir.path().to_str().unwrap().to_string();
    let hub = HubProcess::start(
        server.state_dir.path(),
        &["--mpp", &format!("28={}", server.url)],
    );

    let codes = get_codes(&state, &hub, "2");
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert_ne!(codes[0], codes[1]);
    for c in &codes {
        assert!(c.len() == 24 && c.starts_with("2899"), "{c}");
    }

    // A pay the hub refuses before recording it (no EUR rate) does not use the code up.
    let (rc, out) = acquirer_pay_in(&state, &hub, &codes[0], "EUR");
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("F CURRENCY_NOT_SUPPORT"), "{out}");

    // 100 JPY at the hub's JPY/KRW 10: 1000 KRW from the demo wallet.
    let (rc, out) = acquirer_pay(&state, &hub, &codes[0]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("← pay #1: S SUCCESS"), "{out}");
    assert!(
        out.contains("← notifyPayment: S SUCCESS (acknowledged S)"),
        "{out}"
    );

    // The same code again: refused by the hub, nothing reaches the MPP.
    let (rc, out) = acquirer_pay(&state, &hub, &codes[0]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("← pay #1: F INVALID_CODE"), "{out}");
    // A code of the hub's shape it never issued.
    let (rc, out) = acquirer_pay(&state, &hub, &format!("2899{}", "0".repeat(20)));
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("F INVALID_CODE"), "{out}");

    // The wallet was debited exactly once: 29 000 KRW are left, not a won more.
    let alipay = server.alipay();
    let over = alipay.call("pay", &decoded_pay("E2E-OVER", 29_001)).await;
    assert_eq!(
        over["result"]["resultCode"], "USER_BALANCE_NOT_ENOUGH",
        "{over}"
    );
    let rest = alipay.call("pay", &decoded_pay("E2E-REST", 29_000)).await;
    assert_eq!(rest["result"]["resultCode"], "SUCCESS", "{rest}");

    // The second code is still good for its own payment, and the wallet is empty now.
    let (rc, out) = acquirer_pay(&state, &hub, &codes[1]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("F USER_BALANCE_NOT_ENOUGH"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_hub_code_is_expired_code() {
    let server = Server::start(&[]);
    let state = server.state_dir.path().to_str().unwrap().to_string();
    let hub = HubProcess::start(
        server.state_dir.path(),
        &[
            "--mpp",
            &format!("28={}", server.url),
            "--code-life-secs",
            "1",
        ],
    );
    let codes = get_codes(&state, &hub, "1");
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let (rc, out) = acquirer_pay(&state, &hub, &codes[0]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("F EXPIRED_CODE"), "{out}");
    // Quantities outside 1 to 10 are refused before anything is sent.
    let (rc, _, err) = run_mpp(&[
        "codes",
        "get",
        "--customer-id",
        CUSTOMER,
        "--quantity",
        "11",
        "--hub-url",
        &hub.url,
        "--state-dir",
        &state,
    ]);
    assert_eq!(rc, 2);
    assert!(err.contains("codeQuantity"), "{err}");
}
