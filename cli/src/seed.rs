//! `mpp seed FILE`: check a seed file, and load it into DynamoDB.

use crate::{other, CliError};
use clap::Args;
use mpp_core::seed::Seed;
use mpp_core::store::Ports as Stores;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct SeedArgs {
    /// The seed file (docs/seed.md).
    pub file: PathBuf,
    /// DynamoDB endpoint to load into (DynamoDB Local or AWS). Without it the file is only
    /// checked: the memory store lives inside `mpp serve`, so use `mpp serve --seed FILE`.
    #[arg(long)]
    pub dynamodb_endpoint: Option<String>,
    /// Table name prefix.
    #[arg(long, default_value = "mpp-local")]
    pub table_prefix: String,
}

pub async fn run(args: SeedArgs) -> Result<ExitCode, CliError> {
    let bytes = std::fs::read(&args.file).map_err(CliError::io(&args.file))?;
    let seed = Seed::parse(&bytes).map_err(other)?;
    println!(
        "{}: {} accounts, {} tokens, {} payment codes",
        args.file.display(),
        seed.accounts.len(),
        seed.tokens.len(),
        seed.payment_codes.len()
    );
    let Some(endpoint) = args.dynamodb_endpoint else {
        println!(
            "checked; nothing written (give --dynamodb-endpoint to load, or use mpp serve --seed)"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let client = mpp_aws::dynamo::dynamo_client(Some(&endpoint)).await;
    let store = mpp_aws::dynamo::DynamoStore::new(
        client,
        mpp_aws::dynamo::TableNames::with_prefix(&args.table_prefix),
    );
    store.create_tables().await.map_err(other)?;
    let stores = Stores::of(Arc::new(store));
    let report = seed
        .apply(stores.admin.as_ref(), chrono::Utc::now())
        .await
        .map_err(other)?;
    let logins = seed
        .apply_logins(stores.bindings.logins.as_ref())
        .await
        .map_err(other)?;
    println!(
        "loaded: {} accounts created, {} already there, {} tokens, {} payment codes, {logins} wallet logins",
        report.accounts_created, report.accounts_existing, report.tokens, report.payment_codes
    );
    Ok(ExitCode::SUCCESS)
}
