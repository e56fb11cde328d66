#!/usr/bin/python3
"""Runs the demo's event script (as scripts/demo does, smaller) and checks what a newcomer reads:
the ground-truth checks pass (exit 0), short human steps instead of the programs' JSON log lines
(those are in the work directory's logs/), the scanner filters by the namespace of the roster it
downloaded, the report before sync is a summary (no row per participant), the beacon participants'
real attendance-beacon processes each arrive, advertise their own bleUuid, stop cleanly and are checked
in, and with --no-wait no address is printed (every server is gone when the script ends).

  demo_output.py BUILD_DIR   (inside pg_virtualenv, from the source directory)"""

import glob
import json
import os
import subprocess
import sys
import tempfile

BEACONS = 5  # participants with a real attendance-beacon instead of a simulated phone


def section(out, title_start):
    """The lines of the step whose title starts with title_start, up to the next step."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.lstrip('\x1b[1m').startswith('== ' + title_start))
    end = next((i for i in range(start + 1, len(lines)) if '== ' in lines[i] and lines[i].startswith('\x1b[1m== ')),
               len(lines))
    return lines[start + 1:end]


def main():
    build = sys.argv[1]
    failures = []

    def check(ok, what):
        print(f"  {'ok ' if ok else 'BAD'} {what}")
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix='demo-output-test.') as work:
        run = subprocess.run(['scripts/lib/demo-event', build, '--no-wait', '--participants', '40', '--beacons',
                              str(BEACONS), '--seed', '11'],
                             env=dict(os.environ, ATTENDANCE_DEMO_WORK=work), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=280)
        out = run.stdout
        print(out)
        check(run.returncode == 0, f'the event and its ground-truth checks pass (exit {run.returncode})')
        json_lines = [l for l in out.splitlines() if l.lstrip().startswith('{') and '"level":' in l]
        check(not json_lines, f'no JSON log lines on the terminal ({len(json_lines)}, first: {json_lines[:1]})')
        scanner_log = os.path.join(work, 'logs', 'scanner.log')
        started = []
        if os.path.exists(scanner_log):
            started = [json.loads(l) for l in open(scanner_log, encoding='utf-8') if '"scanner.started"' in l]
        check(len(started) == 1, "the scanner's JSON log is in logs/scanner.log")
        roster_file = os.path.join(work, 'roster.json')
        roster = json.load(open(roster_file, encoding='utf-8')) if os.path.exists(roster_file) else {}
        check(bool(started) and started[0].get('namespace') == roster.get('namespace'),
              "the scanner filters by the downloaded roster's namespace")
        before = section(out, 'Report before any sync')
        check(any('Registered: 40' in l for l in before), 'the report before sync gives the counts')
        rows = [l for l in before if l.startswith('no-show')]
        check(len(before) <= 8 and not rows, f'the report before sync is a summary ({len(before)} lines)')
        arrivals = [l for l in section(out, 'The event') if 'attendance-beacon signs in' in l]
        check(len(arrivals) == BEACONS, f'{BEACONS} beacon participants arrive ({len(arrivals)})')
        beacons_file = os.path.join(work, 'beacons.txt')
        beacons = ([l.split('\t') for l in open(beacons_file, encoding='utf-8') if l.strip()]
                   if os.path.exists(beacons_file) else [])
        logs = {}
        for email, _, _ in beacons:
            path = os.path.join(work, 'logs', f"beacon-{email.split('@')[0]}.log")
            logs[email] = ([json.loads(l) for l in open(path, encoding='utf-8') if l.startswith('{')]
                           if os.path.exists(path) else [])
        check(len(glob.glob(os.path.join(work, 'logs', 'beacon-*.log'))) == BEACONS == len(beacons),
              f'one attendance-beacon log per beacon participant ({len(beacons)} participants)')
        check(all({d['id'] for d in logs[e] if d['event'] == 'ble.advertising'} == {u} for e, u, _ in beacons),
              'each beacon advertised its own participant\'s bleUuid (ble.advertising)')
        check(all(any(d['event'] == 'beacon.stopped' for d in logs[e]) for e, _, _ in beacons),
              'each beacon stopped cleanly (beacon.stopped)')
        report_file = os.path.join(work, 'report.json')
        report = json.load(open(report_file, encoding='utf-8')) if os.path.exists(report_file) else {}
        seen = {p['bleUuid'] for p in report.get('participants', []) if p.get('firstSeen')}
        check(bool(beacons) and all(u in seen for _, u, _ in beacons), 'every beacon participant checked in (report)')
        urls = [l for l in out.splitlines() if 'http://' in l or 'https://' in l]
        check(not urls, f'with --no-wait no address of a stopped server is printed ({urls[:2]})')
    if failures:
        print(f'{len(failures)} check(s) failed: {failures}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
