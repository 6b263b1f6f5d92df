//! The signed-request harness: builds API Gateway REST events (from the golden event in
//! `tests/data/apigw-rest-pay.json`) signed with a test Alipay+ key, feeds them to the real
//! function handlers, and checks every answer's signature with the MPP's public key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use chrono::{DateTime, TimeZone, Utc};
use mpp_core::clock::{Clock, FixedClock};
use mpp_core::edge::Edge;
use mpp_core::flows::wire_time;
use mpp_core::payments::Policy;
use mpp_core::payments::DEFAULT_CANCEL_CUTOFF;
use mpp_core::seed::Seed;
use mpp_core::signature::{
    generate_key_pair, sign_headers, verify_response, LocalSigner, VerifierConfig,
};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_core::wiring::Wiring;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

/// The Alipay+ client id the test MPP accepts.
pub const CLIENT_ID: &str = "TEST_ALIPAYPLUS_CLIENT";
/// The route paths as Alipay+ calls them through the execute-api URL (stage `prod`): the
/// operation table's paths under `/prod` (`the_harness_paths_are_the_operation_tables` checks).
pub const PAY_PATH: &str = "/prod/aps/api/v1/payments/pay";
/// The evaluation route.
pub const EVALUATION_PATH: &str = "/prod/aps/api/v1/payments/evaluation";
/// The inquiryPayment route.
pub const INQUIRY_PATH: &str = "/prod/aps/api/v1/payments/inquiryPayment";
/// The cancelPayment route.
pub const CANCEL_PATH: &str = "/prod/aps/api/v1/payments/cancelPayment";
/// The refund route.
pub const REFUND_PATH: &str = "/prod/aps/api/v1/payments/refund";
/// The sendOTP route.
pub const SEND_OTP_PATH: &str = "/prod/aps/api/v1/users/sendOTP";
/// The verifyOTP route.
pub const VERIFY_OTP_PATH: &str = "/prod/aps/api/v1/users/verifyOTP";
/// The prepare route (account binding).
pub const PREPARE_PATH: &str = "/prod/aps/api/v1/authorizations/prepare";
/// The applyToken route.
pub const APPLY_TOKEN_PATH: &str = "/prod/aps/api/v1/authorizations/applyToken";
/// The cancelToken route.
pub const CANCEL_TOKEN_PATH: &str = "/prod/aps/api/v1/authorizations/cancelToken";
/// The demo wallet's login id and PIN (`examples/seed.json`).
pub const LOGIN_ID: &str = "demo@wallet.example";
/// Its PIN.
pub const PIN: &str = "123456";
/// The demo wallet of `examples/seed.json`: 30000 KRW, 5000 USD, NFC enabled.
pub const CUSTOMER: &str = "2160000000000001";
/// Its access token.
pub const TOKEN: &str = "2810000000000000000000000000JWDQ";
/// A frozen wallet's token.
pub const FROZEN_TOKEN: &str = "2810000000000000000000000000FRZN";
/// The demo payment code.
pub const CODE: &str = "281006020000000000";

/// Test keys, generated once per test binary.
pub struct TestKeys {
    /// Signs as Alipay+.
    pub alipay: Arc<LocalSigner>,
    /// Alipay+'s public key, as the MPP is configured with it.
    pub alipay_public: mpp_core::signature::RsaPublicKey,
    /// Signs as the MPP.
    pub mpp: Arc<LocalSigner>,
    /// The MPP's public key, to verify its answers.
    pub mpp_public: mpp_core::signature::RsaPublicKey,
    /// The private keys, for a process that must use the same keys.
    pub alipay_private: mpp_core::signature::RsaPrivateKey,
    /// The MPP's private key.
    pub mpp_private: mpp_core::signature::RsaPrivateKey,
}

/// The shared test keys.
pub fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let alipay = generate_key_pair(2048).unwrap();
        let mpp = generate_key_pair(2048).unwrap();
        TestKeys {
            alipay_public: alipay.to_public_key(),
            alipay: Arc::new(LocalSigner::new(alipay.clone(), 1)),
            mpp_public: mpp.to_public_key(),
            mpp: Arc::new(LocalSigner::new(mpp.clone(), 1)),
            alipay_private: alipay,
            mpp_private: mpp,
        }
    })
}

/// 2026-11-21 10:00:00 UTC+8: the harness clock's start.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap()
}

/// A test MPP: one store, a settable clock, and the handlers' dependencies.
pub struct Mpp {
    /// The store, through every port.
    pub ports: Ports,
    /// The clock every handler reads.
    pub clock: Arc<FixedClock>,
    /// Every inbound function's dependencies (`m.pay`, `m.prepare`, ... through `Deref`), built
    /// as `mpp serve` builds them; one-time passwords land in `m.outbox`.
    pub inbound: mpp_inbound::Inbound,
}

impl std::ops::Deref for Mpp {
    type Target = mpp_inbound::Inbound;

    fn deref(&self) -> &mpp_inbound::Inbound {
        &self.inbound
    }
}

impl std::ops::DerefMut for Mpp {
    fn deref_mut(&mut self) -> &mut mpp_inbound::Inbound {
        &mut self.inbound
    }
}

/// A checked answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// `result.resultCode`.
    pub fn code(&self) -> &str {
        self.body["result"]["resultCode"].as_str().unwrap_or("")
    }

    /// `result.resultStatus`.
    pub fn status_letter(&self) -> &str {
        self.body["result"]["resultStatus"].as_str().unwrap_or("")
    }
}

impl Mpp {
    /// On the in-memory store with the default policy.
    pub async fn memory() -> Mpp {
        Mpp::on(Ports::of(Arc::new(MemoryStore::new())), Policy::default()).await
    }

    /// On `ports`, seeded with `examples/seed.json`.
    pub async fn on(ports: Ports, policy: Policy) -> Mpp {
        let clock = Arc::new(FixedClock::new(start_time()));
        let seed = Seed::parse(include_bytes!("../../examples/seed.json")).unwrap();
        seed.apply(ports.admin.as_ref(), clock.now()).await.unwrap();
        seed.apply_logins(ports.bindings.logins.as_ref())
            .await
            .unwrap();
        let k = keys();
        let edge = Edge {
            verifier: Arc::new(VerifierConfig::new(CLIENT_ID, 1, k.alipay_public.clone())),
            signer: k.mpp.clone(),
            clock: clock.clone(),
            client_id: CLIENT_ID.into(),
        };
        let wiring = Wiring {
            edge,
            ports: ports.clone(),
            clock: clock.clone(),
            policy: Arc::new(policy),
            cancel_cutoff: DEFAULT_CANCEL_CUTOFF,
            bindings: mpp_core::bindings::BindingSettings {
                page_base_url: "https://wallet.example".into(),
                bindings_per_account_max: 3,
                push_auth_code: false,
            },
            token_mac: test_token_mac(),
        };
        let outbox = Arc::new(mpp_core::messaging::Outbox::new());
        Mpp {
            inbound: mpp_inbound::Inbound::from_wiring(&wiring, outbox),
            ports,
            clock,
        }
    }

    /// Calls the prepare handler with `body` and checks the answer's signature.
    pub async fn prepare(&self, body: &Value) -> Answer {
        self.prepare_raw(&serde_json::to_vec(body).unwrap()).await
    }

    /// Calls the prepare handler with raw bytes.
    pub async fn prepare_raw(&self, bytes: &[u8]) -> Answer {
        let request = self.event(PREPARE_PATH, bytes).await;
        answer(
            PREPARE_PATH,
            prepare::handle(&self.prepare, request).await.unwrap(),
        )
    }

    /// Calls the applyToken handler with `body` and checks the answer's signature.
    pub async fn apply_token(&self, body: &Value) -> Answer {
        self.apply_token_raw(&serde_json::to_vec(body).unwrap())
            .await
    }

    /// Calls the applyToken handler with raw bytes.
    pub async fn apply_token_raw(&self, bytes: &[u8]) -> Answer {
        let request = self.event(APPLY_TOKEN_PATH, bytes).await;
        answer(
            APPLY_TOKEN_PATH,
            apply_token::handle(&self.apply_token, request)
                .await
                .unwrap(),
        )
    }

    /// Calls the cancelToken handler with `body` and checks the answer's signature.
    pub async fn cancel_token(&self, body: &Value) -> Answer {
        self.cancel_token_raw(&serde_json::to_vec(body).unwrap())
            .await
    }

    /// Calls the cancelToken handler with raw bytes.
    pub async fn cancel_token_raw(&self, bytes: &[u8]) -> Answer {
        let request = self.event(CANCEL_TOKEN_PATH, bytes).await;
        answer(
            CANCEL_TOKEN_PATH,
            cancel_token::handle(&self.cancel_token, request)
                .await
                .unwrap(),
        )
    }

    /// Opens the authorization page with `GET`: the cookie to send back (`name=value`), the
    /// form's anti-forgery value, and the HTML.
    pub async fn open_page(&self, query: &str) -> (String, String, String) {
        let (status, headers, html) = self.page("GET", query, None, &[]).await;
        assert_eq!(status, 200, "{html}");
        let set_cookie = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.clone())
            .unwrap();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
            "{set_cookie}"
        );
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let af = html
            .split("name=\"af\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        (cookie, af, html)
    }

    /// Opens the authorization page (`GET` with no body, `POST` with a form) through its
    /// handler: status, headers and the HTML.
    pub async fn page(
        &self,
        method: &str,
        query: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, String) {
        let body: String = url_form(form);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!(
                "https://wallet.example/wallet/authorizationPage?{query}"
            ))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            builder = builder.header("cookie", c);
        }
        let request: lambda_http::Request = builder.body(lambda_http::Body::Text(body)).unwrap();
        let response = authorization_page::handle(&self.authorization_page, request)
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let html =
            String::from_utf8_lossy(mpp_aws::lambda::body_bytes(response.body())).into_owned();
        (status, headers, html)
    }

    /// An API Gateway REST event for `path` carrying `body`, signed by Alipay+ now.
    pub async fn event(&self, path: &str, body: &[u8]) -> lambda_http::Request {
        let time = wire_time(self.clock.now());
        let headers = sign_headers(
            keys().alipay.as_ref(),
            CLIENT_ID,
            "POST",
            path,
            "Request-Time",
            &time,
            body,
        )
        .await
        .unwrap();
        raw_event(path, body, &headers)
    }

    /// Calls the pay handler with `body` and checks the answer's signature.
    pub async fn pay(&self, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        let request = self.event(PAY_PATH, &bytes).await;
        answer(PAY_PATH, pay::handle(&self.pay, request).await.unwrap())
    }

    /// Calls the evaluation handler with `body` and checks the answer's signature.
    pub async fn evaluate(&self, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        let request = self.event(EVALUATION_PATH, &bytes).await;
        answer(
            EVALUATION_PATH,
            evaluation::handle(&self.evaluation, request).await.unwrap(),
        )
    }

    /// Calls the inquiry handler for `payment_request_id`.
    pub async fn inquire(&self, payment_request_id: &str) -> Answer {
        let body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "paymentRequestId": payment_request_id});
        let request = self
            .event(INQUIRY_PATH, &serde_json::to_vec(&body).unwrap())
            .await;
        answer(
            INQUIRY_PATH,
            inquiry_payment::handle(&self.inquiry, request)
                .await
                .unwrap(),
        )
    }

    /// Calls the cancel handler for `payment_request_id`.
    pub async fn cancel(&self, payment_request_id: &str) -> Answer {
        let body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "paymentRequestId": payment_request_id});
        let request = self
            .event(CANCEL_PATH, &serde_json::to_vec(&body).unwrap())
            .await;
        answer(
            CANCEL_PATH,
            cancel_payment::handle(&self.cancel, request).await.unwrap(),
        )
    }

    /// Calls the refund handler with `body`.
    pub async fn refund(&self, body: &Value) -> Answer {
        let request = self
            .event(REFUND_PATH, &serde_json::to_vec(body).unwrap())
            .await;
        answer(
            REFUND_PATH,
            refund::handle(&self.refund, request).await.unwrap(),
        )
    }

    /// Calls the send-otp handler for `token` (`verify_type` absent: the default, MOBILE).
    pub async fn send_otp(&self, token: &str, verify_type: Option<&str>) -> Answer {
        let mut body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001", "accessToken": token});
        if let Some(t) = verify_type {
            body["verifyType"] = json!(t);
        }
        self.send_otp_raw(&serde_json::to_vec(&body).unwrap()).await
    }

    /// Calls the send-otp handler with raw bytes.
    pub async fn send_otp_raw(&self, bytes: &[u8]) -> Answer {
        let request = self.event(SEND_OTP_PATH, bytes).await;
        answer(
            SEND_OTP_PATH,
            send_otp::handle(&self.send_otp, request).await.unwrap(),
        )
    }

    /// Calls the verify-otp handler.
    pub async fn verify_otp(&self, token: &str, verify_request_id: &str, code: &str) -> Answer {
        let body = json!({"acquirerId": "1020000000000000001", "pspId": "1020000000000000001",
            "accessToken": token, "verifyRequestId": verify_request_id, "otpCode": code});
        self.verify_otp_raw(&serde_json::to_vec(&body).unwrap())
            .await
    }

    /// Calls the verify-otp handler with raw bytes.
    pub async fn verify_otp_raw(&self, bytes: &[u8]) -> Answer {
        let request = self.event(VERIFY_OTP_PATH, bytes).await;
        answer(
            VERIFY_OTP_PATH,
            verify_otp::handle(&self.verify_otp, request).await.unwrap(),
        )
    }

    /// The code in the last message of the outbox (its only run of 6 digits).
    pub fn last_otp_code(&self) -> String {
        let m = self
            .outbox
            .messages()
            .pop()
            .expect("a message in the outbox");
        otp_code_in(&m.text)
    }

    /// The balance of the demo wallet in `currency`.
    pub async fn balance(&self, customer: &str, currency: &str) -> u64 {
        let account = self
            .ports
            .payments
            .wallet
            .account(&mpp_core::ids::CustomerId::new(customer))
            .await
            .unwrap()
            .unwrap();
        let c = mpp_core::money::Currency::from_code(currency).unwrap();
        account.balances.get(&c).map(|m| m.get()).unwrap_or(0)
    }

    /// Asserts the ledger equation for every wallet.
    pub async fn assert_ledger_balances(&self) {
        for id in self.ports.admin.account_ids().await.unwrap() {
            let account = self
                .ports
                .payments
                .wallet
                .account(&id)
                .await
                .unwrap()
                .unwrap();
            let entries = self.ports.admin.ledger(&id).await.unwrap();
            let bad = mpp_core::store::ledger_mismatches(&account, &entries);
            assert!(bad.is_empty(), "ledger of {id} does not add up: {bad:?}");
        }
    }
}

/// The one-time password in a message's text: its run of exactly 6 digits.
pub fn otp_code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == mpp_core::otp::OTP_DIGITS)
        .expect("a 6-digit code in the message")
        .to_string()
}

/// `request` as the Lambda runtime hands it over: with a context naming `request_id` and a
/// deadline `budget` from now.
pub fn in_lambda(
    request: lambda_http::Request,
    request_id: &str,
    budget: std::time::Duration,
) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_string();
    context.xray_trace_id = Some(format!("Root=1-00000000-{request_id}"));
    let deadline = std::time::SystemTime::now() + budget;
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    request.with_lambda_context(context)
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn url_form(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(&percent(k));
        s.push('=');
        s.push_str(&percent(v));
    }
    s
}

fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A prepare request for the demo merchant (agreement `agreement`).
pub fn prepare_body(agreement: &str) -> Value {
    json!({
        "pspId": "1022188000000000001",
        "acquirerId": "1022172000000000001",
        "authClientId": "2188120000000000001",
        "authClientName": "Demo Merchant Co., Ltd.",
        "authClientDisplayName": "Demo Shop",
        "referenceMerchantId": "M0000000001",
        "referenceAgreementId": agreement,
        "authRedirectUrl": "https://merchant.example/bound?from=wallet",
        "scopes": ["AGREEMENT_PAY"],
        "authState": "state-7c1"
    })
}

/// An API Gateway REST event with exactly these headers (tests tamper with them).
pub fn raw_event(path: &str, body: &[u8], headers: &[(String, String)]) -> lambda_http::Request {
    let mut event: Value =
        serde_json::from_str(include_str!("../data/apigw-rest-pay.json")).unwrap();
    let stripped = path.strip_prefix("/prod").unwrap_or(path);
    event["path"] = json!(stripped);
    event["resource"] = json!(stripped);
    event["requestContext"]["path"] = json!(path);
    event["requestContext"]["resourcePath"] = json!(stripped);
    for (k, v) in headers {
        event["headers"][k] = json!(v);
        event["multiValueHeaders"][k] = json!([v]);
    }
    match std::str::from_utf8(body) {
        Ok(text) => event["body"] = json!(text),
        Err(_) => {
            use base64::Engine as _;
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
            event["isBase64Encoded"] = json!(true);
        }
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// Reads a handler response, asserting that it is a signed Alipay+ envelope.
pub fn answer(path: &str, response: lambda_http::Response<lambda_http::Body>) -> Answer {
    let status = response.status().as_u16();
    let bytes = mpp_aws::lambda::body_bytes(response.body()).to_vec();
    verify_response(&keys().mpp_public, "POST", path, response.headers(), &bytes).unwrap_or_else(
        |e| {
            panic!(
                "answer signature does not verify: {e}: {}",
                String::from_utf8_lossy(&bytes)
            )
        },
    );
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        body["result"]["resultCode"].is_string(),
        "not an envelope: {body}"
    );
    assert!(
        matches!(
            body["result"]["resultStatus"].as_str(),
            Some("S" | "F" | "U")
        ),
        "bad status: {body}"
    );
    Answer { status, body }
}

/// The auto-debit sample request (`examples/pay.json`) with this `paymentRequestId`.
pub fn auto_debit(payment_request_id: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!("../../examples/pay.json")).unwrap();
    v["paymentRequestId"] = json!(payment_request_id);
    v
}

/// Sets `paymentAmount`, `orderAmount` (JPY) and `payToAmount` (KRW at 10 KRW per JPY).
pub fn with_krw(mut v: Value, krw: u64) -> Value {
    assert_eq!(krw % 10, 0, "JPY/KRW at 10: use a multiple of 10");
    let jpy = (krw / 10).to_string();
    v["paymentAmount"]["value"] = json!(jpy);
    v["order"]["orderAmount"]["value"] = json!(jpy);
    v["payToAmount"]["value"] = json!(krw.to_string());
    v
}

/// The auto-debit request turned into an evaluation.
pub fn evaluation(payment_request_id: &str) -> Value {
    let mut v = auto_debit(payment_request_id);
    v["paymentFactor"] = json!({"isAgreementPayment": "true", "isPaymentEvaluation": "true"});
    v
}

/// A user-presented (payment code) request in KRW, no conversion.
pub fn user_presented(payment_request_id: &str, code: &str, krw: u64) -> Value {
    let mut v = auto_debit(payment_request_id);
    v["paymentAmount"] = json!({"currency": "KRW", "value": krw.to_string()});
    v["order"]["orderAmount"] = json!({"currency": "KRW", "value": krw.to_string()});
    v["payToAmount"] = json!({"currency": "KRW", "value": krw.to_string()});
    v.as_object_mut().unwrap().remove("paymentQuote");
    v["paymentMethod"] = json!({"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": code});
    v["paymentFactor"] =
        json!({"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"});
    v
}

/// The spec's NFC request (pay-api-mpp.md), with this id and no expiry.
pub fn nfc(payment_request_id: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../shared/core/tests/fixtures/pay_nfc_request.json"
    ))
    .unwrap();
    v["paymentRequestId"] = json!(payment_request_id);
    v.as_object_mut().unwrap().remove("paymentExpiryTime");
    v
}

/// A refund of `krw` KRW (100 JPY per 1000 KRW) of payment `payment_request_id`.
pub fn refund_body(payment_request_id: &str, refund_request_id: &str, krw: u64) -> Value {
    json!({
        "acquirerId": "1020000000000000001",
        "pspId": "1020000000000000001",
        "paymentRequestId": payment_request_id,
        "refundRequestId": refund_request_id,
        "refundAmount": {"currency": "JPY", "value": (krw / 10).to_string()},
        "refundFromAmount": {"currency": "KRW", "value": krw.to_string()},
        "refundQuote": {"quoteId": "1234567", "quoteCurrencyPair": "JPY/KRW", "quotePrice": "10"},
    })
}

/// The token key of the harness (`mpp_core::token_mac`): a fixed local key, so a test can
/// derive a binding's live token as the wallet side does.
pub fn test_token_mac() -> Arc<dyn mpp_core::token_mac::TokenMac> {
    Arc::new(mpp_core::token_mac::LocalTokenMac::new(&[0x5au8; 32]).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpp_core::operations;

    #[test]
    fn the_harness_paths_are_the_operation_tables() {
        for (path, op) in [
            (PAY_PATH, &operations::PAY),
            (EVALUATION_PATH, &operations::EVALUATION),
            (INQUIRY_PATH, &operations::INQUIRY_PAYMENT),
            (CANCEL_PATH, &operations::CANCEL_PAYMENT),
            (REFUND_PATH, &operations::REFUND),
            (SEND_OTP_PATH, &operations::SEND_OTP),
            (VERIFY_OTP_PATH, &operations::VERIFY_OTP),
        ] {
            assert_eq!(path, format!("/prod{}", op.path()), "{}", op.name);
        }
    }
}
