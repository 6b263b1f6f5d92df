//! Hostile input on the account-binding endpoints, as `hostile_input.rs` does for pay: named
//! cases and fuzzed bodies through the real handlers (prepare, applyToken, cancelToken) get a
//! signed F envelope, never a panic, and bind nothing; bad signatures are refused; the page
//! answers any query and form with a page, never a panic or a 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::flows::wire_time;
use mpp_core::signature::sign_headers;
use mpp_e2e::harness::*;
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Endpoint {
    Prepare,
    ApplyToken,
    CancelToken,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Prepare => PREPARE_PATH,
            Endpoint::ApplyToken => APPLY_TOKEN_PATH,
            Endpoint::CancelToken => CANCEL_TOKEN_PATH,
        }
    }

    fn valid(self) -> Value {
        match self {
            Endpoint::Prepare => prepare_body("HOSTILE"),
            Endpoint::ApplyToken => {
                json!({"pspId": "1", "acquirerId": "2", "grantType": "AUTHORIZATION_CODE", "authCode": "0123456789abcdef0123456789abcdefAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
            }
            Endpoint::CancelToken => json!({"pspId": "1", "acquirerId": "2", "accessToken": TOKEN}),
        }
    }

    async fn call(self, m: &Mpp, request: lambda_http::Request) -> Answer {
        let response = match self {
            Endpoint::Prepare => prepare::handle(&m.prepare, request).await,
            Endpoint::ApplyToken => apply_token::handle(&m.apply_token, request).await,
            Endpoint::CancelToken => cancel_token::handle(&m.cancel_token, request).await,
        };
        answer(self.path(), response.unwrap())
    }
}

/// A named case: name, body, client id, signing time, the code it must get.
type Case<'a> = (
    &'a str,
    Vec<u8>,
    &'a str,
    chrono::DateTime<chrono::Utc>,
    &'a str,
);

const ENDPOINTS: [Endpoint; 3] = [
    Endpoint::Prepare,
    Endpoint::ApplyToken,
    Endpoint::CancelToken,
];

async fn signed(
    m: &Mpp,
    e: Endpoint,
    body: &[u8],
    client: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Answer {
    let headers = sign_headers(
        keys().alipay.as_ref(),
        client,
        "POST",
        e.path(),
        "Request-Time",
        &wire_time(at),
        body,
    )
    .await
    .unwrap();
    e.call(m, raw_event(e.path(), body, &headers)).await
}

fn deep(depth: usize) -> Vec<u8> {
    let mut v = b"{\"scopes\":".to_vec();
    v.extend(std::iter::repeat_n(b'[', depth));
    v.extend(std::iter::repeat_n(b']', depth));
    v.push(b'}');
    v
}

#[tokio::test]
async fn named_hostile_inputs_get_envelopes_on_every_binding_endpoint() {
    let m = Mpp::memory().await;
    let now = start_time();
    for e in ENDPOINTS {
        let valid = serde_json::to_vec(&e.valid()).unwrap();
        let mut big = valid.clone();
        big.truncate(big.len() - 1);
        big.extend_from_slice(b",\"padding\":\"");
        big.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
        big.extend_from_slice(b"\"}");
        let cases: Vec<Case> = vec![
            (
                "deeply nested",
                deep(100_000),
                CLIENT_ID,
                now,
                "PARAM_ILLEGAL",
            ),
            ("3 MB body", big, CLIENT_ID, now, "PARAM_ILLEGAL"),
            (
                "invalid UTF-8",
                vec![b'{', 0xC3, 0x28, b'}'],
                CLIENT_ID,
                now,
                "PARAM_ILLEGAL",
            ),
            (
                "duplicate keys",
                br#"{"pspId":"1","pspId":"2"}"#.to_vec(),
                CLIENT_ID,
                now,
                "PARAM_ILLEGAL",
            ),
            ("an array", b"[]".to_vec(), CLIENT_ID, now, "PARAM_ILLEGAL"),
            (
                "a number where a string belongs",
                br#"{"pspId":1}"#.to_vec(),
                CLIENT_ID,
                now,
                "PARAM_ILLEGAL",
            ),
            (
                "replayed outside the window",
                valid.clone(),
                CLIENT_ID,
                now - chrono::Duration::minutes(10),
                "INVALID_SIGNATURE",
            ),
            (
                "valid signature, unknown client",
                valid.clone(),
                "SOMEONE_ELSE",
                now,
                "INVALID_CLIENT",
            ),
        ];
        for (name, body, client, at, code) in cases {
            let a = signed(&m, e, &body, client, at).await;
            assert_eq!(
                (a.status_letter(), a.code()),
                ("F", code),
                "{e:?} {name}: {}",
                a.body
            );
        }
        // A body changed after signing.
        let mut headers = sign_headers(
            keys().alipay.as_ref(),
            CLIENT_ID,
            "POST",
            e.path(),
            "Request-Time",
            &wire_time(now),
            &valid,
        )
        .await
        .unwrap();
        let mut tampered = valid.clone();
        tampered[2] ^= 0x01;
        let a = e.call(&m, raw_event(e.path(), &tampered, &headers)).await;
        assert_eq!(a.code(), "INVALID_SIGNATURE", "{e:?} tampered: {}", a.body);
        // A signature header that is not one.
        for h in headers
            .iter_mut()
            .filter(|(k, _)| k.eq_ignore_ascii_case("signature"))
        {
            h.1 = "algorithm=RSA256,keyVersion=1,signature=AAAA".into();
        }
        let a = e.call(&m, raw_event(e.path(), &valid, &headers)).await;
        assert_eq!(
            a.code(),
            "INVALID_SIGNATURE",
            "{e:?} bad signature: {}",
            a.body
        );
    }
    assert_eq!(
        m.ports
            .bindings
            .authorization_page
            .bound_count(&mpp_core::ids::CustomerId::new(CUSTOMER))
            .await
            .unwrap(),
        0
    );
}

/// A JSON value built from fuzz input: scalars, arrays and objects of the fields the binding
/// endpoints read, so the fuzz reaches the typed pass, not only the syntax check.
fn fuzz_value() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(vec![
        "pspId",
        "acquirerId",
        "authClientId",
        "authClientName",
        "authClientDisplayName",
        "authClientLogo",
        "referenceMerchantId",
        "referenceAgreementId",
        "authRedirectUrl",
        "scopes",
        "authState",
        "grantType",
        "authCode",
        "refreshToken",
        "accessToken",
        "passThroughInfo",
        "other",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,80}".prop_map(Value::from),
        prop::sample::select(vec![
            "AUTHORIZATION_CODE",
            "REFRESH_TOKEN",
            "https://m.example/x",
            "javascript:x",
            "AGREEMENT_PAY",
            ""
        ])
        .prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map(field, value, 0..12)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn fuzzed_bodies_get_signed_envelopes(body in fuzz_value(), raw in prop::collection::vec(any::<u8>(), 0..256), which in 0usize..3) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let m = Mpp::memory().await;
            let e = ENDPOINTS[which];
            for bytes in [serde_json::to_vec(&body).unwrap(), raw.clone()] {
                let a = signed(&m, e, &bytes, CLIENT_ID, start_time()).await;
                // An envelope with a code from the table; F for anything we cannot use. (A fuzzed
                // prepare can be valid: then S with an authUrl.)
                let code = mpp_core::result_code::ResultCode::from_code(a.code());
                assert!(code.is_some(), "{e:?}: {}", a.body);
                assert!(matches!(a.status_letter(), "F" | "S"), "{e:?}: {}", a.body);
                if a.status_letter() == "S" {
                    assert!(matches!(e, Endpoint::Prepare), "{e:?} succeeded on fuzz: {}", a.body);
                }
            }
        });
    }

    #[test]
    fn the_page_answers_any_query_and_form_with_a_page(query in ".{0,120}", form in prop::collection::vec((".{0,12}", ".{0,40}"), 0..6), post in any::<bool>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let m = Mpp::memory().await;
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let (status, headers, html) = m.page(if post { "POST" } else { "GET" }, &format!("authId={q}"), Some("mpp_af=x"), &pairs).await;
            assert!([200, 303, 400, 403, 404, 405, 410, 413, 423].contains(&status), "{status}: {html}");
            assert!(headers.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/html")));
            assert!(html.starts_with("<!doctype html>"));
        });
    }
}
