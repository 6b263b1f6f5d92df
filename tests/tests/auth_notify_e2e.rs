//! authNotify across processes: `mpp serve --auth-notify-url` (the memory store's outbox feed,
//! the notifier of `cli/src/notifier.rs`) → the local hub playing Alipay+ (in process), which
//! verifies the MPP's signature and keeps the notice. Bound through the real routes: prepare and
//! applyToken signed as Alipay+, the page played over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_acquirer::http::bind_loopback;
use mpp_acquirer::hub::{Hub, HubConfig, HubKeys, Route};
use mpp_core::ids::Secret;
use mpp_core::money::Currency;
use mpp_core::signature::{LocalSigner, Signer};
use mpp_e2e::harness::keys;
use mpp_e2e::process::Server;
use mpp_e2e::wallet_page::agree;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Polls of the hub for the notice: 100 × 50 ms (the notifier sends at once).
const POLLS_MAX: u32 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_created_reaches_the_hub_from_mpp_serve() {
    let k = keys();
    let hub_keys = HubKeys {
        signer: Arc::new(LocalSigner::new(k.alipay_private.clone(), 1)) as Arc<dyn Signer>,
        mpp_public_key: k.mpp_public.clone(),
        mpp_key_version: 1,
        mpp_client_id: "TEST_ALIPAYPLUS_CLIENT".into(),
        acquirer_public_key: k.alipay_public.clone(),
        acquirer_key_version: 1,
        acquirer_client_id: "TEST_ACQP_CLIENT".into(),
    };
    // No payment is routed in this test; the route only has to exist.
    let config = HubConfig::new(
        vec![Route {
            prefix: "28".into(),
            url: "http://127.0.0.1:9".into(),
        }],
        Currency::from_code("KRW").unwrap(),
    );
    let hub = Hub::start(
        config,
        hub_keys,
        bind_loopback("127.0.0.1:0".parse().unwrap()).await.unwrap(),
    )
    .await
    .unwrap();
    let notify_url = format!("{}/aps/api/v1/authorizations/authNotify", hub.url());
    let server = Server::start_with_harness_keys(&["--auth-notify-url", &notify_url]);
    let alipay = server.alipay();

    let prepared = alipay
        .call_path(
            "/aps/api/v1/authorizations/prepare",
            &json!({
                "pspId": "1022172000000000001", "acquirerId": "1022188000000000001",
                "authClientId": "2188120000000001", "authClientName": "Demo Shop Ltd.",
                "referenceMerchantId": "M-E2E", "referenceAgreementId": "AG-E2E",
                "authRedirectUrl": "https://merchant.example/bound",
                "scopes": ["AGREEMENT_PAY"], "authState": "st-e2e"
            }),
        )
        .await;
    assert_eq!(prepared["result"]["resultStatus"], "S", "{prepared}");
    let location = agree(prepared["authUrl"].as_str().unwrap()).await;
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "authCode")
        .unwrap()
        .1
        .to_string();
    let tokens = alipay
        .call_path(
            "/aps/api/v1/authorizations/applyToken",
            &json!({"pspId": "1022172000000000001", "acquirerId": "1022188000000000001",
                    "grantType": "AUTHORIZATION_CODE", "authCode": code}),
        )
        .await;
    assert_eq!(tokens["result"]["resultStatus"], "S", "{tokens}");
    let hash = Secret::new(tokens["accessToken"].as_str().unwrap())
        .hash()
        .0;

    let mut notices = Vec::new();
    for _ in 0..POLLS_MAX {
        notices = hub.auth_notices();
        if !notices.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    assert_eq!(n.authorization_notify_type, "TOKEN_CREATED");
    assert_eq!(n.auth_client_id, "2188120000000001");
    assert_eq!(n.reference_agreement_id.as_deref(), Some("AG-E2E"));
    assert_eq!(n.customer_id.as_deref(), Some("2160000000000001"));
    assert_eq!(n.access_token_hash.as_deref(), Some(hash.as_str()));
    // The hub's listing: JSON lines, the token only as its hash.
    let listed = mpp_client::http_client(Duration::from_secs(5))
        .unwrap()
        .get(format!("{}/hub/authNotify", hub.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains("\"TOKEN_CREATED\""), "{listed}");
    assert!(!listed.contains(tokens["accessToken"].as_str().unwrap()));
    hub.stop().await;
}
