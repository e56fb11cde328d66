#!/usr/bin/python3
"""Demo helper: turns the programs' JSON output into short lines for people.

  demo_progress.py migrate   < `attendance-backend migrate` stdout
  demo_progress.py scanner   < the scanner's JSON log lines (status and stop lines)

The JSON lines themselves are kept in the demo's logs directory (scripts/lib/demo-event)."""

import json
import signal
import sys


def migrate():
    d = json.load(sys.stdin)
    print(f"schema version {d['to']} ({d['applied']} migrations applied)")


def scanner():
    # Ctrl-C reaches this reader too: it ends when the scanner (its input) does, with no traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for line in sys.stdin:
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if d.get('event') not in ('scanner.status', 'scanner.stopped'):
            continue
        state = 'stopped' if d['event'] == 'scanner.stopped' else 'scanning'
        print(f"  {state}: {d['advertisements']} advertisements, {d['linesWritten']} check-ins logged, "
              f"{d['outsideNamespace']} outside the namespace, {d['noise']} noise", flush=True)


if __name__ == '__main__':
    {'migrate': migrate, 'scanner': scanner}[sys.argv[1]]()
