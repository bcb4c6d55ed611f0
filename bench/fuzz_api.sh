#!/usr/bin/env bash
# OpenAPI-driven fuzz of the running server (issue 14, "Hostile input"):
# schemathesis (PyPI) generates requests from /api/openapi.json for every
# operation and checks that none answers 5xx, that every status code is
# documented and that every answer (errors included) conforms to its schema.
# Runs anonymously, as a parent (development login) and as each staff role,
# against `ruxue serve --demo` on a fresh SQLite database (or PostgreSQL with
# URL=postgres://…/db).
#
#   bench/fuzz_api.sh            # 20 examples per operation and role
#   EXAMPLES=100 bench/fuzz_api.sh
#
# Needs: pip install schemathesis (4.x). Exit status 1 when any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${EXAMPLES:-20}
BIN=${RUXUE_BIN:-target/release/ruxue}
[ -x "$BIN" ] || cargo build --release --locked >&2
command -v st >/dev/null || { echo "needs schemathesis: python3 -m pip install schemathesis" >&2; exit 2; }
WORK=$(mktemp -d /tmp/ruxue-fuzz.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
export RUXUE_ENV=test RUXUE__DATABASE__URL="${URL:-sqlite://$WORK/fuzz.sqlite3}" RUXUE__SERVER__PORT=$PORT \
  RUXUE__UPLOADS__DIR="$WORK/uploads" RUXUE__MAIL__FILE_DIR="$WORK/mail" RUXUE__LOG__LEVEL=warn \
  RUXUE__SERVER__PUBLIC_RATE_PER_MINUTE=100000000 RUXUE__SERVER__RESULTS_RATE_PER_MINUTE=100000000
"$BIN" serve --demo >"$WORK/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; echo "work files: $WORK" >&2' EXIT
for _ in $(seq 100); do curl -fs "$B/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token() { # user password
  curl -s -X POST -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$B/api/v1/staff/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
curl -s -c "$WORK/jar" -o /dev/null -X POST -d openid=fuzz-parent "$B/parent/dev-login"
declare -A TOKENS
TOKENS[parent]=$(curl -s -b "$WORK/jar" "$B/api/v1/registration/session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for role in admin operator auditor; do TOKENS[$role]=$(token "$role" "ruxue-demo-$role"); done
TOKENS[reviewer]=$(token reviewer-fc ruxue-demo-reviewer)
rc=0
echo "| as | requests | failures | panics in the server log |"
echo "|---|---:|---:|---:|"
for who in anonymous parent admin operator reviewer auditor; do
  H=()
  [ "$who" != anonymous ] && H=(-H "Authorization: Bearer ${TOKENS[$who]}")
  before=$(grep -c 'panicked' "$WORK/serve.log" || true)
  st run "$B/api/openapi.json" "${H[@]}" -c not_a_server_error,status_code_conformance,response_schema_conformance \
    -n "$EXAMPLES" --max-failures 100 --generation-deterministic --report-json-path "$WORK/$who.json" >"$WORK/$who.txt" 2>&1 || rc=1
  after=$(grep -c 'panicked' "$WORK/serve.log" || true)
  line=$(grep -E '^ *[0-9]+ generated' "$WORK/$who.txt" | tail -1 || true)
  gen=$(sed -E 's/.* ([0-9]+) generated.*/\1/' <<<"$line")
  failed=$(grep -oE 'found [0-9]+ unique' <<<"$line" | awk '{print $2}' || true)
  echo "| $who | ${gen:-?} | ${failed:-0} | $(( after - before )) |"
done
[ $rc -eq 0 ] || echo "failures: see $WORK/*.txt" >&2
exit $rc
