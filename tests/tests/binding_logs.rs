//! Account binding with the logs captured in the functions' JSON format: no access token,
//! refresh token, authCode, PIN, login id, grant seed or full customer id in any line, and every
//! line of an invocation carries its request id (the page's too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_e2e::harness::*;
use mpp_e2e::logs::Captured;
use serde_json::{json, Value};
use std::time::Duration;

const WRONG_PIN: &str = "947261";

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[tokio::test]
async fn no_binding_secret_reaches_a_log_line_and_every_line_has_its_request_id() {
    let capture = Captured::default();
    let writer = capture.clone();
    let _logs = tracing::subscriber::set_default(mpp_aws::lambda::json_logs(
        mpp_aws::lambda::log_filter(Some("trace")),
        move || writer.clone(),
    ));
    let m = Mpp::memory().await;
    capture.take_json();
    let bytes = |v: &Value| serde_json::to_vec(v).unwrap();
    let budget = Duration::from_secs(5);

    // prepare, in a Lambda invocation: every line carries the request id.
    let request = in_lambda(
        m.event(PREPARE_PATH, &bytes(&prepare_body("LOG-AGR")))
            .await,
        "req-prepare",
        budget,
    );
    let a = answer(
        PREPARE_PATH,
        prepare::handle(&m.prepare, request).await.unwrap(),
    );
    let lines = capture.take_json();
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l["span"]["request_id"], "req-prepare", "{l}");
    }
    let query = a.body["authUrl"]
        .as_str()
        .unwrap()
        .split_once('?')
        .unwrap()
        .1
        .to_string();

    // The page in a Lambda invocation: its lines carry the request id too.
    let get: lambda_http::Request = http::Request::builder()
        .method("GET")
        .uri(format!(
            "https://wallet.example/wallet/authorizationPage?{query}"
        ))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let shown =
        authorization_page::handle(&m.authorization_page, in_lambda(get, "req-page", budget))
            .await
            .unwrap();
    assert_eq!(shown.status(), 200);
    let lines = capture.take_json();
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l["span"]["request_id"], "req-page", "{l}");
        assert_eq!(l["span"]["flow"], "authorizationPage", "{l}");
    }

    // The page: GET, a wrong PIN, then the right one.
    let (cookie, af, _) = m.open_page(&query).await;
    m.page(
        "POST",
        &query,
        Some(&cookie),
        &[
            ("af", &af),
            ("loginId", LOGIN_ID),
            ("pin", WRONG_PIN),
            ("decision", "approve"),
        ],
    )
    .await;
    let (status, headers, _) = m
        .page(
            "POST",
            &query,
            Some(&cookie),
            &[
                ("af", &af),
                ("loginId", LOGIN_ID),
                ("pin", PIN),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let location = header(&headers, "location").to_string();
    let code = location
        .split("authCode=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let page_lines = capture.take_json();
    assert!(
        page_lines
            .iter()
            .any(|l| l["fields"]["outcome"] == "approved" || l["outcome"] == "approved"),
        "{page_lines:?}"
    );
    for l in &page_lines {
        assert_eq!(l["span"]["flow"], "authorizationPage", "{l}");
    }

    let grant = json!({"pspId": "1", "grantType": "AUTHORIZATION_CODE", "authCode": code});
    let t1 = m.apply_token(&grant).await;
    m.apply_token(&grant).await;
    let refresh = json!({"pspId": "1", "grantType": "REFRESH_TOKEN", "refreshToken": t1.body["refreshToken"]});
    let t2 = m.apply_token(&refresh).await;
    m.pay(&{
        let mut p = auto_debit("LOG-BIND-1");
        p["paymentMethod"]["paymentMethodId"] = t1.body["accessToken"].clone();
        p
    })
    .await;
    m.cancel_token(&json!({"pspId": "1", "accessToken": t2.body["accessToken"]}))
        .await;
    m.cancel_token(&json!({"pspId": "1", "accessToken": t1.body["accessToken"]}))
        .await;
    // A token in a field that breaks its rule: the PARAM_ILLEGAL message names the field only.
    let long = format!(
        "{}{}",
        t2.body["accessToken"].as_str().unwrap(),
        "X".repeat(100)
    );
    let refused = m
        .cancel_token(&json!({"pspId": "1", "accessToken": long}))
        .await;
    assert_eq!(refused.code(), "PARAM_ILLEGAL");
    let wrong_type = m
        .apply_token(&json!({"pspId": "1", "grantType": "REFRESH_TOKEN", "refreshToken": 12345678}))
        .await;
    assert_eq!(wrong_type.code(), "PARAM_ILLEGAL");

    let logs: Vec<String> = capture
        .take_json()
        .iter()
        .chain(page_lines.iter())
        .map(|l| l.to_string())
        .collect();
    assert!(logs.len() >= 8, "{logs:?}");
    let secrets = [
        code.as_str(),
        t1.body["accessToken"].as_str().unwrap(),
        t1.body["refreshToken"].as_str().unwrap(),
        t2.body["accessToken"].as_str().unwrap(),
        t2.body["refreshToken"].as_str().unwrap(),
        PIN,
        WRONG_PIN,
        LOGIN_ID,
        CUSTOMER,
        "$argon2id$",
    ];
    for line in &logs {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "a log line carries a secret ({secret}): {line}"
            );
        }
    }
}
