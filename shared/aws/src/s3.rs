//! The clearing files' bucket (`mpp_core::reconcile::object::ClearingFiles`): `GetObject`
//! streamed to a local file (any size in bounded memory), `PutObject` of the report from a local
//! file. Nothing of the SDK crosses the port. The reconcile function's role may read
//! `clearing/*` and write `*.report.jsonl` in this one bucket, nothing else.

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
#[cfg(feature = "local-dev")]
use aws_credential_types::Credentials;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_types::timeout::TimeoutConfig;
use mpp_core::reconcile::object::{ClearingFiles, FilesError};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// One S3 request attempt (a clearing file of a million rows is ~250 MB: streaming it takes
/// seconds on Lambda's network; the bound is per attempt, the SDK retries up to 3 times).
pub const S3_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Connecting.
pub const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The region used against a loopback endpoint (moto).
#[cfg(feature = "local-dev")]
const LOCAL_REGION: &str = "us-east-1";

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(S3_CONNECT_TIMEOUT)
        .operation_attempt_timeout(S3_ATTEMPT_TIMEOUT)
        .build()
}

/// An S3 client from the cold start's shared configuration.
pub fn s3_client_from(sdk: &SdkConfig) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .timeout_config(timeouts())
        .build();
    Client::from_conf(conf)
}

/// An S3 client for an endpoint (moto on loopback, in development builds: path-style
/// addressing, dummy credentials), or the AWS environment.
pub async fn s3_client(endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
        #[cfg(feature = "local-dev")]
        {
            loader = loader
                .region(aws_config::Region::new(LOCAL_REGION))
                .credentials_provider(Credentials::from_keys("testing", "testing", None));
        }
    }
    let sdk = loader.load().await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .timeout_config(timeouts())
        .force_path_style(endpoint.is_some())
        .build();
    Client::from_conf(conf)
}

/// One bucket of clearing files.
#[derive(Clone, Debug)]
pub struct S3Files {
    client: Client,
    bucket: String,
}

impl S3Files {
    /// The files in `bucket`.
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Files {
        S3Files {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn unavailable(e: impl std::fmt::Display) -> FilesError {
    FilesError::Unavailable(e.to_string().into())
}

#[async_trait]
impl ClearingFiles for S3Files {
    async fn download(&self, key: &str, dest: &Path) -> Result<(), FilesError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                return Err(FilesError::NotFound(key.to_string()))
            }
            Err(e) => return Err(unavailable(DisplayErrorContext(e))),
        };
        let mut file = tokio::fs::File::create(dest).await.map_err(unavailable)?;
        let mut body = out.body;
        // One chunk in memory at a time; the stream ends with the object.
        while let Some(chunk) = body.try_next().await.map_err(unavailable)? {
            file.write_all(&chunk).await.map_err(unavailable)?;
        }
        file.flush().await.map_err(unavailable)?;
        Ok(())
    }

    async fn upload(&self, key: &str, src: &Path) -> Result<(), FilesError> {
        let body = ByteStream::from_path(src).await.map_err(unavailable)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/x-ndjson")
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(DisplayErrorContext(e)))?;
        Ok(())
    }
}
