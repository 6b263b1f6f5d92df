//! The signature header parser and the request verifier on hostile input: random and mutated
//! headers, times and bodies always give `Ok` or a `SignatureError` with a code, never a panic.
//! Cases per property: 512, or `PROPTEST_CASES` (1 000 000 for the full-size run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use chrono::{TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use mpp_core::result_code::ResultCode;
use mpp_core::signature::{
    generate_key_pair, parse_signature_header, verify_request, VerifierConfig,
};
use proptest::prelude::*;
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn config() -> &'static VerifierConfig {
    static C: OnceLock<VerifierConfig> = OnceLock::new();
    C.get_or_init(|| {
        VerifierConfig::new(
            "CLIENT",
            1,
            generate_key_pair(2048).unwrap().to_public_key(),
        )
    })
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,300}",
        "algorithm=[A-Z0-9]{0,8},keyVersion=[0-9]{0,12},signature=[A-Za-z0-9%+/=]{0,400}",
        "(algorithm|keyVersion|signature)=[^,]{0,40}(, ?(algorithm|keyVersion|signature)=[^,]{0,40}){0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_header_parser_never_panics(text in header_text()) {
        if let Err(e) = parse_signature_header(&text) {
            prop_assert!(matches!(e.result_code(), ResultCode::InvalidSignature | ResultCode::ParamIllegal | ResultCode::KeyNotFound | ResultCode::InvalidClient));
        }
    }

    #[test]
    fn verification_of_hostile_requests_never_panics(
        signature in header_text(),
        client in prop_oneof![Just("CLIENT".to_string()), ".{0,80}"],
        time in prop_oneof![".{0,40}", "[0-9]{1,20}", "2026-11-2[0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}"],
        path in "/[ -~]{0,100}",
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in [("client-id", client), ("request-time", time), ("signature", signature)] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
        let out = verify_request(config(), "POST", &path, &headers, &body, now);
        prop_assert!(out.is_err(), "a random signature never verifies");
    }
}
