//! `mpp merchant bind` and `mpp merchant unbind` (issue 18): the merchant's side of account
//! binding through its acquirer's connection to Alipay+ (or `mpp hub`).
//!
//! `bind`: prepare (the `authRedirectUrl` is a callback this command serves on loopback) → prints
//! `authUrl: …` on a line of its own (and opens it when a browser is there) → waits for the
//! user's redirect → applyToken with the code → keeps the pair in `<state-dir>/binding.json`
//! (`accessToken`, what `mpp merchant otp` reads). `unbind`: cancelToken with that token. A call
//! that got no trusted answer (lost, timed out) is re-sent unchanged, at most
//! [`RESENDS_MAX`] times: the MPP answers a re-sent applyToken with the same pair.

use crate::merchant::{Common, EXIT_NOT_S};
use crate::{other, CliError};
use clap::Args;
use mpp_client::SignedClient;
use mpp_core::operations::{APPLY_TOKEN, CANCEL_TOKEN, PREPARE};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Duration;

/// Re-sends of one request after no trusted answer: with the 8 s client timeout, three
/// re-sends stay within half a minute of a person waiting at the merchant.
pub const RESENDS_MAX: u32 = 3;

/// The callback's path on loopback.
const CALLBACK_PATH: &str = "/bound";

#[derive(Args)]
pub struct BindArgs {
    #[command(flatten)]
    pub common: Common,
    /// The merchant's client id (`authClientId`).
    #[arg(long, default_value = "2188120000000001")]
    pub auth_client_id: String,
    /// Its legal name (`authClientName`).
    #[arg(long, default_value = "Demo Shop Ltd.")]
    pub auth_client_name: String,
    /// Its trade name, the page's title (`authClientDisplayName`).
    #[arg(long, default_value = "Demo Shop")]
    pub auth_client_display_name: String,
    /// The merchant id (`referenceMerchantId`).
    #[arg(long, default_value = "1022188000000000001")]
    pub reference_merchant_id: String,
    /// How long to wait for the user on the page, in seconds.
    #[arg(long, default_value_t = 300)]
    pub wait_secs: u64,
    /// Do not try to open a browser.
    #[arg(long)]
    pub no_open: bool,
}

#[derive(Args)]
pub struct UnbindArgs {
    #[command(flatten)]
    pub common: Common,
}

/// What one call came to.
enum Answer {
    /// A verified answer.
    Trusted(Value),
    /// No trusted answer (printed); the caller may re-send.
    Untrusted,
}

async fn call_once(client: &SignedClient, path: &str, body: &[u8]) -> Answer {
    match client.call(path, body).await {
        Err(e) => {
            println!("no answer: {e}");
            Answer::Untrusted
        }
        Ok(a) => match (&a.signature, a.json()) {
            (Ok(()), Some(v)) if v["result"]["resultStatus"].is_string() => Answer::Trusted(v),
            (Err(e), _) => {
                println!("answer not trusted (HTTP {}): {e}", a.status);
                Answer::Untrusted
            }
            (Ok(()), _) => {
                println!("answer unreadable (HTTP {})", a.status);
                Answer::Untrusted
            }
        },
    }
}

/// Sends `body`, and the same bytes again after no trusted answer (or a U), at most
/// [`RESENDS_MAX`] times; the last answer (or `None`).
async fn call_resending(
    client: &SignedClient,
    path: &str,
    body: &Value,
) -> Result<Option<Value>, CliError> {
    let bytes = serde_json::to_vec(body).map_err(other)?;
    let mut last = None;
    for attempt in 0..=RESENDS_MAX {
        if attempt > 0 {
            println!("re-sending the same request ({attempt} of {RESENDS_MAX})");
        }
        match call_once(client, path, &bytes).await {
            Answer::Trusted(v) if v["result"]["resultStatus"] != "U" => return Ok(Some(v)),
            Answer::Trusted(v) => last = Some(v),
            Answer::Untrusted => {}
        }
    }
    Ok(last)
}

/// Prints `CODE (STATUS)`; the exit code (0 only on S).
fn outcome(v: Option<&Value>) -> ExitCode {
    let Some(v) = v else {
        println!("no answer after {RESENDS_MAX} re-sends");
        return ExitCode::from(EXIT_NOT_S);
    };
    let code = v["result"]["resultCode"].as_str().unwrap_or("");
    let status = v["result"]["resultStatus"].as_str().unwrap_or("");
    println!("{code} ({status})");
    match status {
        "S" => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_NOT_S),
    }
}

/// 128 random bits in hex (the agreement id and `authState`).
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What the callback received: `authCode` and `authState`, or `error`.
type Callback = std::collections::HashMap<String, String>;

/// Serves the redirect on loopback; the first request to [`CALLBACK_PATH`] is the answer.
async fn callback_server() -> Result<(String, tokio::sync::mpsc::Receiver<Callback>), CliError> {
    use axum::extract::State;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(other)?;
    let addr = listener.local_addr().map_err(other)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Callback>(1);
    let app =
        axum::Router::new()
            .route(
                CALLBACK_PATH,
                axum::routing::get(
                    |State(tx): State<tokio::sync::mpsc::Sender<Callback>>,
                     uri: axum::http::Uri| async move {
                        let q: Callback =
                            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                                .into_owned()
                                .collect();
                        let _ = tx.try_send(q);
                        "Done: you can go back to the terminal.\n"
                    },
                ),
            )
            .with_state(tx);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}{CALLBACK_PATH}"), rx))
}

/// Opens `url` in a browser when the machine has one (a display and `xdg-open`); silent
/// otherwise (the URL is printed either way).
fn open_browser(url: &str) {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return;
    }
    let _ = std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

pub async fn bind(args: BindArgs) -> Result<ExitCode, CliError> {
    let c = &args.common;
    let client = crate::merchant::client(c)?;
    let (redirect, mut callback) = callback_server().await?;
    let state = random_hex();
    let prepare = json!({
        "pspId": c.psp_id,
        "acquirerId": c.acquirer_id,
        "authClientId": args.auth_client_id,
        "authClientName": args.auth_client_name,
        "authClientDisplayName": args.auth_client_display_name,
        "referenceMerchantId": args.reference_merchant_id,
        "referenceAgreementId": format!("agreement-{}", random_hex()),
        "authRedirectUrl": redirect,
        "scopes": ["AGREEMENT_PAY"],
        "authState": state,
    });
    let answer = call_resending(&client, &PREPARE.path(), &prepare).await?;
    let Some(auth_url) = answer
        .as_ref()
        .filter(|v| v["result"]["resultStatus"] == "S")
        .and_then(|v| v["authUrl"].as_str())
        .map(str::to_string)
    else {
        return Ok(outcome(answer.as_ref()));
    };
    println!("authUrl: {auth_url}");
    if !args.no_open {
        open_browser(&auth_url);
    }
    let got = tokio::time::timeout(Duration::from_secs(args.wait_secs), callback.recv())
        .await
        .map_err(|_| other(format!("no redirect within {} s", args.wait_secs)))?
        .ok_or_else(|| other("the callback stopped"))?;
    if got.get("authState") != Some(&state) {
        println!("redirect with a foreign authState: refused");
        return Ok(ExitCode::from(EXIT_NOT_S));
    }
    let Some(code) = got.get("authCode") else {
        println!(
            "the user declined ({})",
            got.get("error").map(String::as_str).unwrap_or("no code")
        );
        return Ok(ExitCode::from(EXIT_NOT_S));
    };
    let apply = json!({
        "pspId": c.psp_id,
        "acquirerId": c.acquirer_id,
        "grantType": "AUTHORIZATION_CODE",
        "authCode": code,
    });
    let answer = call_resending(&client, &APPLY_TOKEN.path(), &apply).await?;
    let exit = outcome(answer.as_ref());
    if let Some(v) = answer
        .as_ref()
        .filter(|v| v["result"]["resultStatus"] == "S")
    {
        let keep = json!({
            "accessToken": v["accessToken"],
            "accessTokenExpiryTime": v["accessTokenExpiryTime"],
            "refreshToken": v["refreshToken"],
            "refreshTokenExpiryTime": v["refreshTokenExpiryTime"],
            "customerId": v["customerId"],
        });
        let path = c.state_dir.join("binding.json");
        write_private(&path, &serde_json::to_vec_pretty(&keep).map_err(other)?)?;
        println!("bound: tokens kept in {}", path.display());
    }
    Ok(exit)
}

pub async fn unbind(args: UnbindArgs) -> Result<ExitCode, CliError> {
    let c = &args.common;
    let client = crate::merchant::client(c)?;
    let body = json!({
        "pspId": c.psp_id,
        "acquirerId": c.acquirer_id,
        "accessToken": crate::merchant::access_token(c)?,
    });
    let answer = call_resending(&client, &CANCEL_TOKEN.path(), &body).await?;
    Ok(outcome(answer.as_ref()))
}

/// Writes `bytes` readable by the owner only (the file holds live tokens).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path).map_err(CliError::io(path))?;
    f.write_all(bytes).map_err(CliError::io(path))
}

#[derive(Args)]
pub struct ChargeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The amount in minor units (100 JPY = 100; 1.00 USD = 100).
    #[arg(long)]
    pub amount: String,
    /// ISO 4217 currency of the amount.
    #[arg(long)]
    pub currency: String,
    /// What was bought (`orderDescription`).
    #[arg(long, default_value = "Demo order")]
    pub description: String,
}

/// `mpp merchant charge`: an auto-debit pay (`isAgreementPayment`) with the bound access token,
/// through the acquirer's connection (the hub converts it to the MPP's currency and forwards
/// it). One `paymentRequestId` per charge: a re-send after a lost answer is the same payment.
pub async fn charge(args: ChargeArgs) -> Result<ExitCode, CliError> {
    use mpp_core::money::{Currency, MinorUnit};
    use mpp_core::payments::{PaymentFactor, PaymentMethod};
    use mpp_core::wire::acquirer::AcqPayRequest;
    use mpp_core::wire::{Amount, Flag, PaymentMethodType, Text};
    let c = &args.common;
    let client = crate::merchant::client(c)?;
    let currency = Currency::from_code(&args.currency).ok_or_else(|| {
        other(format!(
            "--currency: not an ISO 4217 code: {}",
            args.currency
        ))
    })?;
    let value =
        MinorUnit::parse_natural(&args.amount).map_err(|e| other(format!("--amount: {e}")))?;
    let amount = Amount { currency, value };
    let now = chrono::Utc::now();
    let id = format!("CHG{}", random_hex());
    let order = mpp_acquirer::Merchant::sample()
        .order(&id, &args.description, amount, now)
        .map_err(other)?;
    let token = crate::merchant::access_token(c)?;
    let req = AcqPayRequest {
        payment_request_id: Text::new(id.as_str()).map_err(other)?,
        order,
        payment_amount: amount,
        payment_method: PaymentMethod {
            payment_method_type: PaymentMethodType::connect_wallet(),
            payment_method_id: Some(Text::new(token.as_str()).map_err(other)?),
            customer_id: None,
            payment_method_meta_data: None,
            custom_data: None,
        },
        payment_factor: Some(PaymentFactor {
            is_agreement_payment: Some(Flag::new(true)),
            ..PaymentFactor::default()
        }),
        payment_expiry_time: None,
        payment_notify_url: None,
        settlement_strategy: None,
    };
    let body: Value = serde_json::to_value(&req).map_err(other)?;
    println!("charge {} {} ({id})", args.amount, args.currency);
    let path = format!(
        "{}{}",
        mpp_acquirer::gateway::DEFAULT_PATH_PREFIX,
        mpp_acquirer::gateway::PAY_PATH
    );
    let answer = call_resending(&client, &path, &body).await?;
    Ok(outcome(answer.as_ref()))
}
