//! Unit tests: parsing, content, tampering, the refusal reasons and their codes, key forms.

use super::*;
use crate::result_code::ResultCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use keys::pem_encode;
use std::sync::OnceLock;

const CLIENT: &str = "TEST_5X00000000000000";
const PATH: &str = "/aps/api/v1/payments/pay";
const ISO_TIME: &str = "2019-05-28T12:12:12+08:00";
const BODY: &[u8] = "{\"order\":{\"orderDescription\":\"咖啡 ☕ café\"},\"paymentAmount\":{\"currency\":\"JPY\",\"value\":\"100\"}}".as_bytes();

/// Two keys for the whole test binary (generation takes a while).
fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
    static KEYS: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            generate_key_pair(2048).expect("key 1"),
            generate_key_pair(2048).expect("key 2"),
        )
    })
}

fn key1() -> &'static RsaPrivateKey {
    &keys().0
}

fn key2() -> &'static RsaPrivateKey {
    &keys().1
}

fn iso_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(ISO_TIME)
        .unwrap()
        .with_timezone(&Utc)
}

fn cfg() -> VerifierConfig {
    VerifierConfig::new(CLIENT, 1, RsaPublicKey::from(key1()))
}

fn sign_raw(key: &RsaPrivateKey, content: &[u8]) -> Vec<u8> {
    LocalSigner::new(key.clone(), 1).sign_sync(content).unwrap()
}

/// Headers as a partner would send them, signed by `key` as `key_version`.
fn signed_headers(
    key: &RsaPrivateKey,
    key_version: u32,
    method: &str,
    path: &str,
    client: &str,
    time: &str,
    body: &[u8],
) -> HeaderMap {
    let raw = sign_raw(key, &content_to_sign(method, path, client, time, body));
    let mut h = HeaderMap::new();
    h.insert("client-id", HeaderValue::from_str(client).unwrap());
    h.insert("request-time", HeaderValue::from_str(time).unwrap());
    h.insert(
        "signature",
        HeaderValue::from_str(&signature_header_value(key_version, &raw)).unwrap(),
    );
    h
}

fn good_headers() -> HeaderMap {
    signed_headers(key1(), 1, "POST", PATH, CLIENT, ISO_TIME, BODY)
}

fn verify(headers: &HeaderMap) -> Result<Verified, SignatureError> {
    verify_request(&cfg(), "POST", PATH, headers, BODY, iso_now())
}

// ---- content -------------------------------------------------------------------------------

#[test]
fn content_is_method_path_newline_client_time_body() {
    let c = content_to_sign("POST", PATH, CLIENT, ISO_TIME, b"{\"a\":\"1\"}");
    assert_eq!(
        c,
        b"POST /aps/api/v1/payments/pay\nTEST_5X00000000000000.2019-05-28T12:12:12+08:00.{\"a\":\"1\"}"
    );
}

#[test]
fn content_keeps_body_bytes_and_query_as_given() {
    let body = "  {\"x\" : \"é\"}\r\n".as_bytes();
    let c = content_to_sign("POST", "/p?a=1&b=2", "c", "1685599933871", body);
    let mut expected = b"POST /p?a=1&b=2\nc.1685599933871.".to_vec();
    expected.extend_from_slice(body);
    assert_eq!(c, expected);
}

#[test]
fn content_digest_matches_the_content() {
    use sha2::{Digest, Sha256};
    let c = content_to_sign("POST", PATH, CLIENT, ISO_TIME, BODY);
    let d = content::content_digest(
        b"POST",
        PATH.as_bytes(),
        CLIENT.as_bytes(),
        ISO_TIME.as_bytes(),
        BODY,
    );
    assert_eq!(d.as_ref(), Sha256::digest(&c).as_slice());
}

// ---- header parsing and encoding ----------------------------------------------------------

#[test]
fn encode_signature_url_encodes_plus_slash_and_equals() {
    // 0xfb 0xff 0xbf → "+/+/" ; a 1-byte input ends with "==".
    assert_eq!(encode_signature(&[0xfb, 0xff, 0xbf]), "%2B%2F%2B%2F");
    assert_eq!(encode_signature(&[0xff]), "%2Fw%3D%3D");
}

#[test]
fn header_value_round_trips() {
    let raw: Vec<u8> = (0..=255u8).collect();
    let v = signature_header_value(7, &raw);
    assert!(v.starts_with("algorithm=RSA256,keyVersion=7,signature="));
    assert!(
        !v.contains('+')
            && !v.contains('/')
            && !v["algorithm=RSA256,keyVersion=7,signature=".len()..].contains('=')
    );
    let h = parse_signature_header(&v).unwrap();
    assert_eq!(h.algorithm, "RSA256");
    assert_eq!(h.key_version, Some(7));
    assert_eq!(h.signature, raw);
}

#[test]
fn header_parses_with_spaces_after_commas_and_any_parameter_case() {
    let enc = encode_signature(b"abc");
    for v in [
        format!("algorithm=RSA256, keyVersion=2, signature={enc}"),
        format!("algorithm=RSA256,  keyVersion=2 ,signature={enc} "),
        format!("Algorithm=RSA256,KEYVERSION=2,Signature={enc}"),
        format!("signature={enc},keyVersion=2,algorithm=RSA256"),
        format!("algorithm=RSA256,keyVersion=2,signature={enc},future=x"),
    ] {
        let h = parse_signature_header(&v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(
            (h.algorithm.as_str(), h.key_version, h.signature.as_slice()),
            ("RSA256", Some(2), &b"abc"[..]),
            "{v}"
        );
    }
}

#[test]
fn header_without_key_version_has_none() {
    let h = parse_signature_header(&format!(
        "algorithm=RSA256,signature={}",
        encode_signature(b"x")
    ))
    .unwrap();
    assert_eq!(h.key_version, None);
}

#[test]
fn header_accepts_unencoded_base64() {
    // A sender that forgot to URL-encode: `+`, `/` and `=` arrive literally.
    let raw = [0xfb, 0xff, 0xbf, 0xff];
    let b64 = STANDARD.encode(raw);
    assert!(b64.contains('+') && b64.contains('='));
    let h =
        parse_signature_header(&format!("algorithm=RSA256,keyVersion=1,signature={b64}")).unwrap();
    assert_eq!(h.signature, raw);
}

#[test]
fn malformed_headers_are_refused_as_invalid_signature() {
    let enc = encode_signature(b"abc");
    for v in [
        String::new(),
        "garbage".to_string(),
        format!("keyVersion=1,signature={enc}"),
        "algorithm=RSA256,keyVersion=1".to_string(),
        "algorithm=RSA256,keyVersion=1,signature=".to_string(),
        format!("algorithm=RSA256,keyVersion=one,signature={enc}"),
        format!("algorithm=RSA256,keyVersion=-1,signature={enc}"),
        "algorithm=RSA256,keyVersion=1,signature=%%%not-base64".to_string(),
        format!("algorithm=RSA256,algorithm=RSA256,signature={enc}"),
        format!(
            "algorithm=RSA256,signature={}",
            "A".repeat(SIGNATURE_HEADER_BYTES_MAX)
        ),
        format!(
            "algorithm=RSA256,signature={}",
            encode_signature(&[1u8; 513])
        ),
    ] {
        let e = parse_signature_header(&v).expect_err(&v);
        assert!(
            matches!(e, SignatureError::MalformedHeader { .. }),
            "{v}: {e:?}"
        );
        assert_eq!(e.result_code(), ResultCode::InvalidSignature);
    }
}

#[test]
fn signature_header_debug_hides_the_bytes() {
    let h = parse_signature_header(&signature_header_value(1, b"secret-ish")).unwrap();
    let shown = format!("{h:?}");
    assert!(
        !shown.contains("secret") && shown.contains("signature_bytes: 10"),
        "{shown}"
    );
}

// ---- verification: the happy paths --------------------------------------------------------

#[test]
fn a_signed_request_verifies() {
    let v = verify(&good_headers()).unwrap();
    assert_eq!(
        v,
        Verified {
            client_id: CLIENT.into(),
            key_version: 1
        }
    );
}

#[test]
fn header_names_match_in_any_case() {
    let good = good_headers();
    let mut h = HeaderMap::new();
    for (name, upper) in [
        ("client-id", "CLIENT-ID"),
        ("request-time", "Request-TIME"),
        ("signature", "SiGnAtUrE"),
    ] {
        h.insert(
            HeaderName::from_bytes(upper.as_bytes()).unwrap(),
            good.get(name).unwrap().clone(),
        );
    }
    verify(&h).unwrap();
}

#[test]
fn spaces_after_commas_in_the_signature_header_verify() {
    let mut h = good_headers();
    let spaced = h
        .get("signature")
        .unwrap()
        .to_str()
        .unwrap()
        .replace(',', ", ");
    h.insert("signature", HeaderValue::from_str(&spaced).unwrap());
    verify(&h).unwrap();
}

#[test]
fn epoch_millis_request_time_verifies() {
    let millis = "1559016732000"; // 2019-05-28T04:12:12Z = ISO_TIME
    let h = signed_headers(key1(), 1, "POST", PATH, CLIENT, millis, BODY);
    verify(&h).unwrap();
}

#[test]
fn iso_time_with_fraction_and_z_verifies() {
    let t = "2019-05-28T04:12:12.09Z";
    let h = signed_headers(key1(), 1, "POST", PATH, CLIENT, t, BODY);
    verify(&h).unwrap();
}

#[test]
fn wire_times_parse_in_every_form() {
    let at = Utc.with_ymd_and_hms(2019, 5, 28, 4, 12, 12).unwrap();
    assert_eq!(parse_wire_time("2019-05-28T12:12:12+08:00"), Some(at));
    assert_eq!(parse_wire_time("2019-05-28T12:12:12+0800"), Some(at));
    assert_eq!(parse_wire_time("2019-05-28T04:12:12Z"), Some(at));
    assert_eq!(parse_wire_time("1559016732000"), Some(at));
    assert_eq!(
        parse_wire_time("2025-02-20T08:51:49.09Z"),
        Some(Utc.with_ymd_and_hms(2025, 2, 20, 8, 51, 49).unwrap() + Duration::milliseconds(90))
    );
    for bad in [
        "",
        "2019-05-28T12:12:12",
        "2019-05-28",
        "yesterday",
        "-1559016732000",
        "12345678901234567",
        "1.5e12",
    ] {
        assert_eq!(parse_wire_time(bad), None, "{bad}");
    }
}

#[test]
fn absent_key_version_uses_the_highest_configured() {
    let cfg = cfg().with_key(2, RsaPublicKey::from(key2()));
    let content = content_to_sign("POST", PATH, CLIENT, ISO_TIME, BODY);
    let raw = sign_raw(key2(), &content);
    let mut h = good_headers();
    h.insert(
        "signature",
        HeaderValue::from_str(&format!(
            "algorithm=RSA256,signature={}",
            encode_signature(&raw)
        ))
        .unwrap(),
    );
    let v = verify_request(&cfg, "POST", PATH, &h, BODY, iso_now()).unwrap();
    assert_eq!(v.key_version, 2);
    // And version 1 is still usable by name during the rotation.
    verify_request(&cfg, "POST", PATH, &good_headers(), BODY, iso_now()).unwrap();
}

#[test]
fn a_second_accepted_client_verifies() {
    let cfg = cfg().with_client("OTHER");
    let h = signed_headers(key1(), 1, "POST", PATH, "OTHER", ISO_TIME, BODY);
    assert_eq!(
        verify_request(&cfg, "POST", PATH, &h, BODY, iso_now())
            .unwrap()
            .client_id,
        "OTHER"
    );
}

// ---- tampering ----------------------------------------------------------------------------

fn assert_bad_signature(r: Result<Verified, SignatureError>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e, SignatureError::BadSignature, "{what}");
    assert_eq!(e.result_code(), ResultCode::InvalidSignature, "{what}");
}

#[test]
fn tampering_with_the_method_fails() {
    assert_bad_signature(
        verify_request(&cfg(), "PUT", PATH, &good_headers(), BODY, iso_now()),
        "method",
    );
}

#[test]
fn tampering_with_the_path_fails() {
    for path in [
        "/aps/api/v1/payments/refund",
        "/aps/api/v1/payments/pay?x=1",
        "/aps/api/v1/payments/pay/",
    ] {
        assert_bad_signature(
            verify_request(&cfg(), "POST", path, &good_headers(), BODY, iso_now()),
            path,
        );
    }
}

#[test]
fn tampering_with_the_client_id_fails() {
    // Both ids accepted, so only the signature can notice the swap.
    let cfg = cfg().with_client("TEST_5X00000000000001");
    let mut h = good_headers();
    h.insert(
        "client-id",
        HeaderValue::from_static("TEST_5X00000000000001"),
    );
    assert_bad_signature(
        verify_request(&cfg, "POST", PATH, &h, BODY, iso_now()),
        "client id",
    );
}

#[test]
fn tampering_with_the_time_fails() {
    let mut h = good_headers();
    h.insert(
        "request-time",
        HeaderValue::from_static("2019-05-28T12:12:13+08:00"),
    );
    assert_bad_signature(verify(&h), "time");
    // The same instant written differently is different content: never re-formatted.
    h.insert(
        "request-time",
        HeaderValue::from_static("2019-05-28T04:12:12Z"),
    );
    assert_bad_signature(verify(&h), "time re-formatted");
}

#[test]
fn tampering_with_the_body_fails() {
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    assert_bad_signature(
        verify_request(&cfg(), "POST", PATH, &good_headers(), &body, iso_now()),
        "body byte",
    );
    let mut longer = BODY.to_vec();
    longer.push(b' ');
    assert_bad_signature(
        verify_request(&cfg(), "POST", PATH, &good_headers(), &longer, iso_now()),
        "body whitespace",
    );
}

#[test]
fn tampering_with_the_signature_fails() {
    let content = content_to_sign("POST", PATH, CLIENT, ISO_TIME, BODY);
    let mut raw = sign_raw(key1(), &content);
    raw[100] ^= 0x01;
    let mut h = good_headers();
    h.insert(
        "signature",
        HeaderValue::from_str(&signature_header_value(1, &raw)).unwrap(),
    );
    assert_bad_signature(verify(&h), "flipped bit");
    raw.pop();
    h.insert(
        "signature",
        HeaderValue::from_str(&signature_header_value(1, &raw)).unwrap(),
    );
    assert_bad_signature(verify(&h), "short signature");
}

#[test]
fn a_signature_by_another_key_fails() {
    let h = signed_headers(key2(), 1, "POST", PATH, CLIENT, ISO_TIME, BODY);
    assert_bad_signature(verify(&h), "other key");
}

// ---- refusals and their codes -------------------------------------------------------------

#[test]
fn an_unknown_client_is_invalid_client() {
    let h = signed_headers(key1(), 1, "POST", PATH, "SOMEONE_ELSE", ISO_TIME, BODY);
    let e = verify(&h).unwrap_err();
    assert_eq!(e, SignatureError::UnknownClient("SOMEONE_ELSE".into()));
    assert_eq!(e.result_code(), ResultCode::InvalidClient);
}

#[test]
fn an_unknown_key_version_is_key_not_found() {
    let h = signed_headers(key1(), 9, "POST", PATH, CLIENT, ISO_TIME, BODY);
    let e = verify(&h).unwrap_err();
    assert_eq!(e, SignatureError::UnknownKeyVersion(9));
    assert_eq!(e.result_code(), ResultCode::KeyNotFound);
}

#[test]
fn no_configured_key_is_key_not_found() {
    let mut cfg = cfg();
    cfg.keys.clear();
    let mut h = good_headers();
    let without_version = h
        .get("signature")
        .unwrap()
        .to_str()
        .unwrap()
        .replace("keyVersion=1,", "");
    h.insert(
        "signature",
        HeaderValue::from_str(&without_version).unwrap(),
    );
    let e = verify_request(&cfg, "POST", PATH, &h, BODY, iso_now()).unwrap_err();
    assert_eq!(
        (e.clone(), e.result_code()),
        (SignatureError::NoKeys, ResultCode::KeyNotFound)
    );
}

#[test]
fn another_algorithm_is_invalid_signature() {
    for alg in ["RSA", "rsa256", "RSA2", "HmacSHA256", "RSA256 x"] {
        let mut h = good_headers();
        let v = h
            .get("signature")
            .unwrap()
            .to_str()
            .unwrap()
            .replace("RSA256", alg);
        h.insert("signature", HeaderValue::from_str(&v).unwrap());
        let e = verify(&h).unwrap_err();
        assert_eq!(e, SignatureError::UnsupportedAlgorithm(alg.into()), "{alg}");
        assert_eq!(e.result_code(), ResultCode::InvalidSignature);
    }
}

#[test]
fn missing_headers_are_refused() {
    for (name, code) in [
        ("client-id", ResultCode::InvalidClient),
        ("request-time", ResultCode::InvalidSignature),
        ("signature", ResultCode::InvalidSignature),
    ] {
        let mut h = good_headers();
        h.remove(name);
        let e = verify(&h).unwrap_err();
        assert!(
            matches!(e, SignatureError::MissingHeader(_)),
            "{name}: {e:?}"
        );
        assert_eq!(e.result_code(), code, "{name}");
    }
}

#[test]
fn duplicate_headers_are_refused() {
    for name in ["client-id", "request-time", "signature"] {
        let mut h = good_headers();
        let v = h.get(name).unwrap().clone();
        h.append(name, v);
        assert!(
            matches!(verify(&h).unwrap_err(), SignatureError::DuplicateHeader(_)),
            "{name}"
        );
    }
}

#[test]
fn a_non_ascii_client_id_is_invalid_client() {
    let mut h = good_headers();
    h.insert(
        "client-id",
        HeaderValue::from_bytes("客户".as_bytes()).unwrap(),
    );
    let e = verify(&h).unwrap_err();
    assert_eq!(e.result_code(), ResultCode::InvalidClient, "{e:?}");
}

#[test]
fn an_unreadable_request_time_is_invalid_signature() {
    let h = signed_headers(key1(), 1, "POST", PATH, CLIENT, "28/05/2019 12:12", BODY);
    let e = verify(&h).unwrap_err();
    assert!(
        matches!(
            e,
            SignatureError::MalformedHeader {
                header: "Request-Time",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.result_code(), ResultCode::InvalidSignature);
}

#[test]
fn the_skew_window_holds_on_both_sides() {
    let h = good_headers();
    let skew = DEFAULT_MAX_SKEW;
    // Exactly at the edge, either way: accepted.
    verify_request(&cfg(), "POST", PATH, &h, BODY, iso_now() + skew).unwrap();
    verify_request(&cfg(), "POST", PATH, &h, BODY, iso_now() - skew).unwrap();
    // One second past it, either way: refused.
    for now in [
        iso_now() + skew + Duration::seconds(1),
        iso_now() - skew - Duration::seconds(1),
    ] {
        let e = verify_request(&cfg(), "POST", PATH, &h, BODY, now).unwrap_err();
        assert!(
            matches!(e, SignatureError::OutsideTimeWindow { .. }),
            "{e:?}"
        );
        assert_eq!(e.result_code(), ResultCode::InvalidSignature);
    }
    // A replay a day later.
    let e = verify_request(
        &cfg(),
        "POST",
        PATH,
        &h,
        BODY,
        iso_now() + Duration::days(1),
    )
    .unwrap_err();
    assert_eq!(
        e,
        SignatureError::OutsideTimeWindow {
            header: "Request-Time",
            offset_secs: -86_400,
            max_skew_secs: 300
        }
    );
}

#[test]
fn the_skew_window_is_configurable_and_applies_to_epoch_millis() {
    let h = signed_headers(key1(), 1, "POST", PATH, CLIENT, "1559016732000", BODY);
    let tight = cfg().with_max_skew(Duration::seconds(30));
    verify_request(
        &tight,
        "POST",
        PATH,
        &h,
        BODY,
        iso_now() + Duration::seconds(30),
    )
    .unwrap();
    let e = verify_request(
        &tight,
        "POST",
        PATH,
        &h,
        BODY,
        iso_now() - Duration::seconds(31),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            SignatureError::OutsideTimeWindow {
                offset_secs: 31,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn cheap_checks_come_before_the_rsa_operation() {
    // Unknown client wins over a bad signature and a stale time: cheapest checks first.
    let h = signed_headers(key2(), 1, "POST", PATH, "NOPE", ISO_TIME, BODY);
    let e = verify_request(
        &cfg(),
        "POST",
        PATH,
        &h,
        BODY,
        iso_now() + Duration::days(1),
    )
    .unwrap_err();
    assert!(matches!(e, SignatureError::UnknownClient(_)));
}

#[test]
fn error_messages_carry_no_body_or_signature() {
    let h = signed_headers(key2(), 1, "POST", PATH, CLIENT, ISO_TIME, BODY);
    let sig = h.get("signature").unwrap().to_str().unwrap().to_string();
    let e = verify(&h).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("order") && !text.contains(&sig[40..60]),
        "{text}"
    );
    // A long client id is shortened in the message.
    let long = "X".repeat(500);
    let h = signed_headers(key1(), 1, "POST", PATH, &long, ISO_TIME, BODY);
    let e = verify(&h).unwrap_err();
    assert!(e.to_string().len() < 120, "{e}");
}

// ---- responses and explicit policies ------------------------------------------------------

#[tokio::test]
async fn a_signed_response_verifies_and_tampering_fails() {
    let signer = LocalSigner::new(key1().clone(), 3);
    let body =
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#;
    let time = "2019-05-28T12:12:14+08:00";
    let pairs = sign_headers(&signer, "MPP_ID", "POST", PATH, "Response-Time", time, body)
        .await
        .unwrap();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Client-Id", "Response-Time", "Signature", "Content-Type"]
    );
    assert!(pairs[2]
        .1
        .starts_with("algorithm=RSA256,keyVersion=3,signature="));
    assert_eq!(pairs[3].1, "application/json; charset=UTF-8");
    let mut h = HeaderMap::new();
    for (n, v) in &pairs {
        h.insert(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let public = RsaPublicKey::from(key1());
    verify_response(&public, "POST", PATH, &h, body).unwrap();
    assert_eq!(
        verify_response(&public, "POST", "/other", &h, body),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        verify_response(&public, "POST", PATH, &h, b"{}"),
        Err(SignatureError::BadSignature)
    );
    // A response carries Response-Time, not Request-Time.
    let e = verify_request(&cfg(), "POST", PATH, &h, body, iso_now()).unwrap_err();
    assert!(
        matches!(
            e,
            SignatureError::UnknownClient(_) | SignatureError::MissingHeader("Request-Time")
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_notify_request_verifies_with_an_explicit_policy() {
    let signer = LocalSigner::new(key2().clone(), 1);
    let time = "1559016732000";
    let pairs = sign_headers(
        &signer,
        "MPP_ID",
        "POST",
        "/notify",
        "Request-Time",
        time,
        BODY,
    )
    .await
    .unwrap();
    let mut h = HeaderMap::new();
    for (n, v) in &pairs {
        h.insert(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let public = RsaPublicKey::from(key2());
    let policy = VerifyPolicy {
        time_header: header_names::REQUEST_TIME,
        client_ids: None,
        keys: KeySet::Single(&public),
        window: None,
    };
    let v = verify_with_time_header(&policy, "POST", "/notify", &h, BODY).unwrap();
    assert_eq!(
        v,
        Verified {
            client_id: "MPP_ID".into(),
            key_version: 1
        }
    );
    let windowed = VerifyPolicy {
        window: Some((DEFAULT_MAX_SKEW, iso_now() + Duration::hours(1))),
        ..policy
    };
    assert!(matches!(
        verify_with_time_header(&windowed, "POST", "/notify", &h, BODY),
        Err(SignatureError::OutsideTimeWindow { .. })
    ));
}

// ---- signing ------------------------------------------------------------------------------

#[tokio::test]
async fn local_signing_is_deterministic_pkcs1v15_despite_blinding() {
    let signer = LocalSigner::new(key1().clone(), 1);
    let content = content_to_sign("POST", PATH, CLIENT, ISO_TIME, BODY);
    let a = signer.sign(&content).await.unwrap();
    let b = signer.sign(&content).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 256);
    assert_eq!(signer.key_version(), 1);
    // The same as the reference computation: openssl's signature of a fixed content with a
    // fixed key (`tests/signature_vectors`, first row).
    let vectors = fixture("vectors.tsv");
    let row: Vec<&str> = vectors.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(row[1], "rsa2048_pkcs1.pem");
    let signer = LocalSigner::from_pem(&fixture(row[1]), 1).unwrap();
    let content = content_to_sign(row[2], row[3], row[4], row[5], fixture(row[6]).as_bytes());
    let reference = STANDARD.decode(row[7]).unwrap();
    assert_eq!(signer.sign(&content).await.unwrap(), reference);
}

/// A file of `tests/signature_vectors` (keys made by openssl, vectors signed by it).
fn fixture(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/signature_vectors/");
    std::fs::read_to_string(format!("{dir}{name}")).unwrap()
}

#[test]
fn signer_errors_say_whether_a_retry_helps() {
    let cause = || -> Box<dyn std::error::Error + Send + Sync> { "x".into() };
    assert!(SignerError::Throttled(cause()).retry_can_help());
    assert!(SignerError::Unavailable(cause()).retry_can_help());
    assert!(!SignerError::KeyUnusable(cause()).retry_can_help());
    assert!(!SignerError::Rejected {
        reason: "too long",
        source: None
    }
    .retry_can_help());
    assert!(SignerError::Throttled(cause())
        .to_string()
        .contains("retry"));
}

#[test]
fn local_signer_debug_hides_the_key() {
    let s = LocalSigner::new(key1().clone(), 4);
    let shown = format!("{s:?}");
    assert_eq!(shown, "LocalSigner { key_version: 4, .. }");
}

// ---- keys ---------------------------------------------------------------------------------

#[test]
fn public_keys_load_in_every_form() {
    let public = RsaPublicKey::from(key1());
    let spki_pem = public_key_pem(&public);
    assert!(spki_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let pkcs1_pem = pem_encode("RSA PUBLIC KEY", &public.pkcs1_der());
    let b64_der = public_key_base64_der(&public);
    assert!(
        !b64_der.contains('\n') && b64_der.starts_with("MIIBIjAN"),
        "SPKI DER of a 2048-bit key"
    );
    let wrapped: String = b64_der
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap().to_string() + "\n")
        .collect();
    let pkcs1_b64 = STANDARD.encode(public.pkcs1_der());
    let crlf = spki_pem.replace('\n', "\r\n");
    let with_preamble = format!("subject=CN=alipay\n{spki_pem}");
    for (form, text) in [
        ("SPKI PEM", spki_pem.as_str()),
        ("PKCS#1 PEM", pkcs1_pem.as_str()),
        ("Base64 DER", b64_der.as_str()),
        ("Base64 DER wrapped", wrapped.as_str()),
        ("Base64 PKCS#1 DER", pkcs1_b64.as_str()),
        ("CRLF PEM", crlf.as_str()),
        ("PEM with preamble", with_preamble.as_str()),
    ] {
        assert_eq!(
            load_public_key(text).unwrap_or_else(|e| panic!("{form}: {e}")),
            public,
            "{form}"
        );
    }
}

#[test]
fn private_keys_load_in_every_form() {
    let key = key1();
    let pkcs8_pem = private_key_pem(key);
    assert!(pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let pkcs1_pem = pem_encode("RSA PRIVATE KEY", &key.to_pkcs1_der().unwrap());
    let pkcs8_b64 = STANDARD.encode(key.to_pkcs8_der().unwrap());
    let pkcs1_b64 = STANDARD.encode(key.to_pkcs1_der().unwrap());
    for (form, text) in [
        ("PKCS#8 PEM", pkcs8_pem.as_str()),
        ("PKCS#1 PEM", pkcs1_pem.as_str()),
        ("Base64 PKCS#8 DER", pkcs8_b64.as_str()),
        ("Base64 PKCS#1 DER", pkcs1_b64.as_str()),
    ] {
        assert_eq!(
            &load_private_key(text).unwrap_or_else(|e| panic!("{form}: {e}")),
            key,
            "{form}"
        );
    }
    assert_eq!(
        &load_private_key_der(&key.to_pkcs8_der().unwrap()).unwrap(),
        key
    );
    assert_eq!(
        &load_private_key_der(&key.to_pkcs1_der().unwrap()).unwrap(),
        key
    );
    assert_eq!(&load_private_key_der(pkcs8_pem.as_bytes()).unwrap(), key);
    let signer = LocalSigner::from_pem(&pkcs1_pem, 2).unwrap();
    assert_eq!(signer.key_version(), 2);
}

#[test]
fn bad_keys_are_refused_without_echoing_them() {
    let key = key1();
    let pem = private_key_pem(key);
    let broken = pem.replace(
        "-----BEGIN PRIVATE KEY-----\nMII",
        "-----BEGIN PRIVATE KEY-----\nAII",
    );
    for (what, r) in [
        ("empty", load_public_key("   ")),
        ("not base64", load_public_key("not a key!")),
        (
            "certificate",
            load_public_key("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
        ),
        ("private as public", load_public_key(&pem)),
        (
            "random DER",
            load_public_key(&STANDARD.encode([0x30, 0x03, 0x02, 0x01, 0x01])),
        ),
    ] {
        let e = r.expect_err(what);
        assert!(!e.to_string().contains("MII"), "{what}: {e}");
    }
    for (what, r) in [
        ("encrypted", load_private_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")),
        ("broken", load_private_key(&broken)),
        ("public as private", load_private_key(&public_key_pem(&RsaPublicKey::from(key)))),
        ("garbage DER", load_private_key_der(&[0x30, 0x00])),
    ] {
        let e = r.expect_err(what);
        assert!(!e.to_string().contains("MII"), "{what}: {e}");
    }
    assert!(matches!(
        load_private_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"),
        Err(KeyError::UnsupportedPem(label)) if label == "ENCRYPTED PRIVATE KEY"
    ));
}

#[test]
fn small_keys_are_refused() {
    assert_eq!(
        generate_key_pair(1024).unwrap_err(),
        KeyError::Size { bits: 1024 }
    );
    assert_eq!(
        generate_key_pair(8192).unwrap_err(),
        KeyError::Size { bits: 8192 }
    );
    // A 1024-bit key made by openssl (AWS-LC does not generate keys that small).
    let e = load_private_key(&fixture("rsa1024_pkcs8.pem")).unwrap_err();
    assert_eq!(e, KeyError::Size { bits: 1024 });
    let e = load_public_key(&fixture("rsa1024_spki_base64_der.txt")).unwrap_err();
    assert_eq!(e, KeyError::Size { bits: 1024 });
    // And one larger than a signature header can carry.
    let e = load_private_key(&fixture("rsa8192_pkcs8.pem")).unwrap_err();
    assert_eq!(e, KeyError::Size { bits: 8192 });
    let e = load_public_key(&fixture("rsa8192_spki.pem")).unwrap_err();
    assert_eq!(e, KeyError::Size { bits: 8192 });
}
