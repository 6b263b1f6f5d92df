#!/usr/bin/env bash
# The SAM stack's checks and builds (docs/deploy.md).
#
#   bash .ci/infra.sh            lint infra/template.yaml: `sam validate --lint` and `cfn-lint`
#                                (what CI runs, from .ci/test.sh: a few seconds once installed)
#   bash .ci/infra.sh build      the lint, then `cargo lambda build --release --arm64` of every
#                                crate under functions/ in one invocation, and the binary sizes
#                                (manual: 25 CPU-minutes from scratch, 15 to 40 minutes on 2 cores;
#                                too slow for every CI run next to the test suite)
#   bash .ci/infra.sh sam-template  `sam build` of the template with a stub `cargo lambda` (no
#                                compiling, seconds): proves SAM CLI expands the Fn::ForEach loops
#                                and builds each function from its own crate and binary (CI runs it
#                                after the lint)
#   bash .ci/infra.sh resolved   the template's resolved resource set as JSON on stdout
#                                (.ci/infra-resolved.py: Fn::ForEach expanded, Fn::FindInMap
#                                looked up): diff it before and after reshaping the template to
#                                show the resources, policies and alarms stayed the same
#   bash .ci/infra.sh sam-build  the lint, then `sam build` into .local/sam-build (one cargo
#                                invocation per function: 12 minutes with the dependencies built)
#
# Tools go into the repository's .local/infra-venv (gitignored), from PyPI, only when missing:
# aws-sam-cli and cfn-lint for the lint; cargo-lambda (which brings zig, the cross linker) for the
# builds. Nothing here calls AWS: the lint runs offline, without credentials (none are read: the
# AWS config and credential files are pointed at /dev/null). SAM CLI may ask PyPI once a week
# whether it is the newest version; that failing changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
CARGO_LAMBDA_VERSION=1.9.2
TARGET=aarch64-unknown-linux-gnu
VENV=.local/infra-venv
TEMPLATE=infra/template.yaml

step() { printf '\n== infra: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

# pip_install STAMP PACKAGE...: installs into the venv unless STAMP says it already did.
pip_install() {
  local stamp="$VENV/.installed-$1"
  shift
  [[ -f "$stamp" ]] && return 0
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"
  touch "$stamp"
}

# No AWS account is involved: a region for the tools that want one, no credentials, no IMDS.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0
# The template generates the per-function resources with Fn::ForEach (AWS::LanguageExtensions):
# SAM CLI expands it locally only when asked (samconfig.toml asks too, for `sam build`/`deploy`).
export SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1
export PATH="$PWD/$VENV/bin:$PATH"

lint() {
  step "install aws-sam-cli $SAM_CLI_VERSION, cfn-lint $CFN_LINT_VERSION"
  pip_install "lint-$SAM_CLI_VERSION-$CFN_LINT_VERSION" \
    "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
  step "sam validate --lint"
  sam validate --lint --language-extensions --template "$TEMPLATE"
  step "cfn-lint"
  cfn-lint "$TEMPLATE"
  # The resolved resource set (`resolved` below) must stay printable: every loop expands and
  # every FindInMap is found.
  step "resolved resource set"
  "$VENV/bin/python" .ci/infra-resolved.py "$TEMPLATE" >/dev/null
  echo "infra lint: $TEMPLATE passed sam validate --lint and cfn-lint"
}

# The packages under functions/ (their [package] names).
function_packages() {
  local manifest
  for manifest in functions/*/Cargo.toml; do
    sed -n '/^\[package\]/,/^\[/s/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1
  done
}

build_tools() {
  step "install cargo-lambda $CARGO_LAMBDA_VERSION (with zig)"
  pip_install "build-$CARGO_LAMBDA_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
  # The target's standard library; zig is the linker and brings the C side.
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    step "rustup target add $TARGET"
    rustup target add "$TARGET"
  fi
}

build() {
  build_tools
  local packages=() p
  while read -r p; do packages+=(-p "$p"); done < <(function_packages)
  step "cargo lambda build --release --arm64 ${packages[*]}"
  local started=$SECONDS
  cargo lambda build --release --arm64 --locked "${packages[@]}"
  local took=$((SECONDS - started))
  printf '\n%-12s %12s %10s\n' function bytes MiB
  for p in $(function_packages); do
    local bin="${CARGO_TARGET_DIR:-target}/lambda/$p/bootstrap"
    local bytes
    bytes=$(stat -c %s "$bin")
    awk -v p="$p" -v b="$bytes" 'BEGIN { printf "%-12s %12d %10.1f\n", p, b, b / 1048576 }'
  done
  printf 'built in %dm%02ds\n' $((took / 60)) $((took % 60))
}

sam_build() {
  build_tools
  step "sam build"
  local started=$SECONDS
  sam build --template "$TEMPLATE" --base-dir infra --build-dir .local/sam-build
  local took=$((SECONDS - started))
  printf 'sam build in %dm%02ds (.local/sam-build)\n' $((took / 60)) $((took % 60))
}

# sam build with .ci/stub-cargo-lambda first on PATH, into a scratch directory; then every
# function's artifact must be the bootstrap of the binary its Metadata names.
sam_template() {
  step "sam build (stub cargo lambda: the template, not the code)"
  local scratch
  scratch=$(mktemp -d)
  REAL_CARGO=$(command -v cargo) CARGO_TARGET_DIR="$scratch/target" \
    PATH="$PWD/.ci/stub-cargo-lambda:$PATH" \
    sam build --template "$TEMPLATE" --base-dir infra --build-dir "$scratch/build" >"$scratch/log" 2>&1 \
    || { cat "$scratch/log"; rm -rf "$scratch"; return 1; }
  # The naming promise: InquiryPaymentFunction is built from functions/inquiry-payment's binary.
  local built=0 f id crate
  for f in "$scratch"/build/*Function/bootstrap; do
    id=$(basename "$(dirname "$f")")
    crate=$(sed -E 's/Function$//; s/([a-z0-9])([A-Z])/\1-\2/g' <<<"$id" | tr '[:upper:]' '[:lower:]')
    [[ -f "functions/$crate/Cargo.toml" ]] && grep -qx "stub bootstrap of $crate" "$f" \
      || { echo "sam build: $id is not functions/$crate's binary ($(cat "$f"))" >&2; rm -rf "$scratch"; return 1; }
    built=$((built + 1))
  done
  local functions
  functions=$(ls functions | wc -l)
  [[ "$built" -eq "$functions" ]] \
    || { echo "sam build made $built functions, functions/ has $functions" >&2; rm -rf "$scratch"; return 1; }
  echo "sam build: $built functions, each from its own binary"
  rm -rf "$scratch"
}

case "${1:-lint}" in
  lint) lint; sam_template ;;
  sam-template) sam_template ;;
  resolved)
    pip_install "lint-$SAM_CLI_VERSION-$CFN_LINT_VERSION" \
      "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
    "$VENV/bin/python" .ci/infra-resolved.py "$TEMPLATE" ;;
  build) lint; build ;;
  sam-build) lint; sam_build ;;
  *) echo "usage: bash .ci/infra.sh [lint|sam-template|resolved|build|sam-build]" >&2; exit 2 ;;
esac
