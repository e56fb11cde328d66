#!/usr/bin/python3
"""beacon.over_the_air: the real attendance-beacon and the real attendance-scanner through the
simulated air, nothing hand-made in between.

One bluez-sim with two adapters and its relay (`serve --relay-interval 0.2`): the scanner
discovers on hci0 with the deployment's --namespace; on hci1 two beacons advertise from saved
settings: one participant with no event running (its static bleUuid, iBeacon) and one during an
event with private ids and a 4-second period (Eddystone-UID), which rotates its id every window.
The scanner's log must hold exactly the static id once and, for the private participant, the id
of each window it broadcast in (as `attendance-beacon id --at` says) and nothing else: never its
static id, never a stranger's.

usage: over_the_air.py BLUEZ_SIM ATTENDANCE_BEACON ATTENDANCE_SCANNER"""

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

NS = 'edd1ebeac04e5defa017'
KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
STATIC_ALONE = 'edd1ebea-c04e-5def-a017-5a5a5a5a5a5a'  # the participant without a private-id event
STATIC_PRIVATE = 'edd1ebea-c04e-5def-a017-0000000000aa'  # the private participant's static id: never on air
PERIOD = 4
WINDOWS = 4  # rotations to see


def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def write_settings(path, ble_uuid, key, events):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='utf-8') as f:
        json.dump({'namespace': NS, 'bleUuid': ble_uuid, 'periodSeconds': PERIOD, 'identityKey': key,
                   'events': events}, f)


def stop(proc, name, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail(f'{name} did not stop after SIGTERM')
    if rc != 0:
        fail(f'{name} exited {rc}')


def log_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip() and '"checkInTime"' in line]


def main():
    sim_path, beacon, scanner = sys.argv[1:4]
    procs = []
    with tempfile.TemporaryDirectory(prefix='beacon-air-') as tmp:
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
        env.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        sim = subprocess.Popen(['/usr/bin/python3', sim_path, '--adapter', 'hci0,hci1', 'serve', '--relay-interval',
                                '0.2'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        procs.append(sim)
        try:
            line = sim.stdout.readline().decode().strip()
            if not line.startswith('DBUS_SYSTEM_BUS_ADDRESS='):
                fail(f'bluez-sim printed {line!r}')
            env['DBUS_SYSTEM_BUS_ADDRESS'] = line.split('=', 1)[1]

            log = os.path.join(tmp, 'attendance_log.jsonl')
            with open(os.path.join(tmp, 'scanner.err'), 'w', encoding='utf-8') as scanner_err:
                scan = subprocess.Popen([scanner, '--event', 'ev-private', '--scanner-id', 'Door-1', '--log', log,
                                         '--namespace', NS, '--adapter', 'hci0', '--dedup-window', '1h',
                                         '--fsync', 'always', '--status-interval', '5s'],
                                        stderr=scanner_err, env=env)
            procs.append(scan)

            now = time.time()
            alone = os.path.join(tmp, 'alone.json')
            write_settings(alone, STATIC_ALONE, None, [])
            private = os.path.join(tmp, 'private.json')
            write_settings(private, STATIC_PRIVATE, KEY, [
                {'id': 'ev-private', 'name': 'Meetup', 'startsAt': iso(now - 60), 'endsAt': iso(now + 3600),
                 'privateIds': True}])
            beacon_err = open(os.path.join(tmp, 'beacons.err'), 'w', encoding='utf-8')  # pylint: disable=consider-using-with
            b1 = subprocess.Popen([beacon, '--settings', alone, '--adapter', 'hci1'], stderr=beacon_err, env=env)
            procs.append(b1)
            b2 = subprocess.Popen([beacon, '--settings', private, '--adapter', 'hci1', '--format', 'eddystone'],
                                  stderr=beacon_err, env=env)
            procs.append(b2)
            started = time.time()

            # Until the private participant was logged in WINDOWS windows (or the deadline).
            deadline = started + PERIOD * (WINDOWS + 3) + 20
            while time.time() < deadline:
                ids = {l['bleUuid'] for l in log_lines(log)}
                if len(ids - {STATIC_ALONE}) >= WINDOWS and STATIC_ALONE in ids:
                    break
                for p, name in ((scan, 'attendance-scanner'), (b1, 'attendance-beacon'), (b2, 'attendance-beacon')):
                    if p.poll() is not None:
                        fail(f'{name} exited early with {p.returncode}')
                time.sleep(0.2)
            ended = time.time()
            stop(b1, 'attendance-beacon (static)')
            stop(b2, 'attendance-beacon (private)')
            stop(scan, 'attendance-scanner')
            beacon_err.close()

            # The ids the private beacon broadcast, one per window, from the tool itself.
            expected = {}
            first = int(started) // PERIOD
            for window in range(first, int(ended) // PERIOD + 1):
                r = subprocess.run([beacon, 'id', '--at', str(window * PERIOD * 1000), '--settings', private],
                                   capture_output=True, text=True, env=env, check=False)
                if r.returncode != 0:
                    fail(f'attendance-beacon id exited {r.returncode}: {r.stderr}')
                expected[r.stdout.strip()] = window

            lines = log_lines(log)
            ids = [l['bleUuid'] for l in lines]
            if ids.count(STATIC_ALONE) != 1:
                fail(f'the static participant was logged {ids.count(STATIC_ALONE)} times, not once: {ids}')
            if STATIC_PRIVATE in ids:
                fail('the private participant\'s static id went on air')
            private_ids = [i for i in ids if i != STATIC_ALONE]
            strangers = [i for i in private_ids if i not in expected]
            if strangers:
                fail(f'logged ids no window of the private participant derives: {strangers}; expected {expected}')
            if len(set(private_ids)) != len(private_ids):
                fail(f'a private id was logged twice: {private_ids}')
            if len(private_ids) < WINDOWS:
                fail(f'the private participant was logged in {len(private_ids)} windows, expected >= {WINDOWS}')
            for l in lines:
                if l['bleUuid'] in expected:
                    seen_window = l['checkInTime'] // 1000 // PERIOD
                    if abs(seen_window - expected[l['bleUuid']]) > 1:
                        fail(f'{l["bleUuid"]} of window {expected[l["bleUuid"]]} logged in window {seen_window}')
            windows = sorted(expected[i] for i in private_ids)
            if windows != list(range(windows[0], windows[0] + len(windows))):
                fail(f'the private participant was missed in a window: windows {windows}')
            print(f'ok: static id once, private ids of windows {windows} ({len(private_ids)} rotations logged)')
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    return 0


if __name__ == '__main__':
    sys.exit(main())
