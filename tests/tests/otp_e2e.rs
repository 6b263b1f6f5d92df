//! sendOTP and verifyOTP end to end on real processes: `mpp serve` (the code read from
//! `GET /dev/outbox`, as a developer reads it), `mpp call`, and the merchant's path
//! `mpp merchant otp` → `mpp hub` → `mpp serve`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::operations::{SEND_OTP, VERIFY_OTP};
use mpp_e2e::harness::{otp_code_in, TOKEN};
use mpp_e2e::process::{run_mpp, HubProcess, Server};
use serde_json::{json, Value};
use std::time::Duration;

/// `GET /dev/outbox`: the messages as JSON objects, oldest first.
async fn outbox(server: &Server) -> Vec<Value> {
    let client = mpp_client::http_client(Duration::from_secs(5)).unwrap();
    let r = client
        .get(format!("{}/dev/outbox", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/x-ndjson"), "{ct}");
    r.text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn serve_sends_the_code_to_the_dev_outbox_and_verifies_it() {
    let server = Server::start(&[]);
    let a = server.alipay();
    assert!(outbox(&server).await.is_empty());
    let ids = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001"});
    let mut send = ids.clone();
    send["accessToken"] = json!(TOKEN);
    let sent = a.call_path(&SEND_OTP.path(), &send).await;
    assert_eq!(sent["result"]["resultCode"], "SUCCESS", "{sent}");
    send["verifyType"] = json!("EMAIL");
    let sent_email = a.call_path(&SEND_OTP.path(), &send).await;
    assert_eq!(sent_email["result"]["resultCode"], "SUCCESS");

    let messages = outbox(&server).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["channel"], "MOBILE", "oldest first");
    assert_eq!(messages[0]["to"], "+821012345678");
    assert_eq!(messages[1]["channel"], "EMAIL");
    assert_eq!(messages[1]["to"], "kim.minji@example.com");
    let code = otp_code_in(messages[0]["text"].as_str().unwrap());

    let mut verify = ids.clone();
    verify["accessToken"] = json!(TOKEN);
    verify["verifyRequestId"] = sent["verifyRequestId"].clone();
    verify["otpCode"] = json!(code);
    let ok = a.call_path(&VERIFY_OTP.path(), &verify).await;
    assert_eq!(ok["result"]["resultCode"], "SUCCESS", "{ok}");
    let again = a.call_path(&VERIFY_OTP.path(), &verify).await;
    assert_eq!(again["result"]["resultCode"], "INVALID_CODE", "{again}");

    // The outbox is GET only; anything else there is not an API.
    let client = mpp_client::http_client(Duration::from_secs(5)).unwrap();
    let post = client
        .post(format!("{}/dev/outbox", server.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&post.text().await.unwrap()).unwrap();
    assert_eq!(body["result"]["resultCode"], "NO_INTERFACE_DEF");
}

#[tokio::test]
async fn mpp_call_knows_send_otp_and_verify_otp() {
    let server = Server::start(&[]);
    let state = server.state_dir.path();
    // The README's example file.
    let file = mpp_e2e::process::workspace().join("examples/send-otp.json");
    let key = state.join("alipay/private_key.pem");
    let verify_key = state.join("mpp/public_key.pem");
    let call = |api: &str, body: &std::path::Path| {
        run_mpp(&[
            "call",
            api,
            body.to_str().unwrap(),
            "--url",
            &server.url,
            "--key",
            key.to_str().unwrap(),
            "--verify-key",
            verify_key.to_str().unwrap(),
        ])
    };
    let (exit, out, err) = call("sendOTP", &file);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("/aps/api/v1/users/sendOTP"), "{out}");
    assert!(
        out.contains("\"SUCCESS\"") && out.contains("verified"),
        "{out}"
    );
    let id = out
        .lines()
        .find(|l| l.contains("verifyRequestId"))
        .and_then(|l| l.split('"').nth(3))
        .unwrap()
        .to_string();
    let code = otp_code_in(outbox(&server).await[0]["text"].as_str().unwrap());
    let file = state.join("verify.json");
    std::fs::write(
        &file,
        json!({"acquirerId": "1", "pspId": "1", "accessToken": TOKEN,
               "verifyRequestId": id, "otpCode": code})
        .to_string(),
    )
    .unwrap();
    let (exit, out, err) = call("verifyOTP", &file);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("\"SUCCESS\""), "{out}");
}

#[tokio::test]
async fn merchant_challenges_through_the_hub() {
    let server = Server::start(&[]);
    let state = server.state_dir.path().to_str().unwrap().to_string();
    let hub = HubProcess::start(
        server.state_dir.path(),
        &["--mpp", &format!("28={}", server.url)],
    );
    let (exit, out, err) = run_mpp(&[
        "merchant",
        "otp",
        "send",
        "--hub-url",
        &hub.url,
        "--state-dir",
        &state,
        "--access-token",
        TOKEN,
    ]);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.starts_with("SUCCESS (S)"), "{out}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("verifyRequestId: "))
        .unwrap()
        .to_string();
    let code = otp_code_in(outbox(&server).await[0]["text"].as_str().unwrap());

    // Without --access-token: the bound token of <state-dir>/binding.json.
    std::fs::write(
        server.state_dir.path().join("binding.json"),
        json!({"accessToken": TOKEN}).to_string(),
    )
    .unwrap();
    let verify = |otp: &str| {
        run_mpp(&[
            "merchant",
            "otp",
            "verify",
            "--hub-url",
            &hub.url,
            "--state-dir",
            &state,
            "--verify-request-id",
            &id,
            "--otp-code",
            otp,
        ])
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (exit, out, _) = verify(wrong);
    assert_eq!(exit, 1, "{out}");
    assert!(
        out.starts_with("USER_PAYMENT_VERIFICATION_FAILED (F)"),
        "{out}"
    );
    let (exit, out, err) = verify(&code);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.starts_with("SUCCESS (S)"), "{out}");

    // An unknown token: F, exit 1.
    let (exit, out, _) = run_mpp(&[
        "merchant",
        "otp",
        "send",
        "--hub-url",
        &hub.url,
        "--state-dir",
        &state,
        "--access-token",
        "2810000000000000000000000000NONE",
    ]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.starts_with("INVALID_TOKEN (F)"), "{out}");
}
