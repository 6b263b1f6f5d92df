//! Reading the payments table's stream from DynamoDB Local, for `mpp serve --dynamodb-endpoint`
//! (which has no Lambda event source mapping to do it) and for the test that feeds real stream
//! records to the notify handler. It speaks the DynamoDB Streams JSON protocol directly, so the
//! records come back exactly as the service writes them, in the shape Lambda delivers
//! (`eventName`, `dynamodb.NewImage`, `dynamodb.SequenceNumber`, …), plus the `eventSourceARN`
//! Lambda adds. DynamoDB Local does not check request signatures; against AWS use the Lambda.
//! Development only: compiled with the `local-dev` feature, never into a Lambda binary.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Records asked for per `GetRecords` call (the service maximum).
const RECORDS_PER_CALL_MAX: u32 = 1000;
/// Shards followed at once; DynamoDB Local keeps one or two per table.
const SHARDS_MAX: usize = 64;
/// One protocol call's timeout: the server is on loopback.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the stream could not be read.
#[derive(Debug, thiserror::Error)]
#[error("dynamodb local stream: {0}")]
pub struct StreamError(pub String);

/// Where a new reader starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// Every record still in the stream.
    TrimHorizon,
    /// Only records written from now on.
    Latest,
}

/// A reader of one table's stream on DynamoDB Local.
pub struct LocalStream {
    http: reqwest::Client,
    endpoint: String,
    stream_arn: String,
    start: StartAt,
    /// Shard id → where reading it stands.
    shards: BTreeMap<String, Shard>,
}

/// One shard's reading position.
#[derive(Default)]
struct Shard {
    /// The next iterator; `None` when one must be fetched again.
    iterator: Option<String>,
    /// The last record read, to resume after it.
    last_sequence: Option<String>,
    /// Closed and read to the end.
    done: bool,
}

impl LocalStream {
    /// Opens the stream of `table` at `endpoint`.
    pub async fn open(
        endpoint: &str,
        table: &str,
        start: StartAt,
    ) -> Result<LocalStream, StreamError> {
        let http = mpp_client::http_client(CALL_TIMEOUT).map_err(|e| StreamError(e.to_string()))?;
        let mut reader = LocalStream {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            stream_arn: String::new(),
            start,
            shards: BTreeMap::new(),
        };
        let table = reader
            .call(
                "DynamoDB_20120810.DescribeTable",
                json!({ "TableName": table }),
            )
            .await?;
        reader.stream_arn = table["Table"]["LatestStreamArn"]
            .as_str()
            .ok_or_else(|| StreamError("the table has no stream".into()))?
            .to_string();
        Ok(reader)
    }

    async fn call(&self, target: &str, body: Value) -> Result<Value, StreamError> {
        Self::call_with(&self.http, &self.endpoint, target, body).await
    }

    async fn call_with(
        http: &reqwest::Client,
        endpoint: &str,
        target: &str,
        body: Value,
    ) -> Result<Value, StreamError> {
        let resp = http
            .post(endpoint)
            .header("Content-Type", "application/x-amz-json-1.0")
            .header("X-Amz-Target", target)
            .header("X-Amz-Date", "20260101T000000Z")
            // DynamoDB Local requires the header's shape, not a valid signature.
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| StreamError(format!("{target}: {e}")))?;
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| StreamError(format!("{target}: {e}")))?;
        if !status.is_success() {
            return Err(StreamError(format!("{target}: HTTP {status}: {value}")));
        }
        Ok(value)
    }

    async fn discover(&mut self) -> Result<(), StreamError> {
        let desc = self
            .call(
                "DynamoDBStreams_20120810.DescribeStream",
                json!({ "StreamArn": self.stream_arn }),
            )
            .await?;
        let shards = desc["StreamDescription"]["Shards"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for shard in shards.iter().take(SHARDS_MAX) {
            if let Some(id) = shard["ShardId"].as_str() {
                self.shards.entry(id.to_string()).or_default();
            }
        }
        for (id, shard) in self
            .shards
            .iter_mut()
            .filter(|(_, s)| s.iterator.is_none() && !s.done)
        {
            // Resume after the last record read; a shard never read starts at its oldest record
            // (`LATEST` on an empty shard fails on DynamoDB Local). Re-reading is harmless:
            // nothing is notified twice after an S.
            let request = match (&shard.last_sequence, self.start) {
                (Some(seq), _) => {
                    json!({ "StreamArn": self.stream_arn, "ShardId": id, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seq })
                }
                (None, StartAt::Latest | StartAt::TrimHorizon) => {
                    json!({ "StreamArn": self.stream_arn, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON" })
                }
            };
            let it = Self::call_with(
                &self.http,
                &self.endpoint,
                "DynamoDBStreams_20120810.GetShardIterator",
                request,
            )
            .await?;
            shard.iterator = it["ShardIterator"].as_str().map(str::to_string);
        }
        Ok(())
    }

    /// The records written since the last poll, in stream order per shard, each as Lambda
    /// delivers it (with `eventSourceARN`).
    pub async fn poll(&mut self) -> Result<Vec<Value>, StreamError> {
        self.discover().await?;
        let mut out = Vec::new();
        for shard in self.shards.values_mut() {
            let Some(iterator) = shard.iterator.clone() else {
                continue;
            };
            let request = json!({ "ShardIterator": iterator, "Limit": RECORDS_PER_CALL_MAX });
            let page = match Self::call_with(
                &self.http,
                &self.endpoint,
                "DynamoDBStreams_20120810.GetRecords",
                request,
            )
            .await
            {
                Ok(page) => page,
                // DynamoDB Local answers an iterator on a shard with nothing in it yet this way:
                // nothing to read; fetch a fresh iterator next time.
                Err(e) if e.0.contains("TrimmedDataAccessException") => {
                    shard.iterator = None;
                    continue;
                }
                Err(e) => {
                    // An expired iterator or a refusal: fetch a new one after the last record.
                    shard.iterator = None;
                    return Err(e);
                }
            };
            for mut record in page["Records"].as_array().cloned().unwrap_or_default() {
                shard.last_sequence = record["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .map(str::to_string)
                    .or(shard.last_sequence.take());
                record["eventSourceARN"] = json!(self.stream_arn);
                out.push(record);
            }
            shard.iterator = page["NextShardIterator"].as_str().map(str::to_string);
            shard.done = shard.iterator.is_none();
        }
        Ok(out)
    }
}
