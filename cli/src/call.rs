//! `mpp call API BODY.json`: play Alipay+ against an MPP (local or deployed).

use crate::{other, CliError};
use clap::Args;
use mpp_client::{SignedClient, DEFAULT_TIMEOUT};
use mpp_core::operations::{self, Direction, Operation};
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code when the answer's signature does not verify.
const EXIT_BAD_SIGNATURE: u8 = 3;

#[derive(Args)]
pub struct CallArgs {
    /// The API: pay, evaluation, inquiryPayment, cancelPayment, refund, prepare, applyToken or
    /// cancelToken.
    pub api: String,
    /// The JSON request body, sent byte for byte as it is in the file.
    pub body: PathBuf,
    #[command(flatten)]
    pub alipay: AlipayArgs,
}

/// How to play Alipay+ against an MPP: shared by `mpp call` and `mpp bench`.
#[derive(Args, Clone, Debug)]
pub struct AlipayArgs {
    /// The MPP's base URL (a local `mpp serve` or a deployed API Gateway stage URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The Alipay+ private key to sign with (PEM).
    #[arg(long, default_value = ".mpp-dev/alipay/private_key.pem")]
    pub key: PathBuf,
    /// Its key version.
    #[arg(long, default_value_t = 1)]
    pub key_version: u32,
    /// The Client-Id to send.
    #[arg(long, default_value = "TEST_ALIPAYPLUS_CLIENT")]
    pub client_id: String,
    /// The MPP's public key to verify the answers with (PEM or Base64 DER).
    #[arg(long, default_value = ".mpp-dev/mpp/public_key.pem")]
    pub verify_key: PathBuf,
    /// Path prefix of the Alipay+ routes.
    #[arg(long, default_value = mpp_core::operations::PATH_PREFIX)]
    pub path_prefix: String,
}

impl AlipayArgs {
    /// The full path of a route (`/pay` → `/aps/api/v1/payments/pay`).
    pub fn path(&self, route: &str) -> String {
        format!("{}{}", self.path_prefix.trim_end_matches('/'), route)
    }

    /// Our signer, from `--key` and `--key-version`.
    pub fn signer(&self) -> Result<Arc<LocalSigner>, CliError> {
        Ok(Arc::new(LocalSigner::new(
            load_private_key(&read(&self.key)?).map_err(other)?,
            self.key_version,
        )))
    }

    /// A signed client for `--url` that verifies answers with `--verify-key`.
    pub fn client(&self, signer: Arc<LocalSigner>) -> Result<SignedClient, CliError> {
        let peer = load_public_key(&read(&self.verify_key)?).map_err(other)?;
        SignedClient::new(
            &self.url,
            &self.client_id,
            signer,
            Some(peer),
            DEFAULT_TIMEOUT,
        )
        .map_err(other)
    }
}

/// Short names `mpp call` also takes for an operation (its function's name).
const ALIASES: &[(&str, &Operation)] = &[
    ("inquiry", &operations::INQUIRY_PAYMENT),
    ("cancel", &operations::CANCEL_PAYMENT),
];

/// The operation of an API name: an inbound operation of the operation table by its Alipay+ name,
/// or one of the short aliases.
pub fn api_operation(api: &str) -> Option<&'static Operation> {
    let op = operations::by_name(api)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == api).map(|(_, o)| *o))?;
    match op.direction {
        Direction::Inbound => Some(op),
        Direction::Outbound | Direction::Internal | Direction::Landed | Direction::Page => None,
    }
}

/// The full path `mpp call` posts an operation to: under `--path-prefix` for the payment APIs;
/// for the others (account binding `/aps/api/v1/authorizations/...`, `/aps/api/v1/users/...`)
/// the spec's path behind the same stage as `--path-prefix` (the part before
/// `/aps/api/v1/payments`).
fn call_path(alipay: &AlipayArgs, op: &Operation) -> String {
    if op.prefix == operations::PATH_PREFIX {
        return alipay.path(op.route);
    }
    let prefix = alipay.path_prefix.trim_end_matches('/');
    let stage = prefix.strip_suffix(operations::PATH_PREFIX).unwrap_or("");
    format!("{stage}{}", op.path())
}

/// The API names `mpp call` sends, as the error message lists them.
fn api_names() -> String {
    let names: Vec<&str> = operations::OPERATIONS
        .iter()
        .filter(|o| o.direction == Direction::Inbound)
        .map(|o| o.name)
        .collect();
    names.join(", ")
}

fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(CliError::io(path))
}

pub async fn run(args: CallArgs) -> Result<ExitCode, CliError> {
    let op = api_operation(&args.api).ok_or_else(|| {
        other(format!(
            "unknown API {:?}: use one of {}",
            args.api,
            api_names()
        ))
    })?;
    let path = call_path(&args.alipay, op);
    let body = std::fs::read(&args.body).map_err(CliError::io(&args.body))?;
    let client = args.alipay.client(args.alipay.signer()?)?;
    let answer = client.call(&path, &body).await.map_err(other)?;
    println!(
        "POST {}{} -> HTTP {}",
        args.alipay.url.trim_end_matches('/'),
        path,
        answer.status
    );
    for (name, value) in &answer.headers {
        println!("{}: {}", name, value.to_str().unwrap_or("<binary>"));
    }
    println!();
    match answer.json() {
        Some(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        None => println!("{}", String::from_utf8_lossy(&answer.body)),
    }
    match answer.signature {
        Ok(()) => {
            println!("\nresponse signature: verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("\n!!! RESPONSE SIGNATURE INVALID: {e} !!!");
            Ok(ExitCode::from(EXIT_BAD_SIGNATURE))
        }
    }
}
