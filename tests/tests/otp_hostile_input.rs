//! Hostile input on sendOTP and verifyOTP, through the real handlers: named cases and a bounded
//! fuzz (proptest, a fixed number of cases). Each gets a signed envelope, nothing panics, no
//! message goes out and no try is counted unless the request was valid.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::flows::wire_time;
use mpp_core::signature::sign_headers;
use mpp_e2e::harness::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Fuzz cases per endpoint: bounded, so the test takes seconds.
const FUZZ_CASES: u32 = 256;

fn deep(depth: usize) -> Vec<u8> {
    let mut v = b"{\"accessToken\":".to_vec();
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

fn send_body() -> Value {
    json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "accessToken": TOKEN})
}

fn verify_body(id: &str, code: &str) -> Value {
    json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001",
        "accessToken": TOKEN, "verifyRequestId": id, "otpCode": code})
}

fn cases(valid: &Value) -> Vec<(&'static str, Vec<u8>)> {
    let bytes = |v: &Value| serde_json::to_vec(v).unwrap();
    let mut ten_mb = bytes(valid);
    ten_mb.truncate(ten_mb.len() - 1);
    ten_mb.extend_from_slice(b",\"padding\":\"");
    ten_mb.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    ten_mb.extend_from_slice(b"\"}");
    let with = |k: &str, v: Value| {
        let mut b = valid.clone();
        b[k] = v;
        bytes(&b)
    };
    let without = |k: &str| {
        let mut b = valid.clone();
        b.as_object_mut().unwrap().remove(k);
        bytes(&b)
    };
    vec![
        ("deeply nested", deep(100_000)),
        ("10 MB body", ten_mb),
        ("invalid UTF-8", vec![b'{', 0xC3, 0x28, b'}']),
        ("not JSON", b"accessToken=1".to_vec()),
        ("an array", b"[]".to_vec()),
        (
            "duplicate keys",
            br#"{"accessToken":"a","accessToken":"b","acquirerId":"1","pspId":"1"}"#.to_vec(),
        ),
        (
            "a number token",
            with("accessToken", json!(2810000000000000u64)),
        ),
        ("an empty token", with("accessToken", json!(""))),
        (
            "a 129-character token",
            with("accessToken", json!("2".repeat(129))),
        ),
        ("no token", without("accessToken")),
        ("no pspId", without("pspId")),
        (
            "a 65-character acquirerId",
            with("acquirerId", json!("1".repeat(65))),
        ),
        ("null token", with("accessToken", Value::Null)),
    ]
}

async fn call(m: &Mpp, path: &str, body: &[u8]) -> Answer {
    let request = m.event(path, body).await;
    let response = if path == SEND_OTP_PATH {
        send_otp::handle(&m.send_otp, request).await
    } else {
        verify_otp::handle(&m.verify_otp, request).await
    };
    answer(path, response.unwrap())
}

#[tokio::test]
async fn named_hostile_inputs_get_envelopes_on_both_endpoints() {
    let m = Mpp::memory().await;
    let a = m.send_otp(TOKEN, None).await;
    let id = a.body["verifyRequestId"].as_str().unwrap().to_string();
    let code = m.last_otp_code();
    let mut verify_cases = cases(&verify_body(&id, &code));
    let bytes = |v: &Value| serde_json::to_vec(v).unwrap();
    verify_cases.extend([
        (
            "a 17-character code",
            bytes(&verify_body(&id, &"1".repeat(17))),
        ),
        ("an empty code", bytes(&verify_body(&id, ""))),
        (
            "a 65-character verifyRequestId",
            bytes(&verify_body(&"9".repeat(65), &code)),
        ),
    ]);
    let number = {
        let mut v = verify_body(&id, &code);
        v["otpCode"] = json!(123456);
        bytes(&v)
    };
    verify_cases.push(("a number otpCode", number));
    let mut send_cases = cases(&send_body());
    send_cases.push((
        "lower-case verifyType",
        bytes(
            &json!({"acquirerId": "1", "pspId": "1", "accessToken": TOKEN, "verifyType": "mobile"}),
        ),
    ));
    for (path, list) in [(SEND_OTP_PATH, send_cases), (VERIFY_OTP_PATH, verify_cases)] {
        for (name, body) in list {
            let a = call(&m, path, &body).await;
            assert_eq!(
                (a.status_letter(), a.code()),
                ("F", "PARAM_ILLEGAL"),
                "{path} {name}: {}",
                a.body
            );
        }
    }
    assert_eq!(
        m.outbox.messages().len(),
        1,
        "no message for a refused request"
    );
    // No try was counted: the right code still verifies.
    assert_eq!(m.verify_otp(TOKEN, &id, &code).await.code(), "SUCCESS");
}

#[tokio::test]
async fn bad_signatures_get_envelopes_on_both_endpoints() {
    let m = Mpp::memory().await;
    let body = serde_json::to_vec(&send_body()).unwrap();
    for path in [SEND_OTP_PATH, VERIFY_OTP_PATH] {
        let stale = sign_headers(
            keys().alipay.as_ref(),
            CLIENT_ID,
            "POST",
            path,
            "Request-Time",
            &wire_time(start_time() - chrono::Duration::minutes(10)),
            &body,
        )
        .await
        .unwrap();
        let tampered = vec![
            ("Client-Id".to_string(), CLIENT_ID.to_string()),
            (
                "Signature".to_string(),
                "algorithm=RSA256,keyVersion=1,signature=AAAA".to_string(),
            ),
        ];
        for headers in [stale, tampered] {
            let request = raw_event(path, &body, &headers);
            let response = if path == SEND_OTP_PATH {
                send_otp::handle(&m.send_otp, request).await
            } else {
                verify_otp::handle(&m.verify_otp, request).await
            };
            let a = answer(path, response.unwrap());
            assert_eq!(
                (a.status_letter(), a.code()),
                ("F", "INVALID_SIGNATURE"),
                "{path}"
            );
        }
    }
    assert!(m.outbox.messages().is_empty());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,140}".prop_map(Value::String),
        Just(json!(TOKEN)),
        Just(json!("MOBILE")),
        Just(json!("EMAIL")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("accessToken".to_string()),
                    Just("acquirerId".to_string()),
                    Just("pspId".to_string()),
                    Just("verifyType".to_string()),
                    Just("verifyRequestId".to_string()),
                    Just("otpCode".to_string()),
                    "[a-zA-Z]{1,12}",
                ],
                inner,
                0..7
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn fuzz_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ]
}

#[test]
fn fuzzed_bodies_always_get_a_signed_envelope() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m = runtime.block_on(Mpp::memory());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: FUZZ_CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(fuzz_input(), any::<bool>()), |(body, send)| {
            let path = if send { SEND_OTP_PATH } else { VERIFY_OTP_PATH };
            // `answer` checks the signature and parses the envelope; it panics otherwise.
            let a = runtime.block_on(call(&m, path, &body));
            let status = a.status_letter().to_string();
            prop_assert!(["S", "F"].contains(&status.as_str()), "{}", a.body);
            if status == "S" {
                prop_assert!(send, "no fuzzed verify can match: {}", a.body);
            }
            Ok(())
        })
        .unwrap();
    // Each S sent exactly one message; no more than the day's cap ever.
    assert!(m.outbox.messages().len() <= mpp_core::otp::OTP_DAILY_MAX as usize);
}
