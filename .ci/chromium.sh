#!/usr/bin/env bash
# Headless Chromium and chromedriver for the authorization-page tests (tests/tests/binding_e2e.rs).
#
#   bash .ci/chromium.sh install   # apt-get install chromium chromium-driver when missing (idempotent)
#   bash .ci/chromium.sh check     # exit 0 when both are installed, print their versions
#
# Debian's packages (`chromium`, `chromium-driver`), installed with apt-get like every other
# system package; nothing is downloaded by the browser itself. The tests start chromedriver on
# 127.0.0.1 themselves (inside the private network namespace of .ci/dynamodb-local.sh run),
# headless and, as root, with --no-sandbox (the namespace has no user namespaces to sandbox in).
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

installed() {
  command -v chromedriver >/dev/null 2>&1 && { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
}

case "${1:-install}" in
  install)
    if installed; then
      log "already installed: $(chromium --version 2>/dev/null || true)"
      exit 0
    fi
    SUDO=""
    if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
    log "installing chromium and chromium-driver with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
    installed || { log "chromium or chromedriver still missing after apt-get"; exit 1; }
    log "installed: $(chromium --version 2>/dev/null || true)"
    ;;
  check)
    installed || { log "not installed (run: bash .ci/chromium.sh install)"; exit 1; }
    chromium --version
    chromedriver --version
    ;;
  *)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
