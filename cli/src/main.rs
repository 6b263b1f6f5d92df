//! `mpp`: run the MPP locally (`serve`), play Alipay+ against it (`call`), load wallets
//! (`seed`) and make keys (`keys generate`).

mod acquirer;
mod bench;
mod bindings;
mod call;
mod codes;
mod dev_clearing;
mod devkeys;
mod hub;
mod keys;
mod merchant;
mod merchant_binding;
mod notifier;
mod reconcile;
mod seed;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mpp",
    version,
    about = "A wallet (MPP) backend for Alipay+, on one machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every Alipay+ API on 127.0.0.1 with the same handlers as the Lambda functions.
    Serve(serve::ServeArgs),
    /// Sign a request body as Alipay+ would, send it, and verify the signed answer.
    Call(call::CallArgs),
    /// Load wallets, tokens and payment codes from a seed file into DynamoDB (or check it).
    Seed(seed::SeedArgs),
    /// Be the acquirer for one user-presented sale (against `mpp hub` or Alipay+).
    Acquirer {
        #[command(subcommand)]
        command: acquirer::AcquirerCommand,
    },
    /// The merchant's side of auto debit (through its acquirer): `otp send`, `otp verify`.
    Merchant {
        #[command(subcommand)]
        command: merchant::MerchantCommand,
    },
    /// Payment codes for the wallet app, from Alipay+ (getPaymentCode).
    Codes {
        #[command(subcommand)]
        command: codes::CodesCommand,
    },
    /// A local Alipay+ between acquirer and MPP: routes, converts, relays, notifies, injects faults.
    Hub(hub::HubArgs),
    /// Load an MPP with a mix of signed requests and report throughput, latency and result codes.
    Bench(bench::BenchArgs),
    /// Reconcile an Alipay+ clearing file against our ledger of its cycle (exit 0 balanced,
    /// 1 discrepancies, 2 could not reconcile).
    Reconcile(reconcile::ReconcileArgs),
    /// A customer's bindings, and unbinding from the wallet (consultUnbinding), against `mpp serve`.
    Bindings {
        #[command(subcommand)]
        command: bindings::BindingsCommand,
    },
    /// Key management.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Call(args) => call::run(args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Acquirer { command } => acquirer::run(command).await,
        Command::Hub(args) => hub::run(args).await,
        Command::Merchant { command } => merchant::run(command).await,
        Command::Codes { command } => codes::run(command).await,
        Command::Keys { command } => keys::run(command),
        Command::Bindings { command } => bindings::run(command).await,
        Command::Reconcile(args) => reconcile::run(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mpp: {e}");
            ExitCode::from(2)
        }
    }
}

/// Errors the CLI reports and exits with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Anything else, said plainly.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    fn io(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.as_ref().display().to_string();
        move |source| CliError::Io { path, source }
    }
}

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}
