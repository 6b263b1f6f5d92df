//! Account binding through the real handlers (signed events, the page's handler): the whole
//! life of a binding, the page's refusals (forgery, wrong and locked PINs, used and unknown
//! authorizations), decline, and the envelopes of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failed test

use chrono::Duration;
use mpp_e2e::harness::{auto_debit, prepare_body, Mpp, CUSTOMER, LOGIN_ID, PIN};
use serde_json::{json, Value};

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The `authId` query of an authUrl.
fn query_of(auth_url: &str) -> String {
    let u = url_query(auth_url);
    assert!(
        auth_url.starts_with("https://wallet.example/wallet/authorizationPage?authId="),
        "{auth_url}"
    );
    u
}

fn url_query(u: &str) -> String {
    u.split_once('?')
        .map(|(_, q)| q.to_string())
        .unwrap_or_default()
}

fn param(location: &str, name: &str) -> Option<String> {
    url_query(location)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn prepared(m: &Mpp, agreement: &str) -> String {
    let a = m.prepare(&prepare_body(agreement)).await;
    assert_eq!(a.code(), "SUCCESS", "{:?}", a.body);
    query_of(a.body["authUrl"].as_str().unwrap())
}

async fn approve(m: &Mpp, query: &str) -> String {
    let (cookie, af, _) = m.open_page(query).await;
    let (status, headers, html) = m
        .page(
            "POST",
            query,
            Some(&cookie),
            &[
                ("af", &af),
                ("loginId", LOGIN_ID),
                ("pin", PIN),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{html}");
    let location = header(&headers, "location").unwrap().to_string();
    assert!(
        location.starts_with("https://merchant.example/bound?from=wallet&authCode="),
        "{location}"
    );
    assert_eq!(param(&location, "authState").as_deref(), Some("state-7c1"));
    param(&location, "authCode").unwrap()
}

fn pay_with(id: &str, token: &str) -> Value {
    let mut v = auto_debit(id);
    v["paymentMethod"]["paymentMethodId"] = json!(token);
    v
}

#[tokio::test]
async fn a_binding_from_prepare_to_cancel_token() {
    let m = Mpp::memory().await;
    let query = prepared(&m, "AGR-1").await;
    let (_, _, html) = m.open_page(&query).await;
    assert!(
        html.contains("Demo Shop wants to link your wallet"),
        "{html}"
    );
    assert!(html.contains("Demo Merchant Co., Ltd."));
    assert!(html.contains("Take payments from your wallet automatically"));
    assert!(html.contains("name=\"viewport\""));
    // The same prepare again: the same page.
    let again = m.prepare(&prepare_body("AGR-1")).await;
    assert_eq!(query_of(again.body["authUrl"].as_str().unwrap()), query);

    let code = approve(&m, &query).await;
    assert!(code.len() >= 43, "≥ 128 random bits");
    let grant = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001", "grantType": "AUTHORIZATION_CODE", "authCode": code});
    let t1 = m.apply_token(&grant).await;
    assert_eq!(t1.code(), "SUCCESS", "{:?}", t1.body);
    assert_eq!(t1.body["customerId"], CUSTOMER);
    assert!(t1.body["accessTokenExpiryTime"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    let access1 = t1.body["accessToken"].as_str().unwrap().to_string();
    let refresh1 = t1.body["refreshToken"].as_str().unwrap().to_string();
    // A re-sent applyToken for the same code: the same pair.
    assert_eq!(m.apply_token(&grant).await.body, t1.body);

    let paid = m.pay(&pay_with("BIND-PAY-1", &access1)).await;
    assert_eq!(paid.code(), "SUCCESS", "{:?}", paid.body);

    m.clock.advance(Duration::minutes(1));
    let refresh = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001", "grantType": "REFRESH_TOKEN", "refreshToken": refresh1});
    let t2 = m.apply_token(&refresh).await;
    assert_eq!(t2.code(), "SUCCESS");
    let access2 = t2.body["accessToken"].as_str().unwrap().to_string();
    assert_ne!(access2, access1);
    assert_eq!(
        m.apply_token(&refresh).await.body,
        t2.body,
        "the same refresh token within 5 minutes"
    );
    assert_eq!(
        m.pay(&pay_with("BIND-PAY-2", &access1)).await.code(),
        "INVALID_TOKEN"
    );
    assert_eq!(
        m.pay(&pay_with("BIND-PAY-3", &access2)).await.code(),
        "SUCCESS"
    );

    let cancel = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001", "accessToken": access2});
    assert_eq!(m.cancel_token(&cancel).await.code(), "SUCCESS");
    assert_eq!(
        m.cancel_token(&cancel).await.code(),
        "SUCCESS",
        "idempotent on accessToken"
    );
    assert_eq!(
        m.pay(&pay_with("BIND-PAY-4", &access2)).await.code(),
        "INVALID_TOKEN"
    );
    let refresh2 = json!({"pspId": "1022188000000000001", "grantType": "REFRESH_TOKEN", "refreshToken": t2.body["refreshToken"]});
    assert_eq!(
        m.apply_token(&refresh2).await.code(),
        "INVALID_REFRESH_TOKEN"
    );
    // The page of a used authorization.
    let (status, _, html) = m.page("GET", &query, None, &[]).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired or was already used"));
    m.assert_ledger_balances().await;
}

#[tokio::test]
async fn the_page_refuses_forgery_wrong_pins_and_locks_after_five() {
    let m = Mpp::memory().await;
    let query = prepared(&m, "AGR-PIN").await;
    let (cookie, af, _) = m.open_page(&query).await;
    // No cookie, or a value that is not the cookie's: a forged post.
    let form = [
        ("af", af.as_str()),
        ("loginId", LOGIN_ID),
        ("pin", PIN),
        ("decision", "approve"),
    ];
    assert_eq!(m.page("POST", &query, None, &form).await.0, 403);
    assert_eq!(
        m.page(
            "POST",
            &query,
            Some("mpp_af=00000000000000000000000000000000"),
            &form
        )
        .await
        .0,
        403
    );
    for left in (1..5).rev() {
        let (status, _, html) = m
            .page(
                "POST",
                &query,
                Some(&cookie),
                &[
                    ("af", &af),
                    ("loginId", LOGIN_ID),
                    ("pin", "000000"),
                    ("decision", "approve"),
                ],
            )
            .await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("{left} tries left")), "{html}");
        assert!(!html.contains("000000"), "the PIN is never echoed");
    }
    let (status, _, html) = m
        .page(
            "POST",
            &query,
            Some(&cookie),
            &[
                ("af", &af),
                ("loginId", LOGIN_ID),
                ("pin", "000000"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(status, 423, "{html}");
    assert!(html.contains("locked for 15 minutes"));
    // Even the right PIN is refused while locked.
    assert_eq!(m.page("POST", &query, Some(&cookie), &form).await.0, 423);
    // Unknown login id: the same words as a wrong PIN.
    let (_, _, html) = m
        .page(
            "POST",
            &query,
            Some(&cookie),
            &[
                ("af", &af),
                ("loginId", "nobody"),
                ("pin", PIN),
                ("decision", "approve"),
            ],
        )
        .await;
    assert!(html.contains("The login id or PIN is wrong."));
    m.clock.advance(Duration::minutes(16));
    // The lock is over after 15 minutes; the page is still valid (30 minutes).
    let (status, _, _) = m.page("POST", &query, Some(&cookie), &form).await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn decline_redirects_with_access_denied_and_unknown_pages_say_so() {
    let m = Mpp::memory().await;
    let query = prepared(&m, "AGR-NO").await;
    let (cookie, af, _) = m.open_page(&query).await;
    let (status, headers, _) = m
        .page(
            "POST",
            &query,
            Some(&cookie),
            &[("af", &af), ("decision", "decline")],
        )
        .await;
    assert_eq!(status, 303);
    let location = header(&headers, "location").unwrap();
    assert_eq!(param(location, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(location, "authState").as_deref(), Some("state-7c1"));
    assert_eq!(param(location, "authCode"), None);
    assert_eq!(m.page("GET", &query, None, &[]).await.0, 410);
    assert_eq!(
        m.page("GET", "authId=0123456789abcdef0123456789abcdef", None, &[])
            .await
            .0,
        404
    );
    assert_eq!(
        m.page("GET", "authId=../../etc/passwd", None, &[]).await.0,
        404
    );
    assert_eq!(m.page("GET", "", None, &[]).await.0, 404);
}

#[tokio::test]
async fn bad_binding_requests_get_envelopes() {
    let m = Mpp::memory().await;
    let mut bad = prepare_body("AGR-BAD");
    bad["authRedirectUrl"] = json!("javascript:alert(1)");
    let a = m.prepare(&bad).await;
    assert_eq!(a.code(), "PARAM_ILLEGAL");
    assert!(a.body["result"]["resultMessage"]
        .as_str()
        .unwrap()
        .contains("authRedirectUrl"));
    let mut none = prepare_body("AGR-BAD");
    none["scopes"] = json!([]);
    assert_eq!(m.prepare(&none).await.code(), "PARAM_ILLEGAL");
    let mut changed = prepare_body("AGR-1");
    assert_eq!(m.prepare(&changed).await.code(), "SUCCESS");
    changed["authRedirectUrl"] = json!("https://elsewhere.example/");
    assert_eq!(m.prepare(&changed).await.code(), "REPEAT_REQ_INCONSISTENT");
    // Only the display fields may change on a repeat.
    let mut display = prepare_body("AGR-1");
    display["authState"] = json!("other-state");
    assert_eq!(m.prepare(&display).await.code(), "SUCCESS");

    let no_code = json!({"pspId": "1", "grantType": "AUTHORIZATION_CODE"});
    assert_eq!(m.apply_token(&no_code).await.code(), "PARAM_ILLEGAL");
    let odd = json!({"pspId": "1", "grantType": "PASSWORD", "authCode": "x"});
    assert_eq!(m.apply_token(&odd).await.code(), "PARAM_ILLEGAL");
    let unknown = json!({"pspId": "1", "grantType": "AUTHORIZATION_CODE", "authCode": "0123456789abcdef0123456789abcdefAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert_eq!(m.apply_token(&unknown).await.code(), "INVALID_CODE");
    let unknown_refresh =
        json!({"pspId": "1", "grantType": "REFRESH_TOKEN", "refreshToken": "nope"});
    assert_eq!(
        m.apply_token(&unknown_refresh).await.code(),
        "INVALID_REFRESH_TOKEN"
    );
    let cancel_unknown = json!({"pspId": "1", "accessToken": "never-issued"});
    assert_eq!(
        m.cancel_token(&cancel_unknown).await.code(),
        "INVALID_TOKEN"
    );
    assert_eq!(
        m.cancel_token_raw(b"{\"pspId\":").await.code(),
        "PARAM_ILLEGAL"
    );
}

#[tokio::test]
async fn what_the_merchant_sends_is_shown_escaped_and_a_bad_logo_is_left_out() {
    let m = Mpp::memory().await;
    let mut body = prepare_body("AGR-XSS");
    body["authClientDisplayName"] = json!("<script>alert(1)</script>");
    body["authClientLogo"] = json!("javascript:alert(2)");
    body["scopes"] = json!(["AGREEMENT_PAY", "<b>NEW</b>"]);
    let a = m.prepare(&body).await;
    assert_eq!(a.code(), "SUCCESS", "{:?}", a.body);
    let query = query_of(a.body["authUrl"].as_str().unwrap());
    let (_, _, html) = m.open_page(&query).await;
    assert!(
        !html.contains("<script>") && !html.contains("<b>NEW"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; wants to link your wallet"));
    assert!(
        !html.contains("javascript:"),
        "a logo that is not a web URL is not shown"
    );
    let mut logo = prepare_body("AGR-LOGO");
    logo["authClientLogo"] = json!("https://merchant.example/logo.png");
    let a = m.prepare(&logo).await;
    let (_, _, html) = m
        .open_page(&query_of(a.body["authUrl"].as_str().unwrap()))
        .await;
    assert!(html.contains("<img class=\"logo\" src=\"https://merchant.example/logo.png\""));
}
