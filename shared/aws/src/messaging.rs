//! sendOTP's delivery port on AWS: SMS through Amazon SNS `Publish` (to a phone number, no
//! topic) and e-mail through Amazon SES v2 `SendEmail` (from one verified identity). The IAM
//! grants are exactly those two actions (`infra/policies.md`).
//!
//! One attempt per message, no SDK retries: a retry after a lost answer could send the user a
//! second SMS, and the caller's deadline ([`mpp_core::otp::DELIVERY_BUDGET`], 4 s) has no
//! room for a second one anyway; a message whose outcome is unknown is answered U and Alipay+
//! asks for a new OTP. [`ATTEMPT_TIMEOUT`] (3 s) fits inside that budget.

use async_trait::async_trait;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
#[cfg(feature = "local-dev")]
use aws_credential_types::Credentials;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_types::retry::RetryConfig;
use mpp_core::cause::Cause;
use mpp_core::messaging::{Message, MessageSender, SendError};
use mpp_core::otp::VerifyType;
use std::time::Duration;

/// Time for the one attempt of `Publish` or `SendEmail`.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The region used with an endpoint override (moto ignores it; the SDK needs one).
#[cfg(feature = "local-dev")]
const LOCAL_REGION: &str = "us-east-1";

/// Error codes that say the message will never go out as asked (SNS and SES v2).
const REJECTED_CODES: &[&str] = &[
    // SNS
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidParameterException",
    "InvalidParameterValueException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "EndpointDisabled",
    "OptedOut",
    "ValidationException",
    // SES v2
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "BadRequestException",
    "NotFoundException",
    "AccessDeniedException",
];

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// SNS and SES v2 clients from the cold start's AWS configuration, one attempt each.
pub fn clients_from(sdk: &aws_config::SdkConfig) -> (aws_sdk_sns::Client, aws_sdk_sesv2::Client) {
    let sns = aws_sdk_sns::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .build();
    let ses = aws_sdk_sesv2::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .build();
    (
        aws_sdk_sns::Client::from_conf(sns),
        aws_sdk_sesv2::Client::from_conf(ses),
    )
}

/// Clients against an endpoint override (moto on 127.0.0.1): region `us-east-1` and dummy
/// credentials in development builds; otherwise the standard chain with the URL overridden.
pub async fn clients_at(endpoint: &str) -> (aws_sdk_sns::Client, aws_sdk_sesv2::Client) {
    #[allow(unused_mut)]
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint);
    #[cfg(feature = "local-dev")]
    {
        loader = loader
            .region(aws_config::Region::new(LOCAL_REGION))
            .credentials_provider(Credentials::from_keys("testing", "testing", None));
    }
    clients_from(&loader.load().await)
}

/// The AWS delivery: SMS by SNS, e-mail by SES v2.
#[derive(Clone, Debug)]
pub struct AwsMessageSender {
    sns: aws_sdk_sns::Client,
    ses: aws_sdk_sesv2::Client,
    /// The verified SES identity e-mails come from (`OTP_EMAIL_FROM`); `None`: e-mail is not
    /// configured and every e-mail is refused (F), SMS still works.
    email_from: Option<String>,
}

impl AwsMessageSender {
    /// A sender over these clients.
    pub fn new(
        sns: aws_sdk_sns::Client,
        ses: aws_sdk_sesv2::Client,
        email_from: Option<String>,
    ) -> AwsMessageSender {
        AwsMessageSender {
            sns,
            ses,
            email_from,
        }
    }

    async fn sms(&self, m: &Message) -> Result<(), SendError> {
        let kind = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::Rejected(Cause::with_source("SNS message attribute", e)))?;
        self.sns
            .publish()
            .phone_number(&m.to)
            .message(&m.text)
            // Transactional: delivered at the higher reliability SMS tier, as an OTP must be.
            .message_attributes("AWS.SNS.SMS.SMSType", kind)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("SNS Publish", e))
    }

    async fn email(&self, m: &Message) -> Result<(), SendError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent};
        let Some(from) = &self.email_from else {
            return Err(SendError::Rejected(Cause::new(
                "OTP_EMAIL_FROM is not set: no SES identity to send from",
            )));
        };
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| SendError::Rejected(Cause::with_source("SES content", e)))
        };
        let message = aws_sdk_sesv2::types::Message::builder()
            .subject(content(
                m.subject.as_deref().unwrap_or("Verification code"),
            )?)
            .body(Body::builder().text(content(&m.text)?).build())
            .build();
        self.ses
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().to_addresses(&m.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("SES SendEmail", e))
    }
}

#[async_trait]
impl MessageSender for AwsMessageSender {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        match message.channel {
            VerifyType::Mobile => self.sms(message).await,
            VerifyType::Email => self.email(message).await,
        }
    }
}

/// A refusal by code is `Rejected`; throttling, server errors and transport failures are
/// `Unknown` (the message may have gone out). The cause names the operation and the code only:
/// SDK error text can quote the request (the phone number or address).
fn classify<E, R>(op: &'static str, err: SdkError<E, R>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown").to_string();
            let cause = Cause::new(format!("{op}: {code}"));
            if REJECTED_CODES.contains(&code.as_str()) {
                SendError::Rejected(cause)
            } else {
                SendError::Unknown(cause)
            }
        }
        SdkError::ConstructionFailure(_) => SendError::Rejected(Cause::new(format!(
            "{op}: request could not be built: {}",
            DisplayErrorContext(&err)
        ))),
        _ => SendError::Unknown(Cause::new(format!("{op}: no usable answer"))),
    }
}
