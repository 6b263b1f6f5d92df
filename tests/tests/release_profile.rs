//! The Lambda binaries are built with the profile chosen by measurement (issue 16,
//! `BENCHMARKS.md` §0, `docs/decisions.md` "Build: the release profile"):
//! - `[profile.release]` holds the chosen settings, because that is the profile every Lambda build
//!   uses: `.ci/infra.sh build` runs `cargo lambda build --release`, and SAM's `rust-cargolambda`
//!   builder always passes `--release` (it has no profile option);
//! - every dependency is built at opt-level `z` (`[profile.release.package."*"]`: the AWS SDK
//!   clients are most of the code and none of the CPU), our own crates at `s`;
//! - AWS-LC (signing), Argon2id and BLAKE2b (the wallet PIN) stay at opt-level 3 inside it;
//! - the dev profile, the only one CI builds, stays unoptimised (its build time must not grow).
//!
//! Reads `Cargo.toml`, `.ci/infra.sh` and `infra/template.yaml` as text: no build, no network.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only file

use std::collections::BTreeMap;
use std::path::Path;

/// The chosen settings: `opt-level = "s"`, fat LTO, one codegen unit, `panic = "abort"`.
const RELEASE: [(&str, &str); 5] = [
    ("opt-level", "\"s\""),
    ("lto", "\"fat\""),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
    ("strip", "\"symbols\""),
];

/// Packages kept at opt-level 3 inside the size-optimised profile, and why.
const KEPT_FAST: [(&str, &str); 4] = [
    (
        "aws-lc-sys",
        "RSA signing: AWS-LC's C, compiled at this opt-level",
    ),
    ("aws-lc-rs", "the Rust side of every signature and hash"),
    ("argon2", "the wallet PIN's memory-hard hash"),
    ("blake2", "Argon2id's compression function"),
];

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The `key = value` lines of one `[section]` of a TOML file (values as written).
fn section(toml: &str, name: &str) -> Option<BTreeMap<String, String>> {
    let header = format!("[{name}]");
    let mut lines = toml.lines().skip_while(|l| l.trim() != header);
    lines.next()?;
    Some(
        lines
            .take_while(|l| !l.trim_start().starts_with('['))
            .filter_map(|l| {
                let l = l.trim();
                if l.is_empty() || l.starts_with('#') {
                    return None;
                }
                let (k, v) = l.split_once('=')?;
                Some((k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect(),
    )
}

#[test]
fn the_release_profile_holds_the_measured_choice() {
    let manifest = read("Cargo.toml");
    let release = section(&manifest, "profile.release").expect("[profile.release]");
    let expected: BTreeMap<String, String> = RELEASE
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(
        release, expected,
        "[profile.release] differs from the profile measured in BENCHMARKS.md §0; \
         measure a new candidate there before changing it"
    );
    let dependencies = section(&manifest, "profile.release.package.\"*\"")
        .expect("[profile.release.package.\"*\"]: the dependencies' opt-level");
    assert_eq!(
        dependencies.get("opt-level").map(String::as_str),
        Some("\"z\""),
        "the dependencies are built for size (BENCHMARKS.md §0: every function under 3.5 MB zipped)"
    );
    for (package, why) in KEPT_FAST {
        let overrides = section(&manifest, &format!("profile.release.package.{package}"))
            .unwrap_or_else(|| panic!("{package} ({why}) has no override in [profile.release]"));
        assert_eq!(
            overrides.get("opt-level").map(String::as_str),
            Some("3"),
            "{package} ({why}) must stay at opt-level 3"
        );
    }
}

#[test]
fn every_lambda_build_uses_the_release_profile() {
    let infra = read(".ci/infra.sh");
    assert!(
        infra.contains("cargo lambda build --release --arm64 --locked"),
        ".ci/infra.sh build must build with --release (the measured profile)"
    );
    // SAM's cargo-lambda builder passes `--release` itself; any other build method would not.
    let template = read("infra/template.yaml");
    let methods: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BuildMethod:"))
        .map(str::trim)
        .collect();
    assert!(!methods.is_empty(), "the template builds no function");
    assert!(
        methods.iter().all(|m| *m == "rust-cargolambda"),
        "every function is built by cargo-lambda in release mode: {methods:?}"
    );
}

#[test]
fn the_dev_profile_stays_unoptimised() {
    let manifest = read("Cargo.toml");
    let dev = section(&manifest, "profile.dev").expect("[profile.dev]");
    for key in ["opt-level", "lto", "codegen-units", "inherits"] {
        assert!(
            !dev.contains_key(key),
            "[profile.dev] sets {key}: CI builds only the dev profile and its time must not grow"
        );
    }
}
