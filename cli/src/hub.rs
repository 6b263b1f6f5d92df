//! `mpp hub`: a local Alipay+ between `mpp acquirer` and `mpp serve`, with fault injection.

use crate::devkeys::DevKeys;
use crate::{other, CliError};
use clap::Args;
use mpp_acquirer::code::CODE_PREFIXES;
use mpp_acquirer::http::bind_loopback;
use mpp_acquirer::hub::faults::Fault;
use mpp_acquirer::hub::quote::Rate;
use mpp_acquirer::hub::{Hub, HubConfig, HubKeys, Route, FAULTS_PATH};
use mpp_core::money::Currency;
use mpp_core::signature::{load_private_key, load_public_key, LocalSigner};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct HubArgs {
    /// Address to listen on (loopback only; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub addr: SocketAddr,
    /// Code prefix → MPP base URL, repeatable; the longest matching prefix wins.
    /// Default: every Alipay+ prefix (25 to 30) → http://127.0.0.1:8080.
    #[arg(long = "mpp", value_name = "PREFIX=URL")]
    pub routes: Vec<Route>,
    /// The MPP's settlement currency (payToAmount).
    #[arg(long, default_value = "KRW")]
    pub mpp_currency: String,
    /// A rate for payToAmount: 1 BASE = PRICE QUOTE; repeatable.
    #[arg(long = "quote", value_name = "BASE/QUOTE=PRICE", default_values = ["JPY/KRW=10", "USD/KRW=1350"])]
    pub quotes: Vec<Rate>,
    /// Where the development keys are (shared with `mpp serve` and `mpp acquirer`).
    #[arg(long, default_value = ".mpp-dev")]
    pub state_dir: PathBuf,
    /// Alipay+'s private key (PEM). Default: <state-dir>/alipay/private_key.pem.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Its key version.
    #[arg(long, default_value_t = 1)]
    pub key_version: u32,
    /// The MPP's public key. Default: <state-dir>/mpp/public_key.pem.
    #[arg(long)]
    pub mpp_public_key: Option<PathBuf>,
    /// The Client-Id between hub and MPP (what `mpp serve --client-id` accepts).
    #[arg(long, default_value = "TEST_ALIPAYPLUS_CLIENT")]
    pub mpp_client_id: String,
    /// The acquirer's public key. Default: <state-dir>/acquirer/public_key.pem (made if missing).
    #[arg(long)]
    pub acquirer_public_key: Option<PathBuf>,
    /// The acquirer's Client-Id.
    #[arg(long, default_value = "TEST_ACQP_CLIENT")]
    pub acquirer_client_id: String,
    /// The acquirer's id, added to the MPP's pay.
    #[arg(long)]
    pub acquirer_id: Option<String>,
    /// The MPP's pspId.
    #[arg(long)]
    pub psp_id: Option<String>,
    /// A fault in force from the start, repeatable (API=KIND[:ARG][*N]; see docs/acquirer.md).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,
    /// How long a dropped answer is held before the connection closes.
    #[arg(long, default_value_t = 10_000)]
    pub drop_hold_ms: u64,
    /// Alipay+'s order life in seconds (the expiry table's one minute).
    #[arg(long, default_value_t = 60)]
    pub order_life_secs: i64,
    /// How long a code issued by getPaymentCode is valid, in seconds (Alipay+: one minute).
    #[arg(long, default_value_t = 60)]
    pub code_life_secs: i64,
    /// Write Alipay+'s clearing files here (`clearing/<pspId>/<date>/transactionItems_….csv`):
    /// each day's at the cycle's end (midnight UTC+8), and at once on
    /// `POST /hub/clearing?day=YYYY-MM-DD`.
    #[arg(long)]
    pub clearing_dir: Option<PathBuf>,
    /// The participant agreement id in clearing file names.
    #[arg(long, default_value = "LOCALAGREEMENT")]
    pub participant_agreement_id: String,
    /// Relay the MPP's authNotify (TOKEN_CREATED, TOKEN_CANCELED, ...) to the merchant's side at
    /// this URL, signed as Alipay+, re-sent until an S on the notification schedule; the hub
    /// keeps every one at GET /hub/authNotify either way.
    #[arg(long)]
    pub merchant_auth_notify_url: Option<String>,
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(CliError::io(path))
}

/// JSON logs on stderr, level from `RUST_LOG` (else `default`), as `mpp serve` writes them.
pub fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The acquirer's signer and Alipay+'s public key: `key` (default
/// `<state-dir>/acquirer/private_key.pem`, made if missing) and `alipay_public_key` (default
/// `<state-dir>/alipay/public_key.pem`). What `mpp acquirer` and `mpp merchant` sign and verify with.
pub fn acquirer_keys(
    state_dir: &Path,
    key: Option<&Path>,
    key_version: u32,
    alipay_public_key: Option<&Path>,
) -> Result<(Arc<LocalSigner>, mpp_core::signature::RsaPublicKey), CliError> {
    let acquirer_dir = ensure_acquirer_keys(state_dir)?;
    let key_path = key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| acquirer_dir.join("private_key.pem"));
    let alipay_path = alipay_public_key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| state_dir.join("alipay/public_key.pem"));
    let read = |p: &Path| std::fs::read_to_string(p).map_err(CliError::io(p));
    let signer = Arc::new(LocalSigner::new(
        load_private_key(&read(&key_path)?).map_err(other)?,
        key_version,
    ));
    let alipay_key = load_public_key(&read(&alipay_path)?).map_err(other)?;
    Ok((signer, alipay_key))
}

/// Makes the acquirer's development key pair unless it exists.
pub fn ensure_acquirer_keys(state_dir: &Path) -> Result<PathBuf, CliError> {
    let dir = state_dir.join("acquirer");
    if !dir.join("private_key.pem").exists() {
        crate::keys::generate(&dir)?;
        println!(
            "created the acquirer's development keys in {}",
            dir.display()
        );
    }
    Ok(dir)
}

pub async fn run(args: HubArgs) -> Result<ExitCode, CliError> {
    init_logs("info");
    let dev = DevKeys::ensure(&args.state_dir)?;
    let acquirer_dir = ensure_acquirer_keys(&args.state_dir)?;
    let key_path = args
        .key
        .clone()
        .unwrap_or_else(|| dev.alipay_dir.join("private_key.pem"));
    let mpp_path = args
        .mpp_public_key
        .clone()
        .unwrap_or_else(|| dev.mpp_dir.join("public_key.pem"));
    let acq_path = args
        .acquirer_public_key
        .clone()
        .unwrap_or_else(|| acquirer_dir.join("public_key.pem"));
    let signer = LocalSigner::new(
        load_private_key(&read(&key_path)?).map_err(other)?,
        args.key_version,
    );
    let keys = HubKeys {
        signer: Arc::new(signer),
        mpp_public_key: load_public_key(&read(&mpp_path)?).map_err(other)?,
        mpp_key_version: 1,
        mpp_client_id: args.mpp_client_id.clone(),
        acquirer_public_key: load_public_key(&read(&acq_path)?).map_err(other)?,
        acquirer_key_version: 1,
        acquirer_client_id: args.acquirer_client_id.clone(),
    };
    let routes = if args.routes.is_empty() {
        CODE_PREFIXES
            .iter()
            .map(|p| Route {
                prefix: (*p).to_string(),
                url: "http://127.0.0.1:8080".to_string(),
            })
            .collect()
    } else {
        args.routes.clone()
    };
    let currency = Currency::from_code(&args.mpp_currency)
        .ok_or_else(|| other(format!("{} is not an ISO 4217 currency", args.mpp_currency)))?;
    let mut config = HubConfig::new(routes, currency);
    config.rates = args.quotes.clone();
    config.drop_hold = Duration::from_millis(args.drop_hold_ms);
    config.order_life = chrono::Duration::seconds(args.order_life_secs);
    config.code_life = chrono::Duration::seconds(args.code_life_secs);
    config.clearing_dir = args.clearing_dir.clone();
    config.participant_agreement_id = args.participant_agreement_id.clone();
    config.merchant_auth_notify_url = args.merchant_auth_notify_url.clone();
    if let Some(id) = &args.acquirer_id {
        config.acquirer_id = id.clone();
    }
    if let Some(id) = &args.psp_id {
        config.psp_id = id.clone();
    }
    let listener = bind_loopback(args.addr).await.map_err(other)?;
    let hub = Hub::start(config.clone(), keys, listener)
        .await
        .map_err(other)?;
    for f in &args.faults {
        hub.faults().set(*f);
    }
    println!("Alipay+ key: {}", key_path.display());
    println!(
        "MPP public key: {} (client id {})",
        mpp_path.display(),
        args.mpp_client_id
    );
    println!(
        "acquirer public key: {} (client id {})",
        acq_path.display(),
        args.acquirer_client_id
    );
    for r in &config.routes {
        println!("route: codes {}… → {}", r.prefix, r.url);
    }
    for r in &config.rates {
        println!(
            "quote: 1 {} = {} {}",
            r.pair.base(),
            r.price,
            r.pair.quote()
        );
    }
    for f in hub.faults().list() {
        println!("fault: {f}");
    }
    println!("the MPP notifies: {}", hub.notify_url());
    println!(
        "getPaymentCode: {}{} (codes {}…, valid {} s, for the first route's MPP)",
        hub.url(),
        mpp_core::codes::GET_PAYMENT_CODE_PATH,
        mpp_acquirer::hub::ISSUED_CODE_PREFIX,
        args.code_life_secs
    );
    if let Some(dir) = &args.clearing_dir {
        println!(
            "clearing files: {} (at midnight UTC+8; now: curl -X POST '{}{}?day=YYYY-MM-DD')",
            dir.display(),
            hub.url(),
            mpp_acquirer::hub::clearing::CLEARING_PATH
        );
    }
    println!("listening on {}", hub.url());
    println!("faults at run time: curl -X POST {}{FAULTS_PATH} --data 'pay=drop*1'   (GET lists, DELETE clears)", hub.url());
    let _ = tokio::signal::ctrl_c().await;
    println!("shutting down");
    hub.stop().await;
    Ok(ExitCode::SUCCESS)
}
