//! # mpp-aws
//!
//! The AWS side of the ports `mpp-core` defines: the DynamoDB ledger store (`dynamo`), the KMS
//! signers (`kms`), the Lambda HTTP adapter and log set-up (`lambda`), and configuration from the
//! environment (`config`). Business rules never live here: this crate only translates between
//! the domain and AWS.

#[cfg(feature = "alipay-client")]
pub mod alipay_client;
pub mod binding_settings;
pub mod config;
pub mod dynamo;
pub mod kms;
pub mod kms_mac;
pub mod lambda;
pub mod messaging;
pub mod metrics;
/// The notify functions' batch handling (stream records and retry messages).
#[cfg(feature = "notify")]
pub mod notify_lambda;
pub mod notify_settings;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sqs;
