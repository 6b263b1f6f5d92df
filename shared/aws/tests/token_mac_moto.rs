//! The KMS token key (`mpp_aws::kms_mac::KmsTokenMac`) against moto on 127.0.0.1
//! (`eval "$(bash .ci/moto.sh)"` sets `MOTO_ENDPOINT`; without it these tests fail when `CI` is
//! set and are skipped otherwise). moto 5.2 implements `CreateKey` with `HMAC_256` /
//! `GENERATE_VERIFY_MAC`, `GenerateMac` and `VerifyMac` (HMAC over the key's own material), so the
//! adapter is checked end to end: its MACs verify with KMS's own `VerifyMac`, a pair is the same
//! for one generation, and the wrong kind of key is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MacAlgorithmSpec};
use mpp_aws::kms::kms_client;
use mpp_aws::kms_mac::KmsTokenMac;
use mpp_core::token_mac::{derive_pair, token_message, TokenMac, TokenMacError, ACCESS_LABEL};

mod common;
use common::moto_endpoint;

const AUTH_ID: &str = "0123456789abcdef0123456789abcdef";

async fn key(client: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    client
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

#[tokio::test]
async fn token_macs_from_kms_verify_and_repeat_per_generation() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let client = kms_client(Some(&endpoint)).await;
    let key_id = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let mac = KmsTokenMac::new(client.clone(), key_id.clone());

    let message = token_message(AUTH_ID, 0, ACCESS_LABEL);
    let tag = mac.mac(&message).await.unwrap();
    let verified = client
        .verify_mac()
        .key_id(&key_id)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(message))
        .mac(Blob::new(tag.to_vec()))
        .send()
        .await
        .unwrap();
    assert!(verified.mac_valid);

    let a = derive_pair(&mac, AUTH_ID, 0).await.unwrap();
    let again = derive_pair(&mac, AUTH_ID, 0).await.unwrap();
    let next = derive_pair(&mac, AUTH_ID, 1).await.unwrap();
    assert!(a == again, "a re-sent applyToken gets the same pair");
    assert!(a.access != next.access && a.refresh != next.refresh);
    assert!(a.access.expose().starts_with(AUTH_ID));
    assert_eq!(a.access.expose().len(), mpp_core::bindings::TOKEN_CHARS);

    // Another HMAC key gives other tokens: the key, not the table, makes them.
    let other = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let b = derive_pair(&KmsTokenMac::new(client.clone(), other), AUTH_ID, 0)
        .await
        .unwrap();
    assert!(b.access != a.access);
}

#[tokio::test]
async fn a_key_that_is_not_an_hmac_key_is_refused() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let client = kms_client(Some(&endpoint)).await;
    let signing = key(&client, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let err = KmsTokenMac::new(client.clone(), signing)
        .mac(b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, TokenMacError::Unavailable(_)), "{err}");
    let missing = KmsTokenMac::new(client, "alias/no-such-key")
        .mac(b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, TokenMacError::Unavailable(_)),
        "{missing}"
    );
}

/// auth-notify's send-time body (`TokenBody::render`) through KMS: the token re-derived with
/// `GenerateMac` is put in the stored template, the same bytes on every attempt; another key's
/// token is never sent (`NotTheToken`), and a key KMS cannot use fails the attempt (`Key`).
#[tokio::test]
async fn an_auth_notify_token_body_is_rebuilt_through_kms() {
    use mpp_core::bindings::{BodyError, TokenBody};
    use mpp_core::token_mac::derive_token;
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let client = kms_client(Some(&endpoint)).await;
    let key_id = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let mac = KmsTokenMac::new(client.clone(), key_id);
    let live = derive_token(&mac, AUTH_ID, 3, ACCESS_LABEL).await.unwrap();
    let stored = TokenBody {
        auth_id: AUTH_ID.into(),
        token_generation: 3,
        access_hash: live.hash().as_str().into(),
        template: r#"{"authorizationNotifyType":"TOKEN_CANCELED","authClientId":"2188120000000001","customerId":"2160000000000001"}"#.into(),
    };
    let body = stored.render(&mac).await.unwrap();
    assert_eq!(
        body,
        format!(
            r#"{{"authorizationNotifyType":"TOKEN_CANCELED","authClientId":"2188120000000001","accessToken":"{}","customerId":"2160000000000001"}}"#,
            live.expose()
        )
    );
    assert_eq!(
        stored.render(&mac).await.unwrap(),
        body,
        "the same bytes again"
    );
    let other = key(&client, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    assert!(matches!(
        stored
            .render(&KmsTokenMac::new(client.clone(), other))
            .await,
        Err(BodyError::NotTheToken)
    ));
    let missing = KmsTokenMac::new(client, "alias/no-such-token-key");
    assert!(matches!(
        stored.render(&missing).await,
        Err(BodyError::Key(TokenMacError::Unavailable(_)))
    ));
}
