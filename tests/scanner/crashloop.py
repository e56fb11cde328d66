#!/usr/bin/python3
"""Crash loop: the real attendance-scanner on the BlueZ simulator while phones keep
arriving, killed with SIGKILL at a random moment and restarted on the same log, N times.

After every kill the log is checked against what the scanner had promised:
- every byte up to the last `log.durable` offset (the lines acknowledged as on stable
  storage, docs/log-format.md) is still there, byte for byte, in this cycle and all later ones;
- every `\\n`-terminated line parses as a check-in of this scanner and event, for an id a
  phone really sent; only the unterminated tail may be torn;
- when the next start has opened the log, its recovery did what docs/log-format.md says:
  the lines up to the last valid record kept, the rest copied to the quarantine file it names
  and cut off, a valid record missing its `\\n` completed;
- no bleUuid twice within the dedup window (gaps measured with `bootMs`, the scanner's own
  clock for re-seeding after a restart);
- a scanner that was scanning for a while before the kill wrote something.

Phones: a pool of returning participants (ids re-seen across cycles, so re-seeding the dedup
window from the log matters), newcomers replacing them, addresses rotating, some noise.
Power cuts are simulated too (--tear): after some kills the log is cut at a random byte past
the acknowledged durable offset (what a power cut may lose) and sometimes a NUL block or a
partial line is appended, so recovery has a torn tail to handle in every kind.

The per-cycle parameters (fsync policy, kill moment, tear) come from --seed and the cycle
number; the phones' timing is real time, so a rerun with the same seed repeats the
parameters, not the exact interleaving.

Exit: 0 no violation, 1 violations, 2 usage, 3 incomplete (time limit or the harness failed)."""

import argparse
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid

import scanner_harness
from scanner_harness import BOOT_ID, Payload, Simulator, wait_for
from bluez_sim import NOISE_KINDS, venue

EVENT = 'evt-crashloop'
SCANNER_ID = 'Entrance-Scanner-01'
FORMATS = ('ibeacon', 'eddystone', 'service-uuid', 'service-data')
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class Interrupted(Exception):
    """SIGINT or SIGTERM: stop, clean up, print what was done."""


def _interrupt(signo, _frame):
    raise Interrupted(signal.Signals(signo).name)


# --------------------------------------------------------------------------
# The log as the scanner's reader and recovery see it
# --------------------------------------------------------------------------

def parse_record(raw):
    """The check-in in one line (without its '\\n'), or None when the scanner's reader would
    call it bad. Mirrors parseLine for the required keys; our scanner's lines hold no more."""
    try:
        d = json.loads(raw.decode('utf-8'))
    except ValueError:
        return None
    if not isinstance(d, dict):
        return None
    if not isinstance(d.get('bleUuid'), str) or not UUID_RE.match(d['bleUuid'].lower()):
        return None
    t = d.get('checkInTime')
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        return None
    if not isinstance(d.get('scannerId'), str) or not d['scannerId']:
        return None
    return d


def split_lines(data, start=0):
    """(offset, end, raw, terminated) for each line of data[start:]; empty lines included."""
    out = []
    at = start
    while at < len(data):
        nl = data.find(b'\n', at)
        if nl < 0:
            out.append((at, len(data), data[at:], False))
            break
        out.append((at, nl + 1, data[at:nl], True))
        at = nl + 1
    return out


def expected_recovery(data):
    """What Writer::recover does to `data`: (bytes kept, lines kept, tail bytes quarantined,
    whether the kept last record gets its missing '\\n')."""
    keep = 0
    keep_lines = 0
    last_unterminated = False
    for number, (_, end, raw, terminated) in enumerate(split_lines(data), start=1):
        if raw and parse_record(raw) is not None:
            keep = end
            keep_lines = number if terminated else number - 1
            last_unterminated = not terminated
    quarantined = len(data) - keep
    if last_unterminated:
        keep_lines += 1
    return keep, keep_lines, quarantined, last_unterminated


def power_cut(rng, data, durable):
    """What a power cut may leave of `data` when only data[:durable] was synced: everything
    after it may be lost, a line torn, a block allocated but never written (NULs). Returns
    (cut, junk, kind): keep data[:cut], append junk. There is always something to repair."""
    unsynced = [l for l in split_lines(data, durable) if l[3] and l[1] - l[0] >= 3]
    partial = b'{"bleUuid":"' + str(uuid.UUID(int=rng.getrandbits(128))).encode() + b'","checkInTime":17'
    kind = rng.choice(['torn-line', 'nul-block', 'newline-lost'])
    if kind == 'nul-block':
        return rng.randint(durable, len(data)), b'\0' * rng.randint(1, 4096), kind
    if not unsynced:
        return len(data), partial, 'torn-line'  # the write in flight, cut short
    offset, end, _, _ = rng.choice(unsynced)
    if kind == 'torn-line':
        return rng.randint(offset + 1, end - 3), b'', kind
    return end - 1, b'', kind  # a line whose '\n' never reached the disk, and what followed it


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------

class Phones(threading.Thread):
    """Advertises continuously: a pool of returning phones, newcomers taking their places,
    rotating addresses, a few noise devices. Every id is in `sent` before it is advertised."""

    def __init__(self, sim, seed, pool_size, period, newcomer_ratio):
        super().__init__(daemon=True)
        self.sim = sim
        self.rng = random.Random(f'{seed}/phones')
        self.period = period
        self.newcomer_ratio = newcomer_ratio
        self.sent = set()
        self.advertisements = 0
        self.failures = 0
        self.last_error = ''
        self.stop = threading.Event()
        self.pool = [self._newcomer() for _ in range(pool_size)]
        # The same few noise devices keep advertising, as in a real room. (A new address for every
        # noise advertisement would pile up in the mock: they are never consumed, and no scanner
        # here lives the 60 s after which it drops stale devices.)
        self.noise = [(venue.random_address(self.rng), Payload.noise(kind, i)) for i, kind in enumerate(NOISE_KINDS * 2)]

    def _newcomer(self):
        ble = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return {'id': ble, 'fmt': self.rng.choice(FORMATS), 'address': venue.random_address(self.rng)}

    def run(self):
        while not self.stop.is_set():
            rng = self.rng
            if rng.random() < 0.08:
                address, payload = rng.choice(self.noise)
            else:
                if rng.random() < self.newcomer_ratio:
                    self.pool[rng.randrange(len(self.pool))] = self._newcomer()
                phone = rng.choice(self.pool)
                if rng.random() < 0.05:
                    phone['address'] = venue.random_address(rng)  # the phone rotates its address
                self.sent.add(phone['id'])
                payload = Payload.for_participant(phone['fmt'], phone['id'])
                address = phone['address']
            try:
                self.sim.advertise('hci0', address, payload, rssi=rng.randint(-85, -40),
                                   via='added' if rng.random() < 0.5 else 'properties')
                self.advertisements += 1
            except Exception as e:  # pylint: disable=broad-except
                self.failures += 1
                self.last_error = f'{type(e).__name__}: {e}'
            self.stop.wait(self.period)


# --------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------

class Loop:
    def __init__(self, args, workdir):
        self.args = args
        self.log = os.path.join(workdir, 'attendance_log.jsonl')
        self.window_ms = args.dedup_window
        self.confirmed = b''        # bytes acknowledged durable so far: must stay a prefix forever
        self.confirmed_lines = 0
        self.violations = []
        self.reported = set()       # (offset, line) of the log lines already reported
        self.figures = {
            'cycles': 0, 'kills': 0, 'killed_opening': 0, 'killed_starting': 0, 'killed_scanning': 0,
            'durable_checks': 0, 'durable_lines_checked': 0, 'lines_written': 0, 'recoveries_checked': 0,
            'tears_injected': 0, 'tear_torn-line': 0, 'tear_nul-block': 0, 'tear_newline-lost': 0, 'torn_by_kill': 0, 'quarantined': 0, 'completed_lines': 0, 'seeded': 0,
            'repeats': 0, 'min_repeat_gap_ms': None, 'fsync_always': 0, 'fsync_interval': 0,
        }
        self.cycle = 0
        self.current = None  # the scanner process of this cycle, killed whatever happens
        self.devices_left = None

    # -- checks ---------------------------------------------------------------

    def violation(self, kind, detail, line=None):
        """Reported once: a bad line stays in the log and is seen again by every later check."""
        if line is not None:
            if line in self.reported:
                return
            self.reported.add(line)
        self.violations.append((self.cycle, kind, detail))
        if len(self.violations) <= 20:
            print(f'crashloop: VIOLATION in cycle {self.cycle}: {kind}: {detail}', flush=True)
        elif len(self.violations) == 21:
            print('crashloop: more violations are only counted', flush=True)

    def check_log(self, data, sent, final=False):
        """Every terminated line a valid check-in of ours for a sent id; no id twice in the
        window. Returns the number of valid lines. A torn unterminated tail is allowed except
        at the end of the run (after a clean stop)."""
        last = {}
        lines = 0
        for offset, _, raw, terminated in split_lines(data):
            if not terminated:
                if final:
                    self.violation('torn_tail_after_clean_stop', f'{len(raw)} bytes at offset {offset}', (offset, raw))
                break
            if not raw:
                self.violation('empty_line', f'at offset {offset}', (offset, raw))
                continue
            d = parse_record(raw)
            if d is None:
                self.violation('unparsable_line', f'offset {offset}: {raw[:120]!r}', (offset, raw))
                continue
            lines += 1
            if (d.get('scannerId'), d.get('eventId'), d.get('bootId')) != (SCANNER_ID, EVENT, BOOT_ID) \
                    or d['bleUuid'] not in sent or not isinstance(d.get('bootMs'), int):
                self.violation('foreign_line', f'offset {offset}: {raw[:160]!r}', (offset, raw))
                continue
            prev = last.get(d['bleUuid'])
            if prev is not None:
                gap = d['bootMs'] - prev
                if gap < self.window_ms - self.args.gap_tolerance_ms:
                    self.violation('duplicate_within_window',
                                   f'{d["bleUuid"]} logged again after {gap} ms (window {self.window_ms} ms) '
                                   f'at offset {offset}', (offset, raw))
                if final:
                    self.figures['repeats'] += 1
                    m = self.figures['min_repeat_gap_ms']
                    self.figures['min_repeat_gap_ms'] = gap if m is None else min(m, gap)
            last[d['bleUuid']] = d['bootMs']
        return lines

    def check_durable(self, data, scanner):
        """The acknowledged prefix of earlier cycles is intact; this cycle's acknowledgement
        is consistent with the file; then it joins the acknowledged prefix."""
        self.figures['durable_checks'] += 1
        self.figures['durable_lines_checked'] += self.confirmed_lines
        if not data.startswith(self.confirmed):
            at = next((i for i, (a, b) in enumerate(zip(data, self.confirmed)) if a != b),
                      min(len(data), len(self.confirmed)))
            self.violation('durable_line_lost',
                           f'{self.confirmed_lines} acknowledged lines ({len(self.confirmed)} bytes) are no longer '
                           f'a prefix of the log ({len(data)} bytes); first difference at byte {at}',
                           ('durable', len(self.confirmed), at))
            return
        acks = scanner.find('log.durable')
        if not acks:
            return
        ack = max(acks, key=lambda e: e['offset'])
        offset, lines = ack['offset'], ack['lines']
        prefix = data[:offset]
        newlines = prefix.count(b'\n')
        if len(prefix) != offset or (offset and not prefix.endswith(b'\n')) or newlines != lines:
            self.violation('durable_ack_inconsistent',
                           f'log.durable says {lines} lines / {offset} bytes; the file has {len(data)} bytes, '
                           f'{newlines} lines in that prefix')
            return
        if offset < len(self.confirmed):
            self.violation('durable_ack_went_back', f'offset {offset} < {len(self.confirmed)} acknowledged before')
            return
        self.confirmed = prefix
        self.confirmed_lines = lines

    def check_recovery(self, before, scanner):
        """If the scanner got through opening the log: the recovery matched the documented one."""
        opened = scanner.find('log.opened')
        if not opened:
            return
        self.figures['recoveries_checked'] += 1
        keep, keep_lines, quarantined, completes = expected_recovery(before)
        if opened[0]['lines'] != keep_lines:
            self.violation('recovery_kept_wrong_lines',
                           f'log.opened says {opened[0]["lines"]} lines, expected {keep_lines}')
        tq = scanner.find('log.tail_quarantined')
        if quarantined:
            self.figures['quarantined'] += 1
            if not tq or tq[0]['bytes'] != quarantined:
                got = f'{tq[0]["bytes"]} bytes' if tq else 'no log.tail_quarantined'
                self.violation('tail_not_quarantined', f'expected {quarantined} bytes quarantined, got {got}')
            else:
                try:
                    with open(tq[0]['quarantineFile'], 'rb') as f:
                        saved = f.read()
                except OSError as e:
                    saved = repr(e).encode()
                if saved != before[keep:]:
                    self.violation('quarantine_file_wrong', f'{tq[0]["quarantineFile"]} does not hold the cut tail')
        elif tq:
            self.violation('valid_line_quarantined', f'nothing to quarantine, but {tq[0]}')
        if completes:
            self.figures['completed_lines'] += 1
            if not scanner.find('log.last_line_completed'):
                self.violation('last_line_not_completed', 'a valid last record without \\n was not completed')
        seeded = scanner.find('dedup.seeded')
        if seeded:
            self.figures['seeded'] += seeded[0]['seeded']

    # -- one cycle -------------------------------------------------------------

    def read_log(self):
        try:
            with open(self.log, 'rb') as f:
                return f.read()
        except FileNotFoundError:
            return b''

    def start(self, fsync):
        if self.current is not None:
            self.current.kill()
        self.current = scanner_harness.Scanner(self.args.scanner, self.sim, self.log, '--fsync', fsync,
                                       '--dedup-window', f'{self.window_ms}ms', event=EVENT, scanner_id=SCANNER_ID)
        return self.current

    def run_cycle(self, phones):
        rng = random.Random(f'{self.args.seed}/cycle/{self.cycle}')
        fsync = rng.choice(['always', 'interval'])
        # Some kills aimed at start-up (opening, recovering and re-seeding take milliseconds).
        early = rng.random() < self.args.early
        kill_after = rng.uniform(0, self.args.early_window) if early else rng.uniform(*self.args.kill_window)
        tear = rng.random() < self.args.tear
        self.figures[f'fsync_{fsync}'] += 1

        before = self.read_log()
        lines_before = expected_recovery(before)[1]
        s = self.start(fsync)
        spawned = time.monotonic()
        while time.monotonic() - spawned < kill_after and s.proc.poll() is None:
            time.sleep(min(0.01, max(0.0, kill_after - (time.monotonic() - spawned))))
        if s.proc.poll() is not None:
            s.kill()
            self.violation('scanner_exited', f'exit code {s.proc.returncode} before the kill:\n{s.stderr()[-2000:]}')
            return
        killed_at = time.monotonic()
        s.kill()  # SIGKILL
        self.figures['kills'] += 1
        if not s.find('log.opened'):
            self.figures['killed_opening'] += 1
        elif 'scanner.started' not in s.first_at:
            self.figures['killed_starting'] += 1
        else:
            self.figures['killed_scanning'] += 1

        after = self.read_log()
        self.check_recovery(before, s)
        self.check_durable(after, s)
        lines = self.check_log(after, phones.sent)
        if after and not after.endswith(b'\n') and s.find('log.opened'):
            self.figures['torn_by_kill'] += 1  # a write() cut short by SIGKILL (the tear below comes later)
        new_lines = lines - lines_before if s.find('log.opened') else 0
        self.figures['lines_written'] += max(new_lines, 0)
        started = s.first_at.get('scanner.started')
        if started is not None and killed_at - started >= self.args.stall_after and new_lines <= 0:
            self.violation('stalled', f'scanning for {killed_at - started:.2f}s before the kill, no line written')

        if tear:
            cut, junk, kind = power_cut(rng, after, len(self.confirmed))
            self.figures['tears_injected'] += 1
            self.figures[f'tear_{kind}'] += 1
            with open(self.log, 'r+b') as f:
                f.truncate(cut)
                f.seek(cut)
                f.write(junk)
        self.figures['cycles'] += 1
        if self.args.verbose or self.cycle % self.args.progress == 0:
            print(f'crashloop: cycle {self.cycle}/{self.args.cycles}: fsync={fsync} kill after {kill_after:.2f}s, '
                  f'{lines} lines ({self.confirmed_lines} acknowledged durable), '
                  f'{"tear injected, " if tear else ""}{len(self.violations)} violations', flush=True)

    def final_check(self, phones):
        """A clean start and stop on the log the loop left: recovery once more, exit 0,
        the whole log parses, every acknowledged byte is there."""
        before = self.read_log()
        s = self.start('interval')
        try:
            wait_for('the final scanner to start', lambda: s.find('scanner.started') or s.proc.poll() is not None)
            time.sleep(1.0)
            code = s.stop()
        finally:
            s.kill()
        self.check_recovery(before, s)
        stopped = s.find('scanner.stopped')
        if code != 0 or not stopped or stopped[0]['pending'] != 0:
            self.violation('final_stop_failed', f'exit code {code}:\n{s.stderr()[-2000:]}')
        after = self.read_log()
        self.check_durable(after, s)
        if s.find('log.durable') and self.confirmed != after:
            self.violation('final_log_not_durable', f'{len(self.confirmed)} of {len(after)} bytes acknowledged')
        return self.check_log(after, phones.sent, final=True)

    def run(self):
        deadline = time.monotonic() + self.args.max_time
        self.sim = Simulator()
        self.sim.add_adapter('hci0')
        phones = Phones(self.sim, self.args.seed, self.args.phones, self.args.period, self.args.newcomers)
        phones.start()
        incomplete = None
        final_lines = None
        try:
            for self.cycle in range(1, self.args.cycles + 1):
                if time.monotonic() >= deadline:
                    incomplete = f'time limit of {self.args.max_time:.0f}s reached after {self.cycle - 1} cycles'
                    break
                self.run_cycle(phones)
                if self.violations and self.args.stop_on_violation:
                    break
            self.cycle += 1
            final_lines = self.final_check(phones)
            self.devices_left = len(self.sim.device_paths('hci0'))
        except Interrupted as e:
            incomplete = f'stopped by {e} in cycle {self.cycle}'
        finally:
            if self.current is not None:
                self.current.kill()
            phones.stop.set()
            phones.join(timeout=10)
            self.sim.close()
        if phones.failures > phones.advertisements // 20:
            incomplete = incomplete or (f'{phones.failures} of {phones.advertisements + phones.failures} '
                                        f'advertisements failed ({phones.last_error})')
        return final_lines, phones, incomplete


def summary(loop, final_lines, phones, wall, command, workdir):
    f = loop.figures
    kinds = {}
    for _, kind, _ in loop.violations:
        kinds[kind] = kinds.get(kind, 0) + 1
    rows = [
        ('cycles', f'{f["cycles"]} (fsync always {f["fsync_always"]}, interval {f["fsync_interval"]})'),
        ('kills (SIGKILL)', f'{f["kills"]}: {f["killed_opening"]} while opening/recovering the log, '
                            f'{f["killed_starting"]} before scanning, {f["killed_scanning"]} while scanning'),
        ('lines in the final log', (f'{final_lines}' if final_lines is not None else 'not checked (stopped early)')
                                   + f' ({f["lines_written"]} written during the cycles; {f["repeats"]} repeat '
                                   f'visits of one id, closest {f["min_repeat_gap_ms"]} ms apart, window '
                                   f'{loop.window_ms} ms)'),
        ('durable lines checked', f'{f["durable_lines_checked"]} line checks in {f["durable_checks"]} prefix '
                                  f'checks; {loop.confirmed_lines} lines acknowledged at the end'),
        ('recoveries checked', f'{f["recoveries_checked"]}: {f["quarantined"]} torn tails quarantined, '
                               f'{f["completed_lines"]} last lines completed; {f["torn_by_kill"]} tails torn by '
                               f'SIGKILL itself'),
        ('power cuts simulated', f'{f["tears_injected"]}: {f["tear_torn-line"]} torn lines, {f["tear_nul-block"]} NUL '
                                 f'blocks, {f["tear_newline-lost"]} lost newlines'),
        ('dedup re-seeded', f'{f["seeded"]} ids from the log across restarts'),
        ('advertisements', f'{phones.advertisements} ({len(phones.sent)} distinct ids, {phones.failures} failed; '
                           f'{loop.devices_left} devices left in the simulator)'),
        ('violations', str(len(loop.violations)) + (' (' + ', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))
                                                     + ')' if kinds else '')),
        ('wall time', f'{wall:.0f} s ({wall / max(f["cycles"], 1):.2f} s per cycle)'),
        ('seed', str(loop.args.seed)),
        ('command', command),
        ('work dir', workdir),
    ]
    width = max(len(k) for k, _ in rows)
    print('\ncrashloop summary')
    for k, v in rows:
        print(f'  {k:<{width}}  {v}')
    sys.stdout.flush()


def parse_args(argv):
    prog = 'scripts/crashloop'  # also when ctest runs this file directly: the command to reproduce with
    p = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Runs attendance-scanner on the BlueZ simulator with phones arriving, kills it with '
                    'SIGKILL at random moments, restarts it on the same log and checks after every cycle that '
                    'the log parses after recovery, every line acknowledged as durable is still there byte for '
                    'byte, and no bleUuid appears twice within the dedup window.',
        epilog='Exit codes: 0 no violation, 1 violations (printed as they happen and counted in the summary), '
               '2 usage, 3 incomplete (time limit reached or the simulator failed).\n'
               'Reproduce a run with the seed it printed: ' + prog + ' N --seed S (same other options).')
    p.add_argument('cycles', type=int, help='number of kill/restart cycles')
    p.add_argument('--seed', type=int, help='seed of the phones and of every cycle\'s parameters (default: random, '
                                            'printed)')
    p.add_argument('--scanner', default=os.environ.get('ATTENDANCE_SCANNER'),
                   help='the attendance-scanner binary (default: $ATTENDANCE_SCANNER)')
    p.add_argument('--dedup-window', type=int, default=3000, metavar='MS',
                   help='the scanner\'s --dedup-window in ms (default 3000: a few cycles long)')
    p.add_argument('--kill-window', default='0:2', metavar='MIN:MAX',
                   help='seconds after the start in which the kill falls, uniformly (default 0:2)')
    p.add_argument('--early', type=float, default=0.2, metavar='P',
                   help='share of kills aimed at start-up instead: within the first --early-window seconds '
                        '(default 0.2)')
    p.add_argument('--early-window', type=float, default=0.1, metavar='SECONDS', help='(default 0.1)')
    p.add_argument('--tear', type=float, default=0.25, metavar='P',
                   help='share of kills followed by a simulated power cut (default 0.25)')
    p.add_argument('--phones', type=int, default=40, help='returning phones in the room at any time (default 40)')
    p.add_argument('--newcomers', type=float, default=0.1,
                   help='share of advertisements from a phone that just arrived (default 0.1)')
    p.add_argument('--period', type=float, default=0.008, help='seconds between advertisements (default 0.008)')
    p.add_argument('--gap-tolerance-ms', type=int, default=2,
                   help='bootMs is cut to whole ms and re-seeding ages a line in whole ms: gaps this much below '
                        'the window are not a duplicate (default 2)')
    p.add_argument('--stall-after', type=float, default=1.0, metavar='SECONDS',
                   help='a cycle that scanned this long without writing a line is a violation (default 1.0)')
    p.add_argument('--max-time', type=float, metavar='SECONDS',
                   help='stop after this long even if cycles remain (default 60 + 10 per cycle)')
    p.add_argument('--progress', type=int, metavar='K', help='print a progress line every K cycles '
                                                               '(default: about 40 lines per run)')
    p.add_argument('--workdir', help='put the log here (kept); default: a temporary directory, removed unless '
                                     'a violation was found')
    p.add_argument('--stop-on-violation', action='store_true', help='stop at the first violating cycle')
    p.add_argument('-v', '--verbose', action='store_true', help='a line per cycle')
    args = p.parse_args(argv)
    if args.cycles < 1:
        p.error('cycles must be at least 1')
    if not args.scanner or not os.access(args.scanner, os.X_OK):
        p.error(f'no attendance-scanner binary: --scanner {args.scanner!r}')
    try:
        lo, hi = (float(x) for x in args.kill_window.split(':'))
        if not 0 <= lo <= hi:
            raise ValueError
    except ValueError:
        p.error('--kill-window must be MIN:MAX seconds with 0 <= MIN <= MAX')
    args.kill_window = (lo, hi)
    if not 0 <= args.early <= 1 or args.early_window < 0 or not 0 <= args.tear <= 1 or not 0 <= args.newcomers <= 1 or args.phones < 1 or args.dedup_window < 1:
        p.error('--early, --tear and --newcomers are shares in [0, 1]; --phones and --dedup-window at least 1')
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), 'big')
    if args.max_time is None:
        args.max_time = 60 + 10 * args.cycles
    if args.progress is None:
        args.progress = max(1, args.cycles // 40)
    args.scanner = os.path.abspath(args.scanner)
    return prog, args


def reproduce_command(prog, argv, seed):
    out = [prog]
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == '--seed':
            skip = True
            continue
        if a.startswith('--seed='):
            continue
        out.append(a)
    return ' '.join(out + ['--seed', str(seed)])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    prog, args = parse_args(argv)
    command = reproduce_command(prog, argv, args.seed)
    workdir = args.workdir or tempfile.mkdtemp(prefix='crashloop-')
    os.makedirs(workdir, exist_ok=True)
    print(f'crashloop: {args.cycles} cycles, seed {args.seed}, log in {workdir}', flush=True)
    print(f'crashloop: reproduce with: {command}', flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    loop = Loop(args, workdir)
    t0 = time.monotonic()
    try:
        final_lines, phones, incomplete = loop.run()
    except Exception as e:  # pylint: disable=broad-except
        print(f'crashloop: harness failed in cycle {loop.cycle}: {type(e).__name__}: {e} (log in {workdir})')
        return EXIT_INCOMPLETE
    summary(loop, final_lines, phones, time.monotonic() - t0, command, workdir)
    if loop.violations:
        print(f'crashloop: FAILED: {len(loop.violations)} violations (first in cycle {loop.violations[0][0]}); '
              f'the log is kept in {workdir}')
        return EXIT_VIOLATIONS
    if incomplete:
        print(f'crashloop: INCOMPLETE: {incomplete}')
        return EXIT_INCOMPLETE
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print('crashloop: OK')
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
