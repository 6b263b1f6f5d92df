//! sendOTP and verifyOTP with the logs captured in the functions' own JSON format
//! (`mpp_aws::lambda::json_logs`): no access token, one-time password, phone number, e-mail
//! address or full customer id in any line, and every line of an invocation carries its request
//! and trace ids (the `no_secrets_in_logs.rs` and `request_ids.rs` checks, for both endpoints).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_e2e::harness::*;
use mpp_e2e::logs::Captured;
use serde_json::{json, Value};
use std::time::Duration;

fn assert_all_carry(function: &str, lines: &[Value], request_id: &str) {
    assert!(!lines.is_empty(), "{function} logged nothing");
    for line in lines {
        assert_eq!(
            line["span"]["request_id"], request_id,
            "{function}: a line without its request id: {line}"
        );
        assert_eq!(line["span"]["flow"], function, "{function}: {line}");
    }
}

#[tokio::test]
async fn otp_logs_carry_ids_and_no_secret() {
    let capture = Captured::default();
    let writer = capture.clone();
    let _logs = tracing::subscriber::set_default(mpp_aws::lambda::json_logs(
        mpp_aws::lambda::log_filter(Some("trace")),
        move || writer.clone(),
    ));
    let m = Mpp::memory().await;
    capture.take_json();
    let budget = Duration::from_secs(5);
    let bytes = |v: Value| serde_json::to_vec(&v).unwrap();
    let send = |token: &str, t: &str| {
        json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001",
               "accessToken": token, "verifyType": t})
    };
    let mut all: Vec<Value> = Vec::new();
    let mut codes: Vec<String> = Vec::new();

    // Sent by SMS and by e-mail, both verified (one wrong code first).
    for (i, channel) in ["MOBILE", "EMAIL"].into_iter().enumerate() {
        let rid = format!("req-send-{i}");
        let request = in_lambda(
            m.event(SEND_OTP_PATH, &bytes(send(TOKEN, channel))).await,
            &rid,
            budget,
        );
        let a = answer(
            SEND_OTP_PATH,
            send_otp::handle(&m.send_otp, request).await.unwrap(),
        );
        assert_eq!(a.code(), "SUCCESS");
        let lines = capture.take_json();
        assert_all_carry("sendOTP", &lines, &rid);
        all.extend(lines);
        let code = m.last_otp_code();
        codes.push(code.clone());
        let id = a.body["verifyRequestId"].as_str().unwrap().to_string();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for (j, typed) in [wrong, code.as_str()].into_iter().enumerate() {
            let rid = format!("req-verify-{i}-{j}");
            let body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001",
                "accessToken": TOKEN, "verifyRequestId": id, "otpCode": typed});
            let request = in_lambda(m.event(VERIFY_OTP_PATH, &bytes(body)).await, &rid, budget);
            let a = answer(
                VERIFY_OTP_PATH,
                verify_otp::handle(&m.verify_otp, request).await.unwrap(),
            );
            assert_eq!(
                a.code(),
                if j == 0 {
                    "USER_PAYMENT_VERIFICATION_FAILED"
                } else {
                    "SUCCESS"
                }
            );
            let lines = capture.take_json();
            assert_all_carry("verifyOTP", &lines, &rid);
            all.extend(lines);
        }
    }
    // Refusals that quote values in parser messages: an over-long token, a number as the code.
    let long = json!({"acquirerId": "1", "pspId": "1", "accessToken": format!("{TOKEN}{}", "X".repeat(200))});
    let request = in_lambda(
        m.event(SEND_OTP_PATH, &bytes(long)).await,
        "req-bad-1",
        budget,
    );
    send_otp::handle(&m.send_otp, request).await.unwrap();
    let number = json!({"acquirerId": "1", "pspId": "1", "accessToken": TOKEN,
        "verifyRequestId": "x", "otpCode": 123456});
    let request = in_lambda(
        m.event(VERIFY_OTP_PATH, &bytes(number)).await,
        "req-bad-2",
        budget,
    );
    let a = answer(
        VERIFY_OTP_PATH,
        verify_otp::handle(&m.verify_otp, request).await.unwrap(),
    );
    assert_eq!(a.code(), "PARAM_ILLEGAL");
    all.extend(capture.take_json());

    let text: String = all.iter().map(|l| format!("{l}\n")).collect();
    assert!(
        text.contains("\"result_code\""),
        "log lines carry the result code"
    );
    let mut secrets = vec![
        TOKEN.to_string(),
        CUSTOMER.to_string(),
        "+821012345678".to_string(),
        "1012345678".to_string(),
        "kim.minji@example.com".to_string(),
        "kim.minji".to_string(),
    ];
    secrets.extend(codes);
    for line in text.lines() {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a log line carries a secret ({secret}): {line}"
            );
        }
    }
}
