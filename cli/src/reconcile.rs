//! `mpp reconcile --file FILE`: reconcile an Alipay+ clearing file (`transactionItems_…csv`)
//! against our ledger of the same cycle: DynamoDB (`--dynamodb-endpoint`, or the AWS
//! environment) through the day indexes, or a running `mpp serve` (`--mpp-url`) through its
//! loopback-only `GET /dev/clearing`. Prints a summary, writes the JSON-lines report to `--out`.
//!
//! Exit status: 0 balanced; 1 discrepancies (each in the report); 2 could not reconcile (file
//! unreadable or malformed, ledger unreachable, bad arguments). `docs/reconcile.md`.

use crate::{other, CliError};
use async_trait::async_trait;
use clap::Args;
use mpp_core::reconcile::clearing::ClearingReader;
use mpp_core::reconcile::ledger::{ClearingLedger, ClearingPage, CLEARING_PAGE_MAX};
use mpp_core::reconcile::report::human_summary;
use mpp_core::reconcile::run::{run as reconcile_run, RunInput};
use mpp_core::reconcile::{ClearingDay, TransactionType};
use mpp_core::store::StoreError;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit status when the file and the ledger disagree.
pub const EXIT_DISCREPANCIES: u8 = 1;

/// One page request to `mpp serve` (a local process answering from memory in milliseconds).
const PAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The header carrying the resume point of a `/dev/clearing` page.
pub const RESUME_HEADER: &str = "x-resume-after";

#[derive(Args)]
pub struct ReconcileArgs {
    /// The clearing file (`transactionItems_<participantId>_<currency>_<batch>_<agreement>_<seq>.csv`).
    #[arg(long)]
    pub file: PathBuf,
    /// Where to write the report (JSON lines: one per discrepancy, then a summary line).
    /// Default: FILE with `.report.jsonl` appended.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The clearing day (YYYY-MM-DD, UTC+8). Default: the file summary's clearingDate.
    #[arg(long)]
    pub day: Option<String>,
    /// Read the ledger from DynamoDB at this endpoint (DynamoDB Local or AWS). Without it and
    /// without --mpp-url: DynamoDB from the AWS environment.
    #[arg(long, conflicts_with = "mpp_url")]
    pub dynamodb_endpoint: Option<String>,
    /// Table name prefix on DynamoDB.
    #[arg(long, default_value = "mpp-local")]
    pub table_prefix: String,
    /// Read the ledger from a running `mpp serve` (loopback only), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub mpp_url: Option<String>,
}

pub async fn run(args: ReconcileArgs) -> Result<ExitCode, CliError> {
    let day = match &args.day {
        Some(d) => {
            Some(ClearingDay::parse(d).ok_or_else(|| other(format!("--day {d}: not YYYY-MM-DD")))?)
        }
        None => None,
    };
    let ledger: Box<dyn ClearingLedger> = match (&args.mpp_url, &args.dynamodb_endpoint) {
        (Some(url), _) => Box::new(HttpLedger::new(url)?),
        (None, endpoint) => {
            let client = mpp_aws::dynamo::dynamo_client(endpoint.as_deref()).await;
            Box::new(mpp_aws::dynamo::DynamoStore::new(
                client,
                mpp_aws::dynamo::TableNames::with_prefix(&args.table_prefix),
            ))
        }
    };
    let input = std::fs::File::open(&args.file).map_err(CliError::io(&args.file))?;
    let out_path = args.out.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".report.jsonl");
        PathBuf::from(p)
    });
    let out = std::fs::File::create(&out_path).map_err(CliError::io(&out_path))?;
    let mut out = BufWriter::new(out);
    let tmp = std::env::temp_dir();
    let name = args.file.to_string_lossy().to_string();
    let tally = reconcile_run(
        BufReader::new(input),
        RunInput {
            name: &name,
            day,
            tmp: &tmp,
        },
        ledger.as_ref(),
        &mut out,
    )
    .await
    .map_err(|e| other(format!("{}: {e}", args.file.display())))?;
    print!("{}", human_summary(&tally));
    println!("report: {}", out_path.display());
    Ok(if tally.balanced() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DISCREPANCIES)
    })
}

/// The ledger of a running `mpp serve`, page by page.
pub struct HttpLedger {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpLedger {
    /// A client of `base` (loopback only: the endpoint is a development aid).
    pub fn new(base: &str) -> Result<HttpLedger, CliError> {
        mpp_core::outbound::Destinations::local(std::iter::empty::<&str>())
            .map_err(other)?
            .check(base)
            .map_err(|e| other(format!("--mpp-url must be a loopback URL: {e}")))?;
        let url = reqwest::Url::parse(base)
            .and_then(|u| u.join("/dev/clearing"))
            .map_err(|e| other(format!("--mpp-url: {e}")))?;
        let client = mpp_client::http_client(PAGE_TIMEOUT).map_err(other)?;
        Ok(HttpLedger { client, url })
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string().into())
}

#[async_trait]
impl ClearingLedger for HttpLedger {
    async fn clearing_page(
        &self,
        day: ClearingDay,
        kind: TransactionType,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ClearingPage, StoreError> {
        let mut url = self.url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("day", &day.to_string());
            q.append_pair("type", kind.as_str());
            q.append_pair("limit", &limit.clamp(1, CLEARING_PAGE_MAX).to_string());
            if let Some(a) = after {
                q.append_pair("after", a);
            }
        }
        let response = self.client.get(url).send().await.map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "/dev/clearing: HTTP {}",
                response.status()
            )));
        }
        let resume_after = response
            .headers()
            .get(RESUME_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                url::form_urlencoded::parse(format!("a={v}").as_bytes())
                    .map(|(_, v)| v.into_owned())
                    .next()
                    .unwrap_or_default()
            });
        let body = response.bytes().await.map_err(unavailable)?;
        let reader = ClearingReader::open(body.as_ref()).map_err(unavailable)?;
        let items = reader.collect::<Result<Vec<_>, _>>().map_err(unavailable)?;
        Ok(ClearingPage {
            items,
            resume_after,
        })
    }
}
