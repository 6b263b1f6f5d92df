//! Cold start: configuration and the AWS clients once (one AWS configuration for DynamoDB, KMS,
//! SNS and SES), the handler's dependencies, then the Lambda runtime loop.

use send_otp::{handle, Deps, OPERATION};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::run_function(
        OPERATION,
        |rt| {
            let (sns, ses) = mpp_aws::messaging::clients_from(&rt.sdk);
            // The verified SES identity OTP e-mails come from; unset: EMAIL OTPs answer
            // PROCESS_FAIL (SMS still works).
            let email_from = std::env::var("OTP_EMAIL_FROM")
                .ok()
                .filter(|v| !v.trim().is_empty());
            let sender = mpp_aws::messaging::AwsMessageSender::new(sns, ses, email_from);
            Deps::from_wiring(&rt.wiring(), Arc::new(sender))
        },
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
