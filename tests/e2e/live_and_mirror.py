#!/usr/bin/python3
"""Issue 14's "done when", end to end and all real: the attendance-scanner binary with `--mirror` on
the BlueZ simulator (tools/bluez-sim, through tests/scanner/scanner_harness.py), `attendance-sync
--follow` beside it, the real attendance-backend on PostgreSQL, and what an organizer reads:
`attendance-admin report --format json`.

  1. Live: every check-in reaches the report within 15 s of the phone's arrival.
  2. The backend is stopped for a minute while phones go on arriving: the check-ins are in the log
     (and on the mirror) but none reaches the report; the backend starts again on the same port and
     every one of them is in the report within 15 s of its return.
  3. The follower and the scanner stop (SIGTERM); the end-of-event `attendance-sync` sends only what
     arrived after the follower stopped, nothing twice: every check-in is stored exactly once.
  4. The card is lost (the primary log, its durable mark and checkpoint deleted): `attendance-sync
     --log <mirror>` into a second, fresh database gives exactly every check-in of the simulation;
     syncing the mirror into the first backend as well adds nothing.

Everything is checked against the simulation's ground truth (which phones came, who registered), not
against fixed numbers; the phones, their order and the arrival times come from a seed printed at the
start (ATTENDANCE_E2E_SEED=N repeats one).

  live_and_mirror.py SCANNER SYNC BACKEND ADMIN   (inside pg_virtualenv: PG* name the cluster)

Takes a little over a minute, 60 s of it the outage. On failure the programs' logs and both copies of
the log are kept; the directory is printed."""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scanner'))
from scanner_harness import Payload, Scanner, Simulator, advertise, read_lines, wait_for  # noqa: E402

SCANNER_BIN, SYNC_BIN, BACKEND_BIN, ADMIN_BIN = (os.path.abspath(p) for p in sys.argv[1:5])
del sys.argv[1:5]

EVENT = 'ev-live-mirror'
SCANNER_ID = 'Entrance-Scanner-01'
LIVE_WITHIN = 15.0  # seconds: issue 14's bound, from arrival (or from the backend's return)
OUTAGE = 60.0  # seconds the backend is down
FORMATS = ['ibeacon', 'eddystone', 'service-uuid', 'service-data']


def note(text):
    print(f'[{time.strftime("%H:%M:%S")}] {text}', file=sys.stderr, flush=True)


class Database:
    """A fresh database on pg_virtualenv's cluster (the PG* variables), dropped at the end."""

    def __init__(self, name):
        self.name = name
        subprocess.run(['createdb', name], check=True, timeout=60)
        self.url = f'dbname={name}'  # libpq takes host, port, user and password from PG*

    def rows(self, sql):
        r = subprocess.run(['psql', '-X', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-d', self.name, '-c', sql],
                           capture_output=True, text=True, timeout=60, check=True)
        return [l for l in r.stdout.splitlines() if l]

    def drop(self):
        subprocess.run(['dropdb', '--if-exists', '--force', self.name], capture_output=True, timeout=60, check=False)


class Backend:
    """attendance-backend serve on 127.0.0.1:`port` (0: any free port); stderr to `log`."""

    def __init__(self, db, port, log):
        with open(log, 'ab') as err:
            self.proc = subprocess.Popen(
                [BACKEND_BIN, 'serve', '--listen', f'127.0.0.1:{port}', '--no-access-log'],
                env=dict(os.environ, DATABASE_URL=db.url), stdout=subprocess.PIPE, stderr=err,
                stdin=subprocess.DEVNULL)
        self.log = log
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=30)
        if not lines or not lines[0]:
            self.stop()
            raise AssertionError(f'the backend did not start:\n{open(log, encoding="utf-8").read()}')
        self.port = int(json.loads(lines[0])['listening'].rsplit(':', 1)[1])
        self.url = f'http://127.0.0.1:{self.port}'

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        return self.proc.returncode


def admin(db, *args):
    r = subprocess.run([ADMIN_BIN, '--database-url', db.url, *args], capture_output=True, text=True, timeout=60,
                       check=False)
    if r.returncode != 0:
        raise AssertionError(f'attendance-admin {" ".join(args)}: exit {r.returncode}\n{r.stderr}')
    return r.stdout


def report(db):
    return json.loads(admin(db, 'report', '--event', EVENT, '--format', 'json'))


def in_report(rep):
    """bleUuid -> (firstSeen, sightings) of everyone the report has seen (participants and unknown devices)."""
    seen = {p['bleUuid']: (p['firstSeen'], p['sightings']) for p in rep['participants'] if p['firstSeen']}
    seen.update({u['bleUuid']: (u['firstSeen'], u['sightings']) for u in rep['unknownDevices']})
    return seen


def summary_counts(out):
    """The numbers of attendance-sync's summary table ('records sent', 'inserted', 'duplicates', ...)."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'^  ([a-z][a-z ()]*?)\s+(\d+)$', out, re.M)}


class ReportWatcher:
    """Reads `attendance-admin report --format json` over and over, as an organizer refreshing the page
    would, and notes when (time.monotonic()) each bleUuid first appears in it."""

    def __init__(self, db):
        self.db = db
        self.first_at = {}
        self.rounds = 0
        self._stop = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                seen = in_report(report(self.db))
                now = time.monotonic()
                for ble in seen:
                    self.first_at.setdefault(ble, now)
                self.rounds += 1
                self._stop.wait(0.25)
        except Exception as e:  # pylint: disable=broad-except
            self._error = e

    def has(self, bles):
        if self._error:
            raise self._error
        return all(b in self.first_at for b in bles)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=60)


class LiveUploadAndMirror(unittest.TestCase):
    def setUp(self):
        self.seed = int(os.environ.get('ATTENDANCE_E2E_SEED', random.SystemRandom().randrange(1 << 30)))
        note(f'seed {self.seed} (ATTENDANCE_E2E_SEED={self.seed} repeats this run)')
        self.rng = random.Random(self.seed)
        self.tmp = tempfile.mkdtemp(prefix='live-mirror-e2e.')
        self.card = os.path.join(self.tmp, 'card')  # the Pi's SD card
        self.usb = os.path.join(self.tmp, 'usb')  # the USB stick
        os.mkdir(self.card)
        os.mkdir(self.usb)
        self.log = os.path.join(self.card, 'attendance_log.jsonl')
        self.mirror = os.path.join(self.usb, 'attendance_log.jsonl')
        self.key = os.path.join(self.tmp, 'scanner.key')
        self.dbs, self.backends, self.procs, self.watchers = [], [], [], []
        self.sim = None
        self.scanner = None
        self.passed = False

    def tearDown(self):
        for w in self.watchers:
            w.close()
        if self.scanner:
            self.scanner.kill()
            if not self.passed:
                with open(os.path.join(self.tmp, 'scanner.log'), 'w', encoding='utf-8') as f:
                    f.write(self.scanner.stderr() + '\n')
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for b in self.backends:
            b.stop()
        if self.sim:
            self.sim.close()
        for db in self.dbs:
            db.drop()
        if self.passed:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            note(f"the programs' logs and the log copies are kept in {self.tmp}")

    # -- the world --------------------------------------------------------------------------------

    def database(self, label):
        db = Database(f'live_mirror_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}')
        self.dbs.append(db)
        admin(db, 'migrate')
        admin(db, 'event', 'create', '--name', 'Live upload and mirror', '--venue', 'Hall A', '--id', EVENT)
        api_key = json.loads(admin(db, 'scanner', 'create', '--id', SCANNER_ID))['apiKey']
        admin(db, 'scanner', 'assign', '--id', SCANNER_ID, '--event', EVENT)
        return db, api_key

    def backend(self, db, port=0, n=1):
        b = Backend(db, port, os.path.join(self.tmp, f'backend-{db.name}-{n}.log'))
        self.backends.append(b)
        return b

    def write_key(self, path, api_key):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='ascii') as f:
            f.write(api_key + '\n')

    def sync(self, backend, key, log, *extra):
        r = subprocess.run([SYNC_BIN, '--backend', backend.url, '--api-key-file', key, '--log', log,
                            '--request-timeout', '2', *extra], capture_output=True, text=True, timeout=120,
                           check=False)
        note(f'attendance-sync --log {os.path.relpath(log, self.tmp)} {" ".join(extra)}: exit {r.returncode}\n'
             f'{r.stdout}')
        return r

    def arrive(self, ble):
        """A phone comes in: one advertisement in one of the formats phones use, from a random address."""
        address = ':'.join(f'{self.rng.randrange(256):02X}' for _ in range(6))
        advertise(self.sim, 'hci0', address, Payload.for_participant(self.rng.choice(FORMATS), ble),
                  rssi=self.rng.randrange(-80, -45))
        return time.monotonic()

    def logged(self, path):
        return [dict(l)['bleUuid'] for l in read_lines(path)]

    def follower_err(self):
        with open(self.follower_log, encoding='utf-8') as f:
            return f.read()

    def test_live_while_up_catches_up_after_a_minute_down_final_sync_once_and_the_mirror_alone_is_enough(self):
        started = time.monotonic()
        # -- the backend, its event, scanner and participants ----------------------------------------
        db, api_key = self.database('event')
        self.write_key(self.key, api_key)
        people = []  # (bleUuid, registered)
        for i in range(14):
            user = json.loads(admin(db, 'user', 'create', '--email', f'p{i}@example.org', '--name', f'Participant {i}'))
            registered = i < 10
            if registered:
                admin(db, 'registration', 'add', '--event', EVENT, '--user', user['id'])
            people.append((user['bleUuid'], registered))
        # Ground truth: who comes (most of the registered, some walk-ins, a few strangers' phones: the
        # scanner runs with --accept-any-id), in which order, and in which part of the event.
        came = [b for b, reg in people if self.rng.random() < (0.8 if reg else 0.6)]
        strangers = [str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(3)]
        came += strangers
        self.rng.shuffle(came)
        live, during_outage, after_follower = came[:5], came[5:-1], came[-1:]
        registered = {b for b, reg in people if reg}
        walk_in_users = {b for b, reg in people if not reg}
        note(f'{len(came)} phones come: {len(live)} while the backend is up, {len(during_outage)} while it is down, '
             f'{len(after_follower)} after the follower stopped; {len(registered - set(came))} no-shows')
        backend = self.backend(db)
        port = backend.port

        self.sim = Simulator()
        self.sim.add_adapter('hci0')
        self.scanner = Scanner(SCANNER_BIN, self.sim, self.log, '--mirror', self.mirror, event=EVENT,
                               scanner_id=SCANNER_ID)
        wait_for('discovery to start', lambda: self.scanner.proc.poll() is None and self.sim.discovering('hci0'))
        self.follower_log = os.path.join(self.tmp, 'follower.log')
        with open(self.follower_log, 'wb') as err:
            follower = subprocess.Popen([SYNC_BIN, '--follow', '--interval', '1s', '--backend', backend.url,
                                         '--api-key-file', self.key, '--log', self.log, '--request-timeout', '2'],
                                        stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        self.procs.append(follower)
        watcher = ReportWatcher(db)
        self.watchers.append(watcher)

        # -- 1. live: each check-in in the report within 15 s of the phone's arrival ------------------
        arrived = {}
        for ble in live:
            arrived[ble] = self.arrive(ble)
            time.sleep(self.rng.uniform(0.3, 1.5))
        wait_for('the live check-ins in the report', lambda: watcher.has(live), timeout=LIVE_WITHIN + 10,
                 interval=0.2)
        lag = {b: watcher.first_at[b] - arrived[b] for b in live}
        note('live: arrival to report ' + ', '.join(f'{v:.1f}s' for v in lag.values()))
        self.assertTrue(all(v <= LIVE_WITHIN for v in lag.values()), f'{lag}\n{self.follower_err()}')
        self.assertEqual(sorted(self.logged(self.log)), sorted(live))

        # -- 2. the backend stopped for a minute: the failure first, then everything on its return ----
        self.assertEqual(backend.stop(), 0)
        down_at = time.monotonic()
        note(f'backend stopped; {len(during_outage)} phones arrive over the next {OUTAGE:.0f} s')
        gaps = sorted(self.rng.uniform(2, OUTAGE - 8) for _ in during_outage)
        for ble, at in zip(during_outage, gaps):
            time.sleep(max(0.0, down_at + at - time.monotonic()))
            arrived[ble] = self.arrive(ble)
            if self.rng.random() < 0.5:  # someone already inside walks past the scanner again: no new line
                self.arrive(self.rng.choice(live))
        # On the Pi (both copies) and durable, but not in the report: the follower is failing.
        wait_for('the outage check-ins durable in the log',
                 lambda: self.scanner.durable_lines() >= len(live) + len(during_outage), timeout=15)
        self.assertEqual(sorted(self.logged(self.log)), sorted(live + during_outage))
        self.assertEqual(sorted(self.logged(self.mirror)), sorted(live + during_outage))
        time.sleep(max(0.0, down_at + OUTAGE - time.monotonic()))
        missing = set(in_report(report(db))) & set(during_outage)
        self.assertEqual(missing, set(), 'a check-in reached the report while the backend was down')
        self.assertFalse(any(b in watcher.first_at for b in during_outage))
        self.assertIn('upload failed', self.follower_err())
        self.assertIsNone(follower.poll(), f'the follower gave up:\n{self.follower_err()}')

        backend = self.backend(db, port, n=2)
        back_at = time.monotonic()
        note(f'backend back on port {port} after {back_at - down_at:.1f} s')
        wait_for('the outage check-ins in the report', lambda: watcher.has(during_outage), timeout=LIVE_WITHIN + 10,
                 interval=0.2)
        lag = {b: watcher.first_at[b] - back_at for b in during_outage}
        note('after the outage: return to report ' + ', '.join(f'{v:.1f}s' for v in lag.values()))
        self.assertTrue(all(0 < v <= LIVE_WITHIN for v in lag.values()), f'{lag}\n{self.follower_err()}')
        self.assertTrue(all(watcher.first_at[b] >= back_at for b in during_outage))
        self.assertIn('caught up', self.follower_err())

        # -- 3. stop the follower and the scanner; the end-of-event sync sends nothing twice ----------
        follower.send_signal(signal.SIGTERM)
        self.assertEqual(follower.wait(timeout=30), 0, self.follower_err())
        self.assertIn('stopped on request', self.follower_err())
        watcher.close()
        for ble in after_follower:
            arrived[ble] = self.arrive(ble)
        wait_for('the last check-in durable', lambda: self.scanner.durable_lines() >= len(came), timeout=15)
        self.assertEqual(self.scanner.stop(), 0, self.scanner.stderr())
        self.scanner.kill()  # exited already: closes its stderr
        self.scanner = None
        self.assertEqual(sorted(self.logged(self.log)), sorted(came))  # one line per phone (dedup)
        self.assertEqual(sorted(self.logged(self.mirror)), sorted(came))
        before = set(in_report(report(db)))
        self.assertEqual(before, set(live + during_outage))  # the last one is only on the Pi
        r = self.sync(backend, self.key, self.log)
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = summary_counts(r.stdout)
        self.assertEqual((counts['records sent'], counts['inserted'], counts['duplicates']),
                         (len(after_follower), len(after_follower), 0), r.stdout)

        rows = db.rows(f"SELECT ble_uuid::text, check_in_time, scanner_id FROM check_ins WHERE event_id = '{EVENT}'")
        self.assertEqual(len(rows), len(set(rows)))
        self.assertEqual(sorted(r.split('|')[0] for r in rows), sorted(came))  # every phone, each once
        final = report(db)
        seen = in_report(final)
        self.assertEqual(set(seen), set(came))
        self.assertTrue(all(sightings == 1 for _, sightings in seen.values()), seen)
        s = final['summary']
        self.assertEqual((s['registered'], s['attended'], s['noShows'], s['walkIns'], s['unknownDevices']),
                         (len(registered), len(registered & set(came)), len(registered - set(came)),
                          len(walk_in_users & set(came)), len(strangers)))
        self.assertEqual(final['scanners'][0]['recordsStored'], len(came))

        # -- 4. the card is lost: the mirror alone gives every check-in, into a fresh database -------
        shutil.rmtree(self.card)
        db2, api_key2 = self.database('recovered')
        key2 = os.path.join(self.tmp, 'scanner-recovered.key')
        self.write_key(key2, api_key2)
        backend2 = self.backend(db2)
        self.assertEqual(report(db2)['synced'], False)
        r = self.sync(backend2, key2, self.mirror)
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = summary_counts(r.stdout)
        self.assertEqual((counts['records sent'], counts['inserted'], counts['duplicates']),
                         (len(came), len(came), 0), r.stdout)
        rows2 = db2.rows(f"SELECT ble_uuid::text, check_in_time, scanner_id FROM check_ins WHERE event_id = '{EVENT}'")
        self.assertEqual(sorted(rows2), sorted(rows))  # the same check-ins, same times, each once
        recovered = in_report(report(db2))
        self.assertEqual(recovered, seen)  # same first-seen times; everyone an unknown device there (no users)
        # Syncing the stick into the event's own backend as well (door staff syncing both copies) adds nothing.
        r = self.sync(backend, self.key, self.mirror, '--all')
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = summary_counts(r.stdout)
        self.assertEqual((counts['records sent'], counts['inserted'], counts['duplicates']),
                         (len(came), 0, len(came)), r.stdout)
        self.assertEqual(in_report(report(db)), seen)
        note(f'done in {time.monotonic() - started:.0f} s; the report was read {watcher.rounds} times while the follower ran')
        self.passed = True


if __name__ == '__main__':
    unittest.main(verbosity=2)
