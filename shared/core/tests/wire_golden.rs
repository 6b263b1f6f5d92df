//! Golden fixtures: every JSON sample of `docs/spec/*.md` (and our own samples of the messages
//! the spec shows no JSON for) parses into its model and serializes back to an equal value.

// Test helpers outside #[test] functions may unwrap too: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mpp_core::bindings::{
    AuthNotifyRequest, AuthNotifyResponse, AuthorizationNotifyType, ConsultUnbindingRequest,
    ConsultUnbindingResponse,
};
use mpp_core::codes::{GetPaymentCodeRequest, GetPaymentCodeResponse};
use mpp_core::otp::{
    SendOtpRequest, SendOtpResponse, VerifyOtpRequest, VerifyOtpResponse, VerifyType,
};
use mpp_core::payments::*;
use mpp_core::wire::acquirer::{AcqPayRequest, AcqPayResponse};
use mpp_core::wire::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Parses through `parse_request` (every rule), serializes, compares as JSON values.
fn round_trip<T: DeserializeOwned + Validate + Serialize>(name: &str) -> T {
    let body = fixture(name);
    let parsed: T = parse_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    let original: Value = serde_json::from_slice(&body).unwrap();
    let back: Value = serde_json::from_slice(&to_body(&parsed)).unwrap();
    assert_eq!(original, back, "{name} does not round-trip");
    parsed
}

#[test]
fn nfc_pay_sample_round_trips() {
    let req: PayRequest = round_trip("pay_nfc_request.json");
    assert_eq!(
        req.payment_factor.in_store_payment_scenario,
        Some(InStorePaymentScenario::NfcPayment)
    );
    assert_eq!(
        req.payment_method.custom_data.as_ref().unwrap().as_str(),
        "0000008c21c727f2be19"
    );
    assert!(!req.is_evaluation());
    round_trip::<PayResponse>("pay_nfc_response.json");
}

#[test]
fn supplemental_pay_sample_round_trips() {
    let req: PayRequest = round_trip("pay_supplemental_request.json");
    assert!(is_true(req.payment_factor.is_supplemental_payment));
    assert_eq!(
        req.order_lifecycle_id.unwrap().as_str(),
        "2010000000000000000000000007772"
    );
    round_trip::<PayResponse>("pay_supplemental_response.json");
}

#[test]
fn auto_debit_sample_round_trips() {
    let req: PayRequest = round_trip("pay_auto_debit_request.json");
    assert!(is_true(req.payment_factor.is_agreement_payment));
    assert!(!req.is_evaluation());
    assert!(req.order.merchant.merchant_display_name.is_none());
    round_trip::<PayResponse>("pay_auto_debit_response.json");
}

#[test]
fn evaluation_sample_round_trips() {
    let req: PayRequest = round_trip("pay_evaluation_request.json");
    assert!(req.is_evaluation());
    let resp: PayResponse = round_trip("pay_evaluation_response.json");
    assert!(resp.payment_id.is_none());
}

#[test]
fn user_presented_acquirer_samples_round_trip() {
    let req: AcqPayRequest = round_trip("acq_pay_user_presented_request.json");
    assert_eq!(
        req.payment_method.payment_method_id.unwrap().as_str(),
        "28100602000000000012"
    );
    let store = req.order.merchant.store.unwrap();
    assert_eq!(store.store_mcc.as_str(), "1405");
    let env = req.order.env.unwrap();
    assert_eq!(env.store_terminal_id.unwrap().as_str(), "122222");
    let ok: AcqPayResponse = round_trip("acq_pay_user_presented_response_success.json");
    assert_eq!(ok.wallet_brand_name.unwrap().as_str(), "KAKAOPAY");
    let failed: AcqPayResponse = round_trip("acq_pay_user_presented_response_failure.json");
    assert_eq!(
        failed.result.code(),
        Some(mpp_core::result_code::ResultCode::ProcessFail)
    );
    let unknown: AcqPayResponse = round_trip("acq_pay_user_presented_response_unknown.json");
    assert_eq!(
        unknown.result.result_status,
        mpp_core::result_code::ResultStatus::U
    );
}

#[test]
fn our_own_samples_round_trip() {
    round_trip::<PayRequest>("pay_all_fields_request.json");
    round_trip::<InquiryPaymentRequest>("inquiry_payment_request.json");
    round_trip::<InquiryPaymentResponse>("inquiry_payment_response_success.json");
    round_trip::<CancelPaymentRequest>("cancel_payment_request.json");
    round_trip::<CancelPaymentResponse>("cancel_payment_response.json");
    round_trip::<RefundRequest>("refund_request.json");
    round_trip::<RefundResponse>("refund_response.json");
    round_trip::<NotifyPaymentRequest>("notify_payment_request.json");
    round_trip::<NotifyPaymentResponse>("notify_payment_response.json");
}

/// Every fixture round-trips through the types of its operation, taken from the operation table:
/// the file is `<operation>[_<case>]_{request|response}[_<case>].json`, `<operation>` the
/// operation's name in snake case (`cancel_payment_…`, `pay_nfc_…`: the longest that matches).
/// A new operation's fixtures are checked without a new test; a fixture no operation claims fails.
/// `acq_…` fixtures are the acquirer's own API, not an operation of ours (checked above).
#[test]
fn every_fixture_round_trips_through_its_operations_wire_types() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if stem.starts_with("acq_") {
            continue;
        }
        let operation = mpp_core::operations::OPERATIONS
            .into_iter()
            .filter(|o| stem.starts_with(&format!("{}_", o.kebab_name().replace('-', "_"))))
            .max_by_key(|o| o.kebab_name().len())
            .unwrap_or_else(|| panic!("{stem}: no operation of the table has this name"));
        let wire = operation
            .wire
            .unwrap_or_else(|| panic!("{stem}: {} has no wire types", operation.name));
        let words: Vec<&str> = stem.split('_').collect();
        let round_trip = match (words.contains(&"request"), words.contains(&"response")) {
            (true, false) => wire.request,
            (false, true) => wire.response,
            _ => panic!("{stem}: neither a request nor a response"),
        };
        let body = std::fs::read(&path).unwrap();
        let back = round_trip(&body).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let original: Value = serde_json::from_slice(&body).unwrap();
        let back: Value = serde_json::from_slice(&back).unwrap();
        assert_eq!(
            original, back,
            "{stem} does not round-trip as {}",
            operation.name
        );
        checked += 1;
    }
    assert_eq!(checked, 29, "fixtures of the operations (acq_ ones apart)");
}

/// Every ```json block in the spec (plus the unfenced supplemental response) is a fixture.
#[test]
fn every_json_sample_of_the_spec_is_a_fixture() {
    let fixtures: Vec<Value> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spec");
    let mut samples = 0;
    for entry in std::fs::read_dir(&spec).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let page = std::fs::read_to_string(&path).unwrap();
        let mut blocks: Vec<String> = page
            .split("```json")
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap().to_string())
            .collect();
        if path.ends_with("pay-api-mpp.md") {
            // The supplemental-payment response sample is printed without a fence.
            let start = page
                .find("2\\. The MPP returns the response to Alipay+.")
                .unwrap();
            let end = page[start..].find("## Result/Error codes").unwrap() + start;
            let text = &page[start..end];
            blocks.push(text[text.find('{').unwrap()..].to_string());
        }
        for block in blocks {
            let sample: Value = serde_json::from_str(&block)
                .unwrap_or_else(|e| panic!("{}: a sample is not JSON: {e}", path.display()));
            assert!(
                fixtures.contains(&sample),
                "{}: a sample has no fixture:\n{block}",
                path.display()
            );
            samples += 1;
        }
    }
    assert_eq!(
        samples, 12,
        "the spec's sample count changed: add the new ones as fixtures"
    );
}

#[test]
fn key_fingerprint_follows_the_key_parameters_only() {
    let a: PayRequest = parse_request(&fixture("pay_nfc_request.json")).unwrap();
    let mut b = a.clone();
    b.order.order_description = Text::new("something else").unwrap();
    b.pass_through_info = Some(Text::new("x").unwrap());
    assert_eq!(a.key_fingerprint(), b.key_fingerprint());
    assert_eq!(a.key_fingerprint().len(), 64);
    let mut c = a.clone();
    c.pay_to_amount.value = mpp_core::money::MinorUnit(1001);
    assert_ne!(a.key_fingerprint(), c.key_fingerprint());
    let mut d = a.clone();
    d.payment_method.custom_data = Some(Text::new("other").unwrap());
    assert_ne!(a.key_fingerprint(), d.key_fingerprint());

    let r: RefundRequest = parse_request(&fixture("refund_request.json")).unwrap();
    let mut r2 = r.clone();
    r2.refund_reason = None;
    assert_eq!(r.key_fingerprint(), r2.key_fingerprint());
    r2.refund_amount.value = mpp_core::money::MinorUnit(51);
    assert_ne!(r.key_fingerprint(), r2.key_fingerprint());
}

/// getPaymentCode (`user-presented-mpp.md` §2 shows no JSON): our samples of the request and of
/// the answer in the field names of Ant's demo wallet.
#[test]
fn get_payment_code_samples_round_trip() {
    let req: GetPaymentCodeRequest = round_trip("get_payment_code_request.json");
    assert_eq!(req.quantity(), 3);
    assert!(!format!("{req:?}").contains("2160000000000001"));
    let resp: GetPaymentCodeResponse = round_trip("get_payment_code_response.json");
    let codes = resp.payment_code_info_list.unwrap();
    assert_eq!(codes.len(), 2);
    assert!(!format!("{:?}", codes[0]).contains("281666041234567890123456"));
    // A success without codes, or with a code expiring before it starts, is no answer.
    let mut v: Value = serde_json::from_slice(&fixture("get_payment_code_response.json")).unwrap();
    v["paymentCodeInfoList"][0]["codeExpiryTime"] = "2026-11-30T19:59:00+08:00".into();
    let e = parse_request::<GetPaymentCodeResponse>(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(e.field, "paymentCodeInfoList[0].codeExpiryTime");
    v.as_object_mut().unwrap().remove("paymentCodeInfoList");
    let e = parse_request::<GetPaymentCodeResponse>(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(e.field, "paymentCodeInfoList");
}

/// sendOTP and verifyOTP: `account-binding.md` §7 gives fields, no JSON; these are our samples
/// of exactly those fields.
#[test]
fn otp_samples_round_trip() {
    let req: SendOtpRequest = round_trip("send_otp_request.json");
    assert_eq!(req.channel(), VerifyType::Mobile);
    let resp: SendOtpResponse = round_trip("send_otp_response.json");
    assert!(resp.verify_request_id.is_some());
    let req: VerifyOtpRequest = round_trip("verify_otp_request.json");
    assert_eq!(req.otp_code.0.as_str(), "482913");
    assert!(
        !format!("{req:?}").contains("482913"),
        "the code never prints"
    );
    assert!(
        !format!("{req:?}").contains("JWDQ"),
        "the token never prints"
    );
    round_trip::<VerifyOtpResponse>("verify_otp_response.json");
    // verifyType is optional: MOBILE by default.
    let no_type: SendOtpRequest =
        parse_request(br#"{"acquirerId":"1","pspId":"1","accessToken":"t"}"#).unwrap();
    assert_eq!(no_type.channel(), VerifyType::Mobile);
}

/// authNotify (`account-binding.md` §5 shows no JSON): our samples of the two body shapes and
/// the answer, with each type's own field required and secrets kept out of `Debug`.
#[test]
fn auth_notify_samples_round_trip() {
    let req: AuthNotifyRequest = round_trip("auth_notify_token_created_request.json");
    assert_eq!(
        req.authorization_notify_type,
        AuthorizationNotifyType::TokenCreated
    );
    assert!(
        !format!("{req:?}").contains("JWDQ"),
        "the token never prints"
    );
    let req: AuthNotifyRequest = round_trip("auth_notify_authcode_created_request.json");
    assert_eq!(req.auth_state.unwrap().as_str(), "state-7c1");
    round_trip::<AuthNotifyResponse>("auth_notify_response.json");
    let missing = br#"{"authorizationNotifyType":"TOKEN_CANCELED","authClientId":"c"}"#;
    let e = parse_request::<AuthNotifyRequest>(missing).unwrap_err();
    assert_eq!(e.field, "accessToken");
}

/// consultUnbinding (`account-binding.md` §6 lists the fields and shows no JSON): our samples of
/// the request and of both answers; only an explicit `"true"` allows, and the token never prints.
#[test]
fn consult_unbinding_samples_round_trip() {
    let req: ConsultUnbindingRequest = round_trip("consult_unbinding_request.json");
    assert!(
        !format!("{req:?}").contains("JWDQ"),
        "the token never prints"
    );
    let yes: ConsultUnbindingResponse = round_trip("consult_unbinding_response_allowed.json");
    assert_eq!(yes.allowed(), Some(true));
    let no: ConsultUnbindingResponse = round_trip("consult_unbinding_response_refused.json");
    assert_eq!(no.allowed(), Some(false));
    for odd in [
        &br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}"#[..],
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"allowUnbinding":"TRUE"}"#,
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"allowUnbinding":"yes"}"#,
    ] {
        let r = parse_request::<ConsultUnbindingResponse>(odd).unwrap();
        assert_eq!(r.allowed(), None, "never a yes");
    }
    let no_token = br#"{"authClientId":"c","referenceMerchantId":"m"}"#;
    assert_eq!(
        parse_request::<ConsultUnbindingRequest>(no_token)
            .unwrap_err()
            .field,
        "accessToken"
    );
}
