//! No input makes the parser panic: random bytes, mutated fixtures and the classic hostile
//! bodies all come back as `Ok` or a `ParamIllegal` naming a field.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpp_core::payments::*;
use mpp_core::wire::acquirer::{AcqPayRequest, AcqPayResponse};
use mpp_core::wire::*;
use proptest::prelude::*;
use serde_json::{json, Value};

const FIXTURES: &[&str] = &[
    "pay_nfc_request.json",
    "pay_supplemental_request.json",
    "pay_auto_debit_request.json",
    "pay_evaluation_request.json",
    "pay_all_fields_request.json",
    "acq_pay_user_presented_request.json",
    "refund_request.json",
    "notify_payment_request.json",
    "inquiry_payment_response_success.json",
    "acq_pay_user_presented_response_success.json",
];

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn full() -> Value {
    serde_json::from_slice(&fixture_bytes("pay_all_fields_request.json")).unwrap()
}

/// Runs every parser on the body; each must answer Ok or a ParamIllegal with a field and a rule.
fn parse_all(body: &[u8]) {
    fn one<T: serde::de::DeserializeOwned + Validate>(body: &[u8]) {
        if let Err(e) = parse_request::<T>(body) {
            assert!(!e.field.is_empty() && !e.rule.is_empty(), "{e:?}");
        }
    }
    one::<PayRequest>(body);
    one::<PayResponse>(body);
    one::<AcqPayRequest>(body);
    one::<AcqPayResponse>(body);
    one::<RefundRequest>(body);
    one::<NotifyPaymentRequest>(body);
    one::<InquiryPaymentRequest>(body);
    one::<InquiryPaymentResponse>(body);
    one::<CancelPaymentRequest>(body);
}

#[track_caller]
fn body_error(body: &[u8]) -> ParamIllegal {
    parse_request::<PayRequest>(body).expect_err("must be refused")
}

#[test]
fn ten_thousand_deep_nesting_is_a_clean_error() {
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let e = body_error(deep_obj.as_bytes());
    assert!(e.rule.contains("recursion limit"), "{e}");
    let deep_arr = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    body_error(deep_arr.as_bytes());
    // Hidden under an unknown field of an otherwise valid request.
    let mut text = serde_json::to_string(&full()).unwrap();
    text.pop();
    text.push_str(&format!(
        ",\"x\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    body_error(text.as_bytes());
    parse_all(deep_obj.as_bytes());
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    let valid = serde_json::to_vec(&full()).unwrap();
    let mut padded = valid.clone();
    padded.resize(MAX_BODY_BYTES, b' ');
    parse_request::<PayRequest>(&padded).expect("exactly the limit is fine");
    padded.push(b' ');
    let e = body_error(&padded);
    assert_eq!(e.field, BODY_FIELD);
    assert!(e.rule.contains("at most"), "{e}");
}

#[test]
fn invalid_utf8_is_refused() {
    let mut body = serde_json::to_vec(&full()).unwrap();
    let at = body.windows(5).position(|w| w == b"SHOES").unwrap();
    body[at] = 0xff;
    let e = body_error(&body);
    assert_eq!(e.field, BODY_FIELD);
    assert!(e.rule.contains("UTF-8"), "{e}");
    assert_eq!(body_error(b"\xc3\x28").field, BODY_FIELD);
}

#[test]
fn duplicate_keys_are_refused_wherever_they_are() {
    let text = serde_json::to_string(&full()).unwrap();
    let dup_top = text.replacen('{', "{\"pspId\":\"other\",", 1);
    let e = body_error(dup_top.as_bytes());
    assert_eq!(e.field, "pspId");
    assert_eq!(e.rule, "must appear only once");

    let dup_nested = text.replacen(
        "\"referenceOrderId\"",
        "\"referenceOrderId\":\"x\",\"referenceOrderId\"",
        1,
    );
    assert_eq!(
        body_error(dup_nested.as_bytes()).field,
        "order.referenceOrderId"
    );

    let dup_unknown = text.replacen('{', "{\"x\":[{\"k\":1,\"k\":2}],", 1);
    assert_eq!(body_error(dup_unknown.as_bytes()).field, "x[0].k");
}

#[test]
fn the_top_level_must_be_an_object() {
    for body in [
        &b"[]"[..],
        b"[{}]",
        b"\"pay\"",
        b"42",
        b"null",
        b"true",
        b"",
        b"   ",
        b"{",
        b"}",
    ] {
        let e = body_error(body);
        assert_eq!(
            e.field,
            BODY_FIELD,
            "{:?}: {e}",
            String::from_utf8_lossy(body)
        );
    }
    let e = body_error(b"[]");
    assert!(e.rule.contains("JSON object"), "{e}");
}

#[test]
fn trailing_bytes_and_broken_json_are_refused() {
    let text = serde_json::to_string(&full()).unwrap();
    assert_eq!(body_error(format!("{text} x").as_bytes()).field, BODY_FIELD);
    assert_eq!(
        body_error(format!("{text}{text}").as_bytes()).field,
        BODY_FIELD
    );
    let broken = text.replacen("\"SHOES\"", "\"SHOES", 1);
    body_error(broken.as_bytes());
    let e = body_error(b"{}");
    assert_eq!(e.rule, "is required");
}

/// One way to break a fixture.
#[derive(Clone, Debug)]
enum Mutation {
    Delete,
    Replace(Value),
    Truncate,
    InsertJunk(Vec<u8>),
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("")),
        Just(json!("true")),
        Just(json!("0")),
        Just(json!("18446744073709551616")),
        (0usize..30_000).prop_map(|n| json!("x".repeat(n))),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Delete),
        arb_value().prop_map(Mutation::Replace),
        Just(Mutation::Truncate),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::InsertJunk),
    ]
}

/// Every node of a value, by path segments.
fn nodes(v: &Value, path: Vec<Result<String, usize>>, out: &mut Vec<Vec<Result<String, usize>>>) {
    out.push(path.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let mut p = path.clone();
                p.push(Ok(k.clone()));
                nodes(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = path.clone();
                p.push(Err(i));
                nodes(x, p, out);
            }
        }
        _ => {}
    }
}

fn apply(doc: &mut Value, path: &[Result<String, usize>], m: &Mutation) {
    let Some((last, parent_path)) = path.split_last() else {
        if let Mutation::Replace(v) = m {
            *doc = v.clone();
        }
        return;
    };
    let mut parent = &mut *doc;
    for seg in parent_path {
        parent = match seg {
            Ok(k) => &mut parent[k.as_str()],
            Err(i) => &mut parent[*i],
        };
    }
    match (m, last, parent) {
        (Mutation::Delete, Ok(k), Value::Object(o)) => {
            o.remove(k);
        }
        (Mutation::Delete, Err(i), Value::Array(a)) => {
            a.remove(*i);
        }
        (Mutation::Replace(v), Ok(k), Value::Object(o)) => {
            o.insert(k.clone(), v.clone());
        }
        (Mutation::Replace(v), Err(i), Value::Array(a)) => a[*i] = v.clone(),
        _ => {}
    }
}

/// Cases per property: 512 in CI; `PROPTEST_CASES=1000000` for the full-size run
/// (RELIABILITY.md).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_all(&body);
    }

    #[test]
    fn random_json_never_panics(v in arb_value()) {
        parse_all(&serde_json::to_vec(&v).unwrap());
        parse_all(&serde_json::to_vec(&json!({"order": v.clone(), "paymentMethod": v})).unwrap());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        node in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((arb_mutation(), any::<prop::sample::Index>()), 1..4),
    ) {
        let bytes = fixture_bytes(FIXTURES[which]);
        let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
        let mut raw_edits = Vec::new();
        for (i, (m, pos)) in mutations.iter().enumerate() {
            let mut all = Vec::new();
            nodes(&doc, Vec::new(), &mut all);
            let target = if i == 0 { node.get(&all) } else { pos.get(&all) };
            match m {
                Mutation::Truncate | Mutation::InsertJunk(_) => raw_edits.push((m.clone(), *pos)),
                _ => apply(&mut doc, &target.clone(), m),
            }
        }
        let mut body = serde_json::to_vec(&doc).unwrap();
        for (m, pos) in raw_edits {
            let at = pos.index(body.len() + 1);
            match m {
                Mutation::Truncate => body.truncate(at),
                Mutation::InsertJunk(junk) => { body.splice(at..at, junk); }
                _ => {}
            }
        }
        parse_all(&body);
    }
}
