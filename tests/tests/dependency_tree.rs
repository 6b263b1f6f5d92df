//! What the Lambda binaries link, as `cargo tree` resolves it for each function crate (the
//! features `cargo lambda build -p <function>` builds with):
//! - one crypto stack: no `rsa`, no `num-bigint-dig` (RSA is `aws-lc-rs`), no `ring`;
//! - no regex engine for log filtering (`tracing-subscriber`'s `env-filter`);
//! - one TLS/HTTP stack: no second `hyper`, `h2`, `http`, `http-body`, `rustls`, `rustls-webpki`,
//!   `hyper-rustls` or `tokio-rustls` (the AWS SDK's legacy hyper 0.14 / rustls 0.21 client is
//!   off);
//! - nothing for development: no DynamoDB Local stream reader (`reqwest` only where notify sends
//!   notifications), no `mpp-aws/local-dev`, no hard-coded AWS credentials.
//!
//! Needs `cargo` on PATH and the registry cache (it runs offline, as the test namespace is).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Every function crate: each directory under `functions/` (so a new function is checked
/// without being listed here).
fn functions() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.len() >= 15,
        "functions/ holds the function crates: {names:?}"
    );
    names
}

/// The functions that call Alipay+ (through mpp-client, hence reqwest).
const CALL_ALIPAY: [&str; 4] = [
    "notify-payment",
    "auth-notify",
    "get-payment-code",
    "consult-unbinding",
];

/// Crates that must not be linked into any function. `regex-automata` (and `matchers`) are
/// `tracing-subscriber`'s `env-filter`: the functions filter logs with `Targets` (size).
const FORBIDDEN: [&str; 6] = [
    "rsa",
    "num-bigint-dig",
    "ring",
    "hyper-rustls@0.24",
    "regex-automata",
    "matchers",
];

/// Crates that must appear in at most one version.
const SINGLE_VERSION: [&str; 8] = [
    "hyper",
    "h2",
    "http",
    "http-body",
    "rustls",
    "rustls-webpki",
    "hyper-rustls",
    "tokio-rustls",
];

fn cargo_tree(package: &str, extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "-p",
            package,
        ])
        .args(extra)
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every `name vX.Y.Z` in the tree, with its versions.
fn packages(package: &str) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in cargo_tree(package, &["--prefix", "none", "--format", "{p}"]).lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let versions = found.entry(name.to_owned()).or_default();
        let version = version.trim_start_matches('v').to_owned();
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    found
}

#[test]
fn each_function_links_one_crypto_and_one_tls_http_stack() {
    for function in functions() {
        let function = function.as_str();
        let tree = packages(function);
        assert!(tree.contains_key("aws-lc-rs"), "{function}: no aws-lc-rs?");
        for name in FORBIDDEN {
            let (name, version) = name.split_once('@').unwrap_or((name, ""));
            let hit = tree
                .get(name)
                .is_some_and(|vs| vs.iter().any(|v| v.starts_with(version)));
            assert!(!hit, "{function} links {name} {:?}", tree.get(name));
        }
        for name in SINGLE_VERSION {
            let versions = tree.get(name).cloned().unwrap_or_default();
            assert!(
                versions.len() <= 1,
                "{function} links {name} in versions {versions:?}"
            );
        }
    }
}

#[test]
fn no_function_links_development_code() {
    for function in functions() {
        let function = function.as_str();
        let tree = packages(function);
        // reqwest only where notifications are sent (mpp-client); never the DynamoDB Local
        // stream reader, which is what brought it into mpp-aws.
        assert_eq!(
            tree.contains_key("reqwest"),
            CALL_ALIPAY.contains(&function),
            "{function}: reqwest"
        );
        let features = cargo_tree(function, &["-e", "features", "--prefix", "none"]);
        for forbidden in [
            "mpp-aws feature \"local-dev\"",
            "aws-credential-types feature \"hardcoded-credentials\"",
            "aws-config feature \"sso\"",
        ] {
            assert!(
                !features.contains(forbidden),
                "{function} is built with {forbidden}"
            );
        }
    }
}

/// The check above would pass vacuously if cargo tree printed nothing useful: the CLI, which
/// does enable the development features, shows them.
#[test]
fn the_cli_is_where_development_code_lives() {
    let features = cargo_tree("mpp-cli", &["-e", "features", "--prefix", "none"]);
    assert!(features.contains("mpp-aws feature \"local-dev\""));
    assert!(features.contains("aws-credential-types feature \"hardcoded-credentials\""));
}
