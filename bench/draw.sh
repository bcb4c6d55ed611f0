#!/usr/bin/env bash
# Draw engine benchmark (ruxue-draw-v1): generates inputs of 10k / 100k / 1M
# applicants (1 school, and 200 schools x 5 prefs), then times `draw compute`
# and `draw verify` on one core (taskset -c 0) with peak RSS from
# /usr/bin/time -v, plus a plain parse of the same record into a
# serde_json::Value (`draw parse-only`) as the baseline for verify.
# Prints a markdown table. Usage: bench/draw.sh [SIZES...]  (default: 10000 100000 1000000)
# Env: RUXUE_BIN (default target/release/ruxue, built here), WORK (scratch dir).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${RUXUE_BIN:-}" ]]; then
  cargo build --release --bin ruxue >&2
  RUXUE_BIN=target/release/ruxue
fi
WORK=${WORK:-$(mktemp -d -t ruxue-draw-bench.XXXXXX)}
SIZES=("${@:-10000 100000 1000000}")
SIZES=(${SIZES[@]})
PIN="taskset -c 0"
command -v taskset >/dev/null || PIN=""

# measure CMD... -> prints "wall_seconds cpu_seconds peak_MiB", discards stdout.
# cpu = user + sys: on a shared machine wall time includes waiting for the core.
measure() {
  local log="$WORK/time.log"
  /usr/bin/time -v $PIN "$@" >/dev/null 2>"$log" || { echo "FAILED: $*" >&2; cat "$log" >&2; exit 1; }
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log")
  cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$log")
  # wall is [h:]m:ss.xx
  local secs
  secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  echo "$secs $cpu $((rss / 1024))"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2
echo
echo "| applicants | schools x prefs | input MB | compute s (cpu) | compute peak MiB | verify s (cpu) | verify peak MiB | parse to Value s (cpu) | parse peak MiB | verify / parse (cpu) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
  for shape in "1 1" "200 5"; do
    set -- $shape
    s=$1; p=$2
    in="$WORK/in-$n-$s-$p.json"; rec="$WORK/rec-$n-$s-$p.json"
    seats=90; [[ $s == 1 ]] && seats=30
    "$RUXUE_BIN" draw generate --applicants "$n" --schools "$s" --prefs "$p" --seats-percent "$seats" --seed-text bench -o "$in"
    "$RUXUE_BIN" draw compute "$in" >"$rec" 2>/dev/null
    read -r ct cc cm < <(measure "$RUXUE_BIN" draw compute "$in")
    read -r vt vc vm < <(measure "$RUXUE_BIN" draw verify "$rec")
    read -r pt pc pm < <(measure "$RUXUE_BIN" draw parse-only "$rec")
    mb=$(( $(stat -c %s "$in") / 1000000 ))
    ratio=$(awk -v a="$vc" -v b="$pc" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')
    echo "| $n | $s x $p | $mb | $ct ($cc) | $cm | $vt ($vc) | $vm | $pt ($pc) | $pm | $ratio |"
    rm -f "$in" "$rec"
  done
done
