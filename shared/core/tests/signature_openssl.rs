//! Test vectors checked by an independent implementation: the `openssl` command line.
//!
//! Both directions: we sign and `openssl dgst -sha256 -verify` checks; `openssl dgst -sha256
//! -sign` signs and we verify. Bodies: ASCII JSON, non-ASCII text (UTF-8), and one larger than
//! KMS's 4,096-byte message limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use http::{HeaderMap, HeaderValue};
use mpp_core::signature::{
    content_to_sign, load_private_key, load_public_key, parse_signature_header, private_key_pem,
    public_key_pem, sign_headers, signature_header_value, verify_request, LocalSigner,
    SignatureError, VerifierConfig,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const OPENSSL: &str = "/usr/bin/openssl";
const CLIENT: &str = "TEST_5X00000000000000";
const PATH: &str = "/aps/api/v1/payments/pay";
const TIME: &str = "2019-05-28T12:12:12+08:00";

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let ascii = br#"{"paymentRequestId":"20200101234567890132","paymentAmount":{"currency":"JPY","value":"100"}}"#.to_vec();
    let non_ascii = r#"{"order":{"orderDescription":"珍珠奶茶 ×2 — café crème ☕ 🧋","merchant":{"merchantName":"東京駅店"}}}"#
        .as_bytes()
        .to_vec();
    // passThroughInfo alone may be 20,000 characters.
    let large = format!(
        r#"{{"paymentRequestId":"1","passThroughInfo":"{}","note":"末尾"}}"#,
        "ABCDEFGHIJ0123456789".repeat(1000)
    )
    .into_bytes();
    assert!(large.len() > 4096 && non_ascii.iter().any(|b| *b >= 0x80));
    vec![("ascii", ascii), ("non-ascii", non_ascii), ("large", large)]
}

fn openssl(args: &[&str]) -> std::process::Output {
    assert!(
        Path::new(OPENSSL).exists(),
        "{OPENSSL} is missing: these tests need the openssl command line (apt-get install openssl)"
    );
    Command::new(OPENSSL)
        .args(args)
        .output()
        .expect("run openssl")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn openssl_verifies(public_pem: &Path, content: &[u8], signature: &[u8], dir: &Path) -> bool {
    let content_file = dir.join("content.bin");
    let sig_file = dir.join("sig.bin");
    std::fs::write(&content_file, content).unwrap();
    std::fs::write(&sig_file, signature).unwrap();
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        path_str(public_pem),
        "-signature",
        path_str(&sig_file),
        path_str(&content_file),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), stdout.trim()) {
        (true, "Verified OK") => true,
        (false, "Verification failure") => false,
        other => panic!(
            "unexpected openssl answer {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn headers(pairs: &[(String, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(TIME).unwrap().into()
}

#[tokio::test]
async fn openssl_verifies_what_we_sign() {
    let dir = tempfile::tempdir().unwrap();
    let key = mpp_core::signature::generate_key_pair(2048).unwrap();
    let public_file = dir.path().join("pub.pem");
    std::fs::write(
        &public_file,
        public_key_pem(&mpp_core::signature::RsaPublicKey::from(&key)),
    )
    .unwrap();
    let cfg = VerifierConfig::new(CLIENT, 1, mpp_core::signature::RsaPublicKey::from(&key));
    let signer = LocalSigner::new(key, 1);

    for (name, body) in bodies() {
        // Sign the way the edge does, then take the signature back out of the header text.
        let pairs = sign_headers(&signer, CLIENT, "POST", PATH, "Request-Time", TIME, &body)
            .await
            .unwrap();
        let header = &pairs.iter().find(|(n, _)| n == "Signature").unwrap().1;
        let raw = parse_signature_header(header).unwrap().signature;
        let content = content_to_sign("POST", PATH, CLIENT, TIME, &body);
        assert!(
            openssl_verifies(&public_file, &content, &raw, dir.path()),
            "{name}: openssl refused our signature"
        );
        assert!(
            verify_request(&cfg, "POST", PATH, &headers(&pairs), &body, now()).is_ok(),
            "{name}"
        );

        // And openssl agrees that tampering breaks it.
        let mut tampered = content.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(
            !openssl_verifies(&public_file, &tampered, &raw, dir.path()),
            "{name}: tampered content verified"
        );
    }
}

#[test]
fn we_verify_what_openssl_signs() {
    let dir = tempfile::tempdir().unwrap();
    let private_file = dir.path().join("priv.pem");
    let out = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path_str(&private_file),
    ]);
    assert!(
        out.status.success(),
        "genpkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The public key as Alipay+ hands it out: Base64 of the DER SPKI, no armour.
    let der_file = dir.path().join("pub.der");
    let out = openssl(&[
        "pkey",
        "-in",
        path_str(&private_file),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        path_str(&der_file),
    ]);
    assert!(
        out.status.success(),
        "pkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    use base64::Engine;
    let b64_der =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&der_file).unwrap());
    let public = load_public_key(&b64_der).unwrap();
    let cfg = VerifierConfig::new(CLIENT, 2, public);

    for (name, body) in bodies() {
        let content_file = dir.path().join("content.bin");
        let sig_file = dir.path().join("sig.bin");
        std::fs::write(
            &content_file,
            content_to_sign("POST", PATH, CLIENT, TIME, &body),
        )
        .unwrap();
        let out = openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            path_str(&private_file),
            "-out",
            path_str(&sig_file),
            path_str(&content_file),
        ]);
        assert!(
            out.status.success(),
            "dgst -sign: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw = std::fs::read(&sig_file).unwrap();

        let mut h = HeaderMap::new();
        h.insert("Client-Id", HeaderValue::from_static(CLIENT));
        h.insert("Request-Time", HeaderValue::from_static(TIME));
        h.insert(
            "Signature",
            HeaderValue::from_str(&signature_header_value(2, &raw)).unwrap(),
        );
        let verified = verify_request(&cfg, "POST", PATH, &h, &body, now());
        assert_eq!(
            verified.map(|v| v.key_version),
            Ok(2),
            "{name}: we refused openssl's signature"
        );

        let mut tampered = body.clone();
        tampered[1] ^= 1;
        assert_eq!(
            verify_request(&cfg, "POST", PATH, &h, &tampered, now()),
            Err(SignatureError::BadSignature),
            "{name}"
        );

        // PKCS#1 v1.5 is deterministic: our signer, given openssl's key, writes the same bytes.
        let ours = LocalSigner::from_pem(&std::fs::read_to_string(&private_file).unwrap(), 2)
            .unwrap()
            .sign_sync(&content_to_sign("POST", PATH, CLIENT, TIME, &body))
            .unwrap();
        assert_eq!(ours, raw, "{name}: byte-identical signatures");
    }
}

#[test]
fn openssl_keys_load_in_pkcs1_and_pkcs8_and_ours_load_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let pkcs8: PathBuf = dir.path().join("pkcs8.pem");
    let pkcs1: PathBuf = dir.path().join("pkcs1.pem");
    let spki: PathBuf = dir.path().join("spki.pem");
    let rsa_pub: PathBuf = dir.path().join("rsapub.pem");
    assert!(openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path_str(&pkcs8)
    ])
    .status
    .success());
    assert!(openssl(&[
        "rsa",
        "-in",
        path_str(&pkcs8),
        "-traditional",
        "-out",
        path_str(&pkcs1)
    ])
    .status
    .success());
    assert!(openssl(&[
        "pkey",
        "-in",
        path_str(&pkcs8),
        "-pubout",
        "-out",
        path_str(&spki)
    ])
    .status
    .success());
    assert!(openssl(&[
        "rsa",
        "-in",
        path_str(&pkcs8),
        "-RSAPublicKey_out",
        "-out",
        path_str(&rsa_pub)
    ])
    .status
    .success());
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert!(text(&pkcs1).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(text(&rsa_pub).starts_with("-----BEGIN RSA PUBLIC KEY-----"));

    let from8 = load_private_key(&text(&pkcs8)).unwrap();
    let from1 = load_private_key(&text(&pkcs1)).unwrap();
    assert_eq!(from8, from1);
    let public = mpp_core::signature::RsaPublicKey::from(&from8);
    assert_eq!(load_public_key(&text(&spki)).unwrap(), public);
    assert_eq!(load_public_key(&text(&rsa_pub)).unwrap(), public);

    // Our PKCS#8 PEM is one openssl reads, and it is the same key.
    let ours = dir.path().join("ours.pem");
    std::fs::write(&ours, private_key_pem(&from8)).unwrap();
    let out = openssl(&["pkey", "-in", path_str(&ours), "-pubout"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text(&spki));
}
