#!/usr/bin/env bash
# Browser draw verifier benchmark (ruxue-draw-v1): generates a draw input
# (default 100,000 applicants, 200 schools x 5 preferences), computes its
# record with `ruxue draw compute`, then times
#   * `ruxue draw verify` on the record (release binary; wall and CPU
#     seconds from /usr/bin/time, best of RUNS), and
#   * static/verify/verify-draw.js on the same record in headless Chromium
#     (the ignored test `bench_browser_verify` in tests/browser_verifier.rs:
#     the record is fetched from a loopback server, then RuxueVerify.verifyRecord
#     is timed inside the page from the file's bytes: decode, parse,
#     validate, compute, compare, digests; RUNS runs in one page),
# checks that both report the same result digest, and prints both times
# and their ratio. Target: the browser under 3 s on a 2-core machine.
#
# Usage: bench/browser_verify.sh [APPLICANTS]   (default 100000)
# Env: SCHOOLS (200), PREFS (5), RUNS (3), RUXUE_BIN (default
#      target/release/ruxue, built here), WORK (scratch dir).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
SCHOOLS=${SCHOOLS:-200}
PREFS=${PREFS:-5}
RUNS=${RUNS:-3}
if [[ -z "${RUXUE_BIN:-}" ]]; then
  cargo build --release --bin ruxue >&2
  RUXUE_BIN=target/release/ruxue
fi
WORK=${WORK:-$(mktemp -d -t ruxue-browser-bench.XXXXXX)}
in="$WORK/input-$N-$SCHOOLS-$PREFS.json"
rec="$WORK/record-$N-$SCHOOLS-$PREFS.json"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$RUXUE_BIN" draw generate --applicants "$N" --schools "$SCHOOLS" --prefs "$PREFS" -o "$in"
"$RUXUE_BIN" draw compute "$in" >"$rec" 2>/dev/null
echo "record: $rec ($(($(stat -c %s "$rec") / 1000)) kB)" >&2

# ruxue draw verify: best wall time of RUNS (with its CPU time).
digest=$("$RUXUE_BIN" draw verify "$rec")
best_wall="" best_cpu=""
for _ in $(seq "$RUNS"); do
  read -r wall user sys < <(/usr/bin/time -f "%e %U %S" "$RUXUE_BIN" draw verify "$rec" 2>&1 >/dev/null | tail -1)
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')
  if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN{exit !(a<b)}'; then
    best_wall=$wall best_cpu=$cpu
  fi
done

# The browser.
line=$(RUXUE_BENCH_RECORD="$rec" RUXUE_BENCH_DIGEST="$digest" RUXUE_BENCH_RUNS="$RUNS" \
  cargo test --test browser_verifier -- --ignored --exact bench_browser_verify --nocapture 2>/dev/null |
  grep '^browser_verify ') || { echo "browser benchmark failed; run it by hand:" >&2
  echo "  RUXUE_BENCH_RECORD=$rec cargo test --test browser_verifier -- --ignored --exact bench_browser_verify --nocapture" >&2; exit 1; }
first_ms=$(sed -n 's/.* first_ms=\([0-9]*\).*/\1/p' <<<"$line")
best_ms=$(sed -n 's/.* best_ms=\([0-9]*\).*/\1/p' <<<"$line")

echo
echo "$line"
echo
echo "| applicants | schools x prefs | record MB | ruxue draw verify s (cpu), best of $RUNS | browser first run s | browser best of $RUNS s | browser / ruxue: first, best |"
echo "|---:|---|---:|---:|---:|---:|---:|"
awk -v n="$N" -v s="$SCHOOLS" -v p="$PREFS" -v mb="$(($(stat -c %s "$rec") / 1000000))" \
  -v rw="$best_wall" -v rc="$best_cpu" -v f="$first_ms" -v b="$best_ms" \
  'BEGIN{ r = (rw > 0 ? rw : 0.01); printf "| %d | %d x %d | %d | %.2f (%.2f) | %.2f | %.2f | %.1fx, %.1fx |\n", n, s, p, mb, rw, rc, f/1000, b/1000, (f/1000)/r, (b/1000)/r }'
echo "result digest (both): $digest"
