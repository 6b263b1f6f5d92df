//! Cold start: configuration and the AWS clients once (one AWS configuration for DynamoDB, KMS,
//! SNS and SES), the handler's dependencies, then the Lambda runtime loop.

use send_otp::handler::{handle, Deps, OPERATION};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::run_function(
        OPERATION,
        |rt| {
            let (sns, ses) = mpp_aws::messaging::clients_from(&rt.sdk);
            let sender = mpp_aws::messaging::AwsMessageSender::new(
                sns,
                ses,
                rt.config.otp_email_from.clone(),
            );
            Deps::from_wiring(&rt.wiring(), Arc::new(sender))
        },
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
