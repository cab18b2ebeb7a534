#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit tests, then every integration
# test and a schemathesis fuzzing of the running API, against SQLite and against PostgreSQL
# (started, or installed, when it is not running).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${PG_TEST_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "== installing PostgreSQL"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  echo "== starting PostgreSQL"
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
  # A fresh install asks for a password on TCP; give the postgres role the one in PG_URL.
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
}

# An S3-compatible server for the S3 store's tests: moto in server mode (PyPI), on a free port,
# stopped when this script ends. The tests read its address from TEST_S3_URL.
MOTO_VERSION=5.1.22
start_s3() {
  local venv=target/moto-venv
  if [ "$("$venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    echo "== creating $venv with moto $MOTO_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.2
  done
  export TEST_S3_URL="http://127.0.0.1:$port"
  echo "== S3-compatible server (moto) at $TEST_S3_URL"
}

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

start_s3
echo "== unit tests and integration tests on SQLite"
TEST_DATABASE_URL= cargo test --workspace -- --test-threads=8
echo "== schemathesis on SQLite"
bash tests/schemathesis.sh sqlite

ensure_postgres
echo "== integration tests on PostgreSQL"
# Same package selection as above, so nothing is rebuilt with other features.
TEST_DATABASE_URL="$PG_URL" cargo test --workspace --test api --test login_flood -- --test-threads=8
echo "== schemathesis on PostgreSQL"
PG_TEST_URL="$PG_URL" bash tests/schemathesis.sh postgres
echo "== all green: SQLite and PostgreSQL"
