//! The merchant's side of account binding on one machine (issue 18): `mpp merchant bind` →
//! `mpp hub` → `mpp serve`, plainly and with applyToken's answer lost once in the hub
//! (`applyToken=drop*1`: the merchant re-sends the same request and gets the same pair); the
//! merchant keeps the pair in
//! `<state-dir>/binding.json`; the user's part on the wallet's page is played in headless
//! Chromium (log in, agree; the browser follows the redirect to the merchant's loopback
//! callback). Then
//! `mpp merchant charge` (an auto-debit pay through the hub) SUCCESS; `mpp merchant unbind`
//! (cancelToken, again S) and the token is dead for the merchant's next calls (sendOTP and
//! charge: `INVALID_TOKEN`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

mod browser;

use mpp_e2e::harness::{LOGIN_ID, PIN};
use mpp_e2e::process::{mpp_binary, workspace, HubProcess, Server};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The merchant waits this long per call; the hub holds a dropped answer longer.
const MERCHANT_TIMEOUT_MS: &str = "1500";
const DROP_HOLD_MS: &str = "2500";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_charge_unbind() {
    bind_charge_and_unbind(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_with_a_lost_apply_token_answer_then_unbind() {
    bind_charge_and_unbind(true).await;
}

/// The whole story; with `lose_apply_token` the hub drops applyToken's first answer.
async fn bind_charge_and_unbind(lose_apply_token: bool) {
    let server = Server::start(&[]);
    let state = server.state_dir.path().to_str().unwrap().to_string();
    let mpp = format!("28={}", server.url);
    let mut hub_args = vec!["--mpp", mpp.as_str()];
    if lose_apply_token {
        hub_args.extend([
            "--fault",
            "applyToken=drop*1",
            "--drop-hold-ms",
            DROP_HOLD_MS,
        ]);
    }
    let hub = HubProcess::start(server.state_dir.path(), &hub_args);
    let mut bind = Command::new(mpp_binary())
        .args([
            "merchant",
            "bind",
            "--hub-url",
            &hub.url,
            "--state-dir",
            &state,
            "--timeout-ms",
            MERCHANT_TIMEOUT_MS,
            "--wait-secs",
            "60",
            "--no-open",
        ])
        .current_dir(workspace())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(bind.stdout.take().unwrap()).lines();
    let auth_url = loop {
        let line = lines
            .next()
            .expect("bind ended before printing authUrl")
            .unwrap();
        if let Some(url) = line.strip_prefix("authUrl: ") {
            break url.to_string();
        }
    };
    assert!(auth_url.starts_with(&server.url), "{auth_url}");
    // The user, in a real browser: log in, agree; Chromium follows the redirect to `bind`'s
    // loopback callback.
    let driver = browser::start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser::browser(&driver, profile.path()).await;
    c.goto(&auth_url).await.unwrap();
    browser::log_in_and_approve(&c, LOGIN_ID, PIN).await;
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = bind.wait().unwrap();
    let landed = c.current_url().await.unwrap();
    assert!(
        landed.as_str().contains("/bound?authCode="),
        "the browser reached the merchant's callback: {landed}"
    );
    let _ = c.close().await;
    let out = rest.join("\n");
    assert!(status.success(), "{out}");
    let re_sent = out.contains("no answer") && out.contains("re-sending the same request (1 of 3)");
    assert_eq!(
        re_sent, lose_apply_token,
        "applyToken re-sent exactly when its first answer was lost: {out}"
    );
    assert!(out.contains("SUCCESS (S)"), "{out}");
    let kept: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server.state_dir.path().join("binding.json")).unwrap(),
    )
    .unwrap();
    let token = kept["accessToken"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 75, "an MPP-issued token");
    assert_eq!(kept["customerId"], "2160000000000001");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(server.state_dir.path().join("binding.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "binding.json is the owner's only");
    }

    // The token works for the merchant's next call (sendOTP through the hub) ...
    let merchant = |args: &[&str]| {
        let mut all = vec!["merchant"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--hub-url", &hub.url, "--state-dir", &state]);
        mpp_e2e::process::run_mpp(&all)
    };
    let (exit, out, err) = merchant(&["otp", "send"]);
    assert_eq!(exit, 0, "{out}{err}");
    // An auto-debit charge with it: 100 JPY (1 000 KRW at the hub's rate) SUCCESS.
    let charge = ["charge", "--amount", "100", "--currency", "JPY"];
    let (exit, out, err) = merchant(&charge);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("SUCCESS (S)"), "{out}");
    // ... until the merchant unbinds (S, and S again: cancelToken is idempotent) ...
    for _ in 0..2 {
        let (exit, out, err) = merchant(&["unbind"]);
        assert_eq!(exit, 0, "{out}{err}");
        assert!(out.starts_with("SUCCESS (S)"), "{out}");
    }
    // ... after which it is dead.
    let (exit, out, _) = merchant(&["otp", "send"]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.starts_with("INVALID_TOKEN (F)"), "{out}");
    let (exit, out, _) = merchant(&charge);
    assert_eq!(exit, 1, "{out}");
    assert!(out.contains("INVALID_TOKEN (F)"), "{out}");
}
