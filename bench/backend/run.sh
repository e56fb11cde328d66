#!/usr/bin/env bash
# attendance-backend benchmark (issue 3 §5), everything in one throwaway
# pg_virtualenv cluster, loopback only:
#   anchor psql \copy of 100k rows  vs  POST /batchCheckIn (100k)  vs  re-post
#   vs one round trip per record  ·  peak backend RSS  ·  50 clients x 2000.
# Usage: bench/backend/run.sh [BUILD_DIR]   (default build/ci; needs attendance-backend
#        and attendance-backend-bench-seed built there)
set -euo pipefail
if [[ -z "${PGHOST:-}${PGPORT:-}" || "${BENCH_IN_VIRTUALENV:-}" != 1 ]]; then
  export BENCH_IN_VIRTUALENV=1
  # -t: a private temporary cluster, so parallel runs (as root too) never collide.
  exec pg_virtualenv -t -- "$0" "$@"
fi

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build/ci}" && pwd)"
backend="$build/apps/backend/attendance-backend"
seedtool="$build/bench/backend/attendance-backend-bench-seed"
records="${BENCH_RECORDS:-100000}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

createdb bench
createdb bench_anchor
export DATABASE_URL="dbname=bench"
"$backend" migrate >/dev/null
DATABASE_URL="dbname=bench_anchor" "$backend" migrate >/dev/null
"$seedtool" Bench-Scanner-01 1000 ev-big ev-single ev-concurrent >"$work/seed.json"

# Anchor: the same rows straight into check_ins with \copy.
/usr/bin/python3 "$here/driver.py" csv --seed "$work/seed.json" --event ev-big --records "$records" --out "$work/rows.csv"

"$backend" serve --listen 127.0.0.1:0 --threads 2 --db-pool 8 --rate-limit 0 --no-access-log \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*"listening":"[^"]*:\([0-9]*\)".*/\1/p' "$work/serve.out")
[[ -n "$port" ]] || { echo "backend did not start:"; cat "$work/serve.err"; exit 1; }

# The headline ratio: psql \copy (A) and POST /batchCheckIn (B) of the same rows into an empty
# table, alternating A B A B in this one run so both see the same machine (medians and spread).
/usr/bin/python3 "$here/driver.py" body --seed "$work/seed.json" --event ev-big --records "$records" --out "$work/body.json"
pairs="${BENCH_PAIRS:-5}"
anchors=""
posts=""
for _ in $(seq "$pairs"); do
  psql -q -d bench_anchor -c "TRUNCATE check_ins"
  t0=$(date +%s.%N)
  psql -q -d bench_anchor -c "\\copy check_ins (event_id, ble_uuid, check_in_time, scanner_id) FROM '$work/rows.csv' WITH (FORMAT csv)"
  t1=$(date +%s.%N)
  anchors="$anchors $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
  rows=$(psql -tA -d bench_anchor -c "SELECT count(*) FROM check_ins")
  [[ "$rows" == "$records" ]] || { echo "anchor copied $rows rows, expected $records"; exit 1; }
  psql -q -d bench -c "TRUNCATE check_ins, sync_receipts"
  posts="$posts $(timeout 300 /usr/bin/python3 "$here/driver.py" post --seed "$work/seed.json" --port "$port" \
    --body "$work/body.json" --records "$records")"
done
psql -q -d bench -c "TRUNCATE check_ins, sync_receipts"
anchor=$(/usr/bin/python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' $anchors)

timeout 900 /usr/bin/python3 "$here/driver.py" run --seed "$work/seed.json" --port "$port" --pid "$server_pid" \
  --event-big ev-big --event-single ev-single --event-concurrent ev-concurrent --records "$records" >"$work/result.json"

kill -TERM "$server_pid"
wait "$server_pid" && drain="exit 0" || drain="exit $?"
server_pid=""

/usr/bin/python3 - "$work/result.json" "$anchor" "$records" "$drain" "$anchors" "$posts" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1])); anchor = float(sys.argv[2]); n = int(sys.argv[3]); drain = sys.argv[4]
a_runs = [float(x) for x in sys.argv[5].split()]; b_runs = [float(x) for x in sys.argv[6].split()]
ratios = [b / a for a, b in zip(a_runs, b_runs)]
def spread(xs, unit=""):
  return f"median {statistics.median(xs):.3f}{unit} (min {min(xs):.3f}, max {max(xs):.3f})"
print(f"alternating, {len(a_runs)} pairs (A = psql \\copy, B = POST /batchCheckIn, same rows, empty table each time):")
print(f"  A psql \\copy          {spread(a_runs, ' s')}   runs: {' '.join(f'{x:.3f}' for x in a_runs)}")
print(f"  B POST /batchCheckIn  {spread(b_runs, ' s')}   runs: {' '.join(f'{x:.3f}' for x in b_runs)}")
print(f"  B/A per pair          {spread(ratios, 'x')}   goal <= 1.0x")
print()
per_batch = r["post_s"] / n
per_single = r["single_s"] / r["single_n"]
total_conc = r["clients"] * r["per_client"]
rows = [
  ("records", f"{n} ({r['body_bytes'] / 1048576:.1f} MiB body)", ""),
  ("POST /batchCheckIn, first of the later runs", f"{r['post_s']:.3f} s", "(the ratio is the alternating one above)"),
  ("re-post, all duplicates", f"{r['repost_s']:.3f} s", f"{r['repost_s'] / anchor:.2f}x anchor"),
  ("one round trip per record", f"{per_single * 1e3:.3f} ms/record ({r['single_n']} sent)",
   f"batch is {per_single / per_batch:.0f}x faster per record (goal >= 25x)"),
  ("batch, per record", f"{per_batch * 1e6:.2f} us/record", ""),
  ("peak backend RSS (VmHWM)", f"{r['peak_rss_mib']} MiB", f"goal <= 150 MiB (before: {r['rss_before_mib']} MiB)"),
  (f"{r['clients']} clients x {r['per_client']}", f"{r['concurrent_s']:.3f} s, {r['concurrent_ok']}/{r['clients']} x 200",
   f"{total_conc / r['concurrent_s']:.0f} records/s"),
  ("SIGTERM after the run", drain, ""),
]
w0 = max(len(a) for a, _, _ in rows); w1 = max(len(b) for _, b, _ in rows)
for a, b, c in rows:
  print(f"{a:<{w0}}  {b:<{w1}}  {c}")
PY
