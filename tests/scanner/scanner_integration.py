#!/usr/bin/python3
"""Integration tests of the real attendance-scanner binary against a private D-Bus
with python-dbusmock's bluez5 template (tools/bluez-sim).

usage: scanner_integration.py <attendance-scanner> [unittest args]

Wall-clock times cannot be controlled here, so lines are checked for their exact
key order, ids, scanner/event, rssi, boot id and time bounds; exact bytes are the
job of the pipeline unit tests."""

import errno
import functools
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import scanner_harness
from scanner_harness import (BOOT_ID, KEYS, Payload, Simulator, advertise, pid_uuid, read_all_lines, read_lines,
                             wait_for)

SCANNER = os.path.abspath(sys.argv[1])
del sys.argv[1]
Scanner = functools.partial(scanner_harness.Scanner, SCANNER)
# Strangers' devices that a scanner without a roster used to log (issue 11): the UUID most
# cheap iBeacon tags ship with, and the Nordic UART service of a dev board.
FACTORY_TAG = 'fda50693-a4e2-4fb1-afcf-c6eb07647825'
NORDIC_UART = '6e400001-b5a3-f393-e0a9-e50e24dcca9e'


class ScannerIntegration(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='scanner-it-')
        self.log = os.path.join(self.tmp.name, 'attendance_log.jsonl')
        self.sim = Simulator()
        self.sim.add_adapter('hci0')
        self.scanners = []

    def tearDown(self):
        for s in self.scanners:
            s.kill()
        self.sim.close()
        self.tmp.cleanup()

    def full_disk_scanner(self, limit):
        s = Scanner(self.sim, self.log, '--fsync', 'always', file_size_limit=limit)
        self.scanners.append(s)
        wait_for('discovery to start', lambda: self._discovering(s))
        return s

    def test_disk_full_keeps_check_ins_in_memory_and_writes_them_when_space_returns(self):
        one_line = 260  # a line here is ~240 bytes: room for exactly two
        s = self.full_disk_scanner(2 * one_line)
        for n in range(1, 6):
            advertise(self.sim, 'hci0', f'5A:00:00:00:00:0{n}', Payload.for_participant('ibeacon', pid_uuid(n)))
        wait_for('3 pending check-ins in the status line',
                 lambda: any(e.get('pending') == 3 for e in s.find('scanner.status')))
        self.assertEqual(len(read_lines(self.log)), 2)  # no torn third line
        failed = s.find('scanner.log_write_failed')
        self.assertTrue(failed and failed[0]['level'] == 'error', s.stderr())
        self.assertIn('File too large', failed[0]['error'])
        resource.prlimit(s.proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_for('the pending lines to be written', lambda: len(read_lines(self.log)) == 5)
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(n) for n in range(1, 6)])

    def tiny_tmpfs(self, size):
        """A file system that really fills up (ENOSPC, not the EFBIG of a file size limit): a tmpfs
        of `size` bytes. Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped."""
        mnt = tempfile.mkdtemp(prefix='scanner-tmpfs-')
        self.addCleanup(os.rmdir, mnt)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0755', 'tmpfs', mnt],
                           capture_output=True, timeout=15, check=False)
        if r.returncode != 0:
            self.skipTest(f'cannot mount a tmpfs (needs root): {r.stderr.decode().strip()}')
        self.addCleanup(subprocess.run, ['umount', '-l', mnt], timeout=15, check=True)
        return mnt

    def test_disk_full_on_a_tiny_tmpfs_keeps_check_ins_in_memory_and_writes_them_when_space_returns(self):
        mnt = self.tiny_tmpfs(64 * 1024)
        self.log = os.path.join(mnt, 'attendance_log.jsonl')
        s = self.start('--fsync', 'always')
        # Another file takes the whole disk, then gives one 4 KiB page back: room for ~18 lines,
        # the next one is cut short by ENOSPC in the middle.
        filler = os.path.join(mnt, 'filler')
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    if os.write(fd, bytes(4096)) == 0:
                        break
                except OSError as e:
                    self.assertEqual(e.errno, errno.ENOSPC)
                    break
            os.ftruncate(fd, (os.fstat(fd).st_size // 4096 - 1) * 4096)
        finally:
            os.close(fd)
        phones = [pid_uuid(n) for n in range(1, 31)]
        for n, ble in enumerate(phones, start=1):
            advertise(self.sim, 'hci0', f'5B:00:00:00:00:{n:02X}', Payload.for_participant('ibeacon', ble))
        wait_for('pending check-ins in the status line',
                 lambda: any(e.get('pending', 0) > 0 for e in s.find('scanner.status')))
        failed = s.find('scanner.log_write_failed')
        self.assertTrue(failed and failed[0]['level'] == 'error', s.stderr())
        self.assertIn('No space left on device', failed[0]['error'])
        written = read_lines(self.log)  # parses, ends with a newline: the torn line was cut back
        self.assertTrue(0 < len(written) < len(phones), len(written))
        os.unlink(filler)  # space returns
        wait_for('the pending lines to be written', lambda: len(read_lines(self.log)) == len(phones))
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], phones)
        self.assertEqual(s.find('scanner.stopped')[0]['pending'], 0)
        print(f'\n[ measured ] tmpfs of 64 KiB: {len(written)} lines written before ENOSPC, '
              f'{len(phones) - len(written)} kept in memory and written once the space returned', file=sys.stderr)

    def test_a_full_primary_keeps_the_event_going_on_the_mirror_loudly_and_a_restart_restores_it(self):
        mnt = self.tiny_tmpfs(64 * 1024)
        self.log = os.path.join(mnt, 'attendance_log.jsonl')
        mirror = os.path.join(self.tmp.name, 'mirror.jsonl')
        s = self.start('--fsync', 'always', '--mirror', mirror)
        filler = os.path.join(mnt, 'filler')  # the card fills up (or dies) mid-event
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    if os.write(fd, bytes(4096)) == 0:
                        break
                except OSError:
                    break
            os.ftruncate(fd, (os.fstat(fd).st_size // 4096 - 1) * 4096)
        finally:
            os.close(fd)
        phones = [pid_uuid(n) for n in range(1, 31)]
        for n, ble in enumerate(phones, start=1):
            advertise(self.sim, 'hci0', f'5D:00:00:00:00:{n:02X}', Payload.for_participant('ibeacon', ble))
        wait_for('every check-in on the mirror', lambda: len(read_lines(mirror)) == len(phones))
        failed = wait_for('the primary reported failed', lambda: s.find('log.primary_failed'))
        self.assertEqual(failed[0]['level'], 'error')
        self.assertIn('No space left on device', failed[0]['error'])
        wait_for('the status line to say so', lambda: any(
            e.get('logCopy') == 'failed' and e.get('mirrorCopy') == 'ok' and e.get('pending') == 0
            for e in s.find('scanner.status')))
        self.assertEqual(s.stop(), 0, s.stderr())
        on_mirror = [dict(p)['bleUuid'] for p in read_lines(mirror)]
        self.assertEqual(on_mirror, phones)
        on_primary = [dict(p)['bleUuid'] for p in read_lines(self.log)]
        self.assertEqual(on_primary, phones[:len(on_primary)])  # a prefix, no hole
        self.assertLess(len(on_primary), len(phones))
        # Space again (a new card would do the same): the next start fills the primary from the mirror.
        os.unlink(filler)
        s = self.start('--fsync', 'always', '--mirror', mirror)
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], phones)

    def test_a_deleted_primary_still_gives_every_check_in_from_the_mirror_exactly_once(self):
        os.mkdir(os.path.join(self.tmp.name, 'usb'))
        mirror = os.path.join(self.tmp.name, 'usb', 'attendance_log.jsonl')
        s = self.start('--fsync', 'always', '--mirror', mirror)
        phones = [pid_uuid(n) for n in range(1, 11)]
        for n, ble in enumerate(phones[:4], start=1):
            advertise(self.sim, 'hci0', f'5E:00:00:00:00:{n:02X}', Payload.for_participant('ibeacon', ble))
        wait_for('4 lines', lambda: len(read_lines(mirror)) == 4)
        os.unlink(self.log)  # the Pi (or its card) is lost mid-event
        for n, ble in enumerate(phones[4:], start=5):
            advertise(self.sim, 'hci0', f'5E:00:00:00:00:{n:02X}', Payload.for_participant('ibeacon', ble))
        wait_for('10 lines on the mirror', lambda: len(read_lines(mirror)) == 10)
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(mirror)], phones)
        self.assertFalse(os.path.exists(self.log))
        # A replacement Pi started with the stick: the log is rebuilt from it, nothing twice.
        s = self.start('--fsync', 'always', '--mirror', mirror)
        for n, ble in enumerate(phones[:3], start=1):  # the same people, still within the dedup window
            advertise(self.sim, 'hci0', f'5E:00:00:00:01:{n:02X}', Payload.for_participant('ibeacon', ble))
        wait_for('the repeats counted as duplicates',
                 lambda: any(e.get('duplicates', 0) >= 3 for e in s.find('scanner.status')))
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], phones)
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(mirror)], phones)

    def test_check_ins_that_can_never_be_written_end_in_the_journal_and_exit_4(self):
        s = self.full_disk_scanner(260)
        for n in range(1, 4):
            advertise(self.sim, 'hci0', f'5A:00:00:00:00:0{n}', Payload.for_participant('ibeacon', pid_uuid(n)))
        wait_for('2 pending check-ins', lambda: any(e.get('pending') == 2 for e in s.find('scanner.status')))
        self.assertEqual(s.stop(), 4, s.stderr())
        unwritten = [json.loads(e['line']) for e in s.find('scanner.unwritten_checkin')]
        logged = [dict(p)['bleUuid'] for p in read_lines(self.log)]
        self.assertEqual(len(logged), 1)
        self.assertEqual(sorted(logged + [u['bleUuid'] for u in unwritten]), sorted(pid_uuid(n) for n in range(1, 4)))
        self.assertEqual(s.find('scanner.checkins_lost')[0]['unwritten'], 2)

    def test_tells_systemd_ready_status_and_watchdog(self):
        path = os.path.join(self.tmp.name, 'notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        messages = []
        try:
            s = Scanner(self.sim, self.log, env_extra={'NOTIFY_SOCKET': path, 'WATCHDOG_USEC': '400000'})
            self.scanners.append(s)

            def received(what):
                try:
                    messages.append(sock.recv(4096).decode())
                except socket.timeout:
                    pass
                return any(what in m for m in messages)

            wait_for('READY=1', lambda: received('READY=1'))
            wait_for('a watchdog ping', lambda: received('WATCHDOG=1'))
            wait_for('a status line', lambda: received('STATUS=adverts='))
            self.assertEqual(s.stop(), 0, s.stderr())
            wait_for('STOPPING=1', lambda: received('STOPPING=1'))
        finally:
            sock.close()

    def test_frozen_bluetoothd_does_not_stop_status_lines_or_watchdog_pings(self):
        """Issue 13 §1 and its Done bar: bluetoothd hangs (SIGSTOP) for a minute, far longer than the
        systemd watchdog period, while the scanner has D-Bus calls to make (its BLE watchdog restarts
        discovery: StopDiscovery, SetDiscoveryFilter, StartDiscovery; then power-cycles the adapter).
        Every call would wait for the 5 s D-Bus timeout; the loop must keep pinging WATCHDOG=1 and
        writing status lines all the same, then recover."""
        watchdog_s = 2.0  # WatchdogSec; the scanner pings every 1 s
        path = os.path.join(self.tmp.name, 'notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.1)
        received = []  # (time.monotonic(), message)
        done = threading.Event()

        def receive():
            while not done.is_set():
                try:
                    received.append((time.monotonic(), sock.recv(4096).decode()))
                except socket.timeout:
                    pass

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()

        def times(what, since, until):
            return [t for t, m in list(received) if what in m and since <= t <= until]

        def longest_gap(ts, since, until):
            marks = [since] + ts + [until]
            return max(b - a for a, b in zip(marks, marks[1:]))

        try:
            # The BLE watchdog fires twice during the freeze (restart at 25 s, power cycle at 50 s;
            # their calls hang); it would give up at 75 s, so after the thaw at 61 s there is time
            # for the next advertisement.
            s = self.start('--ble-watchdog', '25s', '--fsync', 'always',
                           env_extra={'NOTIFY_SOCKET': path, 'WATCHDOG_USEC': str(int(watchdog_s * 1e6))})
            advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
            wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
            self.sim.freeze_bluez()
            frozen_at = time.monotonic()
            try:
                time.sleep(61)  # a minute: > WatchdogSec, and many blocked 5 s calls
            finally:
                self.sim.thaw_bluez()
            thawed_at = time.monotonic()
            self.assertIsNone(s.proc.poll(), s.stderr())
            pings = times('WATCHDOG=1', frozen_at, thawed_at)
            statuses = times('STATUS=adverts=', frozen_at, thawed_at)
            ping_gap = longest_gap(pings, frozen_at, thawed_at)
            status_gap = longest_gap(statuses, frozen_at, thawed_at)
            print(f'\n[ measured ] bluetoothd frozen {thawed_at - frozen_at:.1f} s: {len(pings)} WATCHDOG=1 pings '
                  f'(longest gap {ping_gap:.2f} s, WatchdogSec {watchdog_s} s), {len(statuses)} status lines '
                  f'(longest gap {status_gap:.2f} s)', file=sys.stderr)
            self.assertLess(ping_gap, watchdog_s, 'systemd would have killed the scanner')
            self.assertLess(status_gap, 2.5, 'status lines stopped while bluetoothd was frozen')
            # Once bluetoothd answers again, scanning resumes.
            wait_for('discovery after the thaw', lambda: self._discovering(s), timeout=30)
            advertise(self.sim, 'hci0', '5A:00:00:00:00:02', Payload.for_participant('eddystone', pid_uuid(2)))
            wait_for('2 lines', lambda: len(read_lines(self.log)) >= 2, timeout=30)
            # SIGTERM while bluetoothd hangs: StopDiscovery is not waited for, the scanner exits at once.
            self.sim.freeze_bluez()
            try:
                t0 = time.monotonic()
                self.assertEqual(s.stop(timeout=15), 0, s.stderr())
                stop_s = time.monotonic() - t0
            finally:
                self.sim.thaw_bluez()
            self.assertLess(stop_s, 2.0, 'stopping waited for the frozen bluetoothd')
            self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(1), pid_uuid(2)])
        finally:
            done.set()
            reader.join(timeout=5)
            sock.close()

    def test_escalates_when_advertisements_stop_then_exits_5(self):
        """Issue 13 §1: silence restarts discovery, then power-cycles the adapter, then the scanner
        exits 5 (Restart=on-failure restarts it); each step is logged."""
        s = self.start('--ble-watchdog', '1s', '--fsync', 'always')
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        self.assertEqual(s.wait_exit(timeout=30), 5, s.stderr())
        steps = [e['event'] for e in s.events
                 if e.get('event') in ('ble.watchdog_restart', 'ble.adapter_power_cycle', 'ble.stalled',
                                       'scanner.ble_stalled', 'scanner.stopped')]
        # (A restart before the first advertisement arrived may come first: the ladder starts over.)
        self.assertEqual(steps[-5:], ['ble.watchdog_restart', 'ble.adapter_power_cycle', 'ble.stalled',
                                      'scanner.ble_stalled', 'scanner.stopped'], s.stderr())
        self.assertEqual(set(steps[:-5]) - {'ble.watchdog_restart'}, set(), s.stderr())
        self.assertTrue(any(e.get('reason') == 'adapter-power-cycled' for e in s.find('ble.discovery_started')))
        self.assertEqual(s.durable_lines(), 1)
        self.assertTrue(self.sim.get_property('/org/bluez/hci0', 'org.bluez.Adapter1', 'Powered'))

    def test_powers_the_adapter_on_at_start_and_says_so(self):
        self.sim.set_powered('hci0', False)
        s = self.start()
        powered = s.find('ble.adapter_powering_on')
        self.assertEqual(len(powered), 1, s.stderr())
        self.assertEqual(powered[0]['adapter'], 'hci0')
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        self.assertEqual(s.stop(), 0, s.stderr())

    def start(self, *extra, **kw):
        s = Scanner(self.sim, self.log, *extra, **kw)
        self.scanners.append(s)
        wait_for('discovery to start', lambda: self._discovering(s))
        return s

    def _discovering(self, scanner):
        if scanner.proc.poll() is not None:
            raise AssertionError(f'scanner exited with {scanner.proc.returncode}:\n{scanner.stderr()}')
        try:
            return self.sim.discovering('hci0')
        except Exception:  # pylint: disable=broad-except
            return False

    def assert_line_shape(self, pairs, t0_ms, t1_ms):
        keys = [k for k, _ in pairs]
        self.assertEqual(keys, [k for k in KEYS if k in keys])  # documented order
        self.assertEqual(keys[:4], KEYS[:4])
        d = dict(pairs)
        self.assertEqual(d['scannerId'], 'Entrance-Scanner-01')
        self.assertEqual(d['eventId'], 'evt-int')
        self.assertEqual(d['bootId'], BOOT_ID)
        self.assertIsInstance(d['bootMs'], int)
        self.assertTrue(t0_ms <= d['checkInTime'] <= t1_ms, (t0_ms, d['checkInTime'], t1_ms))
        self.assertEqual(d['bleUuid'], d['bleUuid'].lower())
        return d

    def test_default_presence_rule_logs_who_stays_at_arrival_and_not_who_walks_past(self):
        s = self.start('--fsync', 'always', presence=True)
        stayer, passer = pid_uuid(41), pid_uuid(42)
        arrived = int(time.time() * 1000)
        advertise(self.sim, 'hci0', '5C:00:00:00:00:01', Payload.for_participant('ibeacon', stayer), rssi=-70)
        advertise(self.sim, 'hci0', '5C:00:00:00:00:02', Payload.for_participant('ibeacon', passer), rssi=-88)
        for rssi in (-69, -71, -70):  # a phone advertising about once a second while it stays
            time.sleep(1.0)
            self.sim.advertise('hci0', '5C:00:00:00:00:01', Payload.for_participant('ibeacon', stayer), rssi=rssi,
                               via='properties')
        wait_for('the line of the participant who stayed', lambda: len(read_lines(self.log)) >= 1)
        self.assertEqual(s.stop(), 0, s.stderr())
        lines = [dict(p) for p in read_lines(self.log)]
        self.assertEqual([d['bleUuid'] for d in lines], [stayer])
        # The first sighting of the run, not the one that made it qualify ~2 s later.
        self.assertLess(lines[0]['checkInTime'], arrived + 1000)
        stopped = s.find('scanner.stopped')[0]
        self.assertEqual(stopped['linesWritten'], 1)
        self.assertEqual(stopped['candidatesPending'], 1)  # the passer-by, silent for less than 10 s so far
        # At shutdown the stayer's last-seen line: still there, a stay of about 3 s (ADR 0026).
        last_seen = [dict(p) for p in read_all_lines(self.log) if p[0][0] == 'lastSeen']
        self.assertEqual(len(last_seen), 1, last_seen)
        self.assertEqual(last_seen[0]['bleUuid'], stayer)
        self.assertEqual(last_seen[0]['firstSeen'], lines[0]['checkInTime'])
        self.assertGreaterEqual(last_seen[0]['lastSeen'] - last_seen[0]['firstSeen'], 2500)
        self.assertGreaterEqual(last_seen[0]['sightings'], 4)  # four packets (the mock may report one twice)
        self.assertFalse(last_seen[0]['left'])
        self.assertEqual(stopped['lastSeenLines'], 1)

    def test_every_format_logged_once_noise_ignored_repeats_respect_the_window(self):
        t0 = int(time.time() * 1000)
        s = self.start('--dedup-window', '3s', '--fsync', 'always')
        ids = {fmt: pid_uuid(i + 1) for i, fmt in enumerate(['ibeacon', 'eddystone', 'service-uuid', 'service-data'])}
        rssi = {'ibeacon': -61, 'eddystone': -62, 'service-uuid': -63, 'service-data': -64}
        for i, (fmt, ble) in enumerate(ids.items()):
            advertise(self.sim, 'hci0', f'5A:00:00:00:00:0{i}', Payload.for_participant(fmt, ble), rssi=rssi[fmt])
        for i, kind in enumerate(['sig-uuids', 'apple-overflow', 'altbeacon', 'apple-other', 'eddystone-tlm', 'empty']):
            advertise(self.sim, 'hci0', f'4E:00:00:00:00:0{i}', Payload.noise(kind, seed=i), rssi=-50)
        rotating = pid_uuid(99)
        advertise(self.sim, 'hci0', '6B:00:00:00:00:01', Payload.for_participant('ibeacon', rotating), rssi=-70)
        advertise(self.sim, 'hci0', '6B:00:00:00:00:02', Payload.for_participant('ibeacon', rotating), rssi=-71)
        wait_for('5 lines', lambda: len(read_lines(self.log)) >= 5)
        # Repeat inside the window: no new line.
        advertise(self.sim, 'hci0', '5A:00:00:00:00:10', Payload.for_participant('ibeacon', ids['ibeacon']), rssi=-61)
        wait_for('the repeat to be counted as duplicate',
                 lambda: any(e.get('duplicates', 0) >= 2 for e in s.find('scanner.status')))
        self.assertEqual(len(read_lines(self.log)), 5)
        # Issue 13 §2: the status line shows the background iPhone while it is there, for the door staff.
        self.assertTrue(any(e.get('backgroundIphones') == 1 for e in s.find('scanner.status')),
                        s.find('scanner.status')[-1:])
        # Outside the window: logged again.
        time.sleep(3.1)
        advertise(self.sim, 'hci0', '5A:00:00:00:00:11', Payload.for_participant('ibeacon', ids['ibeacon']), rssi=-58)
        wait_for('6 lines', lambda: len(read_lines(self.log)) >= 6)
        self.assertEqual(s.stop(), 0, s.stderr())
        t1 = int(time.time() * 1000)

        lines = [self.assert_line_shape(p, t0, t1) for p in read_lines(self.log)]
        self.assertEqual(len(lines), 6)
        got = [(d['bleUuid'], d['rssi']) for d in lines]
        expected_first = {(ids[f], rssi[f]) for f in ids} | {(rotating, -70)}
        self.assertEqual(set(got[:5]), expected_first)
        self.assertEqual(got[5], (ids['ibeacon'], -58))
        times = [d['checkInTime'] for d in lines]
        self.assertEqual(times, sorted(times))
        self.assertGreaterEqual(lines[5]['bootMs'] - next(d['bootMs'] for d in lines if d['bleUuid'] == ids['ibeacon']), 3000)
        stopped = s.find('scanner.stopped')
        self.assertEqual(len(stopped), 1)
        self.assertEqual(stopped[0]['linesWritten'], 6)
        self.assertEqual(stopped[0]['pending'], 0)
        self.assertEqual(s.find('log.durable')[-1]['lines'], 6)
        # The one iPhone with the app in the background (overflow area only) is counted for the door staff.
        self.assertEqual(stopped[0]['backgroundIphones'], 1)
        self.assertEqual(stopped[0]['backgroundIphonesPeak'], 1)

    def test_roster_logs_only_registered_ids_and_counts_others_as_noise(self):
        registered = pid_uuid(1)
        stranger = pid_uuid(2)
        roster = os.path.join(self.tmp.name, 'roster.json')
        with open(roster, 'w', encoding='utf-8') as f:
            json.dump({'eventId': 'evt-int', 'bleUuids': [registered.upper(), pid_uuid(3)]}, f)
        s = self.start('--roster', roster)
        advertise(self.sim, 'hci0', '5A:00:00:00:00:02', Payload.for_participant('eddystone', stranger))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', registered))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        wait_for('status with the stranger as noise',
                 lambda: any(e.get('notOnRoster', 0) >= 1 and e.get('registeredArrivals') == 1
                             for e in s.find('scanner.status')))
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [registered])
        self.assertEqual(s.find('scanner.stopped')[0]['rosterSize'], 2)

    def test_namespace_logs_only_its_ids_and_counts_strangers_apart(self):
        # Issue 11 §1: a dev board and a factory-default iBeacon tag are not check-ins.
        s = self.start('--namespace', 'A7000000000000000000')
        advertise(self.sim, 'hci0', '5A:00:00:00:00:02', Payload.for_participant('ibeacon', FACTORY_TAG))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:03', Payload.for_participant('service-uuid', NORDIC_UART))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        wait_for('status counting the strangers',
                 lambda: any(e.get('outsideNamespace', 0) >= 2 for e in s.find('scanner.status')))
        status = [e for e in s.find('scanner.status') if e.get('outsideNamespace', 0) >= 2][0]
        self.assertEqual(status['notOnRoster'], 0)
        self.assertEqual(s.find('scanner.started')[0]['namespace'], 'a7000000000000000000')
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(1)])
        self.assertGreaterEqual(s.find('scanner.stopped')[0]['outsideNamespace'], 2)

    def test_roster_with_a_namespace_tells_unregistered_participants_from_strangers(self):
        roster = os.path.join(self.tmp.name, 'roster.json')
        with open(roster, 'w', encoding='utf-8') as f:
            json.dump({'eventId': 'evt-int', 'namespace': 'a7000000000000000000', 'bleUuids': [pid_uuid(1)]}, f)
        s = self.start('--roster', roster)
        advertise(self.sim, 'hci0', '5A:00:00:00:00:02', Payload.for_participant('ibeacon', pid_uuid(2)))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:03', Payload.for_participant('ibeacon', FACTORY_TAG))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        wait_for('status with one of each kind',
                 lambda: any(e.get('notOnRoster', 0) >= 1 and e.get('outsideNamespace', 0) >= 1
                             for e in s.find('scanner.status')))
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(1)])

    def test_namespace_flag_and_roster_namespace_must_agree(self):
        roster = os.path.join(self.tmp.name, 'roster.json')
        with open(roster, 'w', encoding='utf-8') as f:
            json.dump({'eventId': 'evt-int', 'namespace': 'a7000000000000000000', 'bleUuids': []}, f)
        s = Scanner(self.sim, self.log, '--roster', roster, '--namespace', 'a7000000000000000001')
        self.scanners.append(s)
        self.assertEqual(s.wait_exit(timeout=15), 2)
        self.assertIn('is for namespace a7000000000000000000, --namespace says a7000000000000000001', s.stderr())

    def test_without_roster_or_namespace_it_refuses_to_start_and_says_what_to_pass(self):
        s = Scanner(self.sim, self.log, accept_any_id=False)
        self.scanners.append(s)
        self.assertEqual(s.wait_exit(timeout=15), 2)
        for hint in ('--namespace', 'attendance-admin deployment show', '--roster', '--accept-any-id'):
            self.assertIn(hint, s.stderr())
        self.assertFalse(os.path.exists(self.log))

    def test_roster_for_another_event_is_refused(self):
        roster = os.path.join(self.tmp.name, 'roster.json')
        with open(roster, 'w', encoding='utf-8') as f:
            json.dump({'eventId': 'evt-other', 'bleUuids': []}, f)
        s = Scanner(self.sim, self.log, '--roster', roster)
        self.scanners.append(s)
        self.assertEqual(s.wait_exit(timeout=15), 2)
        self.assertIn("is for event 'evt-other', not 'evt-int'", s.stderr())

    def test_second_scanner_on_the_same_log_is_refused_naming_the_holder(self):
        first = self.start()
        second = Scanner(self.sim, self.log)
        self.scanners.append(second)
        self.assertEqual(second.wait_exit(timeout=15), 3)
        self.assertIn(f'is locked by PID {first.proc.pid}', second.stderr())
        self.assertEqual(first.stop(), 0)

    def test_bad_flags_exit_2_with_a_message(self):
        r = subprocess.run([SCANNER, '--event', 'e', '--scanner-id', 's', '--log', self.log, '--accept-any-id',
                            '--fsync', 'maybe'],
                           capture_output=True, timeout=15, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--fsync: 'maybe' is not one of always, interval, never", r.stderr)
        self.assertFalse(os.path.exists(self.log))

    def test_keeps_logging_across_bluetoothd_restart_power_cycle_and_adapter_readd(self):
        s = self.start('--fsync', 'always')
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        self.sim.restart_bluez()
        wait_for('discovery after the restart', lambda: self._discovering(s))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:02', Payload.for_participant('service-data', pid_uuid(2)))
        wait_for('2 lines', lambda: len(read_lines(self.log)) >= 2)
        self.sim.set_powered('hci0', False)
        self.sim.set_powered('hci0', True)
        wait_for('discovery after the power cycle', lambda: self._discovering(s))
        advertise(self.sim, 'hci0', '5A:00:00:00:00:03', Payload.for_participant('eddystone', pid_uuid(3)))
        wait_for('3 lines', lambda: len(read_lines(self.log)) >= 3)
        # The adapter disappears and comes back renumbered (hci0 -> hci1).
        self.sim.remove_adapter('hci0')
        self.sim.add_adapter('hci1')
        wait_for('discovery on hci1', lambda: s.proc.poll() is None and self.sim.discovering('hci1'))
        advertise(self.sim, 'hci1', '5A:00:00:00:00:04', Payload.for_participant('service-uuid', pid_uuid(4)))
        wait_for('4 lines', lambda: len(read_lines(self.log)) >= 4)
        self.assertEqual(s.stop(), 0, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(n) for n in (1, 2, 3, 4)])

    def test_losing_the_bus_syncs_the_log_and_exits_1(self):
        s = self.start()  # --fsync interval: the line below is not yet synced when the bus goes
        advertise(self.sim, 'hci0', '5A:00:00:00:00:01', Payload.for_participant('ibeacon', pid_uuid(1)))
        wait_for('1 line', lambda: len(read_lines(self.log)) >= 1)
        self.sim.close()  # the system bus itself goes away
        self.assertEqual(s.wait_exit(timeout=30), 1)
        self.assertTrue(s.find('scanner.dbus_lost'), s.stderr())
        self.assertEqual(s.durable_lines(), 1, s.stderr())
        self.assertEqual([dict(p)['bleUuid'] for p in read_lines(self.log)], [pid_uuid(1)])

    def test_kill_9_while_phones_arrive_then_restart(self):
        s = self.start('--fsync', 'always', '--dedup-window', '10m')
        stop = threading.Event()
        sent = []

        def phones():
            n = 0
            while not stop.is_set():
                n += 1
                ble = pid_uuid(1000 + n)
                sent.append(ble)
                try:
                    advertise(self.sim, 'hci0', f'7C:00:00:00:{n // 256:02X}:{n % 256:02X}',
                              Payload.for_participant('ibeacon', ble))
                except Exception:  # pylint: disable=broad-except
                    pass
                time.sleep(0.005)

        t = threading.Thread(target=phones, daemon=True)
        t.start()
        try:
            wait_for('at least 20 durable lines', lambda: s.durable_lines() >= 20)
            s.proc.kill()  # SIGKILL, mid-stream
            s.wait_exit()
            durable = s.durable_lines()
            before = read_lines(self.log)
            with open(self.log, 'rb') as f:
                before_bytes = f.read()
            self.assertGreaterEqual(len(before), durable)

            # Restart on the same log while phones keep arriving; some seen before the crash come back.
            s2 = self.start('--fsync', 'always', '--dedup-window', '10m')
            seeded = wait_for('dedup re-seeded', lambda: s2.find('dedup.seeded'))
            self.assertEqual(seeded[0]['seeded'], len(before))
            for i, pairs in enumerate(before[:10]):
                advertise(self.sim, 'hci0', f'3D:00:00:00:00:{i:02X}',
                                   Payload.for_participant('service-data', dict(pairs)['bleUuid']))
            n_after = len(before)
            wait_for('new lines after the restart', lambda: len(read_lines(self.log)) >= n_after + 10)
        finally:
            stop.set()
            t.join(timeout=10)
        self.assertEqual(s2.stop(), 0, s2.stderr())
        with open(self.log, 'rb') as f:
            after_bytes = f.read()
        self.assertTrue(after_bytes.startswith(before_bytes), 'lines present at the crash were changed')
        after = [dict(p) for p in read_lines(self.log)]  # parses completely
        ids = [d['bleUuid'] for d in after]
        self.assertEqual(len(ids), len(set(ids)), 'a participant was logged twice inside the window')
        self.assertTrue(set(ids) <= set(sent))


if __name__ == '__main__':
    unittest.main(verbosity=2)
