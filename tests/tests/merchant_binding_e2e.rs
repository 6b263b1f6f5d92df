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
//!
//! And the user unbinding **in the wallet** instead (`mpp bindings list` / `revoke` against
//! `mpp serve`'s internal route): the hub, playing Alipay+, first answers consultUnbinding
//! "false" once (`consultUnbinding=deny*1`: nothing changes, the charge still succeeds), then
//! "true": the MPP revokes, TOKEN_CANCELED reaches the hub (`GET /hub/authNotify`) with the token
//! the merchant holds, and the merchant's charge answers `INVALID_TOKEN`; plainly and with
//! applyToken's answer lost once.
//!
//! The hub relays authNotify to a loopback merchant side (`--merchant-auth-notify-url`) that
//! answers as the merchant's acquirer, signed with the acquirer key the hub trusts
//! (`<state-dir>/acquirer/`): the hub stops at its S. Plainly, the merchant side answers
//! TOKEN_CREATED F once and TOKEN_CANCELED U once: each is re-sent after the hub's first retry
//! delay with the same body, then acknowledged, then never sent again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

mod browser;

use mpp_acquirer::hub::NOTIFY_RETRY_DELAYS;
use mpp_e2e::harness::{LOGIN_ID, PIN};
use mpp_e2e::process::{mpp_binary, workspace, HubProcess, Server};
use mpp_e2e::receiver::{Behaviour, Received, Receiver};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The merchant waits this long per call; the hub holds a dropped answer longer.
const MERCHANT_TIMEOUT_MS: &str = "1500";
const DROP_HOLD_MS: &str = "2500";

/// Who undoes the binding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unbinder {
    /// The merchant: cancelToken through the hub.
    Merchant,
    /// The user in the wallet: consultUnbinding, then TOKEN_CANCELED.
    Wallet,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_charge_unbind() {
    bind_charge_and_unbind(false, Unbinder::Merchant).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_with_a_lost_apply_token_answer_then_unbind() {
    bind_charge_and_unbind(true, Unbinder::Merchant).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_charge_then_the_user_unbinds_in_the_wallet() {
    bind_charge_and_unbind(false, Unbinder::Wallet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_with_a_lost_apply_token_answer_then_the_user_unbinds_in_the_wallet() {
    bind_charge_and_unbind(true, Unbinder::Wallet).await;
}

/// A finished `mpp` run: exit code, stdout, stderr.
type Run = (i32, String, String);

/// Polls of `GET /hub/authNotify` for TOKEN_CANCELED (the MPP's outbox feed delivers at once).
const NOTICE_POLLS_MAX: u32 = 50;
const NOTICE_POLL_MS: u64 = 200;
/// Polls of the merchant side for the relayed notifications: 20 s, room for a re-send after the
/// hub's first retry delay (4 s) on a loaded machine.
const RELAY_POLLS_MAX: u32 = 100;
/// Past an S, how long the test watches for a re-send that must not come: the hub's next retry
/// delay after a second attempt (`NOTIFY_RETRY_DELAYS[1]`, 4 s) and 2 s more.
const NO_RESEND_WAIT: Duration = Duration::from_secs(2);

/// The whole story; with `lose_apply_token` the hub drops applyToken's first answer.
async fn bind_charge_and_unbind(lose_apply_token: bool, unbinder: Unbinder) {
    // The MPP calls the hub (consultUnbinding, authNotify) and the hub the MPP: the hub's
    // address is chosen first.
    let hub_addr = HubProcess::reserve_addr();
    let hub_base = format!("http://{hub_addr}");
    let auth_notify_url = format!("{hub_base}{}", mpp_core::operations::AUTH_NOTIFY.path());
    let server = Server::start(&[
        "--alipay-api-url",
        &hub_base,
        "--auth-notify-url",
        &auth_notify_url,
    ]);
    let state = server.state_dir.path().to_str().unwrap().to_string();
    let mpp = format!("28={}", server.url);
    // The merchant's side of authNotify: the hub relays what the MPP sends it. Plainly, with a
    // wallet unbinding, it answers the first relay (TOKEN_CREATED) F.
    let refuse_once = unbinder == Unbinder::Wallet && !lose_apply_token;
    let first_answers = match refuse_once {
        true => vec![Behaviour::AnswerF],
        false => Vec::new(),
    };
    let merchant_side = Receiver::start(first_answers, Behaviour::Ack).await;
    let mut hub_args = vec![
        "--mpp",
        mpp.as_str(),
        "--merchant-auth-notify-url",
        merchant_side.url.as_str(),
    ];
    if lose_apply_token {
        hub_args.extend([
            "--fault",
            "applyToken=drop*1",
            "--drop-hold-ms",
            DROP_HOLD_MS,
        ]);
    }
    let hub = HubProcess::start_at(server.state_dir.path(), &hub_addr, &hub_args);
    // The merchant side answers as the merchant's acquirer, with the key the hub is configured
    // to trust (`<state-dir>/acquirer/`, made by the hub at start; `mpp merchant` signs with it
    // too), and checks the hub's signature (the hub signs as Alipay+).
    answer_as_the_acquirer(&merchant_side, server.state_dir.path());
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
    match unbinder {
        // ... until the merchant unbinds (S, and S again: cancelToken is idempotent) ...
        Unbinder::Merchant => {
            for _ in 0..2 {
                let (exit, out, err) = merchant(&["unbind"]);
                assert_eq!(exit, 0, "{out}{err}");
                assert!(out.starts_with("SUCCESS (S)"), "{out}");
            }
        }
        // ... until the user unbinds in the wallet.
        Unbinder::Wallet => {
            // TOKEN_CREATED relayed to the merchant's side: after an F, re-sent until its S.
            let created_sends = 1 + usize::from(refuse_once);
            let created = relayed(&merchant_side, "TOKEN_CREATED", &token, created_sends).await;
            if refuse_once {
                // The next relay (TOKEN_CANCELED) is answered U once.
                merchant_side.push_steps([Behaviour::AnswerU]);
            }
            unbind_in_the_wallet(&server.url, &hub.url, &token, &merchant).await;
            // The hub relayed TOKEN_CANCELED to the merchant's side, signed as Alipay+, with
            // the token it concerns (the hub keeps its own record too: checked above).
            let canceled = relayed(&merchant_side, "TOKEN_CANCELED", &token, created_sends).await;
            // Past the last S, through the hub's next retry delay: nothing more is sent.
            tokio::time::sleep(NOTIFY_RETRY_DELAYS[1] + NO_RESEND_WAIT).await;
            assert_eq!(
                of_kind(&merchant_side, "TOKEN_CREATED", &token).len(),
                created.len(),
                "TOKEN_CREATED not re-sent after the merchant's S"
            );
            assert_eq!(
                of_kind(&merchant_side, "TOKEN_CANCELED", &token).len(),
                canceled.len(),
                "TOKEN_CANCELED not re-sent after the merchant's S"
            );
        }
    }
    // ... after which it is dead.
    let (exit, out, _) = merchant(&["otp", "send"]);
    assert_eq!(exit, 1, "{out}");
    assert!(out.starts_with("INVALID_TOKEN (F)"), "{out}");
    let (exit, out, _) = merchant(&charge);
    assert_eq!(exit, 1, "{out}");
    assert!(out.contains("INVALID_TOKEN (F)"), "{out}");
}

/// Loads the acquirer's key pair the hub made in `state_dir` and the hub's Alipay+ public key,
/// and makes `receiver` answer as the merchant's acquirer.
fn answer_as_the_acquirer(receiver: &Receiver, state_dir: &std::path::Path) {
    use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
    let read = |p: &str| std::fs::read_to_string(state_dir.join(p)).unwrap();
    let acquirer = LocalSigner::new(
        load_private_key(&read("acquirer/private_key.pem")).unwrap(),
        1,
    );
    let hub_as_alipay = load_public_key(&read("alipay/public_key.pem")).unwrap();
    receiver.answer_as(std::sync::Arc::new(acquirer), hub_as_alipay);
}

/// The relayed `kind` notifications about `token` the merchant side received so far.
fn of_kind(receiver: &Receiver, kind: &str, token: &str) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v["authorizationNotifyType"] == kind && v["accessToken"] == token
        })
        .collect()
}

/// Waits (bounded) until the merchant side has received `kind` about `token` `sends` times,
/// and checks them: the same body every time, signed by the hub as Alipay+, each re-send no
/// earlier than the hub's schedule says.
async fn relayed(receiver: &Receiver, kind: &str, token: &str, sends: usize) -> Vec<Received> {
    let mut got = Vec::new();
    for _ in 0..RELAY_POLLS_MAX {
        got = of_kind(receiver, kind, token);
        if got.len() >= sends {
            break;
        }
        tokio::time::sleep(Duration::from_millis(NOTICE_POLL_MS)).await;
    }
    assert_eq!(got.len(), sends, "{kind} relayed {sends} times");
    assert!(
        got.iter().all(|r| r.body == got[0].body && r.signature_ok),
        "{kind}: the same body, signed by the hub as Alipay+"
    );
    for (i, pair) in got.windows(2).enumerate() {
        assert!(
            pair[1].at.duration_since(pair[0].at) >= NOTIFY_RETRY_DELAYS[i],
            "{kind}: re-sent on the hub's schedule"
        );
    }
    got
}

/// The user unbinds in the wallet: listed, refused once by the merchant (nothing changes: the
/// charge still goes through), then allowed: revoked, and TOKEN_CANCELED with the merchant's
/// token reaches the hub.
async fn unbind_in_the_wallet(
    mpp_url: &str,
    hub_url: &str,
    token: &str,
    merchant: &dyn Fn(&[&str]) -> Run,
) {
    let customer = "2160000000000001";
    let (exit, out, err) = mpp_e2e::process::run_mpp(&[
        "bindings",
        "list",
        "--customer-id",
        customer,
        "--mpp-url",
        mpp_url,
    ]);
    assert_eq!(exit, 0, "{out}{err}");
    let auth_id = out
        .lines()
        .find_map(|l| l.strip_prefix("authId "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("one binding listed")
        .to_string();
    assert!(
        token.starts_with(&auth_id),
        "the merchant's token names the binding"
    );
    let revoke = [
        "bindings",
        "revoke",
        "--customer-id",
        customer,
        "--auth-id",
        auth_id.as_str(),
        "--mpp-url",
        mpp_url,
    ];
    // The merchant does not allow it (once): nothing changes.
    let http = mpp_client::http_client(std::time::Duration::from_secs(5)).unwrap();
    let faults = format!("{hub_url}{}", mpp_acquirer::hub::FAULTS_PATH);
    let set = http
        .post(&faults)
        .body("consultUnbinding=deny*1")
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let (exit, out, err) = mpp_e2e::process::run_mpp(&revoke);
    assert_eq!(exit, 1, "{out}{err}");
    assert!(out.contains("allowUnbinding: false"), "{out}");
    assert!(out.contains("UNBINDING_NOT_ALLOWED"), "{out}");
    let charge = ["charge", "--amount", "100", "--currency", "JPY"];
    let (exit, out, err) = merchant(&charge);
    assert_eq!(
        exit, 0,
        "the binding still works after a refusal: {out}{err}"
    );
    // Allowed: revoked, exit 0.
    let (exit, out, err) = mpp_e2e::process::run_mpp(&revoke);
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("allowUnbinding: true"), "{out}");
    assert!(out.contains("S SUCCESS (revoked)"), "{out}");
    // TOKEN_CANCELED reaches the hub, about the token the merchant holds.
    let token_hash = mpp_core::ids::Secret::new(token).hash().0;
    let notices = format!(
        "{hub_url}{}",
        mpp_acquirer::hub::bindings::AUTH_NOTICES_PATH
    );
    let mut seen = false;
    for _ in 0..NOTICE_POLLS_MAX {
        let lines = http
            .get(&notices)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen = lines.lines().any(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["authorizationNotifyType"] == "TOKEN_CANCELED" && v["accessTokenHash"] == token_hash
        });
        if seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(NOTICE_POLL_MS)).await;
    }
    assert!(seen, "TOKEN_CANCELED reached the hub");
    // The list is empty now, and a re-run of the revocation says S again.
    let (exit, out, _) = mpp_e2e::process::run_mpp(&[
        "bindings",
        "list",
        "--customer-id",
        customer,
        "--mpp-url",
        mpp_url,
    ]);
    assert_eq!(exit, 0);
    assert!(!out.contains("authId "), "{out}");
    let (exit, out, err) = mpp_e2e::process::run_mpp(&revoke);
    assert_eq!(exit, 0, "{out}{err}");
}
