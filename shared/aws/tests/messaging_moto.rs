//! sendOTP's delivery adapters (`mpp_aws::messaging`) against moto on 127.0.0.1
//! (`eval "$(bash .ci/moto.sh)"` sets `MOTO_ENDPOINT`): SNS `Publish` to a phone number and SES v2
//! `SendEmail` from a verified identity, checked in what moto recorded
//! (`/moto-api/data.json`: `sns.SMS`, `ses.Message`); an unverified sender is `Rejected`; a
//! server that does not answer is `Unknown`. Without `MOTO_ENDPOINT` these tests fail when `CI`
//! is set and are skipped (with a note on stderr) otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use mpp_aws::messaging::{clients_at, AwsMessageSender};
use mpp_core::messaging::{Message, MessageSender, SendError};
use mpp_core::otp::VerifyType;
use serde_json::Value;

mod common;
use common::moto_endpoint;

async fn recorded(endpoint: &str) -> Value {
    let client = mpp_client::http_client(std::time::Duration::from_secs(5)).unwrap();
    let body = client
        .get(format!("{endpoint}/moto-api/data.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// A unique marker, so parallel runs against one moto find their own messages.
fn marker() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn sms_goes_out_through_sns_publish() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (sns, ses) = clients_at(&endpoint).await;
    let sender = AwsMessageSender::new(sns, ses, None);
    let text = format!(
        "MPP wallet: your verification code is 123456 ({})",
        marker()
    );
    sender
        .send(&Message {
            channel: VerifyType::Mobile,
            to: "+821012345678".into(),
            subject: None,
            text: text.clone(),
        })
        .await
        .unwrap();
    let data = recorded(&endpoint).await;
    let sms = data["sns"]["SMS"].as_array().unwrap();
    assert!(
        sms.iter()
            .any(|m| m["message"] == text.as_str() && m["phone_number"] == "+821012345678"),
        "{sms:?}"
    );
}

#[tokio::test]
async fn email_goes_out_through_ses_from_a_verified_identity_only() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (sns, ses) = clients_at(&endpoint).await;
    let from = format!("otp-{}@example.com", marker());
    let message = Message {
        channel: VerifyType::Email,
        to: "kim.minji@example.com".into(),
        subject: Some("MPP wallet verification code".into()),
        text: format!("your verification code is 654321 ({from})"),
    };
    // Not verified yet: SES refuses for good.
    let sender = AwsMessageSender::new(sns.clone(), ses.clone(), Some(from.clone()));
    assert!(matches!(
        sender.send(&message).await,
        Err(SendError::Rejected(_))
    ));
    // No identity configured at all: refused before any call.
    let unconfigured = AwsMessageSender::new(sns, ses.clone(), None);
    assert!(matches!(
        unconfigured.send(&message).await,
        Err(SendError::Rejected(_))
    ));

    ses.create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .unwrap();
    sender.send(&message).await.unwrap();
    let data = recorded(&endpoint).await;
    let sent = data["ses"]["Message"].as_array().unwrap();
    assert!(
        sent.iter().any(|m| m["source"] == from.as_str()
            && m["destinations"]["ToAddresses"][0] == "kim.minji@example.com"
            && m["subject"] == "MPP wallet verification code"
            && m["body"] == message.text.as_str()),
        "{sent:?}"
    );
}

#[tokio::test]
async fn no_answer_is_an_unknown_outcome() {
    // A loopback port that accepts and never answers: the one attempt times out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the test sends one request.
        for _ in 0..4 {
            if let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        }
    });
    let (sns, ses) = clients_at(&url).await;
    let sender = AwsMessageSender::new(sns, ses, Some("otp@example.com".into()));
    let started = std::time::Instant::now();
    let out = sender
        .send(&Message {
            channel: VerifyType::Mobile,
            to: "+821012345678".into(),
            subject: None,
            text: "code 111111".into(),
        })
        .await;
    assert!(matches!(out, Err(SendError::Unknown(_))), "{out:?}");
    // The cause names the operation, never the number or the text.
    let text = format!("{:?}", out.unwrap_err());
    assert!(
        !text.contains("821012345678") && !text.contains("111111"),
        "{text}"
    );
    assert!(started.elapsed() < mpp_core::otp::DELIVERY_BUDGET);
    hold.abort();
}
