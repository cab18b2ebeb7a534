#!/usr/bin/env bash
# HTTP benchmarks of the appeal endpoints over 1M appeals on PostgreSQL, against the release
# `api` binary:
#   list       GET /api/v1/appeals?department_id=<busiest department>&limit=50 (first page), wrk
#              -c32, as the service centre: req/s and p99 (target p99 <= 20 ms); then the same
#              with the api's rendered-item cache off (every item rendered from its rows)
#   dashboard  GET /api/v1/dashboard/sla?group_by=department&from=<now - 30 days>&to=<now>,
#              sequential requests with curl: median (target <= 300 ms); also chain, category
#   post       POST /api/v1/appeals {title, content, category} for a routed category (assigned and
#              notified at once) as a verified enterprise user, wrk -c32
#              (bench/scripts/appeal_post.lua), then, in the same run, pgbench -c32 writing the
#              floor of that work (an appeal, 3 clocks, 1 event) into a database holding only
#              the floor's tables and indexes (bench/scripts/appeal_floor_schema.sql,
#              appeal_floor_insert.sql) on the same server: the ratio api/pgbench (aim >= 0.5)
#
# The seeded database (SEED_DB, default lt_bench_pg) is made by seed_appeals when missing; the
# runs use a copy (SEED_DB_http, dropped at the end unless KEEP_DB=1), so POSTs never change it.
#
# Usage: bench/scripts/appeals_http.sh [all|list|dashboard|post]...   (default: all)
# Environment (all optional):
#   DURATION=10s CONNECTIONS=32 THREADS=2   wrk and pgbench settings
#   DASH_REQUESTS=30                        sequential dashboard requests measured
#   NOW=2026-11-23T10:00:00+08:00           the seed's --now (dashboard period ends that day)
#   SEED_DB=lt_bench_pg APPEALS=1000000     seeded database, and its size when seeding
#   API_PORT=18081  PGHOST PGPORT PGUSER PGPASSWORD (default postgres@127.0.0.1:5432)
#   PG_SOCKET=/var/run/postgresql           connect the api, psql and pgbench through PostgreSQL's
#                                           Unix socket in that directory (the same-host set-up:
#                                           no TCP, no TLS); default TCP to PGHOST:PGPORT, where
#                                           sqlx and libpq both negotiate TLS when the server
#                                           offers it (Debian's does)
#   SKIP_BUILD=1  KEEP_DB=1  TASKSET="taskset -c 0,1" (prefix for the api process)
set -euo pipefail

MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(all)
for m in "${MODES[@]}"; do
    case "$m" in all | list | dashboard | post) ;; *)
        echo "usage: $0 [all|list|dashboard|post]..." >&2
        exit 2
        ;;
    esac
done
want() {
    local m
    for m in "${MODES[@]}"; do
        [ "$m" = all ] || [ "$m" = "$1" ] && return 0
    done
    return 1
}

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
DASH_REQUESTS="${DASH_REQUESTS:-30}"
NOW="${NOW:-2026-11-23T10:00:00+08:00}"
SEED_DB="${SEED_DB:-lt_bench_pg}"
APPEALS="${APPEALS:-1000000}"
API_PORT="${API_PORT:-18081}"
TASKSET="${TASKSET:-}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGOPTIONS="${PGOPTIONS:---client-min-messages=warning}"
PG_SOCKET="${PG_SOCKET:-}"
if [ -n "$PG_SOCKET" ]; then
    export PGHOST="$PG_SOCKET"
    CONNECTION="Unix socket $PG_SOCKET"
else
    CONNECTION="TCP $PGHOST:$PGPORT (TLS if the server offers it)"
fi
PASSWORD=bench-password-123
WORK_DB="${SEED_DB}_http"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPTS="$ROOT/bench/scripts"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d -t liantong-appeals.XXXXXX)"
API_PID=""
WORK_CREATED=0

cleanup() {
    if [ -n "$API_PID" ]; then
        kill "$API_PID" 2>/dev/null || true
        wait "$API_PID" 2>/dev/null || true
    fi
    if [ "$WORK_CREATED" = 1 ] && [ -z "${KEEP_DB:-}" ]; then
        psql -q -d postgres -c "drop database if exists $WORK_DB with (force)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# --- tools -------------------------------------------------------------------------------
ensure_wrk
for tool in curl psql pgbench; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
psql -q -d postgres -c 'select 1' >/dev/null 2>&1 || die "cannot connect to PostgreSQL at $PGUSER@$PGHOST:$PGPORT"

if [ -z "${SKIP_BUILD:-}" ]; then
    log "building release binaries (api, seed_appeals)"
    (cd "$ROOT" && cargo build --release --quiet -p api --bin api)
    (cd "$ROOT" && cargo build --release --quiet -p bench --bin seed_appeals)
fi
API_BIN="$TARGET_DIR/release/api"
SEED_BIN="$TARGET_DIR/release/seed_appeals"
[ -x "$API_BIN" ] || die "missing $API_BIN"

auth="$PGUSER${PGPASSWORD:+:$PGPASSWORD}"
pg_url() {
    if [ -n "$PG_SOCKET" ]; then
        printf 'postgres://%s@localhost:%s/%s?host=%s' "$auth" "$PGPORT" "$1" "$PG_SOCKET"
    else
        printf 'postgres://%s@%s:%s/%s' "$auth" "$PGHOST" "$PGPORT" "$1"
    fi
}

# --- the seeded database and the working copy ---------------------------------------------
has_db="$(psql -Atq -d postgres -c "select 1 from pg_database where datname = '$SEED_DB'")"
if [ "$has_db" != 1 ]; then
    [ -x "$SEED_BIN" ] || die "missing $SEED_BIN"
    log "seeding $SEED_DB with $APPEALS appeals (seed_appeals)"
    psql -q -d postgres -c "create database $SEED_DB"
    "$SEED_BIN" --database-url "$(pg_url "$SEED_DB")" --appeals "$APPEALS" --now "$NOW" >&2
fi
n_appeals="$(psql -Atq -d "$SEED_DB" -c 'select count(*) from appeals')" ||
    die "$SEED_DB has no appeals table"
log "copying $SEED_DB ($n_appeals appeals) to $WORK_DB"
psql -q -d postgres -c "drop database if exists $WORK_DB with (force)"
psql -q -d postgres -c "create database $WORK_DB template $SEED_DB strategy file_copy" ||
    die "could not copy $SEED_DB (is someone connected to it?)"
WORK_CREATED=1

# --- helpers -----------------------------------------------------------------------------
BASE="http://127.0.0.1:$API_PORT"

wait_ready() {
    local _
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && return 0
        kill -0 "$API_PID" 2>/dev/null || {
            tail -n 50 "$WORK/api.log" >&2
            die "api exited before it was ready"
        }
        sleep 0.1
    done
    die "api not ready after 60 s"
}

# start_api [VAR=value...]: the api with the bench settings plus these.
start_api() {
    # Another server on the port would answer the readiness probe and be measured instead.
    if curl -s -o /dev/null "$BASE/health/ready" 2>/dev/null; then
        die "something already listens on port $API_PORT (set API_PORT)"
    fi
    mkdir -p "$WORK/data"
    env DATA_DIR="$WORK/data" DATABASE_URL="$(pg_url "$WORK_DB")" PORT="$API_PORT" \
        JOBS_EMBEDDED=false RUST_LOG=warn "$@" \
        $TASKSET "$API_BIN" >"$WORK/api.log" 2>&1 &
    API_PID=$!
    wait_ready
}

stop_api() {
    kill "$API_PID" 2>/dev/null || true
    wait "$API_PID" 2>/dev/null || true
    API_PID=""
}

login() {
    local answer token
    answer="$(curl -fsS -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login")" ||
        die "login as $1 failed"
    token="$(printf '%s' "$answer" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
    [ -n "$token" ] || die "no access_token for $1: $answer"
    printf '%s' "$token"
}

# run_wrk NAME URL [wrk args...]: 2 s warm-up, then the measured run; sets RPS, P50, P99.
run_wrk() {
    local name="$1" url="$2" out="$WORK/wrk-$1.txt"
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$@" "$url" >/dev/null
    log "wrk $name: -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out"
    cat "$out" >&2
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        die "$name: some responses were not 2xx"
    fi
    RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    P50="$(awk '$1 == "50%" { print $2 }' "$out")"
    P99="$(awk '$1 == "99%" { print $2 }' "$out")"
    [ -n "$RPS" ] && [ -n "$P99" ] || die "$name: could not read wrk output"
}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ROWS=()

start_api
log "api started on $BASE against $WORK_DB (pid $API_PID)"
SVC_TOKEN="$(login service)"

# --- list ----------------------------------------------------------------------------------
if want list; then
    DEPT="$(psql -Atq -d "$WORK_DB" -c "select department_id from appeals where department_id is not null group by 1 order by count(*) desc limit 1")"
    DEPT_N="$(psql -Atq -d "$WORK_DB" -c "select count(*) from appeals where department_id = '$DEPT'")"
    url="$BASE/api/v1/appeals?department_id=$DEPT&limit=50"
    items="$(curl -fsS -H "Authorization: Bearer $SVC_TOKEN" "$url" | grep -o '"number"' | wc -l)"
    [ "$items" = 50 ] || die "the list answered $items items, expected 50"
    run_wrk list "$url" -H "Authorization: Bearer $SVC_TOKEN"
    ROWS+=("GET /appeals?department_id=…&limit=50 ($DEPT_N appeals in the department)|wrk -c$CONNECTIONS -d$DURATION|$RPS req/s|p50 $P50, p99 $P99")
    # The same with the rendered-item cache off: every item rendered from its rows each time.
    stop_api
    start_api LIANTONG__APPEAL_CACHE_MIB=0
    run_wrk list_uncached "$url" -H "Authorization: Bearer $SVC_TOKEN"
    ROWS+=("… the same, item cache off (LIANTONG__APPEAL_CACHE_MIB=0)|wrk -c$CONNECTIONS -d$DURATION|$RPS req/s|p50 $P50, p99 $P99")
    stop_api
    start_api
fi

# --- dashboard -----------------------------------------------------------------------------
if want dashboard; then
    TO="$(TZ=Asia/Shanghai date -d "$NOW" +%F)"
    FROM="$(date -d "$TO -29 days" +%F)"
    for group in department chain category; do
        url="$BASE/api/v1/dashboard/sla?group_by=$group&from=$FROM&to=$TO"
        curl -fsS -o "$WORK/dash-$group.json" -H "Authorization: Bearer $SVC_TOKEN" "$url" ||
            die "dashboard ($group) failed"
        for _ in 1 2 3; do
            curl -fsS -o /dev/null -H "Authorization: Bearer $SVC_TOKEN" "$url"
        done
        : >"$WORK/dash-$group.times"
        for _ in $(seq 1 "$DASH_REQUESTS"); do
            curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' \
                -H "Authorization: Bearer $SVC_TOKEN" "$url" >>"$WORK/dash-$group.times"
        done
        grep -qv '^200 ' "$WORK/dash-$group.times" && die "dashboard ($group): a request did not answer 200"
        med="$(awk '{ print $2 * 1000 }' "$WORK/dash-$group.times" | median)"
        max="$(awk '{ print $2 * 1000 }' "$WORK/dash-$group.times" | sort -n | tail -1)"
        rows="$(grep -o '"key"' "$WORK/dash-$group.json" | wc -l)"
        log "dashboard group_by=$group $FROM..$TO: median ${med} ms, max ${max} ms, $rows rows"
        ROWS+=("GET /dashboard/sla?group_by=$group&from=$FROM&to=$TO ($rows rows)|$DASH_REQUESTS sequential (curl)|-|median $(printf '%.1f' "$med") ms, max $(printf '%.1f' "$max") ms")
    done
fi

# --- post, then pgbench writing the floor of the same work ----------------------------------
if want post; then
    ENT_TOKEN="$(login ent00001)"
    read -r ENT USR < <(psql -Atq -F ' ' -d "$WORK_DB" -c \
        "select organization_id, id from users where username = 'ent00001'")
    DEP="$(psql -Atq -d "$WORK_DB" -c \
        "select department_id from routing_rules where category = '${POST_CATEGORY:-energy}'")"
    [ -n "$DEP" ] || die "category ${POST_CATEGORY:-energy} has no routing rule"
    before="$(psql -Atq -d "$WORK_DB" -c 'select count(*) from appeals')"
    POST_CATEGORY="${POST_CATEGORY:-energy}" run_wrk post "$BASE/api/v1/appeals" -s "$SCRIPTS/appeal_post.lua" -H "Authorization: Bearer $ENT_TOKEN"
    API_RPS="$RPS" API_P99="$P99"
    after="$(psql -Atq -d "$WORK_DB" -c 'select count(*) from appeals')"
    log "appeals: $before before the POST runs, $after after"
    stop_api

    # The reference: an empty database with only the floor's tables and indexes.
    FLOOR_DB="${WORK_DB}_floor"
    psql -q -d postgres -c "drop database if exists $FLOOR_DB with (force)" >/dev/null
    psql -q -d postgres -c "create database $FLOOR_DB" >/dev/null
    psql -q -v ON_ERROR_STOP=1 -d "$FLOOR_DB" -f "$SCRIPTS/appeal_floor_schema.sql" >/dev/null
    pg_args=(-n -M prepared -c "$CONNECTIONS" -j "$THREADS" -f "$SCRIPTS/appeal_floor_insert.sql" -D "ent=$ENT" -D "usr=$USR" -D "dep=$DEP")
    pgbench "${pg_args[@]}" -T 2 "$FLOOR_DB" >/dev/null 2>&1 || die "pgbench warm-up failed"
    log "pgbench ${pg_args[*]} -T ${DURATION%s} $FLOOR_DB"
    pgbench "${pg_args[@]}" -T "${DURATION%s}" "$FLOOR_DB" >"$WORK/pgbench.txt" 2>&1 ||
        { cat "$WORK/pgbench.txt" >&2; die "pgbench failed"; }
    cat "$WORK/pgbench.txt" >&2
    psql -q -d postgres -c "drop database if exists $FLOOR_DB with (force)" >/dev/null
    PG_TPS="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.txt" | head -1)"
    PG_LAT="$(sed -n 's/^latency average = \([0-9.]* ms\).*/\1/p' "$WORK/pgbench.txt")"
    [ -n "$PG_TPS" ] || die "could not read pgbench output"
    ratio="$(awk -v a="$API_RPS" -v b="$PG_TPS" 'BEGIN { printf "%.2f", a / b }')"
    ROWS+=("POST /appeals, routed (${POST_CATEGORY:-energy})|wrk -c$CONNECTIONS -d$DURATION|$API_RPS req/s|p99 $API_P99")
    ROWS+=("pgbench, the floor (appeal + 3 clocks + 1 event)|-c$CONNECTIONS -j$THREADS -T${DURATION%s} -M prepared|$PG_TPS tps|latency avg $PG_LAT")
    ROWS+=("ratio POST /appeals ÷ floor|||$ratio")
fi

# --- report ----------------------------------------------------------------------------------
sync_commit="$(psql -Atq -d "$WORK_DB" -c 'show synchronous_commit')"
echo
echo "Appeals over $n_appeals seeded appeals, PostgreSQL $(psql -Atq -d postgres -c 'show server_version'), synchronous_commit=$sync_commit  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "connection (api, psql, pgbench): $CONNECTION"
echo "host: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
{
    echo "benchmark|load|throughput|latency"
    printf '%s\n' "${ROWS[@]}"
} | column -t -s '|'
