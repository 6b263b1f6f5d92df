//! `mpp merchant`: the merchant's side of auto debit, through its acquirer's connection to
//! Alipay+ (or `mpp hub`). For now the risk challenge of a charge: `mpp merchant otp send` and
//! `mpp merchant otp verify` (sendOTP and verifyOTP, `account-binding.md` §7). The access token
//! is `--access-token`, or the `accessToken` field of `<state-dir>/binding.json` (written by the
//! binding steps of `mpp merchant`). Prints the Alipay+ result code; exits 0 only on S.

use crate::{other, CliError};
use clap::{Args, Subcommand, ValueEnum};
use mpp_client::{SignedClient, DEFAULT_TIMEOUT};
use mpp_core::operations::{SEND_OTP, VERIFY_OTP};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code of an answer that is not S (F or U), or of no trusted answer.
pub(crate) const EXIT_NOT_S: u8 = 1;

/// Merchant commands.
#[derive(Subcommand)]
pub enum MerchantCommand {
    /// Risk challenge of a charge: send the user a one-time password, then verify what they typed.
    Otp {
        #[command(subcommand)]
        command: OtpCommand,
    },
    /// Account binding: prepare, the user on the wallet's page (authUrl), applyToken; keeps the
    /// tokens in <state-dir>/binding.json.
    Bind(crate::merchant_binding::BindArgs),
    /// cancelToken with the token of <state-dir>/binding.json (or --access-token).
    Unbind(crate::merchant_binding::UnbindArgs),
    /// An auto-debit pay with the token of <state-dir>/binding.json (or --access-token).
    Charge(crate::merchant_binding::ChargeArgs),
}

/// `mpp merchant otp`.
#[derive(Subcommand)]
pub enum OtpCommand {
    /// sendOTP: a one-time password to the user's phone (MOBILE) or e-mail (EMAIL); prints the
    /// verifyRequestId.
    Send(SendArgs),
    /// verifyOTP: does the code match?
    Verify(VerifyArgs),
}

/// What both steps share.
#[derive(Args, Clone, Debug)]
pub struct Common {
    /// Alipay+ (or `mpp hub`) base URL.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub hub_url: String,
    /// Where the development keys and the binding are.
    #[arg(long, default_value = ".mpp-dev")]
    pub state_dir: PathBuf,
    /// The user's access token. Default: `accessToken` of <state-dir>/binding.json.
    #[arg(long)]
    pub access_token: Option<String>,
    /// The acquirer's private key (PEM). Default: <state-dir>/acquirer/private_key.pem (made if
    /// missing).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Its key version.
    #[arg(long, default_value_t = 1)]
    pub key_version: u32,
    /// Alipay+'s public key. Default: <state-dir>/alipay/public_key.pem.
    #[arg(long)]
    pub alipay_public_key: Option<PathBuf>,
    /// The acquirer's Client-Id at Alipay+.
    #[arg(long, default_value = "TEST_ACQP_CLIENT")]
    pub client_id: String,
    /// The acquirer's id (`acquirerId`).
    #[arg(long, default_value = "1022188000000000001")]
    pub acquirer_id: String,
    /// The wallet's id at Alipay+ (`pspId`).
    #[arg(long, default_value = "1022172000000000001")]
    pub psp_id: String,
    /// How long one call waits for its answer, in milliseconds (Alipay+ waits 8 s).
    #[arg(long, default_value_t = DEFAULT_TIMEOUT.as_millis() as u64)]
    pub timeout_ms: u64,
}

/// The channel of sendOTP.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPERCASE")]
pub enum Channel {
    /// SMS to the account's phone.
    Mobile,
    /// E-mail to the account's address.
    Email,
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub common: Common,
    /// MOBILE (the default) or EMAIL.
    #[arg(long, value_enum)]
    pub verify_type: Option<Channel>,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: Common,
    /// What sendOTP answered.
    #[arg(long)]
    pub verify_request_id: String,
    /// The code the user typed.
    #[arg(long)]
    pub otp_code: String,
}

pub async fn run(command: MerchantCommand) -> Result<ExitCode, CliError> {
    match command {
        MerchantCommand::Bind(args) => crate::merchant_binding::bind(args).await,
        MerchantCommand::Unbind(args) => crate::merchant_binding::unbind(args).await,
        MerchantCommand::Charge(args) => crate::merchant_binding::charge(args).await,
        MerchantCommand::Otp {
            command: OtpCommand::Send(args),
        } => {
            let mut body = json!({
                "acquirerId": args.common.acquirer_id,
                "pspId": args.common.psp_id,
                "accessToken": access_token(&args.common)?,
            });
            if let Some(c) = args.verify_type {
                body["verifyType"] = json!(match c {
                    Channel::Mobile => "MOBILE",
                    Channel::Email => "EMAIL",
                });
            }
            call(&args.common, &SEND_OTP.path(), &body).await
        }
        MerchantCommand::Otp {
            command: OtpCommand::Verify(args),
        } => {
            let body = json!({
                "acquirerId": args.common.acquirer_id,
                "pspId": args.common.psp_id,
                "accessToken": access_token(&args.common)?,
                "verifyRequestId": args.verify_request_id,
                "otpCode": args.otp_code,
            });
            call(&args.common, &VERIFY_OTP.path(), &body).await
        }
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(CliError::io(path))
}

/// `--access-token`, else `accessToken` of `<state-dir>/binding.json`.
pub(crate) fn access_token(c: &Common) -> Result<String, CliError> {
    if let Some(t) = &c.access_token {
        return Ok(t.clone());
    }
    let path = c.state_dir.join("binding.json");
    let v: Value = serde_json::from_str(&read(&path)?)
        .map_err(|e| other(format!("{}: {e}", path.display())))?;
    v["accessToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            other(format!(
                "{}: no accessToken (bind first, or give --access-token)",
                path.display()
            ))
        })
}

/// The acquirer's signed client to `--hub-url`.
pub(crate) fn client(c: &Common) -> Result<SignedClient, CliError> {
    let (signer, alipay) = crate::hub::acquirer_keys(
        &c.state_dir,
        c.key.as_deref(),
        c.key_version,
        c.alipay_public_key.as_deref(),
    )?;
    SignedClient::new(
        &c.hub_url,
        &c.client_id,
        signer,
        Some(alipay),
        std::time::Duration::from_millis(c.timeout_ms),
    )
    .map_err(other)
}

async fn call(c: &Common, path: &str, body: &Value) -> Result<ExitCode, CliError> {
    let client = client(c)?;
    let bytes = serde_json::to_vec(body).map_err(other)?;
    let answer = client.call(path, &bytes).await.map_err(other)?;
    if let Err(e) = &answer.signature {
        println!("answer not trusted (HTTP {}): {e}", answer.status);
        return Ok(ExitCode::from(EXIT_NOT_S));
    }
    let Some(v) = answer.json() else {
        println!("answer unreadable (HTTP {})", answer.status);
        return Ok(ExitCode::from(EXIT_NOT_S));
    };
    let code = v["result"]["resultCode"].as_str().unwrap_or("");
    let status = v["result"]["resultStatus"].as_str().unwrap_or("");
    println!("{code} ({status})");
    if let Some(id) = v["verifyRequestId"].as_str() {
        println!("verifyRequestId: {id}");
    }
    Ok(if status == "S" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_S)
    })
}
