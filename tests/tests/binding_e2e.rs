//! The end-to-end binding, played as Alipay+ and as the user: `mpp serve` (memory store,
//! and DynamoDB Local) → prepare → the authorization page in headless Chromium (Debian's
//! `chromium` + `chromedriver`, driven over WebDriver on 127.0.0.1 with fantoccini) → approve →
//! the merchant's redirect with authCode → applyToken → pay SUCCESS → refresh → the old token
//! INVALID_TOKEN, the new one pays → cancelToken → INVALID_TOKEN.
//!
//! Chromium comes from `bash .ci/chromium.sh install` (CI's "test servers" step). Without it
//! these tests fail with a message saying so: they never pass silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

mod browser;

use browser::{browser, start_driver};
use fantoccini::Locator;
use mpp_core::operations::{APPLY_TOKEN, CANCEL_TOKEN, PREPARE};
use mpp_e2e::harness::{auto_debit, prepare_body, LOGIN_ID, PIN};
use mpp_e2e::process::{dynamodb_endpoint, Alipay, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Longest wait for the merchant's redirect to arrive.
const REDIRECT_WAIT: Duration = Duration::from_secs(20);

/// The merchant's return page on loopback: answers every request with a small page and hands
/// over the first request's path and query.
async fn merchant() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bound", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        // Bounded: the browser asks for the page and maybe a favicon.
        for _ in 0..8 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
            if target.starts_with("/bound") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(target);
                }
            }
            let body =
                "<!doctype html><title>Merchant</title><p id=\"bound\">Back at the merchant</p>";
            let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (url, rx)
}

fn code(v: &Value) -> &str {
    v["result"]["resultCode"].as_str().unwrap_or("")
}

fn query_param(target: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://x{target}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn pay_with(id: &str, token: &str) -> Value {
    let mut v = auto_debit(id);
    v["paymentMethod"]["paymentMethodId"] = json!(token);
    v
}

/// The whole binding against one running server.
async fn bind_pay_refresh_cancel(server: &Server, tag: &str) {
    let a: Alipay = server.alipay();
    let (redirect, redirected) = merchant().await;
    let mut prep = prepare_body(&format!("AGR-E2E-{tag}"));
    prep["authRedirectUrl"] = json!(redirect);
    let prepared = a.call_op(&PREPARE, &prep).await;
    assert_eq!(code(&prepared), "SUCCESS", "{prepared}");
    let auth_url = prepared["authUrl"].as_str().unwrap().to_string();
    assert!(
        auth_url.starts_with(&format!("{}/wallet/authorizationPage?authId=", server.url)),
        "{auth_url}"
    );

    // The user, in a real browser.
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    c.goto(&auth_url).await.unwrap();
    let who = c
        .find(Locator::Id("client"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(who, "Demo Shop wants to link your wallet");
    let scopes = c
        .find(Locator::Id("scopes"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scopes.contains("Take payments from your wallet automatically"),
        "{scopes}"
    );
    let shot = c.screenshot().await.unwrap();
    assert!(
        shot.starts_with(b"\x89PNG") && shot.len() > 2_000,
        "a rendered page"
    );
    browser::log_in_and_approve(&c, LOGIN_ID, PIN).await;
    let target = tokio::time::timeout(REDIRECT_WAIT, redirected)
        .await
        .expect("the browser reached the merchant's authRedirectUrl")
        .unwrap();
    let back = c
        .find(Locator::Id("bound"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(back, "Back at the merchant");
    let _ = c.close().await;
    assert_eq!(
        query_param(&target, "authState").as_deref(),
        Some("state-7c1")
    );
    let auth_code = query_param(&target, "authCode").expect("authCode on the redirect");

    // Alipay+ exchanges the code; pay with the new token.
    let grant = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001",
                       "grantType": "AUTHORIZATION_CODE", "authCode": auth_code});
    let t1 = a.call_op(&APPLY_TOKEN, &grant).await;
    assert_eq!(code(&t1), "SUCCESS", "{t1}");
    assert_eq!(t1["customerId"], "2160000000000001");
    let access1 = t1["accessToken"].as_str().unwrap().to_string();
    let paid = a
        .call("pay", &pay_with(&format!("E2E-{tag}-1"), &access1))
        .await;
    assert_eq!(code(&paid), "SUCCESS", "{paid}");

    // Refresh: the old token stops, the new one pays.
    let refresh = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001",
                         "grantType": "REFRESH_TOKEN", "refreshToken": t1["refreshToken"]});
    let t2 = a.call_op(&APPLY_TOKEN, &refresh).await;
    assert_eq!(code(&t2), "SUCCESS", "{t2}");
    let access2 = t2["accessToken"].as_str().unwrap().to_string();
    let old = a
        .call("pay", &pay_with(&format!("E2E-{tag}-2"), &access1))
        .await;
    assert_eq!(code(&old), "INVALID_TOKEN", "{old}");
    let new = a
        .call("pay", &pay_with(&format!("E2E-{tag}-3"), &access2))
        .await;
    assert_eq!(code(&new), "SUCCESS", "{new}");

    // Unbind.
    let cancel = json!({"pspId": "1022188000000000001", "acquirerId": "1022172000000000001", "accessToken": access2});
    assert_eq!(code(&a.call_op(&CANCEL_TOKEN, &cancel).await), "SUCCESS");
    let after = a
        .call("pay", &pay_with(&format!("E2E-{tag}-4"), &access2))
        .await;
    assert_eq!(code(&after), "INVALID_TOKEN", "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_end_to_end_on_the_memory_store_in_chromium() {
    let server = Server::start(&[]);
    bind_pay_refresh_cancel(&server, "MEM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_end_to_end_on_dynamodb_local_in_chromium() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let prefix = format!("e2e{}", std::process::id());
    let seed = mpp_e2e::process::workspace().join("examples/seed.json");
    let server = Server::start(&[
        "--dynamodb-endpoint",
        &endpoint,
        "--table-prefix",
        &prefix,
        "--seed",
        seed.to_str().unwrap(),
    ]);
    let started = Instant::now();
    bind_pay_refresh_cancel(&server, "DDB").await;
    eprintln!(
        "binding end to end on DynamoDB Local: {:?}",
        started.elapsed()
    );
}
