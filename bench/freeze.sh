#!/usr/bin/env bash
# Freezing a 100,000-applicant draw from the database (issue #11 target: under
# 5 s on either backend): roster from the approved applications, priority keys,
# families, the RFC 6962 root, the draw's entries and the audit entry, in one
# transaction (`ruxue draw freeze`). The entries are the applications' mark:
# their rows are not rewritten (readers show them as in_draw).
#
#   bench/freeze.sh [N]        # N applicants (default 100000), both backends
#
# Seeds the demo county, then N approved applications at 安溪县实验小学 (P01)
# with priority keys in 50 tiers, closes review, and times the freeze with
# the release binary. Results go to stdout; docs/performance.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
cargo build --release --locked -q
BIN=target/release/ruxue
PG=${RUXUE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
seed_sql() {
  cat <<SQL
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO guardians (id, openid, unionid, name, relation, phone, created_at, updated_at)
SELECT 'fz-g' || i, 'fz-' || i, NULL, '林美玲', '母亲', '13805951234', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO children (id, campaign_id, guardian_id, name, id_number_enc, id_number_hash, id_number_masked, birth_date, sex, created_at)
SELECT 'fz-c' || i, '2027-G1', 'fz-g' || i, '林小明', 'x', 'fz-h' || i, '350524********0000', '2021-01-01', 'M', CURRENT_TIMESTAMP FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO applications (id, campaign_id, child_id, registration_no, status, facts_json, family_id, township_id,
    catchment_school_id, zone_id, category, priority_json, explanation, idempotency_key, submitted_at, updated_at, version)
SELECT 'fz-a' || i, '2027-G1', 'fz-c' || i, '2027-G1-F' || i, 'approved', '{}', NULL, 'FC',
    'P01', NULL, 'B', '[2,' || (i % 50) || ']', NULL, 'fz-k' || i, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM s;
UPDATE campaigns SET status = 'draw' WHERE id = '2027-G1';
SQL
}
run() { # backend url
  echo "== $1: $N approved applicants at P01"
  export RUXUE__DATABASE__URL="$2" RUXUE__DEMO__DRAWS=false
  "$BIN" demo >/dev/null
  # Review closed: nothing may be pending in the campaign.
  local pending="UPDATE applications SET status = 'rejected' WHERE campaign_id = '2027-G1' AND status IN ('submitted', 'under_review', 'supplement', 'appealed');"
  if [ "$1" = sqlite ]; then { seed_sql; echo "$pending"; } | sqlite3 "${2#sqlite://}"; else { seed_sql; echo "$pending"; } | psql -q "$2"; fi
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" draw freeze 2027-G1 P01
  t1=$(date +%s.%N)
  echo "freeze: $(echo "$t1 - $t0" | bc) s (wall, whole command incl. start-up)"
}
tmp=$(mktemp -d)
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install -y sqlite3)"; exit 2; }
run sqlite "sqlite://$tmp/freeze.sqlite3"
db="ruxue_freeze_$$"
psql -q "$PG/postgres" -c "CREATE DATABASE $db" && run postgres "$PG/$db"
psql -q "$PG/postgres" -c "DROP DATABASE $db" || true
rm -rf "$tmp"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
