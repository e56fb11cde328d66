#!/bin/sh
# What attendance-sync --follow costs the scanner and the backend (issue 14), measured
# A B A B in one call: A with the follower, B without, N pairs; prints every run's JSON
# line, then the median and min–max per side and the median of the A/B pair ratios.
# docs/benchmarks.md, "Follower cost (issue 14)".
#
#   bench/sync/follower_cost.sh BUILD_DIR scanner [--pairs 5] [-- ARGS for each run]
#   pg_virtualenv -t -- bench/sync/follower_cost.sh BUILD_DIR backend [--pairs 3] [-- ARGS]
#
# scanner: A = `scanner --follower follow`, B = `scanner --follower none`
# backend: A = `backend --mode follow` (a follower at 10 s), B = `backend --mode final`
#          (one end-of-event sync); needs PostgreSQL (PG* variables from pg_virtualenv).
set -eu
build=${1:?BUILD_DIR}
side=${2:?scanner|backend}
shift 2
pairs=5
[ "$side" = backend ] && pairs=3
if [ "${1:-}" = --pairs ]; then
  pairs=$2
  shift 2
fi
[ "${1:-}" = -- ] && shift
bin="$build/bench/sync/bench_follower_cost"
case "$side" in
scanner) a="--follower follow" b="--follower none" key=follower ;;
backend) a="--mode follow" b="--mode final" key=mode ;;
*) echo "side: scanner or backend" >&2; exit 2 ;;
esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
i=1
while [ "$i" -le "$pairs" ]; do
  # shellcheck disable=SC2086 # the mode flags are two words on purpose
  "$bin" "$side" $a "$@" | tee -a "$out"
  # shellcheck disable=SC2086
  "$bin" "$side" $b "$@" | tee -a "$out"
  echo "# pair $i done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  i=$((i + 1))
done
/usr/bin/python3 - "$out" "$key" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
key = sys.argv[2]
sides = []
for r in runs:
    if r[key] not in sides:
        sides.append(r[key])
a, b = sides[0], sides[1]
ra = [r for r in runs if r[key] == a]
rb = [r for r in runs if r[key] == b]
metrics = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
print(f"\n{'metric':30} {'A: ' + a + ' median (min-max)':>34} {'B: ' + b + ' median (min-max)':>34} {'A/B pair ratios: median (min-max)':>36}")
for m in metrics:
    va = [r[m] for r in ra if m in r]
    vb = [r[m] for r in rb if m in r]
    if not va or not vb:
        continue
    fa = f"{statistics.median(va):.6g} ({min(va):.6g}-{max(va):.6g})"
    fb = f"{statistics.median(vb):.6g} ({min(vb):.6g}-{max(vb):.6g})"
    ratios = [x / y for x, y in zip(va, vb) if y]
    fr = f"{statistics.median(ratios):.3g} ({min(ratios):.3g}-{max(ratios):.3g})" if ratios else "-"
    print(f"{m:30} {fa:>34} {fb:>34} {fr:>36}")
EOF
