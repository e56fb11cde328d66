#!/bin/sh
# systemd-analyze verify of the shipped units (apps/scanner/systemd/), with ExecStart
# pointed at the binaries of this build (the installed paths do not exist here).
# Usage: verify_units.sh UNIT_DIR SCANNER_BINARY SYNC_BINARY
set -eu
units=$1 scanner=$2 sync=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in "$units"/*.service; do
  sed -e "s|/usr/bin/attendance-scanner|$scanner|" -e "s|/usr/bin/attendance-sync|$sync|" \
    "$unit" >"$work/$(basename "$unit")"
done
out=$(systemd-analyze verify --man=no "$work"/*.service 2>&1) || { echo "$out"; exit 1; }
# verify also exits 0 on some warnings; any output is a finding.
if [ -n "$out" ]; then echo "$out"; exit 1; fi
echo "verified: $(cd "$work" && echo *.service)"
