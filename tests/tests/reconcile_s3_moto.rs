//! The S3-triggered reconciliation against moto on 127.0.0.1: the S3 adapter (`GetObject`
//! streamed to a file, `PutObject` of the report) and the reconcile function's handler from an
//! S3 event (as the queue delivers it) to the report beside the file, on a ledger holding the
//! day's payments. `eval "$(bash .ci/moto.sh start)"` sets `MOTO_ENDPOINT`; without it these
//! tests fail in CI and are skipped (with a note) elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use lambda_runtime::{Context, LambdaEvent};
use mpp_aws::s3::{s3_client, S3Files};
use mpp_core::payments::{MethodGuard, PayStore};
use mpp_core::reconcile::object::{ClearingFiles, FilesError};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::AdminStore;
use mpp_e2e::conformance::{account, hash, intent, krw, t0, token, won};
use reconcile::{handle, handle_body, Deps, Handled};
use serde_json::json;
use std::sync::Arc;

fn moto_endpoint() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(url) if !url.trim().is_empty() => {
            assert!(url.starts_with("http://127.") || url.starts_with("http://localhost:"));
            Some(url)
        }
        _ if std::env::var("CI").is_ok() => panic!("MOTO_ENDPOINT is not set in CI"),
        _ => {
            eprintln!("MOTO_ENDPOINT is not set: skipping (eval \"$(bash .ci/moto.sh start)\")");
            None
        }
    }
}

async fn bucket(endpoint: &str) -> (aws_sdk_s3::Client, String) {
    let client = s3_client(Some(endpoint)).await;
    let name = format!("clearing-{}", uuid_like());
    client.create_bucket().bucket(&name).send().await.unwrap();
    (client, name)
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

const KEY: &str = "clearing/1022172000000000001/20261122/transactionItems_1022172000000000001_KRW_20261121001_AGR_000.csv";

/// The S3 event body S3 puts on the queue for a new object (the key URL-encoded).
fn s3_event(bucket: &str, key: &str) -> String {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-22T00:30:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "landed",
               "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key.replace(' ', "+"), "size": 10, "sequencer": "0"}}
    }]})
    .to_string()
}

#[tokio::test]
async fn the_adapter_streams_objects_to_files_and_back() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (client, name) = bucket(&endpoint).await;
    let files = S3Files::new(client, &name);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in");
    // 3 MB: several chunks of the body stream.
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &body).unwrap();
    files.upload("clearing/a/b.bin", &src).await.unwrap();
    let dest = dir.path().join("out");
    files.download("clearing/a/b.bin", &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let missing = files.download("clearing/none", &dest).await.unwrap_err();
    assert!(matches!(missing, FilesError::NotFound(_)), "{missing}");
}

#[tokio::test]
async fn a_landed_file_is_reconciled_and_its_report_lands_beside_it() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (client, name) = bucket(&endpoint).await;
    // The ledger: two payments on 2026-11-21 (UTC+8).
    let store = Arc::new(MemoryStore::new());
    store
        .create_account(&account("c-s3", &[(krw(), 100_000)]), t0())
        .await
        .unwrap();
    store.put_token(&token("tok-s3", "c-s3")).await.unwrap();
    for (id, v) in [("s3-a", 1_000), ("s3-b", 2_000)] {
        store
            .commit_payment(&intent(
                id,
                "c-s3",
                won(v),
                MethodGuard::Token(hash("tok-s3")),
                t0(),
            ))
            .await
            .unwrap();
    }
    // Alipay+'s file: s3-a as ours, s3-b with another amount, no clearingDate (the path's
    // date − 1 is the cycle).
    let file = "settlementCurrency,totalCount,netAmount\nKRW,2,3500\n\
                transactionType,paymentRequestId,settlementAmount,settlementCurrency\n\
                PAYMENT,s3-b,2500,KRW\nPAYMENT,s3-a,1000,KRW\n";
    client
        .put_object()
        .bucket(&name)
        .key(KEY)
        .body(file.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    let deps = Deps {
        ledger: store.clone(),
        files: Arc::new(S3Files::new(client.clone(), &name)),
        tmp: tempfile::tempdir().unwrap().keep(),
    };
    // Through the SQS batch handler, as the event source mapping calls it.
    let mut message = SqsMessage::default();
    message.message_id = Some("m-1".into());
    message.body = Some(s3_event(&name, KEY));
    let mut event = SqsEvent::default();
    event.records = vec![message];
    let answer = handle(&deps, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty());
    let report = client
        .get_object()
        .bucket(&name)
        .key(format!("{KEY}.report.jsonl"))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["discrepancy"], "AMOUNT_MISMATCH");
    assert_eq!(lines[0]["id"], "s3-b");
    assert_eq!(lines[0]["file"]["settlementAmount"], 2500);
    assert_eq!(lines[0]["ledger"]["settlementAmount"], 2000);
    let summary = &lines[1]["summary"];
    assert_eq!(summary["clearingDate"], "2026-11-21");
    assert_eq!(summary["balanced"], false);
    assert_eq!(summary["matched"]["count"], 1);
    assert_eq!(
        mpp_aws::metrics::emitted(mpp_aws::metrics::RECONCILE_DISCREPANCIES),
        1
    );

    // The report's own event (suffix .jsonl) and S3's test event do nothing.
    let report_key = format!("{KEY}.report.jsonl");
    assert_eq!(
        handle_body(&deps, &s3_event(&name, &report_key)).await,
        Handled::Done
    );
    assert_eq!(
        handle_body(&deps, r#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#).await,
        Handled::Done
    );
    // Records that name no object: counted as a failure (alarm), not retried.
    assert_eq!(
        handle_body(&deps, r#"{"Records":[{"s3":{}}]}"#).await,
        Handled::Done
    );
    assert_eq!(
        mpp_aws::metrics::emitted(mpp_aws::metrics::RECONCILE_FAILED),
        1
    );
    // A file that is not a clearing file is done for good (a retry cannot fix it), counted.
    let broken = KEY.replace("_000.csv", "_001.csv");
    client
        .put_object()
        .bucket(&name)
        .key(&broken)
        .body(b"not,a,clearing,file\n".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        handle_body(&deps, &s3_event(&name, &broken)).await,
        Handled::Done
    );
    assert_eq!(
        mpp_aws::metrics::emitted(mpp_aws::metrics::RECONCILE_FAILED),
        2
    );
    // A bucket that does not answer: the message comes back.
    let gone = Deps {
        ledger: store,
        files: Arc::new(S3Files::new(
            s3_client(Some("http://127.0.0.1:9")).await,
            &name,
        )),
        tmp: std::env::temp_dir(),
    };
    assert_eq!(
        handle_body(&gone, &s3_event(&name, KEY)).await,
        Handled::Retry
    );
}
