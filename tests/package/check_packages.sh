#!/usr/bin/env bash
# The Debian packages as an installer meets them (docs/packaging.md, issue 15 §1).
# Makes the three .deb files from this build tree with cpack (gzip instead of xz,
# for speed), then for each: its metadata and file list (dpkg-deb -I/-c), extracts
# it into a scratch root (dpkg -x) and checks what is there: systemd-analyze verify
# of every unit against that root, the D-Bus policy loaded by a real private
# dbus-daemon (and shown to let its user, and only its user, call org.bluez), each
# program's --version and --help, an outside CMake project built against the
# extracted libattendance-dev, and the maintainer scripts: sh -n, then postinst run
# for real (the real adduser) on a private copy of /etc in a mount namespace.
#
# Usage: check_packages.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 source=$2 version=$3
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
daemons=()
cleanup() {
  for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check_packages: FAIL: $*" >&2
  exit 1
}
step() { echo "check_packages: $*"; }

# --- build the packages ----------------------------------------------------------
step "cpack (DEB, gzip) from $build"
cpack --config "$build/CPackConfig.cmake" -B "$work/cpack" \
  -D CPACK_OUTPUT_FILE_PREFIX="$work/dist" -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
declare -A deb
for pkg in attendance-scanner attendance-server libattendance-dev; do
  deb[$pkg]="$work/dist/${pkg}_${version}-1_${arch}.deb"
  [ -f "${deb[$pkg]}" ] || { ls -l "$work/dist" >&2; fail "no ${pkg}_${version}-1_${arch}.deb"; }
done

# --- metadata --------------------------------------------------------------------
field() { dpkg-deb -f "${deb[$1]}" "$2"; }
expect_field() { # package field substring
  local value
  value=$(field "$1" "$2")
  case "$value" in *"$3"*) ;; *) fail "$1: $2 is '$value', expected it to contain '$3'" ;; esac
}
for pkg in "${!deb[@]}"; do
  [ "$(field "$pkg" Package)" = "$pkg" ] || fail "$pkg: Package is '$(field "$pkg" Package)'"
  [ "$(field "$pkg" Version)" = "$version-1" ] || fail "$pkg: Version is '$(field "$pkg" Version)'"
  [ "$(field "$pkg" Architecture)" = "$arch" ] || fail "$pkg: Architecture is '$(field "$pkg" Architecture)'"
  [ -n "$(field "$pkg" Description)" ] || fail "$pkg: no Description"
done
# dpkg-shlibdeps found the shared libraries the programs link, plus what is listed by hand.
for dep in libc6 libstdc++6 libsystemd0 libsdbus-c++ adduser dbus; do expect_field attendance-scanner Depends "$dep"; done
expect_field attendance-scanner Recommends bluez
for dep in libc6 libpqxx libsodium libssl3 adduser; do expect_field attendance-server Depends "$dep"; done
for dep in libboost1.81-dev libfmt-dev libsdbus-c++-dev libsodium-dev libpqxx-dev libssl-dev; do
  expect_field libattendance-dev Depends "$dep"
done
# Maintainer scripts and conffiles are in the control archives.
for pkg in attendance-scanner attendance-server; do
  mkdir -p "$work/control/$pkg"
  dpkg-deb -e "${deb[$pkg]}" "$work/control/$pkg"
  for f in postinst prerm postrm conffiles; do [ -f "$work/control/$pkg/$f" ] || fail "$pkg: no $f"; done
  for f in postinst prerm postrm; do
    [ -x "$work/control/$pkg/$f" ] || fail "$pkg: $f is not executable"
    sh -n "$work/control/$pkg/$f" || fail "$pkg: $f does not parse (sh -n)"
  done
done
[ "$(cat "$work/control/attendance-scanner/conffiles")" = "/etc/attendance/scanner.toml" ] ||
  fail "attendance-scanner conffiles: $(cat "$work/control/attendance-scanner/conffiles")"
[ "$(sort "$work/control/attendance-server/conffiles" | tr '\n' ' ')" = "/etc/attendance/server.env /etc/attendance/server.toml " ] ||
  fail "attendance-server conffiles: $(cat "$work/control/attendance-server/conffiles")"

# --- file lists ------------------------------------------------------------------
expect_files() { # package path...
  local pkg=$1 list
  shift
  list=$(dpkg-deb -c "${deb[$pkg]}" | awk '{print $6}' | sed 's|^\./|/|')
  for path in "$@"; do
    grep -qxF "$path" <<<"$list" || { echo "$list" >&2; fail "$pkg does not hold $path"; }
  done
  echo "$list" >"$work/$pkg.files"
}
expect_files attendance-scanner /usr/bin/attendance-scanner /usr/bin/attendance-sync /usr/bin/attendance-beacon \
  /usr/lib/systemd/system/attendance-scanner.service /usr/lib/systemd/system/attendance-sync-follow.service \
  /usr/share/dbus-1/system.d/attendance-scanner.conf /etc/attendance/scanner.toml \
  /usr/share/doc/attendance-scanner/scanner.md /usr/share/doc/attendance-scanner/packaging.md
expect_files attendance-server /usr/bin/attendance-backend /usr/bin/attendance-admin \
  /usr/lib/systemd/system/attendance-backend.service /usr/lib/systemd/system/attendance-admin.service \
  /etc/attendance/server.env /etc/attendance/server.toml /usr/share/doc/attendance-server/backend.md \
  /usr/share/doc/attendance-server/examples/haproxy-attendance-tls.cfg
expect_files libattendance-dev /usr/include/attendance/support/clock.hpp /usr/include/attendance/core/report.hpp \
  /usr/lib/cmake/attendance/attendanceConfig.cmake /usr/lib/cmake/attendance/attendanceConfigVersion.cmake
for lib in support dedup_cache jsonl_log beacon_id ble_scan http_server batch_client core; do
  expect_files libattendance-dev "/usr/lib/libattendance_$lib.a" "/usr/lib/cmake/attendance/attendance-$lib-targets.cmake"
done
# Each program is in exactly one package, and nothing else of the build leaked in.
grep -q '^/usr/bin/attendance-\(backend\|admin\)$' "$work/attendance-scanner.files" && fail "server program in attendance-scanner"
grep -q '^/usr/bin/attendance-\(scanner\|sync\|beacon\)$' "$work/attendance-server.files" && fail "scanner program in attendance-server"
grep -q '^/usr/bin/' "$work/libattendance-dev.files" && fail "a program in libattendance-dev"
grep -q '\.a$' "$work/attendance-scanner.files" "$work/attendance-server.files" && fail "a static library in a program package"
grep -q '/usr/local\|/var/lib/attendance-scanner' "$work/control/attendance-scanner/postinst" && fail "old paths in postinst"

# --- extract into a scratch root --------------------------------------------------
root="$work/root"
for pkg in "${!deb[@]}"; do dpkg -x "${deb[$pkg]}" "$root"; done
for exe in attendance-scanner attendance-sync attendance-beacon attendance-backend attendance-admin; do
  info=$(file -b "$root/usr/bin/$exe")
  case "$info" in *ELF*executable*", stripped"*) ;; *) fail "$exe: $info (expected a stripped ELF executable)" ;; esac
done

# --- units -----------------------------------------------------------------------
units=("$root"/usr/lib/systemd/system/*.service)
[ ${#units[@]} -eq 4 ] || fail "expected 4 units, found ${#units[@]}"
step "systemd-analyze verify --root of ${#units[@]} units"
# The root needs systemd's own units (sysinit.target, …) to load ours: this
# machine's, copied beside them (after the count above), never over them.
cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
out=$(cd "$root" && systemd-analyze verify --man=no --root="$root" "${units[@]#"$root"}" 2>&1) ||
  { echo "$out"; fail "systemd-analyze verify"; }
# verify also exits 0 on some warnings; any output is a finding.
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify printed findings"; }
# The verify above resolves ExecStart inside the root: a unit naming a path the
# package does not ship fails it. Prove that, so the check cannot pass vacuously.
sed 's|/usr/bin/attendance-scanner|/usr/bin/attendance-missing|' "$root/usr/lib/systemd/system/attendance-scanner.service" \
  >"$work/broken.service"
mkdir -p "$root/etc/systemd/system"
cp "$work/broken.service" "$root/etc/systemd/system/attendance-broken.service"
if (cd "$root" && systemd-analyze verify --man=no --root="$root" /etc/systemd/system/attendance-broken.service) >/dev/null 2>&1; then
  fail "systemd-analyze verify accepted a unit whose ExecStart does not exist"
fi
rm "$root/etc/systemd/system/attendance-broken.service"
for unit in "${units[@]}"; do
  name=$(basename "$unit")
  grep -qx 'NoNewPrivileges=yes' "$unit" || fail "$name: no NoNewPrivileges=yes"
  grep -qx 'ProtectSystem=strict' "$unit" || fail "$name: no ProtectSystem=strict"
  grep -qx 'ProtectHome=yes' "$unit" || fail "$name: no ProtectHome=yes"
  grep -qx 'PrivateTmp=yes' "$unit" || fail "$name: no PrivateTmp=yes"
  grep -q '^User=attendance' "$unit" || fail "$name: no User= (it would run as root)"
  grep -q '/var/lib/attendance-scanner\|/usr/local' "$unit" && fail "$name: names an old path"
done
for name in attendance-scanner attendance-backend attendance-admin; do
  grep -qx 'Type=notify' "$root/usr/lib/systemd/system/$name.service" || fail "$name unit is not Type=notify"
done
grep -qx 'WatchdogSec=30' "$root/usr/lib/systemd/system/attendance-scanner.service" || fail "scanner unit has no WatchdogSec"
grep -qx 'StateDirectory=attendance' "$root/usr/lib/systemd/system/attendance-scanner.service" ||
  fail "scanner unit has no StateDirectory=attendance"

# --- D-Bus policy ----------------------------------------------------------------
# A private bus whose default policy denies org.bluez, with the shipped policy
# included; python owns org.bluez (libdbus answers Peer.Ping), dbus-send calls it.
policy="$root/usr/share/dbus-1/system.d/attendance-scanner.conf"
me=$(id -un)
start_bus() { # name policy-file -> address in $address
  local dir="$work/bus-$1"
  mkdir -p "$dir"
  cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow send_type="signal"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <deny send_destination="org.bluez"/>
  </policy>
  <include>$2</include>
</busconfig>
EOF
  dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile --print-address=3 3>"$dir/address" 2>"$dir/log" &
  daemons+=($!)
  for _ in $(seq 100); do [ -s "$dir/address" ] && break; kill -0 "${daemons[-1]}" 2>/dev/null || break; sleep 0.05; done
  [ -s "$dir/address" ] || { cat "$dir/log" >&2; fail "dbus-daemon did not start with $2"; }
  address=$(head -n1 "$dir/address")
  /usr/bin/python3 -c '
import sys, dbus
from gi.repository import GLib
from dbus.mainloop.glib import DBusGMainLoop
DBusGMainLoop(set_as_default=True)
bus = dbus.bus.BusConnection(sys.argv[1])
bus.request_name("org.bluez")
print("owned", flush=True)
GLib.MainLoop().run()' "$address" >"$dir/owner" 2>&1 &
  daemons+=($!)
  for _ in $(seq 200); do grep -q owned "$dir/owner" && break; sleep 0.05; done
  grep -q owned "$dir/owner" || { cat "$dir/owner" >&2; fail "could not own org.bluez on the private bus"; }
}
ping_bluez() { timeout 10 dbus-send --bus="$1" --print-reply --dest=org.bluez / org.freedesktop.DBus.Peer.Ping 2>&1; }
step "D-Bus policy in a private dbus-daemon"
start_bus shipped "$policy"
# dbus-daemon read the policy (it names a user this machine need not have) and said nothing else about it.
grep -q 'Unknown username "attendance"' "$work/bus-shipped/log" || getent passwd attendance >/dev/null ||
  { cat "$work/bus-shipped/log" >&2; fail "dbus-daemon did not read the policy's user"; }
if grep -v 'Unknown username "attendance"\|fd limit' "$work/bus-shipped/log" | grep -q .; then
  cat "$work/bus-shipped/log" >&2
  fail "dbus-daemon complained about the policy"
fi
# The policy names the user "attendance", which this machine need not have: denied here.
out=$(ping_bluez "$address") && fail "org.bluez answered a user the policy does not name: $out"
grep -q AccessDenied <<<"$out" || fail "expected AccessDenied, got: $out"
# The same policy for this test's user: allowed.
sed "s/user=\"attendance\"/user=\"$me\"/" "$policy" >"$work/policy-me.conf"
grep -q "user=\"$me\"" "$work/policy-me.conf" || fail "the policy does not name the user attendance"
start_bus me "$work/policy-me.conf"
out=$(ping_bluez "$address") || fail "the policy did not let its user call org.bluez: $out"

# --- the programs ----------------------------------------------------------------
for exe in attendance-scanner attendance-sync attendance-beacon attendance-backend attendance-admin; do
  out=$("$root/usr/bin/$exe" --version) || fail "$exe --version exited $?"
  [[ "$out" =~ ^$exe\ $version\ \(.+\)$ ]] || fail "$exe --version printed '$out'"
  out=$("$root/usr/bin/$exe" --help) || fail "$exe --help exited $?"
  grep -qi 'usage' <<<"$out" || fail "$exe --help printed no usage"
  grep -qi 'exit' <<<"$out" || fail "$exe --help lists no exit codes"
done
# The shipped scanner config is accepted by the shipped scanner up to the point
# where it needs the system bus (no D-Bus here: exit 1, not 2 for a bad config).
status=0
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/no-bus" "$root/usr/bin/attendance-scanner" \
  --config "$root/etc/attendance/scanner.toml" --log "$work/log.jsonl" >/dev/null 2>"$work/scanner.err" || status=$?
[ "$status" -eq 1 ] || { cat "$work/scanner.err" >&2; fail "scanner with the shipped config exited $status, expected 1 (no bus)"; }
grep -q 'no system D-Bus' "$work/scanner.err" || { cat "$work/scanner.err" >&2; fail "scanner did not name the missing bus"; }

# --- libattendance-dev -----------------------------------------------------------
step "an outside project against the extracted libattendance-dev"
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log"; fail "configuring the consumer"; }
grep -q "$root/usr/lib/cmake/attendance" "$work/consumer/CMakeCache.txt" || fail "the consumer found attendance elsewhere"
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "building the consumer"; }
out=$("$work/consumer/consumer") || fail "the consumer exited $?"
grep -q 'consumer ok' <<<"$out" || fail "the consumer printed: $out"

# --- postinst for real on a private /etc ------------------------------------------
# unshare -m: a mount namespace where /etc is a copy, so the real adduser, chown and
# chmod run as on an installing machine without touching this one. Without the
# privilege for it (an unprivileged container) this part is skipped and says so.
if unshare -m true 2>/dev/null; then
  step "postinst configure on a private copy of /etc (unshare -m)"
  before=$(cat /etc/passwd /etc/group | md5sum)
  cp -a /etc "$work/etc"
  mkdir -p "$work/etc/attendance" "$work/empty"
  cp "$root"/etc/attendance/* "$work/etc/attendance/"
  chmod 0644 "$work/etc/attendance"/*
  out=$(unshare -m sh -euc '
    mount --bind "$1/etc" /etc
    # no systemd here, whatever the host runs: postinst must not talk to it
    [ -d /run/systemd ] && mount -t tmpfs none /run/systemd
    c=$2/control
    sh "$c/attendance-scanner/postinst" configure ""
    sh "$c/attendance-server/postinst" configure ""
    # an upgrade: the users exist, nothing fails, modes an operator set stay
    chmod 0600 /etc/attendance/scanner.toml
    sh "$c/attendance-scanner/postinst" configure 0.0.9-1
    sh "$c/attendance-server/postinst" configure 0.0.9-1
    getent passwd attendance | cut -d: -f6,7
    getent passwd attendance-server | cut -d: -f6,7
    id -gn attendance; id -gn attendance-server
    stat -c "%n %U:%G %a" /etc/attendance/scanner.toml /etc/attendance/server.env /etc/attendance/server.toml
  ' sh "$work" "$work" 2>&1) || { echo "$out"; fail "postinst failed"; }
  expected="/var/lib/attendance:/usr/sbin/nologin
/nonexistent:/usr/sbin/nologin
attendance
attendance-server
/etc/attendance/scanner.toml root:attendance 600
/etc/attendance/server.env root:attendance-server 640
/etc/attendance/server.toml root:attendance-server 640"
  [ "$out" = "$expected" ] || { printf 'got:\n%s\nexpected:\n%s\n' "$out" "$expected"; fail "postinst did not leave what it should"; }
  [ "$(cat /etc/passwd /etc/group | md5sum)" = "$before" ] || fail "postinst changed this machine's /etc"
else
  step "SKIPPED running postinst: no privilege for a mount namespace here (sh -n passed)"
fi

step "ok: 3 packages, ${#units[@]} units verified, D-Bus policy allowed/denied as written, 5 programs, consumer built"
