//! Fixed RSA256 vectors (`tests/signature_vectors/`): PKCS#1 v1.5 is deterministic, so
//! the signature of a given content under a given key has exactly one right value. openssl made
//! the stored signatures; every private-key form we load must sign to exactly those bytes, and
//! every public-key form must verify them (and refuse them once anything changes).
//!
//! This file passed unchanged against the previous implementation (the `rsa` crate) and against
//! the current one (`aws-lc-rs`): the two produce byte-identical signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{HeaderMap, HeaderValue};
use mpp_core::signature::{
    content_to_sign, load_private_key, load_private_key_der, load_public_key, parse_wire_time,
    signature_header_value, verify_request, verify_response, LocalSigner, SignatureError,
    VerifierConfig,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const OPENSSL: &str = "/usr/bin/openssl";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signature_vectors")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

struct Vector {
    name: String,
    key: String,
    method: String,
    path: String,
    client_id: String,
    time: String,
    body: Vec<u8>,
    body_file: String,
    signature: Vec<u8>,
}

impl Vector {
    fn content(&self) -> Vec<u8> {
        content_to_sign(
            &self.method,
            &self.path,
            &self.client_id,
            &self.time,
            &self.body,
        )
    }

    /// The public key files of this vector's private key.
    fn public_forms(&self) -> Vec<&'static str> {
        if self.key.starts_with("rsa2048") {
            vec![
                "rsa2048_spki.pem",
                "rsa2048_pkcs1_pub.pem",
                "rsa2048_spki_base64_der.txt",
            ]
        } else {
            vec!["rsa4096_spki.pem"]
        }
    }

    /// Every form of this vector's private key, as text.
    fn private_forms(&self) -> Vec<String> {
        if self.key.starts_with("rsa2048") {
            vec![
                read("rsa2048_pkcs1.pem"),
                read("rsa2048_pkcs8.pem"),
                read("rsa2048_pkcs8_base64_der.txt"),
            ]
        } else {
            vec![read(&self.key)]
        }
    }
}

fn vectors() -> Vec<Vector> {
    let vectors: Vec<Vector> = read("vectors.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 8, "{line}");
            Vector {
                name: f[0].to_owned(),
                key: f[1].to_owned(),
                method: f[2].to_owned(),
                path: f[3].to_owned(),
                client_id: f[4].to_owned(),
                time: f[5].to_owned(),
                body: std::fs::read(dir().join(f[6])).unwrap(),
                body_file: f[6].to_owned(),
                signature: STANDARD.decode(f[7]).unwrap(),
            }
        })
        .collect();
    assert_eq!(vectors.len(), 10, "the fixture lost vectors");
    vectors
}

fn headers(v: &Vector, time_header: &str, signature: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("client-id", HeaderValue::from_str(&v.client_id).unwrap());
    h.insert(
        http::HeaderName::from_bytes(time_header.as_bytes()).unwrap(),
        HeaderValue::from_str(&v.time).unwrap(),
    );
    h.insert(
        "signature",
        HeaderValue::from_str(&signature_header_value(1, signature)).unwrap(),
    );
    h
}

#[test]
fn every_private_key_form_signs_exactly_the_stored_bytes() {
    for v in vectors() {
        for (i, pem) in v.private_forms().iter().enumerate() {
            let signer = LocalSigner::from_pem(pem, 1).unwrap();
            let signature = signer.sign_sync(&v.content()).unwrap();
            assert_eq!(signature, v.signature, "{} (key form {i})", v.name);
            // The same twice: deterministic, whatever the signer does inside.
            assert_eq!(signer.sign_sync(&v.content()).unwrap(), v.signature);
        }
    }
}

#[test]
fn a_decrypted_envelope_holding_der_or_pem_signs_the_same_bytes() {
    let der = STANDARD
        .decode(read("rsa2048_pkcs8_base64_der.txt").trim())
        .unwrap();
    let v = vectors().into_iter().next().unwrap();
    let content = v.content();
    for bytes in [der.clone(), read("rsa2048_pkcs1.pem").into_bytes()] {
        let key = load_private_key_der(&bytes).unwrap();
        let signer = LocalSigner::new(key, 1);
        assert_eq!(signer.sign_sync(&content).unwrap(), v.signature);
    }
    // Loading the text form gives the same key.
    let key = load_private_key(&read("rsa2048_pkcs8.pem")).unwrap();
    assert_eq!(
        LocalSigner::new(key, 1).sign_sync(&content).unwrap(),
        v.signature
    );
}

#[test]
fn every_public_key_form_verifies_requests_and_responses_and_refuses_changes() {
    for v in vectors() {
        let now = parse_wire_time(&v.time).unwrap();
        for form in v.public_forms() {
            let key = load_public_key(&read(form)).unwrap();
            let what = format!("{} with {form}", v.name);

            let cfg = VerifierConfig::new(v.client_id.clone(), 1, key.clone());
            let h = headers(&v, "Request-Time", &v.signature);
            let verified = verify_request(&cfg, &v.method, &v.path, &h, &v.body, now);
            assert!(verified.is_ok(), "{what}: {verified:?}");

            let h = headers(&v, "Response-Time", &v.signature);
            assert!(
                verify_response(&key, &v.method, &v.path, &h, &v.body).is_ok(),
                "{what}"
            );

            // One changed bit anywhere: refused.
            let mut body = v.body.clone();
            body.push(b' ');
            let mut signature = v.signature.clone();
            signature[17] ^= 0x01;
            let refusals = [
                verify_request(&cfg, &v.method, &v.path, &h_req(&v), &body, now),
                verify_request(&cfg, "GET", &v.path, &h_req(&v), &v.body, now),
                verify_request(
                    &cfg,
                    &v.method,
                    &v.path,
                    &headers(&v, "Request-Time", &signature),
                    &v.body,
                    now,
                ),
            ];
            for r in refusals {
                assert!(
                    matches!(r, Err(SignatureError::BadSignature)),
                    "{what}: {r:?}"
                );
            }
        }
    }
}

fn h_req(v: &Vector) -> HeaderMap {
    headers(v, "Request-Time", &v.signature)
}

#[test]
fn a_key_verifies_only_its_own_signatures() {
    let vs = vectors();
    let k2048 = load_public_key(&read("rsa2048_spki.pem")).unwrap();
    let k4096 = load_public_key(&read("rsa4096_spki.pem")).unwrap();
    for v in &vs {
        let other = if v.key.starts_with("rsa2048") {
            &k4096
        } else {
            &k2048
        };
        let h = headers(v, "Response-Time", &v.signature);
        assert!(
            matches!(
                verify_response(other, &v.method, &v.path, &h, &v.body),
                Err(SignatureError::BadSignature)
            ),
            "{}",
            v.name
        );
    }
}

/// openssl, run now, still makes the stored signatures: the fixture is not stale, and the
/// content we build is the content openssl signed.
#[test]
fn openssl_makes_the_stored_signatures() {
    assert!(
        Path::new(OPENSSL).exists(),
        "{OPENSSL} is missing: this test needs the openssl command line"
    );
    let tmp = tempfile::tempdir().unwrap();
    for v in vectors() {
        let content_file = tmp.path().join("content.bin");
        std::fs::write(&content_file, v.content()).unwrap();
        let out = Command::new(OPENSSL)
            .args(["dgst", "-sha256", "-sign"])
            .arg(dir().join(&v.key))
            .arg(&content_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, v.signature, "{} ({})", v.name, v.body_file);
    }
}
