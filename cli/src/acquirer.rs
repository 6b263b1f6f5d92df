//! `mpp acquirer pay`: be the acquirer for one sale against Alipay+ (or `mpp hub`), showing each
//! step as it happens, with the notifyPayment webhook up for the duration.

use crate::{other, CliError};
use chrono::Utc;
use clap::{Args, Subcommand};
use mpp_acquirer::code::CodeReach;
use mpp_acquirer::gateway::{HttpGateway, DEFAULT_PATH_PREFIX, NOTIFY_PATH};
use mpp_acquirer::http::bind_loopback;
use mpp_acquirer::store::{MemoryOrderStore, OrderStore};
use mpp_acquirer::timer::SystemTimer;
use mpp_acquirer::webhook::Webhook;
use mpp_acquirer::{Acquirer, Merchant, OrderState, RetryPolicy, Sale, Step, Steps};
use mpp_core::clock::SystemClock;
use mpp_core::edge::Edge;
use mpp_core::money::{Currency, MinorUnit};
use mpp_core::signature::VerifierConfig;
use mpp_core::wire::Amount;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit code of a sale that failed or was cancelled.
const EXIT_DECLINED: u8 = 1;
/// Exit code of a sale whose cancel could not be confirmed (an operator must look).
const EXIT_UNRESOLVED: u8 = 4;
/// How often the linger loop looks for the notification.
const LINGER_POLL: Duration = Duration::from_millis(50);

/// Acquirer commands.
#[derive(Subcommand)]
pub enum AcquirerCommand {
    /// Accept one user-presented payment: identify the code, pay, follow up, cancel if needed.
    Pay(PayArgs),
}

#[derive(Args)]
pub struct PayArgs {
    /// The scanned payment code.
    #[arg(long)]
    pub code: String,
    /// The amount in minor units (100 JPY = 100; 1.00 USD = 100).
    #[arg(long)]
    pub amount: String,
    /// ISO 4217 currency of the amount.
    #[arg(long)]
    pub currency: String,
    /// Alipay+ (or `mpp hub`) base URL.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub hub_url: String,
    /// Where the development keys are.
    #[arg(long, default_value = ".mpp-dev")]
    pub state_dir: PathBuf,
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
    /// Our Client-Id at Alipay+.
    #[arg(long, default_value = "TEST_ACQP_CLIENT")]
    pub client_id: String,
    /// Where the notifyPayment webhook listens (loopback; port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub notify_addr: SocketAddr,
    /// Send no paymentNotifyUrl and run no webhook.
    #[arg(long)]
    pub no_notify: bool,
    /// paymentExpiryTime, seconds from now (the table caps it at 60).
    #[arg(long)]
    pub expiry_secs: Option<i64>,
    /// Client timeout per call, milliseconds.
    #[arg(long, default_value_t = 8_000)]
    pub timeout_ms: u64,
    /// After the result, how long to wait for the notification, milliseconds.
    #[arg(long, default_value_t = 3_000)]
    pub linger_ms: u64,
    /// Divide every retry gap (and the order life) by this, for demos.
    #[arg(long, default_value_t = 1)]
    pub scale_down: u32,
    /// The merchant's order id (default: generated).
    #[arg(long)]
    pub order_id: Option<String>,
    /// What was bought.
    #[arg(long, default_value = "In-store purchase")]
    pub description: String,
    /// The merchant's region (ISO 3166 alpha-2).
    #[arg(long, default_value = "JP")]
    pub region: String,
}

pub async fn run(command: AcquirerCommand) -> Result<ExitCode, CliError> {
    match command {
        AcquirerCommand::Pay(args) => pay(args).await,
    }
}

/// Prints each step with the time since the start.
struct Printer(Instant);

impl Printer {
    fn line(&self, text: &str) {
        println!("[{:>6} ms] {text}", self.0.elapsed().as_millis());
    }
}

impl Steps for Printer {
    fn step(&self, _id: &str, step: &Step) {
        let text = match step {
            Step::Identified {
                prefix,
                digits,
                reach,
            } => {
                let reach = match reach {
                    CodeReach::Issued => "an issued length",
                    CodeReach::Expansion => "an expansion length",
                };
                format!("code {prefix}… ({digits} digits, {reach}): an Alipay+ payment code")
            }
            Step::Created {
                payment_request_id,
                expires_at,
            } => format!(
                "order {payment_request_id} recorded; expires {}",
                mpp_core::flows::wire_time(*expires_at)
            ),
            Step::Sent { api, attempt } => format!("→ {} #{attempt}", api.as_str()),
            Step::Answered {
                api,
                attempt,
                status,
                code,
                payment_result,
            } => match payment_result {
                Some((ps, pc)) => format!(
                    "← {} #{attempt}: {status} {code}, paymentResult {ps} {pc}",
                    api.as_str()
                ),
                None => format!("← {} #{attempt}: {status} {code}", api.as_str()),
            },
            Step::NoAnswer {
                api,
                attempt,
                reason,
            } => format!("← {} #{attempt}: no answer ({reason})", api.as_str()),
            Step::Waiting { next, gap } => {
                format!("   waiting {} ms before {}", gap.as_millis(), next.as_str())
            }
            Step::SettledElsewhere { state } => format!("settled meanwhile: {state}"),
            Step::Conflict { detail } => format!("!!! conflict: {detail}"),
            Step::Expired => "expired unresolved: cancelling".to_string(),
            Step::Finished { state, code, by } => format!(
                "{state} ({}{})",
                code.as_deref().unwrap_or("no code"),
                by.map(|b| format!(", by {b:?}").to_lowercase())
                    .unwrap_or_default()
            ),
        };
        self.line(&text);
    }
}

/// Step 1 of the seed page, before anything else: a value that is not an Alipay+ payment code is
/// refused with what is wrong with it, before any key, file or network is touched.
fn identify_first(scanned: &str) -> Result<(), CliError> {
    mpp_acquirer::code::identify(scanned)
        .map(|_| ())
        .map_err(|e| other(format!("--code: not an Alipay+ payment code: {e}")))
}

async fn pay(args: PayArgs) -> Result<ExitCode, CliError> {
    identify_first(&args.code)?;
    crate::hub::init_logs("warn");
    let (signer, alipay_key) = crate::hub::acquirer_keys(
        &args.state_dir,
        args.key.as_deref(),
        args.key_version,
        args.alipay_public_key.as_deref(),
    )?;
    let currency = Currency::from_code(&args.currency)
        .ok_or_else(|| other(format!("{} is not an ISO 4217 currency", args.currency)))?;
    let value =
        MinorUnit::parse_natural(&args.amount).map_err(|e| other(format!("--amount: {e}")))?;
    let amount = Amount { currency, value };

    let gateway = HttpGateway::new(
        &args.hub_url,
        DEFAULT_PATH_PREFIX,
        &args.client_id,
        signer.clone(),
        alipay_key.clone(),
        Duration::from_millis(args.timeout_ms),
    )
    .map_err(other)?;
    let orders = Arc::new(MemoryOrderStore::new());
    let acquirer = Acquirer {
        gateway: Arc::new(gateway),
        orders: orders.clone(),
        timer: Arc::new(SystemTimer),
        policy: RetryPolicy::default().scaled_down(args.scale_down),
    };
    let printer = Printer(Instant::now());
    let webhook = if args.no_notify {
        None
    } else {
        let hook = Webhook {
            edge: Edge {
                verifier: Arc::new(VerifierConfig::new(&args.client_id, 1, alipay_key)),
                signer,
                clock: Arc::new(SystemClock),
                client_id: args.client_id.clone(),
            },
            acquirer: acquirer.clone(),
            path: format!("{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}"),
        };
        let listener = bind_loopback(args.notify_addr).await.map_err(other)?;
        let server = mpp_acquirer::webhook::start(hook, listener).map_err(other)?;
        printer.line(&format!(
            "notifyPayment webhook on {}{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}",
            server.url()
        ));
        Some(server)
    };
    let now = Utc::now();
    let order_id = args
        .order_id
        .clone()
        .unwrap_or_else(|| format!("ORD{}", now.format("%Y%m%d%H%M%S%3f")));
    let sale = Sale {
        code: args.code.clone(),
        amount,
        order: Merchant {
            region: args.region.clone(),
            ..Merchant::sample()
        }
        .order(&order_id, &args.description, amount, now)
        .map_err(other)?,
        expiry: args.expiry_secs.map(|s| now + chrono::Duration::seconds(s)),
        notify_url: webhook
            .as_ref()
            .map(|w| format!("{}{DEFAULT_PATH_PREFIX}{NOTIFY_PATH}", w.url())),
        settlement_currency: None,
    };
    printer.line(&format!(
        "sale: {} for order {order_id} at {}",
        amount.money(),
        args.hub_url
    ));
    let order = acquirer.pay(&sale, &printer).await.map_err(other)?;

    if webhook.is_some() {
        let deadline = Instant::now() + Duration::from_millis(args.linger_ms);
        let mut seen = 0;
        // Bounded by --linger-ms: polls the order for notifications.
        while Instant::now() < deadline {
            let current = orders.get(&order.payment_request_id).await.map_err(other)?;
            let notes = current.map(|o| o.notifications).unwrap_or_default();
            for n in notes.iter().skip(seen) {
                printer.line(&format!(
                    "← notifyPayment: {} {} (acknowledged S)",
                    n.status, n.code
                ));
            }
            seen = notes.len();
            if seen > 0 {
                break;
            }
            tokio::time::sleep(LINGER_POLL).await;
        }
        if seen == 0 {
            printer.line(&format!("no notifyPayment within {} ms", args.linger_ms));
        }
    }
    let last = orders
        .get(&order.payment_request_id)
        .await
        .map_err(other)?
        .unwrap_or(order);
    for remark in &last.remarks {
        printer.line(&format!("remark: {remark}"));
    }
    Ok(match last.state {
        OrderState::Succeeded => ExitCode::SUCCESS,
        OrderState::Failed | OrderState::Cancelled => ExitCode::from(EXIT_DECLINED),
        OrderState::Created | OrderState::Pending | OrderState::Cancelling => {
            ExitCode::from(EXIT_UNRESOLVED)
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AcquirerCommand,
    }

    fn args(code: &str, state_dir: &Path) -> PayArgs {
        let cli = Cli::try_parse_from([
            "acquirer",
            "pay",
            "--code",
            code,
            "--amount",
            "100",
            "--currency",
            "JPY",
            // Nothing listens here; nothing may be sent there either.
            "--hub-url",
            "http://127.0.0.1:9",
            "--state-dir",
            state_dir.to_str().unwrap(),
        ])
        .unwrap();
        match cli.command {
            AcquirerCommand::Pay(a) => a,
        }
    }

    #[tokio::test]
    async fn a_value_that_is_not_a_code_is_refused_before_keys_files_or_network() {
        // An empty directory: no keys. The answer must still be about the code, and nothing may
        // be created (the key step would make the acquirer's key pair).
        let dir = std::env::temp_dir().join(format!("mpp-acq-code-{}", std::process::id()));
        let state = dir.join(".mpp-dev");
        for (code, says) in [
            ("", "empty"),
            ("28100602000000000X", "not a digit"),
            ("2810060200", "too short"),
            ("123456789012345678", "not Alipay+ payment codes"),
            (&"2".repeat(33), "too long"),
        ] {
            let e = pay(args(code, &state)).await.unwrap_err().to_string();
            assert!(e.contains("--code") && e.contains(says), "{code}: {e}");
            assert!(!state.exists(), "{code}: created {}", state.display());
        }
        // A real code gets past Step 1 and only then needs its keys (made in the state dir).
        let e = identify_first("281006020000000000");
        assert!(e.is_ok());
    }
}
