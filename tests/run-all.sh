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

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

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
