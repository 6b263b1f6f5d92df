//! The wallet's authorization page played over plain HTTP (no browser): what a user does on it,
//! for the process tests of the merchant's side (`binding_e2e.rs` drives it in Chromium).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use std::time::Duration;

/// The user on the page: log in as the demo wallet and agree; the redirect's `Location`.
pub async fn agree(auth_url: &str) -> String {
    let client = mpp_client::http_client_builder()
        .unwrap()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let page = client.get(auth_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("mpp_af="))
        .unwrap();
    let html = page.text().await.unwrap();
    let af = html
        .split("name=\"af\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let answer = client
        .post(auth_url)
        .header("cookie", cookie)
        .form(&[
            ("loginId", "demo@wallet.example"),
            ("pin", "123456"),
            ("decision", "approve"),
            ("af", af.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    answer.headers()["location"].to_str().unwrap().to_string()
}
