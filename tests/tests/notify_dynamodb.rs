//! Real stream records from DynamoDB Local through the notify handler: the records are read
//! from the payments table's stream exactly as the service writes them, so the handler's event
//! parsing is proved against the real format. Also `mpp serve` on DynamoDB Local notifying.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use lambda_runtime::{Context, LambdaEvent};
use mpp_aws::dynamo::local_stream::{LocalStream, StartAt};
use mpp_aws::dynamo::{dynamo_client, DynamoStore, TableNames};
use mpp_client::SignedClient;
use mpp_core::flows::notify::{DeadLetters, NotifyDeps, NotifyJob, QueueError, RetryQueue};
use mpp_core::store::{DeliveryStore, Ports};
use mpp_e2e::harness::*;
use mpp_e2e::process::{dynamodb_endpoint, Server};
use mpp_e2e::receiver::{Behaviour, Receiver};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Polls of the stream before giving up on a record (DynamoDB Local writes it at once).
const POLLS_MAX: u32 = 40;

struct NoQueue;

#[async_trait::async_trait]
impl RetryQueue for NoQueue {
    async fn schedule(&self, job: &NotifyJob, _: u32) -> Result<(), QueueError> {
        panic!("no retry expected for {}", job.key)
    }
}

#[async_trait::async_trait]
impl DeadLetters for NoQueue {
    async fn put(&self, job: &NotifyJob) -> Result<(), QueueError> {
        panic!("no dead letter expected for {}", job.key)
    }
}

async fn records(stream: &mut LocalStream, want: usize) -> Vec<Value> {
    let mut got = Vec::new();
    for _ in 0..POLLS_MAX {
        got.extend(stream.poll().await.unwrap());
        if got.len() >= want {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the stream gave {} records, wanted {want}", got.len());
}

#[tokio::test]
async fn stream_records_from_dynamodb_local_drive_the_notify_handler() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let tables = TableNames::with_prefix(&format!("nt-{}", std::process::id()));
    let store = Arc::new(DynamoStore::new(
        dynamo_client(Some(&endpoint)).await,
        tables.clone(),
    ));
    store.create_tables().await.unwrap();
    let m = Mpp::on(Ports::of(store.clone()), Default::default()).await;
    let mut stream = LocalStream::open(&endpoint, &tables.payments, StartAt::TrimHorizon)
        .await
        .unwrap();

    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let paid = m.pay(&auto_debit("NTD-1")).await;
    assert_eq!(paid.code(), "SUCCESS");
    let declined = m.pay(&with_krw(auto_debit("NTD-2"), 40_000)).await;
    assert_eq!(declined.code(), "USER_BALANCE_NOT_ENOUGH");
    let batch = records(&mut stream, 2).await;
    assert!(
        batch
            .iter()
            .all(|r| r["eventName"] == "INSERT" && r["dynamodb"]["NewImage"].is_object()),
        "{batch:?}"
    );

    let transport = SignedClient::new(
        "",
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_secs(5),
    )
    .unwrap();
    let deps = notify_payment::Deps {
        notify: NotifyDeps {
            transport: Arc::new(transport),
            retries: Arc::new(NoQueue),
            dead_letters: Arc::new(NoQueue),
            deliveries: store.clone(),
            clock: m.clock.clone(),
            default_url: receiver.url.clone(),
            token_mac: Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
        },
    };
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(
            serde_json::from_value(json!({ "Records": batch })).unwrap(),
            Context::default(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "batchItemFailures": [] })
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let bodies: Vec<Value> = got
        .iter()
        .map(|g| serde_json::from_slice(&g.body).unwrap())
        .collect();
    let success = bodies
        .iter()
        .find(|b| b["paymentRequestId"] == "NTD-1")
        .unwrap();
    assert_eq!(success["paymentResult"]["resultCode"], "SUCCESS");
    assert_eq!(success["paymentId"], paid.body["paymentId"]);
    let failure = bodies
        .iter()
        .find(|b| b["paymentRequestId"] == "NTD-2")
        .unwrap();
    assert_eq!(
        failure["paymentResult"]["resultCode"],
        "USER_BALANCE_NOT_ENOUGH"
    );
    assert!(store
        .delivery("NTD-1")
        .await
        .unwrap()
        .delivered_at
        .is_some());

    // The delivery bookkeeping and a cancel are MODIFY records: nothing more is sent.
    m.cancel("NTD-1").await;
    let later = records(&mut stream, 1).await;
    assert!(
        later.iter().all(|r| r["eventName"] == "MODIFY"),
        "{later:?}"
    );
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(
            serde_json::from_value(json!({ "Records": later })).unwrap(),
            Context::default(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "batchItemFailures": [] })
    );
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn serve_on_dynamodb_local_notifies_from_the_stream() {
    let Some(endpoint) = dynamodb_endpoint() else {
        return;
    };
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let prefix = format!("nts-{}", std::process::id());
    let server = Server::start_with_harness_keys(&[
        "--dynamodb-endpoint",
        &endpoint,
        "--table-prefix",
        &prefix,
        "--seed",
        "examples/seed.json",
    ]);
    let a = server.alipay();
    let mut body = auto_debit("NTS-1");
    body["paymentNotifyUrl"] = json!(receiver.url);
    let paid = a.call("pay", &body).await;
    assert_eq!(paid["result"]["resultCode"], "SUCCESS");
    for _ in 0..POLLS_MAX {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let got = receiver.received();
    assert_eq!(got.len(), 1, "one notification");
    assert!(got[0].signature_ok);
    let note: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(note["paymentId"], paid["paymentId"]);
}
