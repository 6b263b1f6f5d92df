//! `mpp codes get`: be the MPP server asking Alipay+ (or `mpp hub`) for payment codes its app
//! shows (getPaymentCode, `user-presented-mpp.md` §2), as the deployed getPaymentCode function
//! does for the app backend.

use crate::{other, CliError};
use clap::{Args, Subcommand};
use mpp_client::codes::{get_payment_code, request, ATTEMPT_TIMEOUT};
use mpp_client::SignedClient;
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Payment-code commands.
#[derive(Subcommand)]
pub enum CodesCommand {
    /// Ask Alipay+ for payment codes for a customer; prints each code and its expiry.
    Get(GetArgs),
}

#[derive(Args)]
pub struct GetArgs {
    /// The MPP's user the codes are for.
    #[arg(long)]
    pub customer_id: String,
    /// How many codes (1 to 10; each is valid for one minute).
    #[arg(long, default_value_t = 1)]
    pub quantity: u64,
    /// Alipay+ (or `mpp hub`) base URL.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub hub_url: String,
    /// The user's region (ISO 3166 alpha-2; Alipay+ requires it for CN).
    #[arg(long)]
    pub region: Option<String>,
    /// The device's token id (`env.deviceTokenId`).
    #[arg(long)]
    pub device_token_id: Option<String>,
    /// Where the development keys are (shared with `mpp serve` and `mpp hub`).
    #[arg(long, default_value = ".mpp-dev")]
    pub state_dir: PathBuf,
    /// The MPP's private key (PEM). Default: <state-dir>/mpp/private_key.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Its key version.
    #[arg(long, default_value_t = 1)]
    pub key_version: u32,
    /// Alipay+'s public key. Default: <state-dir>/alipay/public_key.pem.
    #[arg(long)]
    pub alipay_public_key: Option<PathBuf>,
    /// The MPP's Client-Id at Alipay+.
    #[arg(long, default_value = "TEST_ALIPAYPLUS_CLIENT")]
    pub client_id: String,
}

pub async fn run(command: CodesCommand) -> Result<ExitCode, CliError> {
    match command {
        CodesCommand::Get(args) => get(args).await,
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(CliError::io(path))
}

async fn get(args: GetArgs) -> Result<ExitCode, CliError> {
    // The request is checked before any key is read or anything is sent.
    let req = request(
        &args.customer_id,
        args.quantity,
        args.device_token_id.as_deref(),
        args.region.as_deref(),
    )
    .map_err(other)?;
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| args.state_dir.join("mpp/private_key.pem"));
    let alipay_path = args
        .alipay_public_key
        .clone()
        .unwrap_or_else(|| args.state_dir.join("alipay/public_key.pem"));
    let signer = Arc::new(LocalSigner::new(
        load_private_key(&read(&key_path)?).map_err(other)?,
        args.key_version,
    ));
    let alipay_key = load_public_key(&read(&alipay_path)?).map_err(other)?;
    let client = SignedClient::new(
        &args.hub_url,
        &args.client_id,
        signer,
        Some(alipay_key),
        ATTEMPT_TIMEOUT,
    )
    .map_err(other)?;
    let got = get_payment_code(&client, &req).await.map_err(other)?;
    for c in &got.codes {
        println!(
            "paymentCode {} valid from {} until {}",
            c.payment_code.as_str(),
            c.code_validity_start_time.as_str(),
            c.code_expiry_time.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}
