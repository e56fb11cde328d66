#!/usr/bin/python3
"""Issue 11's "done when", end to end and all real, on loopback: the real attendance-backend (with a beacon
key and `--private-id-period 4`, so windows rotate in seconds) on a fresh database of pg_virtualenv's
cluster; an event with private ids running now and a static-id event; two participants who sign up and
register through the participant API; the real attendance-beacon for each of them advertising through the
simulator's LEAdvertisingManager1 on hci1 (tools/bluez-sim, relayed to hci0); the real attendance-scanner
on hci0 with the event's `--roster` from `attendance-sync roster` (a private-ids event's roster: the
namespace and no bleUuids, ADR 0078); a stranger's devices advertised directly on hci0 (an id
outside the namespace, a factory-default iBeacon); then attendance-sync and `attendance-admin report`.

  - the strangers' devices are never logged, never in the report;
  - the private participant's id rotates at least four times on air (five windows logged), and the report
    of the private event shows that participant checked in once: one attendee, no unknown devices;
  - the static participant (registered to the static-id event, a walk-in at the private one) is checked in
    by its static bleUuid;
  - the private participant's id of 24 hours ago (`attendance-beacon id --at`), replayed now in a batch, is
    rejected with reason `expired_id`.

  beacon_chain.py BLUEZ_SIM_DIR BACKEND ADMIN SCANNER SYNC BEACON   (inside pg_virtualenv)

About 20 s. On failure the programs' logs are kept; the directory is printed."""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scanner'))
from scanner_harness import Payload, Simulator, read_lines, wait_for  # noqa: E402
from bluez_sim import control  # noqa: E402  (tools/bluez-sim, on the path through scanner_harness)

BACKEND_BIN, ADMIN_BIN, SCANNER_BIN, SYNC_BIN, BEACON_BIN = (os.path.abspath(p) for p in sys.argv[1:6])
del sys.argv[1:6]

PERIOD = 4  # seconds: the backend's --private-id-period, which the beacons get from GET /api/me/beacon
WINDOWS = 5  # private ids to see logged: four rotations
PRIVATE_EVENT = 'ev-beacon-private'
STATIC_EVENT = 'ev-beacon-static'
SCANNER_ID = 'Door-1'
FACTORY_IBEACON = 'fda50693-a4e2-4fb1-afcf-c6eb07647825'  # on most cheap tags


def note(text):
    print(f'[{time.strftime("%H:%M:%S")}] {text}', file=sys.stderr, flush=True)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def http(url, body=None, token=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method='POST' if body is not None else 'GET')
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('Authorization', f'Bearer {token}')
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b'{}')


def write_secret(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='utf-8') as f:
        f.write(text + '\n')


class BeaconChain(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='beacon-chain-e2e.')
        self.procs = []  # every process this test started, stopped in tearDown
        self.db = None
        self.sim = None
        self.passed = False

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.sim:
            control.stop_relay(self.sim)
            self.sim.close()
        if self.db:
            subprocess.run(['dropdb', '--if-exists', '--force', self.db], capture_output=True, timeout=60, check=False)
        if self.passed:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            note(f"the programs' logs are kept in {self.tmp}")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def admin(self, *args):
        r = subprocess.run([ADMIN_BIN, '--database-url', f'dbname={self.db}', *args], capture_output=True, text=True,
                           timeout=60, check=False)
        self.assertEqual(r.returncode, 0, f'attendance-admin {" ".join(args)}: {r.stderr}')
        return r.stdout

    def start(self, args, name, env=None, stdout=subprocess.DEVNULL):
        with open(self.path(f'{name}.err'), 'ab') as err:
            p = subprocess.Popen(args, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL, env=env)
        self.procs.append(p)
        return p

    def stop(self, p, name):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail(f'{name} did not stop within 15 s of SIGTERM')
        self.assertEqual(rc, 0, f'{name} exited {rc}')

    def alive(self, *named):
        for p, name in named:
            if p.poll() is not None:
                with open(self.path(f'{name}.err'), encoding='utf-8', errors='replace') as f:
                    self.fail(f'{name} exited early with {p.returncode}:\n{f.read()[-2000:]}')

    def backend(self, key_file):
        p = self.start([BACKEND_BIN, 'serve', '--listen', '127.0.0.1:0', '--no-access-log', '--beacon-key-file',
                        key_file, '--private-id-period', str(PERIOD), '--insecure-fast-password-hashing'],
                       'backend', env=dict(os.environ, DATABASE_URL=f'dbname={self.db}'), stdout=subprocess.PIPE)
        lines = []
        reader = threading.Thread(target=lambda: lines.append(p.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=30)
        self.assertTrue(lines and lines[0], 'the backend did not start (backend.err)')
        return 'http://127.0.0.1:' + json.loads(lines[0])['listening'].rsplit(':', 1)[1]

    def participant(self, url, n, event):
        email = f'p{n}@example.org'
        password = f'beacon-pass-{n}'
        account = http(f'{url}/api/participants', {'email': email, 'displayName': f'Participant {n}',
                                                   'password': password})
        http(f'{url}/api/events/{event}/registrations', {}, token=account['token'])
        password_file = self.path(f'p{n}.password')
        write_secret(password_file, password)
        return {'bleUuid': account['bleUuid'], 'sign_in': ['--backend', url, '--email', email, '--password-file',
                                                           password_file]}

    def beacon_id(self, who, at_ms, event):
        r = subprocess.run([BEACON_BIN, 'id', '--at', str(at_ms), *who['sign_in'], '--event', event],
                           capture_output=True, text=True, timeout=30, check=False)
        self.assertEqual(r.returncode, 0, f'attendance-beacon id: {r.stderr}')
        return r.stdout.strip()

    def test_strangers_never_logged_rotating_id_checked_in_once_replay_expired(self):
        started = time.monotonic()
        # -- the backend, its deployment, events, scanner and participants ------------------------
        self.db = f'beacon_chain_{os.getpid()}_{uuid.uuid4().hex[:8]}'
        subprocess.run(['createdb', self.db], check=True, timeout=60)
        self.admin('migrate')
        key_file = self.path('beacon.key')
        r = subprocess.run([BACKEND_BIN, 'beacon-key', 'generate', '--file', key_file], capture_output=True,
                           text=True, timeout=30, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        now = time.time()
        self.admin('event', 'create', '--name', 'Private meetup', '--id', PRIVATE_EVENT, '--starts', iso(now - 600),
                   '--ends', iso(now + 600), '--private-ids')
        self.admin('event', 'create', '--name', 'Static meetup', '--id', STATIC_EVENT, '--starts', iso(now - 600),
                   '--ends', iso(now + 600))
        api_key = json.loads(self.admin('scanner', 'create', '--id', SCANNER_ID))['apiKey']
        self.admin('scanner', 'assign', '--id', SCANNER_ID, '--event', PRIVATE_EVENT)
        api_key_file = self.path('scanner.key')
        write_secret(api_key_file, api_key)
        namespace = json.loads(self.admin('deployment', 'show'))['namespace']
        url = self.backend(key_file)
        private = self.participant(url, 1, PRIVATE_EVENT)
        static = self.participant(url, 2, STATIC_EVENT)
        stranger_outside = str(uuid.UUID(int=uuid.uuid4().int))
        self.assertFalse(stranger_outside.replace('-', '').startswith(namespace))
        strangers = {stranger_outside, FACTORY_IBEACON}

        # -- the air: beacons on hci1, relayed to the scanner on hci0; a stranger on hci0 ------------
        self.sim = Simulator()
        self.sim.add_adapter('hci0')
        self.sim.add_adapter('hci1')
        control.start_relay(self.sim, 0.2)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.sim.address)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        log = self.path('attendance_log.jsonl')
        # The scanner's roster, as at a real door: a private-ids event's names nobody and holds nothing that
        # links a rotating id to anyone; the scanner must still log the rotating ids (and the walk-in).
        roster_file = self.path('roster.json')
        r = subprocess.run([SYNC_BIN, 'roster', '--event', PRIVATE_EVENT, '--backend', url, '--api-key-file',
                            api_key_file, '--out', roster_file], capture_output=True, text=True, timeout=60,
                           check=False)
        self.assertEqual(r.returncode, 0, f'attendance-sync roster: {r.stdout}\n{r.stderr}')
        with open(roster_file, encoding='utf-8') as f:
            roster = json.load(f)
        self.assertEqual(roster, {'eventId': PRIVATE_EVENT, 'namespace': namespace, 'privateIds': True,
                                  'bleUuids': []})
        scanner = self.start([SCANNER_BIN, '--event', PRIVATE_EVENT, '--scanner-id', SCANNER_ID, '--log', log,
                              '--roster', roster_file, '--adapter', 'hci0', '--dedup-window', '1h', '--fsync',
                              'always', '--status-interval', '5s'], 'scanner', env=env)
        wait_for('the scanner to discover on hci0', lambda: scanner.poll() is None and self.sim.discovering('hci0'),
                 timeout=20)
        b_private = self.start([BEACON_BIN, *private['sign_in'], '--adapter', 'hci1', '--format', 'eddystone'],
                               'beacon-private', env=env)
        b_static = self.start([BEACON_BIN, *static['sign_in'], '--adapter', 'hci1'], 'beacon-static', env=env)
        on_air = time.time()
        strangers_sent = 0

        def logged():
            return [dict(l)['bleUuid'] for l in read_lines(log)]

        deadline = time.monotonic() + PERIOD * (WINDOWS + 3) + 20
        while time.monotonic() < deadline:
            ids = set(logged())
            if static['bleUuid'] in ids and len(ids - {static['bleUuid']}) >= WINDOWS:
                break
            self.alive((scanner, 'scanner'), (b_private, 'beacon-private'), (b_static, 'beacon-static'))
            # The stranger's devices come and go (new addresses each time), as phones in a hall do.
            self.sim.advertise('hci0', f'C0:FF:EE:00:00:{strangers_sent % 256:02X}',
                               Payload.for_participant('ibeacon', stranger_outside), rssi=-50, via='added')
            self.sim.advertise('hci0', f'C0:FF:EE:00:01:{strangers_sent % 256:02X}',
                               Payload.for_participant('ibeacon', FACTORY_IBEACON), rssi=-50, via='added')
            strangers_sent += 1
            time.sleep(0.5)
        off_air = time.time()
        self.stop(b_private, 'attendance-beacon (private)')
        self.stop(b_static, 'attendance-beacon (static)')
        self.stop(scanner, 'attendance-scanner')
        note(f'{off_air - on_air:.1f} s on air; the stranger advertised {strangers_sent} times on each of 2 devices')

        # -- what the scanner logged: the beacons' ids, never a stranger's ------------------------------
        ids = logged()
        self.assertEqual(set(ids) & strangers, set(), 'a stranger was logged')
        self.assertEqual(ids.count(static['bleUuid']), 1, ids)
        self.assertNotIn(private['bleUuid'], ids, "the private participant's static id went on air")
        expected = {}  # the private participant's id per window while on air, from attendance-beacon id
        for window in range(int(on_air) // PERIOD, int(off_air) // PERIOD + 1):
            expected[self.beacon_id(private, window * PERIOD * 1000, PRIVATE_EVENT)] = window
        rotating = [i for i in ids if i != static['bleUuid']]
        self.assertEqual([i for i in rotating if i not in expected], [], f'ids no window derives; expected {expected}')
        self.assertEqual(len(rotating), len(set(rotating)), rotating)
        self.assertGreaterEqual(len(rotating), WINDOWS, f'fewer than {WINDOWS - 1} rotations logged: {rotating}')
        note(f'the private id rotated {len(rotating) - 1} times on air (windows '
             f'{sorted(expected[i] for i in rotating)})')

        # -- sync, then the report ----------------------------------------------------------------------
        r = subprocess.run([SYNC_BIN, '--backend', url, '--api-key-file', api_key_file, '--log', log],
                           capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(r.returncode, 0, f'attendance-sync: {r.stdout}\n{r.stderr}')
        report = json.loads(self.admin('report', '--event', PRIVATE_EVENT, '--format', 'json'))
        text = json.dumps(report)
        for s in strangers:
            self.assertNotIn(s, text, 'a stranger in the report')
        for i in rotating:
            self.assertNotIn(i, text, 'a rotating id in the report (it resolves to the participant)')
        self.assertEqual(report['unknownDevices'], [], 'the rotating ids became unknown devices')
        people = {p['bleUuid']: p for p in report['participants']}
        self.assertTrue(people[private['bleUuid']]['firstSeen'], report)
        self.assertTrue(people[static['bleUuid']]['firstSeen'], report)
        s = report['summary']
        self.assertEqual((s['registered'], s['attended'], s['walkIns'], s['unknownDevices']), (1, 1, 1, 0), s)
        stored = subprocess.run(['psql', '-X', '-A', '-t', '-d', self.db, '-c',
                                 f"SELECT ble_uuid::text FROM check_ins WHERE event_id = '{PRIVATE_EVENT}'"],
                                capture_output=True, text=True, timeout=60, check=True).stdout.split()
        self.assertEqual(set(stored), {private['bleUuid'], static['bleUuid']}, stored)

        # -- yesterday's id replayed now: expired_id ------------------------------------------------
        now_ms = int(time.time() * 1000)
        yesterday = self.beacon_id(private, now_ms - 24 * 3600 * 1000, PRIVATE_EVENT)
        self.assertNotIn(yesterday, expected)
        answer = http(f'{url}/batchCheckIn', {'eventId': PRIVATE_EVENT, 'records': [
            {'bleUuid': yesterday, 'checkInTime': now_ms, 'scannerId': SCANNER_ID}]}, token=api_key)
        self.assertEqual((answer['inserted'], [x['reason'] for x in answer['rejected']]), (0, ['expired_id']), answer)
        self.assertEqual(json.loads(self.admin('report', '--event', PRIVATE_EVENT, '--format', 'json'))['summary'], s)
        note(f'done in {time.monotonic() - started:.0f} s')
        self.passed = True


if __name__ == '__main__':
    unittest.main(verbosity=2)
