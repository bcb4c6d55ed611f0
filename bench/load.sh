#!/usr/bin/env bash
# Registration-day load benchmark (issue 14): `ruxue serve` under wrk, with
# the limits measured in the same run (pgbench for the submit's own
# transaction, /healthz through the same generator).
#
#   bench/load.sh postgres          # PostgreSQL at 127.0.0.1:5432 (trust auth)
#   bench/load.sh sqlite
#   SEED=300000 DURATION=10 CONNS="8 32 128" DRAFTS=8000 bench/load.sh postgres
#   RUXUE_BIN=target/release/ruxue bench/load.sh postgres   # skip the build
#   SCENARIOS=lookup SEED=1000 bench/load.sh postgres       # only some scenarios
#   REDIS_URL=redis://127.0.0.1:6379/0 bench/load.sh postgres  # rate limits in Redis
#   LOOKUP_CACHE_MS=0 bench/load.sh postgres                # lookup checks the map version on every request
#
# Scenarios, each at every connection count in CONNS: /healthz, the public
# catchment lookup, a parent's status API, a registration submit (drafts
# prepared beforehand: child filled in, 户口簿 uploaded; bench/load/prepare.py),
# and pgbench of the submit's statements (PostgreSQL). The campaign already
# holds SEED registrations (bench/load/seed.sql). Prints a Markdown table:
# throughput, p50/p99/p99.9 latency, errors, the server's peak memory so far,
# and the ratios to /healthz and pgbench. Needs wrk, python3-requests,
# psql/pgbench (PostgreSQL) or sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:-postgres}
SEED=${SEED:-300000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-"8 32 128"}
DRAFTS=${DRAFTS:-8000}
POOL=${POOL:-16}
SCENARIOS=${SCENARIOS:-"lookup status submit"}
THREADS=${THREADS:-2}
# pgbench clients at most (the shared server has max_connections = 100).
PGBENCH_MAX=${PGBENCH_MAX:-32}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
if [ -z "${RUXUE_BIN:-}" ]; then
  cargo build --release --locked >&2
  RUXUE_BIN=target/release/ruxue
fi
for tool in wrk python3; do command -v $tool >/dev/null || { echo "needs $tool (apt-get install -y wrk python3-requests)" >&2; exit 2; }; done
WORK=$(mktemp -d /tmp/ruxue-bench.XXXXXX)
DBNAME=ruxue_bench_$$
case $BACKEND in
  postgres) URL="$PG/$DBNAME${SSLMODE:+?sslmode=$SSLMODE}"; psql -q "$PG/postgres" -c "CREATE DATABASE $DBNAME" ;;
  sqlite) URL="sqlite://$WORK/bench.sqlite3" ;;
  *) echo "backend: postgres or sqlite" >&2; exit 2 ;;
esac
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export RUXUE_ENV=test RUXUE__DATABASE__URL="$URL" RUXUE__SERVER__PORT=$PORT RUXUE__SERVER__WORKERS=${WORKERS:-2} \
  RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE=1000000000 RUXUE__RATELIMIT__ADDRESS_PER_MINUTE=1000000000 RUXUE__DATABASE__POOL_SIZE=$POOL RUXUE__LOG__LEVEL=error \
  RUXUE__UPLOADS__DIR="$WORK/uploads" RUXUE__MAIL__FILE_DIR="$WORK/mail"
[ -n "${CHECK_ON_CHECKOUT:-}" ] && export RUXUE__DATABASE__CHECK_ON_CHECKOUT=$CHECK_ON_CHECKOUT
# The production default (the test settings check on every request).
export RUXUE__SERVER__LOOKUP_CACHE_MS=${LOOKUP_CACHE_MS:-1000}
if [ -n "${REDIS_URL:-}" ]; then export RUXUE__REDIS__URL=$REDIS_URL RUXUE__REDIS__PREFIX=ruxue-bench-$$; fi
SERVER_PID=
cleanup() {
  local rc=$?
  [ $rc -ne 0 ] && [ -f "$WORK/serve.log" ] && { echo "-- server log (tail):" >&2; tail -20 "$WORK/serve.log" >&2; }
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ "$BACKEND" = postgres ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

sql() {
  if [ "$BACKEND" = postgres ]; then psql -q -v ON_ERROR_STOP=1 "$URL" "$@"; else sqlite3 -bail "$WORK/bench.sqlite3" "$@"; fi
}
echo "== $(date -u +%FT%TZ) $BACKEND, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), seed $SEED" >&2
"$RUXUE_BIN" migrate >&2
"$RUXUE_BIN" demo >/dev/null
"$RUXUE_BIN" campaign open 2027-G1 >/dev/null
t0=$(date +%s)
sed "s/@SEED@/$SEED/g" bench/load/seed.sql | sql
if [ "$BACKEND" = postgres ]; then sql -c "ANALYZE" -c "CREATE SEQUENCE bench_regno"; else sql "ANALYZE;"; fi
echo "seeded $SEED registrations in $(( $(date +%s) - t0 )) s" >&2

"$RUXUE_BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

peak_mib() { awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$SERVER_PID/status"; }
count_apps() { sql -At -c "SELECT count(*) FROM applications" 2>/dev/null || sql "SELECT count(*) FROM applications;"; }
if [ "$BACKEND" = sqlite ]; then count_apps() { sqlite3 "$WORK/bench.sqlite3" "SELECT count(*) FROM applications;"; }; fi

declare -A HEALTH PGB
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
echo "| scenario | conns | req/s | p50 ms | p99 ms | p99.9 ms | errors | peak MiB | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
run_wrk() { # name conns script [ratio-to]
  local name=$1 c=$2 script=$3
  cat "$script" bench/load/report.lua >"$WORK/s.lua"
  local out; out=$(WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency -s "$WORK/s.lua" "$BASE$4" 2>&1) || true
  if ! grep -q '^RESULT' <<<"$out"; then echo "wrk $name failed: $out" >&2; exit 1; fi
  grep '^RESULT' <<<"$out" | sed 's/^RESULT //'
}
row() { # name conns json ratio
  python3 - "$@" <<'PY'
import json, sys
name, c, js, ratio = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
print(f"| {name} | {c} | {js['rps']:.0f} | {js['p50_ms']:.1f} | {js['p99_ms']:.1f} | {js['p999_ms']:.1f} | {js['errors']} ({js['non2xx']} non-2xx) | {sys.argv[5]} | {ratio} |")
PY
}
printf 'function request() return wrk.format("GET", "/healthz") end\n' >"$WORK/healthz.lua"
has status && python3 bench/load/prepare.py "$BASE" "$WORK/status.txt" 2000 900000 --submit
for c in $CONNS; do
  j=$(run_wrk healthz "$c" "$WORK/healthz.lua" /); HEALTH[$c]=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rps'])" "$j")
  row "/healthz" "$c" "$j" "limit" "$(peak_mib)"
  has lookup && { j=$(run_wrk lookup "$c" bench/load/lookup.lua /)
  row "catchment lookup" "$c" "$j" "$(python3 -c "import json,sys; print(f\"{json.loads(sys.argv[1])['rps']/float(sys.argv[2]):.2f}× healthz\")" "$j" "${HEALTH[$c]}")" "$(peak_mib)"; }
  has status && { j=$(STATUS_FILE="$WORK/status.txt" run_wrk status "$c" bench/load/status.lua /)
  row "status API" "$c" "$j" "$(python3 -c "import json,sys; print(f\"{json.loads(sys.argv[1])['rps']/float(sys.argv[2]):.2f}× healthz\")" "$j" "${HEALTH[$c]}")" "$(peak_mib)"; }
done
start=1000000
has submit || CONNS_SUBMIT=
for c in ${CONNS_SUBMIT-$CONNS}; do
  python3 bench/load/prepare.py "$BASE" "$WORK/drafts.txt" "$DRAFTS" "$start"
  start=$((start + DRAFTS))
  before=$(count_apps)
  j=$(DRAFTS_FILE="$WORK/drafts.txt" run_wrk submit "$c" bench/load/submit.lua /)
  after=$(count_apps)
  new=$(( after - before ))
  ratio="new: $new ($(python3 -c "print(f'{$new/$DURATION:.0f}')")/s)"
  if [ "$BACKEND" = postgres ]; then
    pc=$(( c < PGBENCH_MAX ? c : PGBENCH_MAX ))
    tps=$(pgbench -n -c "$pc" -j "$THREADS" -T "$DURATION" -D seed="$SEED" -f bench/load/pgbench_submit.sql "$URL" 2>"$WORK/pgbench.err" | awk '/^tps/ {print $3; exit}')
    [ -n "$tps" ] || { echo "pgbench failed:" >&2; cat "$WORK/pgbench.err" >&2; exit 1; }
    ratio="$ratio; pgbench ($pc clients) $tps tps; $(python3 -c "print(f'{$new/$DURATION/float(\"$tps\"):.2f}')")× pgbench"
  fi
  row "submit" "$c" "$j" "$ratio" "$(peak_mib)"
done
echo "== load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
