//! The pay hot path in process, one step at a time, then the whole edge.
//!
//! `cargo bench -p mpp-core --bench pay_path`; figures go in `BENCHMARKS.md`.
//!
//! Steps, in the order a request meets them:
//! - `parse_validate`: `wire::parse_request::<PayRequest>` (size, UTF-8, structure, typed pass,
//!   cross-field rules);
//! - `verify`: `signature::verify_request` (RSA-2048 public-key operation);
//! - `decide_write/new`: `payments::pay` on the memory store with a fresh `paymentRequestId`
//!   each iteration (one read, one commit), wallet with a huge balance and no limits;
//!   `decide_write/repeat`: the same id again (one read, the stored answer);
//! - `sign`: `signature::sign_headers` with a `LocalSigner` (RSA-2048 private-key operation,
//!   blinded): the dominant cost;
//! - `serialize`: `wire::to_body` of a successful `PayResponse`;
//! - `edge`: `edge::serve` end to end (verify, parse, pay, serialize, sign), new and repeat.
//!
//! The async steps run under `block_on` of a current-thread tokio runtime (the memory store never
//! waits); `runtime/block_on_ready` measures that overhead alone. Every request and store set-up
//! (parsing a fresh request, signing it as Alipay+, re-seeding) happens outside the timed region.

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderName, HeaderValue};
use mpp_core::clock::{Clock, FixedClock};
use mpp_core::edge::{serve, Edge, EdgeError, Inbound};
use mpp_core::flows::wire_time;
use mpp_core::payments::Policy;
use mpp_core::payments::{pay, PayDeps};
use mpp_core::payments::{PayRequest, PayResponse};
use mpp_core::seed::Seed;
use mpp_core::signature::{
    generate_key_pair, sign_headers, verify_request, LocalSigner, Signer, VerifierConfig,
};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_core::wire::{parse_request, to_body};
use serde_json::{json, Value};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENT: &str = "TEST_ALIPAYPLUS_CLIENT";
const PATH: &str = "/aps/api/v1/payments/pay";
/// The auto-debit sample: 100 JPY → 1000 KRW on the bench wallet's token.
const PAY_SAMPLE: &str = include_str!("../../../examples/pay.json");
/// The sample's token, owned by the bench wallet.
const TOKEN: &str = "2810000000000000000000000000JWDQ";
/// One wallet with a balance no run can spend (1000 KRW a payment) and no limits, so every new
/// payment takes the full success path: read, rules, one commit.
const SEED: &str = r#"{
  "accounts": [{"customerId": "2160000000000001", "balances": {"KRW": "1000000000000000"}}],
  "tokens": [{"accessToken": "2810000000000000000000000000JWDQ", "customerId": "2160000000000001",
              "scope": "AGREEMENT_PAY", "expiresAt": "2030-01-01T00:00:00+08:00"}]
}"#;
/// A fresh store every this many new payments: the memory store's per-wallet ledger grows with
/// every debit (and its duplicate check scans it), so without a reset the figure would depend on
/// how many iterations criterion chose. `decide_write/new_on_busy_wallet` shows the growth.
const PAYMENTS_PER_STORE_MAX: u64 = 100;
/// The ledger length of the busy wallet in `decide_write/new_on_busy_wallet`.
const BUSY_WALLET_PAYMENTS: u64 = 10_000;
/// The busy wallet is rebuilt after this many timed payments, so its ledger stays within
/// `BUSY_WALLET_PAYMENTS` and 10 % more whatever the iteration count.
const BUSY_WALLET_GROWTH_MAX: u64 = 1_000;

/// Everything one store's worth of iterations needs.
struct Fixture {
    deps: PayDeps,
    edge: Edge,
}

/// Shared across fixtures: keys are slow to make.
struct Keys {
    alipay: LocalSigner,
    verifier: Arc<VerifierConfig>,
    mpp: Arc<LocalSigner>,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0)
        .single()
        .unwrap_or_default()
}

fn keys() -> Keys {
    let (Ok(alipay), Ok(mpp)) = (generate_key_pair(2048), generate_key_pair(2048)) else {
        panic!("key generation failed");
    };
    Keys {
        verifier: Arc::new(VerifierConfig::new(CLIENT, 1, alipay.to_public_key())),
        alipay: LocalSigner::new(alipay, 1),
        mpp: Arc::new(LocalSigner::new(mpp, 1)),
    }
}

fn fixture(rt: &tokio::runtime::Runtime, keys: &Keys) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let ports = Ports::of(store);
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(start()));
    let Ok(seed) = Seed::parse(SEED.as_bytes()) else {
        panic!("bench seed does not parse");
    };
    if rt
        .block_on(seed.apply(ports.admin.as_ref(), start()))
        .is_err()
    {
        panic!("bench seed does not apply");
    }
    Fixture {
        deps: PayDeps {
            store: ports.payments.pay.clone(),
            wallet: ports.payments.wallet.clone(),
            clock: clock.clone(),
            policy: Arc::new(Policy::default()),
        },
        edge: Edge {
            verifier: keys.verifier.clone(),
            signer: keys.mpp.clone(),
            clock,
            client_id: CLIENT.into(),
        },
    }
}

fn body(payment_request_id: &str) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_str::<Value>(PAY_SAMPLE) else {
        panic!("examples/pay.json is not JSON");
    };
    v["paymentRequestId"] = json!(payment_request_id);
    v["paymentMethod"]["paymentMethodId"] = json!(TOKEN);
    match serde_json::to_vec(&v) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

fn request(payment_request_id: &str) -> PayRequest {
    match parse_request(&body(payment_request_id)) {
        Ok(r) => r,
        Err(e) => panic!("bench request is illegal: {e}"),
    }
}

/// `body` signed by Alipay+ at the fixture's time, as headers.
fn signed(rt: &tokio::runtime::Runtime, keys: &Keys, body: &[u8]) -> HeaderMap {
    let time = wire_time(start());
    let Ok(pairs) = rt.block_on(sign_headers(
        &keys.alipay,
        CLIENT,
        "POST",
        PATH,
        "Request-Time",
        &time,
        body,
    )) else {
        panic!("signing failed");
    };
    let mut headers = HeaderMap::new();
    for (k, v) in pairs {
        let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) else {
            panic!("bad header");
        };
        headers.insert(k, v);
    }
    headers
}

async fn serve_pay(fx: &Fixture, headers: &HeaderMap, body: &[u8]) -> mpp_core::edge::Outbound {
    let inbound = Inbound {
        method: "POST",
        path_and_query: PATH,
        headers,
        body,
    };
    serve(&fx.edge, "pay", inbound, |req: PayRequest| async move {
        Ok::<PayResponse, EdgeError>(pay(&fx.deps, &req).await?.response)
    })
    .await
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    }
}

fn steps(c: &mut Criterion) {
    let rt = runtime();
    let keys = keys();
    let sample = body("20200101234567890132");
    let headers = signed(&rt, &keys, &sample);

    let mut group = c.benchmark_group("pay_path");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));

    group.bench_function("runtime/block_on_ready", |b| {
        b.iter(|| rt.block_on(async { black_box(1u8) }))
    });

    group.bench_function("parse_validate", |b| {
        b.iter(|| parse_request::<PayRequest>(black_box(&sample)))
    });

    group.bench_function("verify", |b| {
        b.iter(|| {
            verify_request(
                &keys.verifier,
                "POST",
                PATH,
                black_box(&headers),
                black_box(&sample),
                start(),
            )
        })
    });

    group.bench_function("decide_write/new", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut fx = fixture(&rt, &keys);
            for i in 0..iters {
                if i > 0 && i % PAYMENTS_PER_STORE_MAX == 0 {
                    fx = fixture(&rt, &keys);
                }
                let req = request(&format!("bench-new-{i}"));
                let t = Instant::now();
                let out = rt.block_on(pay(&fx.deps, &req));
                total += t.elapsed();
                assert!(matches!(&out, Ok(a) if a.code.code() == "SUCCESS"));
            }
            total
        })
    });

    let fx = fixture(&rt, &keys);
    let repeat = request("bench-repeat");
    let Ok(first) = rt.block_on(pay(&fx.deps, &repeat)) else {
        panic!("first payment failed");
    };
    assert_eq!(first.code.code(), "SUCCESS");
    group.bench_function("decide_write/repeat", |b| {
        b.iter(|| rt.block_on(pay(&fx.deps, black_box(&repeat))))
    });

    let mut busy = busy_wallet(&rt, &keys);
    let mut grown = 0u64;
    group.bench_function("decide_write/new_on_busy_wallet", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if grown == BUSY_WALLET_GROWTH_MAX {
                    busy = busy_wallet(&rt, &keys);
                    grown = 0;
                }
                let req = request(&format!("busy-more-{grown}"));
                let t = Instant::now();
                let out = rt.block_on(pay(&busy.deps, &req));
                total += t.elapsed();
                grown += 1;
                assert!(matches!(&out, Ok(a) if a.code.code() == "SUCCESS"));
            }
            total
        })
    });

    let time = wire_time(start());
    let signer: &dyn Signer = keys.mpp.as_ref();
    let answer_body = to_body(&first.response);
    group.bench_function("sign", |b| {
        b.iter(|| {
            rt.block_on(sign_headers(
                signer,
                CLIENT,
                "POST",
                PATH,
                "Response-Time",
                &time,
                black_box(&answer_body),
            ))
        })
    });

    group.bench_function("serialize", |b| {
        b.iter(|| to_body(black_box(&first.response)))
    });
    group.finish();
}

/// A fixture whose wallet already made `BUSY_WALLET_PAYMENTS` payments.
fn busy_wallet(rt: &tokio::runtime::Runtime, keys: &Keys) -> Fixture {
    let busy = fixture(rt, keys);
    for i in 0..BUSY_WALLET_PAYMENTS {
        if rt
            .block_on(pay(&busy.deps, &request(&format!("busy-{i}"))))
            .is_err()
        {
            panic!("filling the busy wallet failed");
        }
    }
    busy
}

fn edge(c: &mut Criterion) {
    let rt = runtime();
    let keys = keys();
    let mut group = c.benchmark_group("pay_edge");
    // An iteration is about 2 ms (verify + sign) plus 1 ms of untimed request signing.
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));

    group.bench_function("new", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut fx = fixture(&rt, &keys);
            for i in 0..iters {
                if i > 0 && i % PAYMENTS_PER_STORE_MAX == 0 {
                    fx = fixture(&rt, &keys);
                }
                let body = body(&format!("edge-new-{i}"));
                let headers = signed(&rt, &keys, &body);
                let t = Instant::now();
                let out = rt.block_on(serve_pay(&fx, &headers, &body));
                total += t.elapsed();
                assert_eq!(out.code.code(), "SUCCESS");
                black_box(out);
            }
            total
        })
    });

    let fx = fixture(&rt, &keys);
    let body = body("edge-repeat");
    let headers = signed(&rt, &keys, &body);
    assert_eq!(
        rt.block_on(serve_pay(&fx, &headers, &body)).code.code(),
        "SUCCESS"
    );
    group.bench_function("repeat", |b| {
        b.iter(|| rt.block_on(serve_pay(&fx, black_box(&headers), black_box(&body))))
    });
    group.finish();
}

criterion_group!(benches, steps, edge);
criterion_main!(benches);
