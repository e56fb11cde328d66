#!/usr/bin/env bash
# Issue 9 §3 against the real servers on a private PostgreSQL (pg_virtualenv -t), loopback only:
#
#   bench/backend/load.sh [--build DIR] [--runs N] [--users N] load [attendance-backend-load load options]
#     N scanners x M records into one event (batches of the sync's size, the sync's retries) while
#     R readers poll the admin console's report; every answer 2xx/429/503, every record stored once;
#     p50/p99 latency, wall time, throughput, the backend's peak RSS. Defaults: 200 x 2,000 + 20 readers.
#     --runs N repeats it on a fresh database and fresh servers and prints each figure's spread.
#   bench/backend/load.sh [--build DIR] under-attack [attendance-backend-load under-attack options]
#     a normal client's latency without and with each attack of §1 (A B A B rounds per attack).
#
# Both servers run with their default options (the backend with real Argon2id cost). Extra serve
# options: LOAD_BACKEND_ARGS / LOAD_ADMIN_ARGS; another backend binary (to compare two builds):
# LOAD_BACKEND_BIN; LOAD_KEEP=1 keeps the servers' logs. Needs attendance-backend, attendance-admin,
# attendance-backend-bench-seed and attendance-backend-load built in DIR (default build/ci).
# Inside an existing pg_virtualenv (ctest under scripts/test) it uses that cluster and a database
# of its own; otherwise it starts a private one.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
if [[ -z "${PGHOST:-}${PGPORT:-}" ]]; then
  exec pg_virtualenv -t -- "$0" "$@"
fi

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build/ci"
runs=1
users=1000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    *) break ;;
  esac
done
mode="${1:-load}"
[[ $# -gt 0 ]] && shift
case "$mode" in load|under-attack) ;; *) echo "load.sh: the mode is load or under-attack, not '$mode'" >&2; exit 2 ;; esac
build="$(cd "$build" && pwd)"
backend="${LOAD_BACKEND_BIN:-$build/apps/backend/attendance-backend}"
admin="$build/apps/admin/attendance-admin"
seedtool="$build/bench/backend/attendance-backend-bench-seed"
driver="$build/bench/backend/attendance-backend-load"
for b in "$backend" "$admin" "$seedtool" "$driver"; do
  [[ -x "$b" ]] || { echo "load.sh: $b is not built" >&2; exit 2; }
done

# As many scanners as the driver will use (its --scanners; 2 for under-attack: the normal one and a stolen key).
scanners=200
[[ "$mode" == under-attack ]] && scanners=2
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[$i]}" == --scanners ]] && scanners="${args[$((i + 1))]}"
done

work="$(mktemp -d /tmp/attendance-load.XXXXXX)"
pids=()
databases=()
stop_servers() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_servers
  for db in "${databases[@]}"; do dropdb --if-exists --force "$db" 2>/dev/null || true; done
  if [[ -n "${LOAD_KEEP:-}" ]]; then echo "load.sh: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a server whose stdout's first line names its port; sets $port and appends its pid.
start_server() {
  local name="$1"
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  port=""
  for _ in $(seq 200); do
    port=$(sed -n -e 's/.*"listening":"[^"]*:\([0-9]*\)".*/\1/p' -e 's|^listening http://[^/]*:\([0-9]*\)/.*|\1|p' \
      "$work/$name.out" 2>/dev/null | head -n 1)
    [[ -n "$port" ]] && return 0
    sleep 0.05
  done
  echo "load.sh: $name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

echo "load.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
status=0
for run in $(seq "$runs"); do
  db="load_$$_$run"
  databases+=("$db")
  createdb "$db"
  export DATABASE_URL="dbname=$db"
  "$backend" migrate >/dev/null 2>&1
  "$seedtool" --scanners "$scanners" Load-Scanner "$users" ev-load >"$work/seed.json"
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin.password"
  echo >>"$work/admin.password"
  "$admin" create-admin --email admin@load.example --password-file "$work/admin.password" >/dev/null

  # shellcheck disable=SC2086 # word splitting of the extra options is wanted
  start_server backend "$backend" serve --listen 127.0.0.1:0 ${LOAD_BACKEND_ARGS:-}
  backend_port=$port
  backend_pid=${pids[-1]}
  # shellcheck disable=SC2086
  start_server admin "$admin" serve --listen 127.0.0.1:0 ${LOAD_ADMIN_ARGS:-}
  admin_port=$port
  admin_pid=${pids[-1]}

  common=(--backend-port "$backend_port" --admin-port "$admin_port" --backend-pid "$backend_pid" --admin-pid "$admin_pid"
    --seed "$work/seed.json" --event ev-load --admin-email admin@load.example
    --admin-password-file "$work/admin.password")
  [[ "$runs" -gt 1 ]] && echo "== run $run of $runs"
  if [[ "$mode" == load ]]; then
    timeout 1200 "$driver" load "${common[@]}" --database-url "$DATABASE_URL" \
      --json "$work/result-$run.json" "$@" || status=1
  else
    timeout 3600 "$driver" under-attack "${common[@]}" --json "$work/rounds.json" "$@" || status=1
  fi
  # What the backend counted (ingest's COPY conflicts, rate limits, evictions) and its 5xx answers.
  curl -fsS "http://127.0.0.1:$backend_port/metrics" 2>/dev/null |
    grep -E '^(attendance_ingest_copy_conflicts_total|attendance_rate_limited_total|http_connections_(rejected|evicted)_total|http_timeouts_total)' |
    sed 's/^/  backend metric: /' || true
  fivexx=$(grep -c '"status":5[0-9][0-9]' "$work/backend.log" || true)
  echo "  backend 5xx answers in its access log: $fivexx"
  # Both servers drain and exit 0 on SIGTERM.
  for i in 0 1; do
    kill -TERM "${pids[$i]}"
    if ! wait "${pids[$i]}"; then
      echo "load.sh: a server did not exit 0 after SIGTERM" >&2
      status=1
    fi
  done
  pids=()
  if [[ "$status" -ne 0 ]]; then
    echo "load.sh: FAILED; the servers' logs:" >&2
    tail -n 20 "$work/backend.log" "$work/admin.log" >&2
    break
  fi
  dropdb --force "$db"
done

if [[ "$mode" == load && "$runs" -gt 1 && "$status" -eq 0 ]]; then
  /usr/bin/python3 - "$work"/result-*.json <<'PY'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
def row(name, key, unit, fmt="{:.1f}"):
  xs = [r[key] for r in runs]
  print(f"  {name:<34} median {fmt.format(statistics.median(xs))}{unit} (min {fmt.format(min(xs))}, max "
        f"{fmt.format(max(xs))})   runs: {' '.join(fmt.format(x) for x in xs)}")
print(f"load, {len(runs)} runs (each: fresh database, fresh servers):")
row("wall time", "wall_s", " s", "{:.2f}")
row("throughput", "records_per_s", " records/s", "{:.0f}")
row("upload attempts answered 200 p50", "upload_p50_ms", " ms")
row("upload attempts answered 200 p99", "upload_p99_ms", " ms")
row("report reads p50", "read_p50_ms", " ms")
row("report reads p99", "read_p99_ms", " ms")
row("backend peak RSS (VmHWM)", "backend_peak_rss_mib", " MiB")
row("admin server peak RSS (VmHWM)", "admin_peak_rss_mib", " MiB")
row("backend CPU", "cpu_backend_s", " s", "{:.2f}")
row("driver CPU", "cpu_driver_s", " s", "{:.2f}")
print("  upload answers:", "; ".join(json.dumps(r["upload_answers"]) for r in runs))
print("  report answers:", "; ".join(json.dumps(r["read_answers"]) for r in runs))
PY
fi
echo "load.sh: load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
exit "$status"
