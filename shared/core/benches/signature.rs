//! Verify and local sign, 2048-bit RSA PKCS#1 v1.5 SHA-256.
//!
//! `cargo bench -p mpp-core --bench signature`; figures go in `docs/signing.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue};
use mpp_core::signature::{
    content_to_sign, generate_key_pair, signature_header_value, verify_request, LocalSigner,
    VerifierConfig,
};
use std::hint::black_box;
use std::time::Duration;

const CLIENT: &str = "TEST_5X00000000000000";
const PATH: &str = "/aps/api/v1/payments/pay";
const TIME: &str = "2019-05-28T12:12:12+08:00";

fn bodies() -> [(&'static str, Vec<u8>); 2] {
    let pay = br#"{"acquirerId":"1022188000000000001","pspId":"1022172000000000001","paymentRequestId":"20200101234567890132","paymentAmount":{"currency":"JPY","value":"100"},"payToAmount":{"currency":"CNY","value":"5"},"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"281012020080904000000000001"},"order":{"orderDescription":"Coffee"}}"#.to_vec();
    let large = format!(r#"{{"passThroughInfo":"{}"}}"#, "0123456789".repeat(2000)).into_bytes();
    [("pay_330B", pay), ("20KB", large)]
}

fn signature(c: &mut Criterion) {
    let Ok(key) = generate_key_pair(2048) else {
        panic!("key generation failed");
    };
    let cfg = VerifierConfig::new(CLIENT, 1, mpp_core::signature::RsaPublicKey::from(&key));
    let signer = LocalSigner::new(key, 1);
    let now = chrono::DateTime::parse_from_rfc3339(TIME)
        .map(|t| t.to_utc())
        .unwrap_or_default();

    let mut group = c.benchmark_group("rsa2048");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));
    for (name, body) in bodies() {
        let content = content_to_sign("POST", PATH, CLIENT, TIME, &body);
        group.bench_function(format!("local_sign/{name}"), |b| {
            b.iter(|| signer.sign_sync(black_box(&content)))
        });
        let Ok(raw) = signer.sign_sync(&content) else {
            panic!("signing failed");
        };
        let mut headers = HeaderMap::new();
        headers.insert("client-id", HeaderValue::from_static(CLIENT));
        headers.insert("request-time", HeaderValue::from_static(TIME));
        let Ok(value) = HeaderValue::from_str(&signature_header_value(1, &raw)) else {
            panic!("header value");
        };
        headers.insert("signature", value);
        assert!(verify_request(&cfg, "POST", PATH, &headers, &body, now).is_ok());
        group.bench_function(format!("verify_request/{name}"), |b| {
            b.iter(|| {
                verify_request(
                    &cfg,
                    "POST",
                    PATH,
                    black_box(&headers),
                    black_box(&body),
                    now,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, signature);
criterion_main!(benches);
