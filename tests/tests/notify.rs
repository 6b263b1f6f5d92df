//! notifyPayment: first attempts from the feed, retries on the schedule with identical bodies,
//! the bound and the dead-letter queue, never twice after an S; agreement with inquiry; the
//! notify handler's SQS path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use lambda_runtime::{Context, LambdaEvent};
use mpp_client::SignedClient;
use mpp_core::flows::notify::{
    attempt, JobOutcome, NotifyDeps, NotifyJob, ATTEMPTS_MAX, RETRY_DELAYS_SECS,
};
use mpp_core::payments::{job_for, notification_for};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_e2e::harness::*;
use mpp_e2e::receiver::{Behaviour, Receiver};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

use mpp_e2e::queues::TestQueue;

struct Rig {
    mpp: Mpp,
    retries: Arc<TestQueue>,
    dead: Arc<TestQueue>,
    deps: NotifyDeps,
}

async fn rig(default_url: &str) -> Rig {
    let store = Arc::new(MemoryStore::new());
    let mpp = Mpp::on(Ports::of(store.clone()), Default::default()).await;
    let retries = Arc::new(TestQueue::default());
    let dead = Arc::new(TestQueue::default());
    let transport = SignedClient::new(
        "",
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_millis(500),
    )
    .unwrap();
    let deps = NotifyDeps {
        transport: Arc::new(transport),
        retries: retries.clone(),
        dead_letters: dead.clone(),
        deliveries: store,
        clock: mpp.clock.clone(),
        default_url: default_url.to_string(),
        token_mac: Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
    };
    Rig {
        mpp,
        retries,
        dead,
        deps,
    }
}

impl Rig {
    async fn job(&self, id: &str) -> NotifyJob {
        let record = self
            .mpp
            .ports
            .payments
            .inquiry_payment
            .payment(id)
            .await
            .unwrap()
            .unwrap();
        job_for(&record, &self.deps.default_url).unwrap()
    }

    /// Runs `job`, then every retry it schedules, until none is left (bounded).
    async fn pump(&self, job: NotifyJob) -> Vec<JobOutcome> {
        let mut outcomes = vec![attempt(&self.deps, &job).await.unwrap()];
        for _ in 0..ATTEMPTS_MAX + 2 {
            let next = self.retries.0.lock().unwrap().pop();
            let Some((next, _)) = next else { break };
            outcomes.push(attempt(&self.deps, &next).await.unwrap());
        }
        outcomes
    }
}

#[tokio::test]
async fn delivered_first_time_and_never_again() {
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let r = rig(&receiver.url).await;
    let paid = r.mpp.pay(&auto_debit("NT-1")).await;
    let job = r.job("NT-1").await;
    assert_eq!(r.pump(job.clone()).await, vec![JobOutcome::Delivered]);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].signature_ok, "our signature must verify");
    assert_eq!(got[0].path, "/aps/api/v1/payments/notifyPayment");
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        body["paymentResult"],
        json!({"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"})
    );
    for field in ["paymentId", "paymentTime", "customerId"] {
        assert_eq!(body[field], paid.body[field], "{field}");
    }
    assert_eq!(
        body["paymentAmount"],
        json!({"currency": "JPY", "value": "100"})
    );
    assert_eq!(
        body["payToAmount"],
        json!({"currency": "KRW", "value": "1000"})
    );
    // A replayed job (stream redelivery, duplicate SQS message) sends nothing.
    assert_eq!(
        attempt(&r.deps, &job).await.unwrap(),
        JobOutcome::AlreadyDelivered
    );
    assert_eq!(receiver.received().len(), 1);
    let d = r.deps.deliveries.delivery("NT-1").await.unwrap();
    assert_eq!(
        (d.attempts, d.delivered_at.is_some(), d.last_error),
        (1, true, None)
    );
}

#[tokio::test]
async fn retries_on_the_schedule_with_identical_bodies_until_s() {
    let script = vec![
        Behaviour::Fail500,
        Behaviour::AnswerF,
        Behaviour::AnswerU,
        Behaviour::Slow(Duration::from_millis(1500)),
        Behaviour::WrongKey,
    ];
    let receiver = Receiver::start(script, Behaviour::Ack).await;
    let r = rig(&receiver.url).await;
    r.mpp.pay(&auto_debit("NT-2")).await;
    let outcomes = r.pump(r.job("NT-2").await).await;
    let delays: Vec<JobOutcome> = RETRY_DELAYS_SECS[..5]
        .iter()
        .map(|&d| JobOutcome::Retrying { delay_secs: d })
        .collect();
    assert_eq!(outcomes[..5], delays[..]);
    assert_eq!(outcomes[5], JobOutcome::Delivered);
    assert_eq!(outcomes.len(), 6, "stops at the first S");
    let got = receiver.received();
    assert_eq!(got.len(), 6);
    assert!(
        got.iter().all(|g| g.body == got[0].body && g.signature_ok),
        "identical, signed bodies"
    );
    let d = r.deps.deliveries.delivery("NT-2").await.unwrap();
    assert_eq!(d.attempts, 6);
    assert!(d.delivered_at.is_some() && d.dead_lettered_at.is_none());
    assert!(r.dead.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn gives_up_at_the_bound_into_the_dead_letter_queue() {
    let receiver = Receiver::start(vec![], Behaviour::AnswerU).await;
    let r = rig(&receiver.url).await;
    r.mpp.pay(&auto_debit("NT-3")).await;
    let outcomes = r.pump(r.job("NT-3").await).await;
    assert_eq!(outcomes.len() as u32, ATTEMPTS_MAX);
    assert_eq!(outcomes.last(), Some(&JobOutcome::DeadLettered));
    assert_eq!(receiver.received().len() as u32, ATTEMPTS_MAX);
    let dead = r.dead.0.lock().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.attempt, ATTEMPTS_MAX);
    assert_eq!(
        dead[0].0.body.as_bytes(),
        receiver.received()[0].body.as_slice()
    );
    let d = r.deps.deliveries.delivery("NT-3").await.unwrap();
    assert_eq!(d.attempts, ATTEMPTS_MAX);
    assert!(d.dead_lettered_at.is_some() && d.delivered_at.is_none());
    assert!(d.last_error.unwrap().contains("UNKNOWN_EXCEPTION"));
}

#[tokio::test]
async fn notifications_agree_with_inquiry() {
    let r = rig("http://127.0.0.1:9/unused").await;
    r.mpp.pay(&auto_debit("NT-4")).await;
    r.mpp.pay(&with_krw(auto_debit("NT-5"), 40_000)).await;
    for id in ["NT-4", "NT-5"] {
        let record = r
            .mpp
            .ports
            .payments
            .inquiry_payment
            .payment(id)
            .await
            .unwrap()
            .unwrap();
        let note = serde_json::to_value(notification_for(&record).unwrap()).unwrap();
        let inq = r.mpp.inquire(id).await;
        assert_eq!(note["paymentResult"], inq.body["paymentResult"], "{id}");
        for field in [
            "paymentId",
            "paymentTime",
            "customerId",
            "paymentAmount",
            "payToAmount",
        ] {
            if inq.body.get(field).is_some() {
                assert_eq!(note[field], inq.body[field], "{id} {field}");
            }
        }
        assert_ne!(note["paymentResult"]["resultStatus"], "U");
    }
    let declined = serde_json::to_value(
        notification_for(
            &r.mpp
                .ports
                .payments
                .inquiry_payment
                .payment("NT-5")
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        declined["paymentResult"]["resultCode"],
        "USER_BALANCE_NOT_ENOUGH"
    );
    assert!(declined.get("paymentId").is_none());
}

#[tokio::test]
async fn only_new_final_payments_reach_the_feed_and_a_cancel_placeholder_is_not_notified() {
    let store = Arc::new(MemoryStore::new());
    let mut feed = store.subscribe();
    let m = Mpp::on(Ports::of(store.clone()), Default::default()).await;
    m.pay(&auto_debit("NT-6")).await;
    m.cancel("NT-6").await; // a change, not a new payment
    m.cancel("NT-7").await; // a closed placeholder
    let first = feed.recv().await.unwrap();
    assert_eq!(first.payment_request_id, "NT-6");
    let second = feed.recv().await.unwrap();
    assert_eq!(second.payment_request_id, "NT-7");
    assert!(
        feed.try_recv().is_err(),
        "the cancel of NT-6 is not a new payment"
    );
    assert!(
        job_for(&second, "http://x/y").is_none(),
        "a placeholder carries nothing to notify"
    );
    // After the cancel, inquiry says F ORDER_IS_CLOSED; the S already sent stays as sent.
    assert_eq!(
        m.inquire("NT-6").await.body["paymentResult"]["resultCode"],
        "ORDER_IS_CLOSED"
    );
}

#[tokio::test]
async fn the_handler_reports_sqs_messages_it_could_not_handle() {
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let r = rig(&receiver.url).await;
    r.mpp.pay(&auto_debit("NT-8")).await;
    let good = r.job("NT-8").await;
    // A job for a payment the store does not have: its delivery cannot be recorded.
    let orphan = NotifyJob {
        key: "NT-NONE".into(),
        ..good.clone()
    };
    let deps = notify_payment::Deps {
        notify: r.deps.clone(),
    };
    let event = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "m-good", "body": serde_json::to_string(&good).unwrap()},
        {"eventSource": "aws:sqs", "messageId": "m-orphan", "body": serde_json::to_string(&orphan).unwrap()},
        {"eventSource": "aws:sqs", "messageId": "m-junk", "body": "not a job"},
    ]});
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(serde_json::from_value(event).unwrap(), Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-orphan"}]})
    );
    assert!(r
        .deps
        .deliveries
        .delivery("NT-8")
        .await
        .unwrap()
        .delivered_at
        .is_some());
}

#[tokio::test]
async fn a_base_url_with_a_stage_signs_and_verifies_the_whole_path() {
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let base = receiver
        .url
        .trim_end_matches("/aps/api/v1/payments/notifyPayment")
        .to_string()
        + "/live";
    let client = SignedClient::new(
        base,
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_secs(5),
    )
    .unwrap();
    let answer = client
        .call("/aps/api/v1/payments/pay", b"{}")
        .await
        .unwrap();
    assert!(
        answer.signature.is_ok(),
        "the answer was signed over /live/aps/...: {:?}",
        answer.signature
    );
    let got = receiver.received();
    assert_eq!(got[0].path, "/live/aps/api/v1/payments/pay");
    assert!(got[0].signature_ok, "our signature covers the stage");
}

#[tokio::test]
async fn a_disallowed_notify_url_is_never_contacted_and_the_refusal_is_counted() {
    // A listener on a loopback port the allow-list does not name: it counts every connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/aps/api/v1/payments/notifyPayment",
        listener.local_addr().unwrap()
    );
    let contacted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = contacted.clone();
    tokio::spawn(async move {
        while let Ok(_conn) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let mut r = rig(&url).await;
    // What `mpp serve --notify-allow-host hub.test` builds: loopback is no longer allowed.
    let transport = SignedClient::new(
        "",
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_millis(500),
    )
    .unwrap()
    .with_destinations(mpp_core::outbound::Destinations::local(["hub.test"]).unwrap());
    r.deps.transport = Arc::new(transport);
    r.mpp.pay(&auto_debit("NT-REFUSED")).await;
    let job = r.job("NT-REFUSED").await;
    assert_eq!(job.url, url);

    let refused_before = mpp_aws::metrics::emitted(mpp_aws::metrics::NOTIFY_REFUSED);
    let deps = notify_payment::Deps {
        notify: r.deps.clone(),
    };
    let event = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "m-refused", "body": serde_json::to_string(&job).unwrap()},
    ]});
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(serde_json::from_value(event).unwrap(), Context::default()),
    )
    .await
    .unwrap();
    // Handled (not redelivered: no retry can help), counted, kept for an operator, recorded.
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"batchItemFailures": []})
    );
    assert_eq!(
        mpp_aws::metrics::emitted(mpp_aws::metrics::NOTIFY_REFUSED) - refused_before,
        1
    );
    assert_eq!(r.dead.0.lock().unwrap().len(), 1);
    assert!(r.retries.0.lock().unwrap().is_empty());
    let delivery = r.deps.deliveries.delivery("NT-REFUSED").await.unwrap();
    assert!(delivery.dead_lettered_at.is_some());
    assert!(delivery.delivered_at.is_none());
    let error = delivery.last_error.unwrap();
    assert!(error.contains("not on the allow-list"), "{error}");
    // Give a stray connection time to arrive: there is none.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(contacted.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_typed_stream_batch_notifies_inserts_only_and_drops_what_it_cannot_read() {
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let r = rig(&receiver.url).await;
    r.mpp.pay(&auto_debit("NT-STREAM")).await;
    let record = r
        .mpp
        .ports
        .payments
        .inquiry_payment
        .payment("NT-STREAM")
        .await
        .unwrap()
        .unwrap();
    let image = serde_json::to_value(mpp_aws::dynamo::payment_image(&record)).unwrap();
    // The shape Lambda delivers from a DynamoDB Stream (NEW_AND_OLD_IMAGES).
    let stream_record = |name: &str, sequence: &str| {
        json!({
            "eventID": format!("e-{sequence}"),
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_764_460_800.0,
                "Keys": {"paymentRequestId": {"S": "NT-STREAM"}},
                "NewImage": image.clone(),
                "SequenceNumber": sequence,
                "SizeBytes": 512,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/mpp-payments/stream/2026-11-30T00:00:00.000"
        })
    };
    let event = json!({"Records": [
        stream_record("INSERT", "100"),
        stream_record("MODIFY", "101"),
        {"eventSource": "aws:kinesis", "eventID": "k-1"},
        {"eventSource": "aws:dynamodb", "eventName": "INSERT"},
    ]});
    let deps = notify_payment::Deps {
        notify: r.deps.clone(),
    };
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(serde_json::from_value(event).unwrap(), Context::default()),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"batchItemFailures": []})
    );
    assert_eq!(receiver.received().len(), 1, "the INSERT only, once");
    assert!(r
        .deps
        .deliveries
        .delivery("NT-STREAM")
        .await
        .unwrap()
        .delivered_at
        .is_some());
}
