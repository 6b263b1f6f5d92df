#!/usr/bin/env bash
# Starts an AWS-compatible server (moto) on 127.0.0.1 for the KMS signer tests and the S3
# clearing-bucket tests (moto serves every service on one port; S3 needs nothing extra).
#
#   eval "$(bash .ci/moto.sh)"      # install if missing, start, print `export MOTO_ENDPOINT=...`
#   bash .ci/moto.sh stop           # stop the server this script started
#   bash .ci/moto.sh install        # only install (before entering a namespace without network)
#
# moto[server] comes from PyPI into a venv under the repo's `.local/` (gitignored). Only the
# `export` line goes to stdout; progress goes to stderr, the server's log to .local/moto.log.
# A server already started by this script (pid file alive and answering) is reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/moto-venv"
PID_FILE="$LOCAL/moto.pid"
PORT_FILE="$LOCAL/moto.port"
LOG_FILE="$LOCAL/moto.log"
MOTO_SPEC="${MOTO_SPEC:-moto[server]==5.2.5}"
WAIT_TRIES_MAX=100 # x 0.1 s

log() { echo "moto.sh: $*" >&2; }

answers() { # port
  local url="http://127.0.0.1:$1/moto-api/"
  if command -v curl >/dev/null; then
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url" 2>/dev/null
  fi
}

alive() { # -> 0 when our server is running and answering
  [[ -f "$PID_FILE" && -f "$PORT_FILE" ]] || return 1
  kill -0 "$(cat "$PID_FILE")" 2>/dev/null || return 1
  answers "$(cat "$PORT_FILE")"
}

stop() {
  if [[ -f "$PID_FILE" ]]; then
    local pid
    pid="$(cat "$PID_FILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "stopped pid $pid"
    fi
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
}

install() {
  [[ -x "$VENV/bin/moto_server" ]] && return 0
  log "installing $MOTO_SPEC into $VENV"
  mkdir -p "$LOCAL"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "$MOTO_SPEC" >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if alive; then
    log "reusing the server on port $(cat "$PORT_FILE")"
    echo "export MOTO_ENDPOINT=http://127.0.0.1:$(cat "$PORT_FILE")"
    return 0
  fi
  stop
  install
  mkdir -p "$LOCAL"
  local port pid
  port="$(free_port)"
  # setsid: the server outlives this script and the `eval` that ran it.
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOG_FILE" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  for _ in $(seq 1 "$WAIT_TRIES_MAX"); do
    if answers "$port"; then
      log "moto_server pid $pid answering on 127.0.0.1:$port"
      echo "export MOTO_ENDPOINT=http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "moto_server did not answer on port $port; log follows"
  cat "$LOG_FILE" >&2 || true
  stop
  return 1
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) log "usage: $0 [start|stop]"; exit 2 ;;
esac
