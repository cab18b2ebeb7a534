#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis, every check on:
# once with an admin token, once with a verified enterprise's token. Usage:
#   bash tests/schemathesis.sh sqlite|postgres
# Builds the api and starts it on a free local port against a fresh database (a temporary
# SQLite file, or a new PostgreSQL database on the server at PG_TEST_URL, dropped afterwards),
# and stops it whatever happens. Exits non-zero on any failure. Full logs go to
# target/schemathesis/. ST_MAX_TIME (seconds per run, default 70) and ST_MAX_EXAMPLES (per
# operation and phase, default 25) bound the volume.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
KIND="${1:-}"
case "$KIND" in
  sqlite | postgres) ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
PG_URL="${PG_TEST_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
MAX_TIME="${ST_MAX_TIME:-70}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-25}"
VENV=target/schemathesis-venv
LOGS=target/schemathesis
PY="$VENV/bin/python"

# The virtual environment, created once and kept while it holds the pinned version.
ensure_venv() {
  if [ "$("$VENV/bin/st" --version 2>/dev/null)" = "st, version $ST_VERSION" ]; then
    return
  fi
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "== installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  echo "== creating $VENV with schemathesis $ST_VERSION"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
}

# `api METHOD PATH STATUS [TOKEN] [JSON]`: sends the request and prints the JSON answer;
# fails unless the status is STATUS.
api() {
  "$PY" - "$BASE" "$@" <<'PY'
import json, sys, urllib.error, urllib.request
base, method, path, want, token, body = (sys.argv[1:] + ["", ""])[:6]
req = urllib.request.Request(base + path, method=method, data=body.encode() if body else None)
req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", "Bearer " + token)
try:
    with urllib.request.urlopen(req, timeout=30) as res:
        status, text = res.status, res.read().decode()
except urllib.error.HTTPError as e:
    status, text = e.code, e.read().decode()
except OSError as e:
    status, text = 0, str(e)
if str(status) != want:
    sys.exit(f"{method} {path} answered {status}, expected {want}: {text}")
print(text)
PY
}

# A field of the JSON on stdin (`a.b` for nested ones).
field() {
  "$PY" -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"
}

WORK=$(mktemp -d)
PID=""
DB_NAME=""
cleanup() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ -n "$DB_NAME" ]; then
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ensure_venv
cargo build -q -p api

case "$KIND" in
  sqlite) DATABASE_URL="sqlite://$WORK/liantong.db?mode=rwc" ;;
  postgres)
    if ! command -v psql >/dev/null; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
    fi
    DB_NAME="liantong_st_$(date +%s)_$$"
    psql -q "$PG_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null
    DATABASE_URL="${PG_URL%/*}/$DB_NAME"
    ;;
esac
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_PASSWORD="st-admin-$("$PY" -c 'import secrets; print(secrets.token_hex(12))')"

# Cheap password hashing, and login throttling far above what fuzzing sends, so thousands of
# fuzzed logins neither slow the run nor lock the test's own users out.
env DATABASE_URL="$DATABASE_URL" HOST=127.0.0.1 PORT="$PORT" DATA_DIR="$WORK/data" \
  BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" JOBS_EMBEDDED=false RUST_LOG=warn \
  LIANTONG__ARGON2_M_COST_KIB=256 LIANTONG__ARGON2_T_COST=1 \
  LIANTONG__LOGIN_MAX_FAILURES=1000000000 LIANTONG__LOGIN_MAX_FAILURES_PER_ADDRESS=1000000000 \
  target/debug/api >"$WORK/api.log" 2>&1 &
PID=$!
ready=""
for _ in $(seq 1 120); do
  if api GET /health/ready 200 >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "the api did not become ready:" >&2
  tail -n 20 "$WORK/api.log" >&2
  exit 1
fi

login() { api POST /api/v1/auth/login 200 "" "{\"username\":\"$1\",\"password\":\"$2\"}" | field access_token; }

ADMIN=$(login admin "$ADMIN_PASSWORD")
ENTERPRISE_PASSWORD="st-enterprise-$("$PY" -c 'import secrets; print(secrets.token_hex(12))')"
USCC=$("$PY" -c '
import random
A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
body = "91320600" + "".join(random.choice(A) for _ in range(9))
total = sum(A.index(c) * pow(3, i, 31) for i, c in enumerate(body))
print(body + A[(31 - total % 31) % 31])')
ORG=$(api POST /api/v1/enterprises/register 201 "" "{\"name\":\"模糊测试企业\",\"uscc\":\"$USCC\",
  \"contact_name\":\"测试\",\"contact_email\":\"fuzz@example.cn\",\"username\":\"fuzz-enterprise\",
  \"password\":\"$ENTERPRISE_PASSWORD\"}" | field organization.id)
api POST "/api/v1/organizations/$ORG/verify" 200 "$ADMIN" >/dev/null
ENTERPRISE=$(login fuzz-enterprise "$ENTERPRISE_PASSWORD")

mkdir -p "$LOGS"
failed=0
for who in admin enterprise; do
  token=$ADMIN
  [ "$who" = enterprise ] && token=$ENTERPRISE
  log="$LOGS/$KIND-$who.log"
  started=$(date +%s)
  if "$VENV/bin/st" --config-file tests/schemathesis.toml run "$BASE/api/v1/openapi.json" \
    --checks all -H "Authorization: Bearer $token" \
    --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --no-color >"$log" 2>&1; then
    echo "== schemathesis $KIND $who: passed in $(($(date +%s) - started)) s: $(grep -A1 '^Test cases:' "$log" | tail -n 1 | sed 's/^ *//')"
  else
    failed=1
    echo "== schemathesis $KIND $who: FAILED in $(($(date +%s) - started)) s (full log: $log)"
    # One block per failure: operation, check, answer, and the curl that reproduces it.
    sed -n '/^=* FAILURES =*$/,/^=* WARNINGS =*$/p' "$log" |
      grep -E '^_{3,} .* _{3,}$|^- |^\[[0-9]{3}\]|^    curl ' || true
    sed -n '/^Errors:$/,/^$/p' "$log"
    grep -E '^Seed: ' "$log" || true
  fi
  # Fuzzing must leave both test users able to work: tokens valid, the admin able to log in.
  api GET /api/v1/me 200 "$ADMIN" >/dev/null
  api GET /api/v1/me 200 "$ENTERPRISE" >/dev/null
  login admin "$ADMIN_PASSWORD" >/dev/null
done
exit "$failed"
