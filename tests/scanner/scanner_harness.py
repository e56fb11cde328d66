"""What the scanner's Python drivers share: the real attendance-scanner binary on a
private D-Bus with python-dbusmock's bluez5 template (tools/bluez-sim), its JSON log
events, phones advertising, and reading the check-in log.

Used by scanner_integration.py (unittest) and crashloop.py (scripts/crashloop).
Run with /usr/bin/python3 (python3-dbusmock and dbus-python are Debian packages)."""

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(SOURCE_DIR, 'tools', 'bluez-sim'))

from bluez_sim import Payload, Simulator  # noqa: E402  pylint: disable=wrong-import-position

__all__ = ['BOOT_ID', 'KEYS', 'Payload', 'Scanner', 'Simulator', 'advertise', 'pid_uuid', 'read_lines',
           'wait_for']

KEYS = ['bleUuid', 'checkInTime', 'scannerId', 'eventId', 'rssi', 'bootId', 'bootMs']
with open('/proc/sys/kernel/random/boot_id', encoding='ascii') as _f:
    BOOT_ID = _f.read().strip()


def wait_for(what, predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


def advertise(sim, adapter, address, payload, rssi=-60):
    """A phone's advertisement as BlueZ reports a new device: one InterfacesAdded with
    the data and RSSI together; when the device is still known (the scanner does not
    remove sighted devices), as PropertiesChanged of RSSI and data."""
    return sim.advertise(adapter, address, payload, rssi=rssi, via='added')


def pid_uuid(n):
    return str(uuid.UUID(int=(0xA7 << 120) | n))


def read_all_lines(path):
    """Every line of the log (check-ins and last-seen lines), each as a list of (key, value)."""
    if not os.path.exists(path):
        return []
    with open(path, 'rb') as f:
        data = f.read()
    assert data == b'' or data.endswith(b'\n'), f'log does not end with a newline: {data[-80:]!r}'
    return [json.loads(l, object_pairs_hook=lambda pairs: pairs) for l in data.decode().splitlines()]


def read_lines(path):
    """The check-in lines (a last-seen line's first key is lastSeen, docs/log-format.md)."""
    return [l for l in read_all_lines(path) if not (l and l[0][0] == 'lastSeen')]


class Scanner:
    """The real binary on the simulator's bus; stderr (JSON log lines) collected.
    `first_at[event]` is the time.monotonic() at which that event was first read."""

    def __init__(self, binary, sim, log, *extra, event='evt-int', scanner_id='Entrance-Scanner-01', env_extra=None,
                 file_size_limit=None, presence=False, accept_any_id=True):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=sim.address)
        env.pop('NOTIFY_SOCKET', None)
        env.pop('WATCHDOG_USEC', None)
        env.pop('WATCHDOG_PID', None)
        env.update(env_extra or {})

        def limit_file_size():
            # A "full disk" without root: writes beyond the limit fail with EFBIG.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.RLIM_INFINITY))

        # Most tests are about the log, dedup and BlueZ, not about who may check in: unless
        # they bring a roster or a namespace, every participant id counts (issue 11).
        chooses = any(a in ('--roster', '--namespace', '--accept-any-id') for a in extra)
        identity = ['--accept-any-id'] if accept_any_id and not chooses else []
        self.proc = subprocess.Popen(
            # Most tests are about the log, dedup and BlueZ: one advertisement is a check-in
            # there. presence=True keeps the default presence rule (ADR 0025).
            [binary, '--event', event, '--scanner-id', scanner_id, '--log', log, '--status-interval', '1s',
             # Those tests count the log's lines: no last-seen lines there either (ADR 0026).
             *([] if presence else ['--min-dwell', '0', '--min-sightings', '1', '--last-seen-interval', 'off']),
             *identity, *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            preexec_fn=limit_file_size if file_size_limit is not None else None)
        self.events = []
        self.raw = []
        self.first_at = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            text = raw.decode(errors='replace').rstrip('\n')
            with self._lock:
                self.raw.append(text)
                try:
                    e = json.loads(text)
                except ValueError:
                    continue
                self.events.append(e)
                self.first_at.setdefault(e.get('event'), time.monotonic())

    def find(self, event):
        with self._lock:
            return [e for e in self.events if e.get('event') == event]

    def durable_lines(self):
        found = self.find('log.durable')
        return max((e['lines'] for e in found), default=0)

    def wait_exit(self, timeout=15):
        """The exit code of a scanner that stops by itself; its stderr is read to the end."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def stderr(self):
        with self._lock:
            return '\n'.join(self.raw)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        self.proc.stderr.close()
