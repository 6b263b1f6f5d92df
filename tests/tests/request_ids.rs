//! Every log line of an invocation carries its Lambda request id and X-Ray trace id (house style
//! 8), in every function: the logs are captured in the functions' own JSON format
//! (`mpp_aws::lambda::json_logs`) while each handler serves one invocation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use lambda_runtime::{Context, LambdaEvent};
use mpp_client::SignedClient;
use mpp_core::flows::notify::{DeadLetters, NotifyDeps, NotifyJob, QueueError, RetryQueue};
use mpp_core::payments::job_for;
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_e2e::harness::*;
use mpp_e2e::logs::Captured;
use mpp_e2e::receiver::{Behaviour, Receiver};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Every line names `request_id` and its trace id, and at least one line was logged.
fn assert_all_carry(function: &str, lines: &[Value], request_id: &str) {
    assert!(!lines.is_empty(), "{function} logged nothing");
    for line in lines {
        assert_eq!(
            line["span"]["request_id"], request_id,
            "{function}: a line without its request id: {line}"
        );
        assert_eq!(
            line["span"]["trace_id"],
            format!("Root=1-00000000-{request_id}"),
            "{function}: {line}"
        );
    }
}

#[derive(Default)]
struct Queue;

#[async_trait::async_trait]
impl RetryQueue for Queue {
    async fn schedule(&self, _: &NotifyJob, _: u32) -> Result<(), QueueError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl DeadLetters for Queue {
    async fn put(&self, _: &NotifyJob) -> Result<(), QueueError> {
        Ok(())
    }
}

#[tokio::test]
async fn every_log_line_of_every_function_carries_the_request_and_trace_ids() {
    let capture = Captured::default();
    let writer = capture.clone();
    let _logs = tracing::subscriber::set_default(mpp_aws::lambda::json_logs(
        mpp_aws::lambda::log_filter(Some("info")),
        move || writer.clone(),
    ));
    let store = Arc::new(MemoryStore::new());
    let m = Mpp::on(Ports::of(store.clone()), Default::default()).await;
    capture.take_json();
    let budget = Duration::from_secs(5);
    let bytes = |v: Value| serde_json::to_vec(&v).unwrap();
    let inquiry = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "paymentRequestId": "RID-1"});

    let request = in_lambda(
        m.event(PAY_PATH, &bytes(auto_debit("RID-1"))).await,
        "req-pay",
        budget,
    );
    let a = answer(PAY_PATH, pay::handle(&m.pay, request).await.unwrap());
    assert_eq!(a.status_letter(), "S");
    assert_all_carry("pay", &capture.take_json(), "req-pay");

    let request = in_lambda(
        m.event(EVALUATION_PATH, &bytes(evaluation("RID-2"))).await,
        "req-evaluation",
        budget,
    );
    evaluation::handle(&m.evaluation, request).await.unwrap();
    assert_all_carry("evaluation", &capture.take_json(), "req-evaluation");

    let request = in_lambda(
        m.event(INQUIRY_PATH, &bytes(inquiry.clone())).await,
        "req-inquiry",
        budget,
    );
    inquiry_payment::handle(&m.inquiry, request).await.unwrap();
    assert_all_carry("inquiryPayment", &capture.take_json(), "req-inquiry");

    let request = in_lambda(
        m.event(REFUND_PATH, &bytes(refund_body("RID-1", "RID-1-R", 100)))
            .await,
        "req-refund",
        budget,
    );
    refund::handle(&m.refund, request).await.unwrap();
    assert_all_carry("refund", &capture.take_json(), "req-refund");

    let request = in_lambda(
        m.event(CANCEL_PATH, &bytes(inquiry)).await,
        "req-cancel",
        budget,
    );
    cancel_payment::handle(&m.cancel, request).await.unwrap();
    assert_all_carry("cancelPayment", &capture.take_json(), "req-cancel");

    // notify: an SQS batch delivering the payment's notification to an acknowledging receiver.
    let receiver = Receiver::start(vec![], Behaviour::Ack).await;
    let transport = SignedClient::new(
        "",
        CLIENT_ID,
        keys().mpp.clone(),
        Some(keys().alipay_public.clone()),
        Duration::from_millis(2_000),
    )
    .unwrap();
    let deps = notify_payment::Deps {
        notify: NotifyDeps {
            transport: Arc::new(transport),
            retries: Arc::new(Queue),
            dead_letters: Arc::new(Queue),
            deliveries: store.clone(),
            clock: m.clock.clone(),
            default_url: receiver.url.clone(),
            token_mac: Arc::new(mpp_core::token_mac::UnconfiguredTokenMac),
        },
    };
    let record = m
        .ports
        .payments
        .inquiry_payment
        .payment("RID-1")
        .await
        .unwrap()
        .unwrap();
    let job = job_for(&record, &receiver.url).unwrap();
    let event = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "m-1", "body": serde_json::to_string(&job).unwrap()},
    ]});
    let mut context = Context::default();
    context.request_id = "req-notify".into();
    context.xray_trace_id = Some("Root=1-00000000-req-notify".into());
    context.deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    capture.take_json();
    let out = notify_payment::handle(
        &deps,
        LambdaEvent::new(serde_json::from_value(event).unwrap(), context),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"batchItemFailures": []})
    );
    let lines = capture.take_json();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "delivered"),
        "{lines:?}"
    );
    assert_all_carry("notifyPayment", &lines, "req-notify");

    // getPaymentCode (the internal function): Alipay+ unreachable, so U after the client's
    // bounded retries; every line of it still names the invocation.
    let codes = get_payment_code::Deps {
        codes: mpp_core::codes::CodesDeps {
            issuer: Arc::new(mpp_client::codes::AlipayCodeIssuer {
                client: SignedClient::new(
                    "http://127.0.0.1:9",
                    CLIENT_ID,
                    keys().mpp.clone(),
                    Some(keys().alipay_public.clone()),
                    Duration::from_millis(500),
                )
                .unwrap(),
            }),
        },
    };
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let request = in_lambda(
        raw_event(
            "/internal/codes/getPaymentCode",
            br#"{"customerId":"2160000000000001"}"#,
            &headers,
        ),
        "req-codes",
        budget,
    );
    capture.take_json();
    get_payment_code::handle(&codes, request).await.unwrap();
    let lines = capture.take_json();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "answered"),
        "{lines:?}"
    );
    assert_all_carry("getPaymentCode", &lines, "req-codes");
}
