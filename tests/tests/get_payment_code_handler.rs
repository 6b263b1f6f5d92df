//! The getPaymentCode function's handler, as Lambda calls it, against the local Alipay+ (`mpp
//! hub`, in process) on loopback: signed with the MPP's key, the hub's signed answer verified,
//! the codes handed back; and the envelopes for bad input and for an Alipay+ that cannot be
//! reached.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use get_payment_code::{handle, Deps, INTERNAL_ROUTE};
use mpp_acquirer::http::bind_loopback;
use mpp_acquirer::hub::{Hub, HubConfig, HubKeys, Route};
use mpp_client::codes::{AlipayCodeIssuer, ATTEMPT_TIMEOUT};
use mpp_client::SignedClient;
use mpp_core::codes::CodesDeps;
use mpp_core::money::Currency;
use mpp_core::signature::generate_key_pair;
use mpp_e2e::harness::{keys, raw_event};
use serde_json::Value;
use std::sync::Arc;

const MPP_CLIENT: &str = "TEST_ALIPAYPLUS_CLIENT";
const CUSTOMER: &str = "2160000000000001";

async fn hub() -> Hub {
    let k = keys();
    let acquirer = generate_key_pair(2048).unwrap();
    let config = HubConfig::new(
        vec![Route {
            prefix: "28".into(),
            // No MPP is called by getPaymentCode.
            url: "http://127.0.0.1:9".into(),
        }],
        Currency::from_code("KRW").unwrap(),
    );
    let hub_keys = HubKeys {
        signer: k.alipay.clone(),
        mpp_public_key: k.mpp_public.clone(),
        mpp_key_version: 1,
        mpp_client_id: MPP_CLIENT.into(),
        acquirer_public_key: acquirer.to_public_key(),
        acquirer_key_version: 1,
        acquirer_client_id: "TEST_ACQP_CLIENT".into(),
    };
    Hub::start(
        config,
        hub_keys,
        bind_loopback("127.0.0.1:0".parse().unwrap()).await.unwrap(),
    )
    .await
    .unwrap()
}

fn deps(alipay_url: &str) -> Deps {
    let k = keys();
    let client = SignedClient::new(
        alipay_url,
        MPP_CLIENT,
        k.mpp.clone(),
        Some(k.alipay_public.clone()),
        ATTEMPT_TIMEOUT,
    )
    .unwrap();
    Deps {
        codes: CodesDeps {
            issuer: Arc::new(AlipayCodeIssuer { client }),
        },
    }
}

async fn call(deps: &Deps, body: &str) -> (u16, Value) {
    let headers = vec![(
        "Content-Type".to_string(),
        "application/json; charset=UTF-8".to_string(),
    )];
    let request = raw_event(
        &format!("/internal{INTERNAL_ROUTE}"),
        body.as_bytes(),
        &headers,
    );
    let response = handle(deps, request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = mpp_aws::lambda::body_bytes(response.body()).to_vec();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_function_returns_the_codes_alipay_issued() {
    let hub = hub().await;
    let d = deps(&hub.url());
    let (status, v) = call(
        &d,
        r#"{"customerId":"2160000000000001","codeQuantity":"3","env":{"deviceTokenId":"dev-1"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"]["resultStatus"], "S", "{v}");
    let list = v["paymentCodeInfoList"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    for c in list {
        let code = c["paymentCode"].as_str().unwrap();
        let issued = hub.issued_code(code).unwrap();
        assert_eq!(issued.customer_id, CUSTOMER);
        assert_eq!(issued.used_by, None);
        assert!(
            c["codeExpiryTime"].as_str().unwrap() > c["codeValidityStartTime"].as_str().unwrap()
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_an_unreachable_alipay_get_envelopes() {
    let hub = hub().await;
    let d = deps(&hub.url());
    let (status, v) = call(
        &d,
        r#"{"customerId":"2160000000000001","codeQuantity":"0"}"#,
    )
    .await;
    assert_eq!(
        (status, v["result"]["resultCode"].as_str()),
        (200, Some("PARAM_ILLEGAL")),
        "{v}"
    );
    assert!(v["result"]["resultMessage"]
        .as_str()
        .unwrap()
        .contains("codeQuantity"));
    let (_, v) = call(&d, "{").await;
    assert_eq!(v["result"]["resultCode"], "PARAM_ILLEGAL", "{v}");
    hub.stop().await;

    // Nothing listens any more: the bounded retries end in U, never a hang or a 5xx.
    let (status, v) = call(&d, r#"{"customerId":"2160000000000001"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            v["result"]["resultStatus"].as_str(),
            v["result"]["resultCode"].as_str()
        ),
        (Some("U"), Some("UNKNOWN_EXCEPTION")),
        "{v}"
    );
}

/// An Alipay+ that accepts connections and never answers: the function answers U by its Lambda
/// deadline (1.5 s here, far below the client's 6.5 s retry budget). (That every log line carries
/// the request id is `request_ids.rs`, which owns its process's log subscriber.)
#[tokio::test(flavor = "multi_thread")]
async fn a_silent_alipay_gets_u_by_the_deadline() {
    use mpp_e2e::harness::in_lambda;
    // Accepts and holds every connection, answers nothing; bounded by the test's life.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let d = deps(&url);
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let request = in_lambda(
        raw_event(
            &format!("/internal{INTERNAL_ROUTE}"),
            br#"{"customerId":"2160000000000001"}"#,
            &headers,
        ),
        "req-codes",
        std::time::Duration::from_millis(1_500),
    );
    let started = std::time::Instant::now();
    let response = handle(&d, request).await.unwrap();
    let took = started.elapsed();
    let v: Value = serde_json::from_slice(mpp_aws::lambda::body_bytes(response.body())).unwrap();
    assert_eq!(v["result"]["resultStatus"], "U", "{v}");
    // Behaviour, not speed: without the deadline the client would wait out its 6.5 s budget.
    assert!(took < std::time::Duration::from_millis(4_000), "{took:?}");
    holder.abort();
}
