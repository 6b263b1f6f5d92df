//! Named hostile inputs, through the real handler and through `mpp serve`: each gets a signed
//! envelope with the right code, nothing panics, nothing is written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::flows::wire_time;
use mpp_core::signature::sign_headers;
use mpp_e2e::harness::*;
use mpp_e2e::process::Server;
use serde_json::json;

async fn signed(m: &Mpp, body: &[u8], client: &str, time: chrono::DateTime<chrono::Utc>) -> Answer {
    let headers = sign_headers(
        keys().alipay.as_ref(),
        client,
        "POST",
        PAY_PATH,
        "Request-Time",
        &wire_time(time),
        body,
    )
    .await
    .unwrap();
    answer(
        PAY_PATH,
        pay::handle(&m.pay, raw_event(PAY_PATH, body, &headers))
            .await
            .unwrap(),
    )
}

fn deep(depth: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(depth * 2 + 32);
    v.extend_from_slice(b"{\"order\":");
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

#[tokio::test]
async fn named_hostile_inputs_get_envelopes() {
    let m = Mpp::memory().await;
    let now = start_time();
    let valid = serde_json::to_vec(&auto_debit("HI-1")).unwrap();
    let mut ten_mb = valid.clone();
    ten_mb.truncate(ten_mb.len() - 1);
    ten_mb.extend_from_slice(b",\"padding\":\"");
    ten_mb.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    ten_mb.extend_from_slice(b"\"}");
    let duplicate = br#"{"paymentRequestId":"HI-2","paymentRequestId":"HI-3"}"#.to_vec();
    let number =
        serde_json::to_vec(&json!({"paymentAmount": {"currency": "JPY", "value": 100}})).unwrap();
    type Case<'a> = (
        &'a str,
        Vec<u8>,
        &'a str,
        chrono::DateTime<chrono::Utc>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "deeply nested",
            deep(100_000),
            CLIENT_ID,
            now,
            "PARAM_ILLEGAL",
        ),
        ("10 MB body", ten_mb, CLIENT_ID, now, "PARAM_ILLEGAL"),
        (
            "invalid UTF-8",
            vec![b'{', 0xC3, 0x28, b'}'],
            CLIENT_ID,
            now,
            "PARAM_ILLEGAL",
        ),
        ("duplicate keys", duplicate, CLIENT_ID, now, "PARAM_ILLEGAL"),
        (
            "a number where a string belongs",
            number,
            CLIENT_ID,
            now,
            "PARAM_ILLEGAL",
        ),
        (
            "replayed outside the window",
            valid.clone(),
            CLIENT_ID,
            now - chrono::Duration::minutes(10),
            "INVALID_SIGNATURE",
        ),
        (
            "valid signature, unknown client",
            valid.clone(),
            "SOMEONE_ELSE",
            now,
            "INVALID_CLIENT",
        ),
    ];
    for (name, body, client, time, code) in cases {
        let a = signed(&m, &body, client, time).await;
        assert_eq!(
            (a.status_letter(), a.code()),
            ("F", code),
            "{name}: {}",
            a.body
        );
    }
    assert!(
        m.ports
            .payments
            .inquiry_payment
            .payment("HI-1")
            .await
            .unwrap()
            .is_none(),
        "nothing was written"
    );
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 30_000);
}

#[tokio::test]
async fn hostile_bodies_over_http_get_envelopes() {
    let server = Server::start(&[]);
    let a = server.alipay();
    for (name, body) in [
        ("deep", deep(100_000)),
        ("20 MB", vec![b' '; 20 * 1024 * 1024]),
    ] {
        let answer = a
            .client
            .call("/aps/api/v1/payments/pay", &body)
            .await
            .unwrap();
        assert!(answer.signature.is_ok(), "{name}: signed");
        let json = answer.json().unwrap();
        assert_eq!(
            json["result"]["resultCode"], "PARAM_ILLEGAL",
            "{name}: {json}"
        );
    }
}
