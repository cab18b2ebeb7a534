#!/usr/bin/env bash
# HTTP benchmark: `GET /api/v1/me` with a valid token, on SQLite and on PostgreSQL, next to a
# bare actix-web handler returning the same JSON (bench/src/bin/bare.rs), measured with wrk in
# the same run on the same machine. Prints req/s, p99, the api/bare ratio and idle RSS.
#
# Usage: bench/scripts/me.sh [all|sqlite|postgres|bare]     (default: all)
# Environment (all optional):
#   DURATION=10s CONNECTIONS=32 THREADS=2    wrk settings
#   API_PORT=18080 BARE_PORT=8090            listening ports (127.0.0.1)
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres [PGPASSWORD]   PostgreSQL server to use
#   SKIP_BUILD=1                              use the release binaries already built
set -euo pipefail

MODE="${1:-all}"
case "$MODE" in all | sqlite | postgres | bare) ;; *)
    echo "usage: $0 [all|sqlite|postgres|bare]" >&2
    exit 2
    ;;
esac

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
API_PORT="${API_PORT:-18080}"
BARE_PORT="${BARE_PORT:-8090}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
PG_DB=liantong_bench
export PGOPTIONS="${PGOPTIONS:---client-min-messages=warning}"
ADMIN_PASSWORD=bench-password-123

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d -t liantong-bench.XXXXXX)"
PIDS=()
PG_CREATED=0

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$PG_CREATED" = 1 ]; then
        psql -q -d postgres -c "drop database if exists $PG_DB" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# --- tools -------------------------------------------------------------------------------
ensure_wrk
command -v curl >/dev/null || die "curl is required"

if [ -z "${SKIP_BUILD:-}" ]; then
    log "building release binaries"
    if [ "$MODE" != bare ]; then
        (cd "$ROOT" && cargo build --release --quiet -p api --bin api)
    fi
    (cd "$ROOT" && cargo build --release --quiet -p bench --bin bare)
fi
API_BIN="$TARGET_DIR/release/api"
BARE_BIN="$TARGET_DIR/release/bare"
[ "$MODE" = bare ] || [ -x "$API_BIN" ] || die "missing $API_BIN"
[ -x "$BARE_BIN" ] || die "missing $BARE_BIN"

# --- helpers -----------------------------------------------------------------------------

# wait_for URL PID: polls URL until it answers 200; returns 1 if PID dies or 60 s pass.
wait_for() {
    local url="$1" pid="$2" _
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            printf 'error: server (pid %s) exited before %s answered\n' "$pid" "$url" >&2
            return 1
        fi
        sleep 0.1
    done
    printf 'error: timed out waiting for %s\n' "$url" >&2
    return 1
}

# rss_mib PID: resident set size in MiB, from /proc/PID/status.
rss_mib() {
    awk '/^VmRSS:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"
}

# stop PID: stops one server this script started and forgets it (so cleanup never signals a
# reused pid).
stop() {
    local keep=() p
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# run_wrk NAME URL [HEADER]: a 2 s warm-up, then the measured run; sets RPS and P99.
run_wrk() {
    local name="$1" url="$2" out="$WORK/wrk-$1.txt"
    shift 2
    local args=(-t"$THREADS" -c"$CONNECTIONS" --latency)
    if [ $# -gt 0 ]; then
        args+=(-H "$1")
    fi
    wrk "${args[@]}" -d2s "$url" >/dev/null
    log "wrk $name: -t$THREADS -c$CONNECTIONS -d$DURATION $url"
    wrk "${args[@]}" -d"$DURATION" "$url" >"$out"
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        cat "$out" >&2
        die "$name: some responses were not 2xx"
    fi
    RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    P99="$(awk '$1 == "99%" { print $2 }' "$out")"
    [ -n "$RPS" ] && [ -n "$P99" ] || {
        cat "$out" >&2
        die "$name: could not read wrk output"
    }
}

# bench_bare: measures the bare handler; sets BARE_RPS and BARE_P99.
bench_bare() {
    PORT="$BARE_PORT" "$BARE_BIN" &
    local pid=$!
    PIDS+=("$pid")
    wait_for "http://127.0.0.1:$BARE_PORT/api/v1/me" "$pid" || exit 1
    run_wrk bare "http://127.0.0.1:$BARE_PORT/api/v1/me"
    BARE_RPS="$RPS" BARE_P99="$P99"
    BARE_RSS="$(rss_mib "$pid")"
    stop "$pid"
}

ROWS=()

# bench_api LABEL DATABASE_URL: starts the real api, logs in, measures /me, then the bare server.
bench_api() {
    local label="$1" database_url="$2" data_dir="$WORK/data-$1"
    mkdir -p "$data_dir"
    DATA_DIR="$data_dir" DATABASE_URL="$database_url" PORT="$API_PORT" \
        BOOTSTRAP_ADMIN_PASSWORD="$ADMIN_PASSWORD" JOBS_EMBEDDED=false RUST_LOG=warn \
        "$API_BIN" >"$WORK/api-$label.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local base="http://127.0.0.1:$API_PORT"
    if ! wait_for "$base/health/ready" "$pid"; then
        tail -n 50 "$WORK/api-$label.log" >&2
        exit 1
    fi
    # Idle: started, migrated, ready, no request served but the readiness probes.
    sleep 2
    local idle_rss
    idle_rss="$(rss_mib "$pid")"

    local login token
    login="$(curl -fsS -H 'content-type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" \
        "$base/api/v1/auth/login")" || die "$label: login failed"
    token="$(printf '%s' "$login" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
    [ -n "$token" ] || die "$label: no access_token in login answer: $login"
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/me" ||
        die "$label: GET /api/v1/me with the token failed"

    run_wrk "api-$label" "$base/api/v1/me" "Authorization: Bearer $token"
    local api_rps="$RPS" api_p99="$P99" loaded_rss
    loaded_rss="$(rss_mib "$pid")"
    stop "$pid"

    bench_bare
    local ratio
    ratio="$(awk -v a="$api_rps" -v b="$BARE_RPS" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
    ROWS+=("$label|$api_rps|$api_p99|$BARE_RPS|$BARE_P99|$ratio|$idle_rss|$loaded_rss")
}

# --- runs --------------------------------------------------------------------------------
case "$MODE" in
bare)
    bench_bare
    ROWS+=("-|-|-|$BARE_RPS|$BARE_P99|-|-|$BARE_RSS (bare)")
    ;;
*)
    if [ "$MODE" = all ] || [ "$MODE" = sqlite ]; then
        bench_api sqlite "sqlite://$WORK/data-sqlite/bench.db?mode=rwc"
    fi
    if [ "$MODE" = all ] || [ "$MODE" = postgres ]; then
        if psql -q -d postgres -c 'select 1' >/dev/null 2>&1; then
            psql -q -d postgres -c "drop database if exists $PG_DB" >/dev/null
            psql -q -d postgres -c "create database $PG_DB" >/dev/null
            PG_CREATED=1
            auth="$PGUSER${PGPASSWORD:+:$PGPASSWORD}"
            bench_api postgres "postgres://$auth@$PGHOST:$PGPORT/$PG_DB"
            psql -q -d postgres -c "drop database if exists $PG_DB" >/dev/null
            PG_CREATED=0
        else
            log "PostgreSQL not reachable at $PGUSER@$PGHOST:$PGPORT; skipping"
        fi
    fi
    ;;
esac

# --- report ------------------------------------------------------------------------------
echo
echo "GET /api/v1/me  wrk -t$THREADS -c$CONNECTIONS -d$DURATION  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "host: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo
{
    echo "db|req/s|p99|bare req/s|bare p99|ratio|idle RSS|RSS after load"
    printf '%s\n' "${ROWS[@]}"
} | column -t -s '|'
