//! Cold start: one AWS configuration for the DynamoDB and S3 clients, the ledger's day query and
//! the clearing bucket; then the Lambda runtime loop.

use lambda_runtime::{run, service_fn, Error};
use mpp_aws::config::required_var;
use mpp_aws::dynamo::{dynamo_client_from, DynamoStore, TableNames};
use mpp_aws::s3::{s3_client_from, S3Files};
use reconcile::{handle, Deps, OPERATION};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    if let Ok(namespace) = std::env::var("METRICS_NAMESPACE") {
        mpp_aws::metrics::set_namespace(&namespace);
    }
    let tables = TableNames::with_prefix(&required_var("TABLE_PREFIX")?);
    let deps = Arc::new(Deps {
        ledger: Arc::new(DynamoStore::new(dynamo_client_from(&sdk), tables)),
        files: Arc::new(S3Files::new(
            s3_client_from(&sdk),
            required_var("CLEARING_BUCKET")?,
        )),
        tmp: std::env::temp_dir(),
    });
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    run(service_fn(|event| {
        let deps = deps.clone();
        async move { handle(&deps, event).await }
    }))
    .await
}
